/**
 * Server-level rate limits over HTTP, on each engine: the default rules, and every bypass shape of reference
 * §7.7 against rules of our own (path spelling, query string, `_method` override and its case, batch
 * sub-requests and their method case, a second route to the same handler, percent-encoding, forged
 * X-Forwarded-For, the master key, cloud code's own calls, zones). A refused request answers HTTP 429 with
 * `{code: 100, error}` and does nothing: no session, no user, no email, no row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RateLimitRule } from '../src/config/types.ts';
import fc from 'fast-check';
import { FUZZ_SEED, fuzzParameters } from './helpers/fuzz.ts';
import { call, query, type HttpResult, type RequestOptions } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/abuse-limits.js', import.meta.url));
const MINUTE = 60_000;
const TOO_MANY = 'Too many requests.';

function assertLimited(result: HttpResult, label: string, message = TOO_MANY): void {
  const shown = `${label}: ${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, 429, shown);
  assert.deepEqual(result.body, { code: 100, error: message }, shown);
}

function assertNotLimited(result: HttpResult, label: string): void {
  assert.notEqual(result.status, 429, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
}

/** One entry of a batch answer: refused by a rate limit, exactly as a request sent alone would be. */
function assertSubLimited(entry: unknown, label: string, message = TOO_MANY): void {
  assert.deepEqual(entry, { error: { code: 100, error: message } }, `${label}: ${JSON.stringify(entry)}`);
}

