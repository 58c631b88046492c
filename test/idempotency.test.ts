/**
 * `idempotencyOptions` (reference §5.7) on each engine: a request on a configured path carrying
 * `X-Parse-Request-Id` runs once; a repeat answers 159 "Duplicate request" (HTTP 400) and does nothing,
 * also when ten identical requests race; ids expire after `ttl`; requests without the header, on other
 * paths, other methods, or inside a batch are unaffected; the option is off by default and validated
 * strictly at start.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.ts';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { idempotencyOptions } from '../src/config/idempotency-option.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/idempotency.js', import.meta.url));
const MASTER: RequestOptions = { master: true };
let counter = 0;
const requestId = (): string => `req-${Date.now()}-${++counter}`;
const withId = (id: string, options: RequestOptions = {}): RequestOptions => ({ ...options, headers: { ...options.headers, 'X-Parse-Request-Id': id } });

function options(paths: string[], ttl = 300) {
  const parsed = idempotencyOptions.fromJson({ paths, ttl });
  if (!parsed.ok || parsed.value === false) throw new Error('bad test options');
  return parsed.value;
}

for (const engine of engines()) {
  describe(`idempotency (${engine})`, () => {
    let server: TestServer;
    const request = (path: string, opts: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, opts);
    const count = async (className: string, where: Record<string, unknown> = {}): Promise<number> =>
      assertOk(await request(`/classes/${className}${query({ where, count: 1, limit: 0 })}`, MASTER), `count ${className}`).count;

    before(async () => {
      server = await startTestServer(engine, {
        cloud: CLOUD,
        idempotencyOptions: options(['functions/.*', 'classes/.*', 'users', 'installations']),
        rateLimit: [],
      });
    });
    after(async () => {
      await server.stop();
    });

    test('a repeated create answers 159 and creates nothing more', async () => {
      const id = requestId();
      assertOk(await request('/classes/IdemNote', withId(id, { method: 'POST', body: { tag: id } })), 'first', 201);
      assertRefused(await request('/classes/IdemNote', withId(id, { method: 'POST', body: { tag: id } })), 159, 'Duplicate request', 'repeat');
      assert.equal(await count('IdemNote', { tag: id }), 1);
    });

    test('ten identical concurrent POSTs: exactly one runs', async () => {
      const id = requestId();
      const results = await Promise.all(Array.from({ length: 10 }, () => request('/classes/IdemRace', withId(id, { method: 'POST', body: { tag: id } }))));
      assert.equal(results.filter((result) => result.status === 201).length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const result of results.filter((r) => r.status !== 201)) assertRefused(result, 159, 'Duplicate request', 'race loser');
      assert.equal(await count('IdemRace', { tag: id }), 1);
    });

    test('ten identical concurrent function calls: the function runs once', async () => {
      const id = requestId();
      const results = await Promise.all(Array.from({ length: 10 }, () => request('/functions/bump', withId(id, { method: 'POST', body: { key: id } }))));
      assert.equal(results.filter((result) => result.status === 200).length, 1);
      assert.equal(await count('IdemCounter', { key: id }), 1);
    });

    test('updates and sign-ups are covered; the same id on another request is a duplicate too (as in Parse)', async () => {
      const note = assertOk(await request('/classes/IdemNote', { method: 'POST', body: { n: 0 } }), 'create', 201);
      const id = requestId();
      assertOk(await request(`/classes/IdemNote/${note.objectId}`, withId(id, { method: 'PUT', body: { n: { __op: 'Increment', amount: 1 } } })), 'first update');
      assertRefused(await request(`/classes/IdemNote/${note.objectId}`, withId(id, { method: 'PUT', body: { n: { __op: 'Increment', amount: 1 } } })), 159, 'Duplicate request', 'repeat update');
      assert.equal(assertOk(await request(`/classes/IdemNote/${note.objectId}`, MASTER), 'read').n, 1);
      const signUp = requestId();
      assertOk(await request('/users', withId(signUp, { method: 'POST', body: { username: `idem-${signUp}`, password: 'pw-123456' } })), 'sign up', 201);
      assertRefused(await request('/users', withId(signUp, { method: 'POST', body: { username: `idem2-${signUp}`, password: 'pw-123456' } })), 159, 'Duplicate request', 'repeat sign up');
      assert.equal(await count('_User', { username: `idem2-${signUp}` }), 0);
    });

    test('without the header, on reads, deletes, other paths and inside a batch, nothing is checked', async () => {
      const id = requestId();
      for (let i = 0; i < 2; i++) assertOk(await request('/classes/IdemFree', { method: 'POST', body: { tag: id } }), 'no header', 201);
      for (let i = 0; i < 2; i++) assertOk(await request('/classes/IdemFree', withId(id)), 'GET with header');
      const note = assertOk(await request('/classes/IdemFree', { method: 'POST', body: { tag: id } }), 'create', 201);
      assertOk(await request(`/classes/IdemFree/${note.objectId}`, withId(id, { method: 'DELETE' })), 'DELETE with header');
      const batchId = requestId();
      const batch = { requests: [{ method: 'POST', path: '/parse/classes/IdemFree', body: { tag: batchId } }, { method: 'POST', path: '/parse/classes/IdemFree', body: { tag: batchId } }] };
      for (let i = 0; i < 2; i++) assertOk(await request('/batch', withId(`${batchId}-${i}`, { method: 'POST', body: batch })), 'batch');
      assert.equal(await count('IdemFree', { tag: batchId }), 4);
      assert.equal(await count('IdemFree', { tag: id }), 2);
    });

    test('an overlong or repeated X-Parse-Request-Id header is refused (107) and nothing runs', async () => {
      assertRefused(await request('/classes/IdemBad', withId('x'.repeat(300), { method: 'POST', body: { a: 1 } })), 107, 'Invalid X-Parse-Request-Id.', 'long');
      assert.equal(await count('IdemBad'), 0);
    });

    test('the JS SDK with Parse.idempotency = true: each save and query gets its own id and runs', async () => {
      const Parse = parseSdk(server.url);
      Parse.idempotency = true;
      try {
        const object = new Parse.Object('IdemSdk');
        await object.save({ a: 1 });
        await object.save({ a: 2 });
        // The SDK sends queries as POST with _method GET (and an id): a read is never refused as a duplicate.
        assert.equal((await new Parse.Query('IdemSdk').get(object.id)).get('a'), 2);
        assert.equal(await Parse.Cloud.run('bump', { key: 'sdk' }), 'bumped');
      } finally {
        Parse.idempotency = false;
      }
    });
  });

  describe(`idempotency options (${engine})`, () => {
    test('ids expire after ttl; only configured paths are checked', async () => {
      const server = await startTestServer(engine, { idempotencyOptions: options(['classes/IdemShort'], 1) });
      try {
        const id = requestId();
        const post = (className: string) => call(server.url, `/classes/${className}`, withId(id, { method: 'POST', body: { a: 1 } }));
        assertOk(await post('IdemShort'), 'first', 201);
        assertRefused(await post('IdemShort'), 159, 'Duplicate request', 'repeat');
        assertOk(await post('IdemOther'), 'unconfigured path', 201);
        assertOk(await post('IdemOther'), 'unconfigured path again', 201);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        assertOk(await post('IdemShort'), 'after ttl', 201);
      } finally {
        await server.stop();
      }
    });

    test('off by default: repeated ids run', async () => {
      const server = await startTestServer(engine);
      try {
        for (let i = 0; i < 2; i++) assertOk(await call(server.url, '/classes/IdemOff', withId('same', { method: 'POST', body: { a: 1 } })), 'run', 201);
      } finally {
        await server.stop();
      }
    });
  });
}

describe('idempotencyOptions validation', () => {
  test('accepted shapes', () => {
    const parsed = idempotencyOptions.fromJson({ paths: ['functions/.*', '^classes/Note'] });
    const value = parsed.ok ? parsed.value : false;
    assert.ok(value !== false);
    assert.equal(value.ttl, 300);
    assert.deepEqual(value.paths.map(String), ['/^functions\\/.*/', '/^classes\\/Note/']);
    assert.deepEqual(idempotencyOptions.fromJson(false), { ok: true, value: false });
  });

  test('bad paths, ttl and unknown keys are refused at start', () => {
    for (const bad of [{ paths: ['(unclosed'] }, { paths: 'functions/.*' }, { paths: [1] }, { paths: [''] }, { paths: [], ttl: 0 }, { paths: [], ttl: -5 }, { paths: [], ttl: 1.5 }, { paths: [], ttl: '300' }, { path: [] }, []]) {
      const parsed = idempotencyOptions.fromJson(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
    }
  });

  test('a bad idempotencyOptions stops the start with the reason; a good one reaches the config', async () => {
    const env = { PARSEC_MASTER_KEY: 'm'.repeat(32), PARSEC_APP_ID: 'app', PARSEC_DATABASE_URI: 'memory://' };
    const bad = await loadConfig({ argv: [], env: { ...env, PARSEC_IDEMPOTENCY_OPTIONS: '{"paths":["[a-"]}' }, cwd: '/tmp' });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.problems.join('\n'), /PARSEC_IDEMPOTENCY_OPTIONS.*not a valid regular expression/);
    const good = await loadConfig({ argv: [], env: { ...env, PARSEC_IDEMPOTENCY_OPTIONS: '{"paths":["functions/.*"],"ttl":60}' }, cwd: '/tmp' });
    assert.ok(good.ok);
    if (good.ok) assert.equal(good.config.idempotencyOptions?.ttl, 60);
    const off = await loadConfig({ argv: [], env, cwd: '/tmp' });
    assert.ok(off.ok);
    if (off.ok) assert.equal(off.config.idempotencyOptions, undefined);
  });
});