const batch = (requests: { method: string; path: string; body?: unknown }[], transaction?: boolean): RequestOptions => ({
  method: 'POST',
  body: transaction === undefined ? { requests } : { requests, transaction },
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const engine of engines()) {
  describe(`rate limits: the defaults (${engine})`, () => {
    let server: TestServer;
    const outbox: { to: string }[] = [];
    before(async () => {
      server = await startTestServer(engine, {}, { mail: { sendMail: (message) => (outbox.push(message), Promise.resolve()) } });
      // Created with the master key, which the default rules do not count.
      const created = await call(server.url, '/users', { method: 'POST', master: true, body: { username: 'dora', password: 'right-password', email: 'dora@example.com' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    });
    after(async () => server.stop());

    const count = async (className: string, where: unknown = {}): Promise<number> =>
      (await call(server.url, `/classes/${className}${query({ where, count: 1, limit: 0 })}`, { master: true })).body.count as number;
    const login = (password: string, options: RequestOptions = {}): Promise<HttpResult> =>
      call(server.url, '/login', { method: 'POST', body: { username: 'dora', password }, ...options });

    test('the options hold the documented defaults', () => {
      assert.deepEqual(
        server.config.rateLimit.map((rule) => [rule.requestPath, rule.requestMethods ?? 'all', rule.requestCount, rule.requestTimeWindow / MINUTE]),
        [
          ['/login', 'all', 20, 1],
          ['/verifyPassword', 'all', 20, 1],
          ['/users', ['POST'], 20, 10],
          ['/requestPasswordReset', 'all', 5, 15],
          ['/verificationEmailRequest', 'all', 5, 15],
        ],
      );
    });

    test('/login: the 21st attempt in a minute from one address is 429, even with the right password, and starts no session', async () => {
      // Unknown usernames: the account lockout (per account) never applies, so only the rate limit can stop them.
      for (let i = 0; i < 20; i++) {
        const result = await call(server.url, '/login', { method: 'POST', body: { username: `nobody${i}`, password: 'guess' } });
        assert.equal(result.status, 404, `attempt ${i + 1}: ${JSON.stringify(result.body)}`);
      }
      const sessions = await count('_Session');
      assertLimited(await login('right-password'), 'the right password past the limit');
      assertLimited(await login('right-password', { headers: { 'X-Forwarded-For': '203.0.113.7' } }), 'a forged X-Forwarded-For (trustProxy is off)');
      assertLimited(await login('right-password', { headers: { 'X-Real-IP': '203.0.113.8' } }), 'a forged X-Real-IP');
      assert.equal(await count('_Session'), sessions, 'no session was started by a refused login');
      // includeMasterKey is false in the defaults: the master key is not counted.
      const master = await login('right-password', { master: true });
      assert.equal(master.status, 200, JSON.stringify(master.body));
    });

    test('/verifyPassword: the 21st check in a minute is 429', async () => {
      for (let i = 0; i < 20; i++) assertNotLimited(await call(server.url, '/verifyPassword', { method: 'POST', body: { username: 'dora', password: 'right-password' } }), `check ${i + 1}`);
      assertLimited(await call(server.url, '/verifyPassword', { method: 'POST', body: { username: 'dora', password: 'right-password' } }), '21st');
    });

    test('sign-up: the 21st in ten minutes is 429 and creates no user', async () => {
      for (let i = 0; i < 20; i++) {
        const result = await call(server.url, '/users', { method: 'POST', body: { username: `signup${i}`, password: 'a-password' } });
        assert.equal(result.status, 201, `sign-up ${i + 1}: ${JSON.stringify(result.body)}`);
      }
      assertLimited(await call(server.url, '/users', { method: 'POST', body: { username: 'signup20', password: 'a-password' } }), '21st sign-up');
      assertLimited(await call(server.url, '/classes/_User', { method: 'POST', body: { username: 'signup21', password: 'a-password' } }), 'sign-up through /classes/_User');
      assert.equal(await count('_User', { username: { $in: ['signup20', 'signup21'] } }), 0);
      // Reading users is not sign-up: other methods on /users are not counted by this rule.
      assert.equal((await call(server.url, '/users', { method: 'POST', body: { _method: 'GET', limit: 1 } })).status, 200);
    });

    test('/requestPasswordReset and /verificationEmailRequest: the 6th in 15 minutes is 429 and sends nothing', async () => {
      for (const path of ['/requestPasswordReset', '/verificationEmailRequest']) {
        for (let i = 0; i < 5; i++) assertNotLimited(await call(server.url, path, { method: 'POST', body: { email: 'dora@example.com' } }), `${path} ${i + 1}`);
        await sleep(200); // emails are sent in the background
        const sent = outbox.length;
        assertLimited(await call(server.url, path, { method: 'POST', body: { email: 'dora@example.com' } }), `${path} 6th`);
        await sleep(200);
        assert.equal(outbox.length, sent, `${path}: no email for a refused request`);
      }
      assert.ok(outbox.length >= 1, 'the allowed reset requests did send');
    });
  });

  describe(`rate limits: bypass shapes (${engine})`, () => {
    let server: TestServer;
    const rules: RateLimitRule[] = [
      { requestPath: '/login', requestTimeWindow: MINUTE, requestCount: 3 },
      { requestPath: '/classes/Limited', requestMethods: ['GET'], requestTimeWindow: MINUTE, requestCount: 3 },
      { requestPath: '/users', requestMethods: ['POST'], requestTimeWindow: MINUTE, requestCount: 2 },
      { requestPath: '/classes/Internal', requestTimeWindow: MINUTE, requestCount: 2 },
      { requestPath: '/classes/InternalCounted', requestTimeWindow: MINUTE, requestCount: 2, includeInternalRequests: true },
      { requestPath: '/classes/MasterToo', requestMethods: ['POST'], requestTimeWindow: MINUTE, requestCount: 2, includeMasterKey: true, errorResponseMessage: 'Slow down.' },
      { requestPath: '/classes/PerUser', requestTimeWindow: MINUTE, requestCount: 2, zone: 'user' },
      { requestPath: '/functions/pingLimited', requestTimeWindow: MINUTE, requestCount: 2 },
      { requestPath: '/classes/BatchCounted', requestMethods: ['POST'], requestTimeWindow: MINUTE, requestCount: 3 },
      { requestPath: '/classes/Everyone/*', requestTimeWindow: MINUTE, requestCount: 1, zone: 'global' },
    ];
    let userId = '';
    before(async () => {
      server = await startTestServer(engine, { rateLimit: rules, cloud: CLOUD });
      const created = await call(server.url, '/users', { method: 'POST', master: true, body: { username: 'erin', password: 'right-password' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      userId = created.body.objectId as string;
      for (const className of ['Limited', 'Internal', 'InternalCounted', 'PerUser', 'BatchCounted', 'Everyone']) {
        assert.equal((await call(server.url, `/classes/${className}`, { method: 'POST', master: true, body: { n: 0 } })).status, 201);
      }
    });
    after(async () => server.stop());

    const count = async (className: string, where: unknown = {}): Promise<number> =>
      (await call(server.url, `/classes/${className}${query({ where, count: 1, limit: 0 })}`, { master: true })).body.count as number;
    const sessionOf = async (id: string): Promise<string> => (await call(server.url, '/loginAs', { method: 'POST', master: true, body: { userId: id } })).body.sessionToken as string;

    test('/login spelt differently, with a query string or in a batch counts as /login; other spellings do not route at all', async () => {
      const body = { username: 'erin', password: 'wrong' };
      // Three attempts, each spelt differently, use up the three allowed.
      for (const path of ['/login', '/login/', '/login?x=1']) assert.equal((await call(server.url, path, { method: 'POST', body })).status, 404, path);
      const sessions = await count('_Session');
      for (const path of ['/login', '/login/', '/login?x=1', '/login/?a=b&c=d', '/login?_method=GET']) {
        assertLimited(await call(server.url, path, { method: 'POST', body: { username: 'erin', password: 'right-password' } }), path);
      }
      assertLimited(await call(server.url, '/login', { method: 'POST', body: { username: 'erin', password: 'right-password', _method: 'POST' } }), '_method: POST');
      assertLimited(await call(server.url, '/login', { method: 'POST', body: { username: 'erin', password: 'right-password' }, headers: { 'X-Forwarded-For': '198.51.100.1' } }), 'forged X-Forwarded-For');
      const inBatch = await call(
        server.url,
        '/batch',
        batch(['/parse/login', '/parse/login/', '/parse/LOGIN', '/parse//login'].map((path) => ({ method: 'post', path, body: { username: 'erin', password: 'right-password' } }))),
      );
      assert.equal(inBatch.status, 200, JSON.stringify(inBatch.body));
      assertSubLimited(inBatch.body[0], 'batch /login');
      assertSubLimited(inBatch.body[1], 'batch /login/');
      // A path the router does not know reaches no handler: it cannot be a way around the limit.
      for (const index of [2, 3]) assert.notEqual(inBatch.body[index].error?.code, undefined, JSON.stringify(inBatch.body[index]));
      for (const path of ['/LOGIN', '/Login', '//login', '/log%69n', '/login//']) {
        const result = await call(server.url, path, { method: 'POST', body: { username: 'erin', password: 'right-password' } });
        assert.ok(result.status === 404 || result.status === 429, `${path}: ${result.status} ${JSON.stringify(result.body)}`);
        assert.equal(result.body?.sessionToken, undefined, path);
      }
      assert.equal(await count('_Session'), sessions, 'no refused or unrouted login started a session');
      // The master key is not counted (includeMasterKey: false).
      assert.equal((await call(server.url, '/login', { method: 'POST', master: true, body: { username: 'erin', password: 'right-password' } })).status, 200);
    });

    test('the method is the effective one: _method (any case) and batch methods (any case) count as GET', async () => {
      assert.equal((await call(server.url, '/classes/Limited')).status, 200);
      assert.equal((await call(server.url, '/classes/Limited', { method: 'POST', body: { _method: 'GET' } })).status, 200);
      assert.equal((await call(server.url, '/classes/Limited', { method: 'POST', body: { _method: 'get' } })).status, 200);
      // The three GETs are spent; every other spelling of a GET is refused.
      assertLimited(await call(server.url, '/classes/Limited', { method: 'POST', body: { _method: 'Get' } }), '_method: Get');
      assertLimited(await call(server.url, '/classes/Limited/'), 'trailing slash');
      assertLimited(await call(server.url, `/classes/Limited${query({ where: { n: 0 } })}`), 'query string');
      assertLimited(await call(server.url, '/classes/Lim%69ted'), 'percent-encoded class name');
      assertLimited(await call(server.url, '/classes/Limited', { method: 'POST', body: { _method: 'GET' }, headers: { 'X-Forwarded-For': '198.51.100.2' } }), 'forged X-Forwarded-For');
      const inBatch = await call(server.url, '/batch', batch([{ method: 'get', path: '/parse/classes/Limited' }, { method: 'GET', path: '/parse/classes/Limited/' }]));
      assertSubLimited(inBatch.body[0], 'batch method get');
      assertSubLimited(inBatch.body[1], 'batch GET with a trailing slash');
      // A create is a POST, which this rule does not limit; it still works and is the only row added.
      const before = await count('Limited');
      assert.equal((await call(server.url, '/classes/Limited', { method: 'POST', body: { n: 1 } })).status, 201);
      assert.equal(await count('Limited'), before + 1);
    });

    test('sign-up through /users and /classes/_User share one limit; refused sign-ups create nobody', async () => {
      assert.equal((await call(server.url, '/users', { method: 'POST', body: { username: 'first', password: 'a-password' } })).status, 201);
      assert.equal((await call(server.url, '/classes/_User', { method: 'POST', body: { username: 'second', password: 'a-password' } })).status, 201);
      assertLimited(await call(server.url, '/users/', { method: 'POST', body: { username: 'third', password: 'a-password' } }), '/users/');
      assertLimited(await call(server.url, '/classes/_User', { method: 'POST', body: { username: 'fourth', password: 'a-password' } }), '/classes/_User');
      assertLimited(await call(server.url, '/classes/%5FUser', { method: 'POST', body: { username: 'fifth', password: 'a-password' } }), '/classes/%5FUser');
      const inBatch = await call(server.url, '/batch', batch([{ method: 'POST', path: '/parse/users', body: { username: 'sixth', password: 'a-password' } }], true));
      assert.equal(inBatch.status, 429, JSON.stringify(inBatch.body));
      assertSubLimited(inBatch.body[0], 'transactional batch sign-up');
      assert.equal(await count('_User', { username: { $in: ['third', 'fourth', 'fifth', 'sixth'] } }), 0);
    });

    test('each batch sub-request counts: 6 creates against a limit of 3 create exactly 3', async () => {
      const before = await count('BatchCounted');
      const requests = Array.from({ length: 6 }, (_, i) => ({ method: 'POST', path: '/parse/classes/BatchCounted', body: { n: i + 1 } }));
      const result = await call(server.url, '/batch', batch(requests));
      assert.equal(result.status, 200, JSON.stringify(result.body));
      const refused = (result.body as { error?: unknown }[]).filter((entry) => entry.error !== undefined);
      assert.equal(refused.length, 3, JSON.stringify(result.body));
      for (const entry of refused) assertSubLimited(entry, 'sub-request past the limit');
      assert.equal(await count('BatchCounted'), before + 3);
    });

    test('cloud code\'s own queries are not counted unless includeInternalRequests', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await call(server.url, '/functions/findInternal', { method: 'POST', body: {} })).status, 200, `call ${i + 1}`);
      assert.equal((await call(server.url, '/classes/Internal')).status, 200);
      assert.equal((await call(server.url, '/classes/Internal')).status, 200);
      assertLimited(await call(server.url, '/classes/Internal'), 'a direct request is still counted');

      assert.equal((await call(server.url, '/functions/findInternalCounted', { method: 'POST', body: {} })).status, 200);
      assert.equal((await call(server.url, '/functions/findInternalCounted', { method: 'POST', body: {} })).status, 200);
      assertLimited(await call(server.url, '/functions/findInternalCounted', { method: 'POST', body: {} }), 'the third internal query');
    });

    test('a function name spelt with percent-encoding, GET or POST, or in a batch is the same function', async () => {
      assert.equal((await call(server.url, '/functions/ping%4Cimited', { method: 'POST', body: {} })).body.result, 'pong');
      assert.equal((await call(server.url, '/functions/pingLimited')).body.result, 'pong');
      // Counted on the path, before the function is looked up: any case of the name is the third call.
      assertLimited(await call(server.url, '/functions/PINGLIMITED', { method: 'POST', body: {} }), 'third call, upper case');
      const inBatch = await call(server.url, '/batch', batch([{ method: 'POST', path: '/parse/functions/pingLimited', body: {} }]));
      assertSubLimited(inBatch.body[0], 'batch call');
    });

    test('includeMasterKey: the master key is counted too, with the rule\'s own message', async () => {
      assert.equal((await call(server.url, '/classes/MasterToo', { method: 'POST', master: true, body: { n: 1 } })).status, 201);
      assert.equal((await call(server.url, '/classes/MasterToo', { method: 'POST', master: true, body: { n: 2 } })).status, 201);
      assertLimited(await call(server.url, '/classes/MasterToo', { method: 'POST', master: true, body: { n: 3 } }), 'master past the limit', 'Slow down.');
      assertLimited(await call(server.url, '/classes/MasterToo', { method: 'POST', body: { n: 4 } }), 'a client from the same address', 'Slow down.');
      assert.equal(await count('MasterToo'), 2, 'the refused creates wrote nothing');
    });

    test('zone user: each user has their own count; without a session the address is counted', async () => {
      const other = await call(server.url, '/users', { method: 'POST', master: true, body: { username: 'frank', password: 'right-password' } });
      const erin = { headers: { 'X-Parse-Session-Token': await sessionOf(userId) } };
      const frank = { headers: { 'X-Parse-Session-Token': await sessionOf(other.body.objectId as string) } };
      for (let i = 0; i < 2; i++) assert.equal((await call(server.url, '/classes/PerUser', erin)).status, 200);
      assertLimited(await call(server.url, '/classes/PerUser', erin), 'erin, third');
      for (let i = 0; i < 2; i++) assert.equal((await call(server.url, '/classes/PerUser', frank)).status, 200, 'frank has his own count');
      assertLimited(await call(server.url, '/classes/PerUser', frank), 'frank, third');
      for (let i = 0; i < 2; i++) assert.equal((await call(server.url, '/classes/PerUser')).status, 200, 'anonymous: by address');
      assertLimited(await call(server.url, '/classes/PerUser'), 'anonymous, third');
    });

    test('zone global and a trailing /*: one count for every caller and every path under the prefix', async () => {
      const first = await call(server.url, '/classes/Everyone');
      assert.equal(first.status, 200, 'the prefix itself matches /classes/Everyone/*');
      assertLimited(await call(server.url, `/classes/Everyone/${userId}`), 'a get under the prefix');
      assertLimited(await call(server.url, '/classes/Everyone', { headers: { 'X-Parse-Session-Token': await sessionOf(userId) } }), 'another caller');
    });
  });

  describe(`rate limits: a property over every way of sending the same GET (${engine})`, () => {
    let server: TestServer;
    let userId = '';
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [{ requestPath: '/classes/Prop', requestMethods: ['GET'], requestTimeWindow: MINUTE, requestCount: 3, zone: 'session' }] });
      userId = (await call(server.url, '/users', { method: 'POST', master: true, body: { username: 'gina', password: 'right-password' } })).body.objectId as string;
    });
    after(async () => server.stop());

    const spelling = fc.constantFrom('/classes/Prop', '/classes/Prop/', '/classes/Pr%6Fp', '/classes/PROP', '/classes/prop/');
    const anyCase = fc.constantFrom('GET', 'get', 'Get', 'gET');
    const send = fc.oneof(
      fc.record({ via: fc.constant('url' as const), path: spelling, search: fc.constantFrom('', '?limit=1', '?where=%7B%7D') }),
      fc.record({ via: fc.constant('override' as const), path: spelling, method: anyCase }),
      fc.record({ via: fc.constant('batch' as const), path: spelling, method: anyCase }),
    );

    test(`any mix of spellings, _method overrides and batch sub-requests gets exactly requestCount answers (seed ${FUZZ_SEED})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(send, { minLength: 1, maxLength: 7 }), async (sends) => {
          // A fresh session is a fresh count (zone: session), so every run starts from zero.
          const token = (await call(server.url, '/loginAs', { method: 'POST', master: true, body: { userId } })).body.sessionToken as string;
          const headers = { 'X-Parse-Session-Token': token };
          for (const [index, one] of sends.entries()) {
            let status: number;
            let body: unknown;
            if (one.via === 'url') ({ status, body } = await call(server.url, `${one.path}${one.search}`, { headers }));
            else if (one.via === 'override') ({ status, body } = await call(server.url, one.path, { method: 'POST', headers, body: { _method: one.method } }));
            else {
              const result = await call(server.url, '/batch', { method: 'POST', headers, body: { requests: [{ method: one.method, path: `/parse${one.path}` }] } });
              const entry = result.body[0] as { error?: { code: number } };
              status = entry.error?.code === 100 ? 429 : 200;
              body = entry.error ?? result.body;
            }
            const label = `${index + 1} of ${JSON.stringify(sends)}: ${status} ${JSON.stringify(body)}`;
            if (index < 3) assert.notEqual(status, 429, label);
            else assert.equal(status, 429, label);
          }
        }),
        fuzzParameters(20),
      );
    });
  });

  describe(`rate limits: off (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [] }, { mail: { sendMail: () => Promise.resolve() } });
    });
    after(async () => server.stop());

    test('rateLimit: [] turns the defaults off', async () => {
      for (let i = 0; i < 8; i++) assertNotLimited(await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'x@example.com' } }), `request ${i + 1}`);
    });
  });
}
