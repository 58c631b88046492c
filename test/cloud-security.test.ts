/**
 * Cloud Code security over HTTP, on each engine: every attack shape of reference §7.1 (one test per advisory,
 * named after it), prototype-named params and contexts, validators with their exact messages, forged users,
 * revoked sessions, credentials in `request.headers`, internal fields written by `beforeSave`, and failures of
 * every kind in functions and triggers. Each refused request must answer the exact Parse code and HTTP status,
 * change nothing (handler run counts, rows, `Object.prototype`) and leave the server serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../src/errors/codes.ts';
import { call, query, type HttpResult, type RequestOptions } from './helpers/http.ts';
import { APP_ID, engines, JS_KEY, MASTER_KEY, startTestServer, type TestServer } from './helpers/server.ts';
import { assertNotPolluted } from './helpers/prototypes.ts';

const SECURITY = fileURLToPath(new URL('./fixtures/cloud/security.js', import.meta.url));
const MAINTENANCE_KEY = 'test-maintenance-key-0123456789abcdef';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const PARSE_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));
const SECRET_HEADERS = ['x-parse-master-key', 'x-parse-maintenance-key', 'x-parse-session-token', 'authorization', 'cookie'];

// --- Object.prototype must never change (the server runs in this process) ---------------------------------

const PLANTED = ['isAdmin', 'polluted', 'dummy', 'x', 'y', 'a', 'b'];

/** True when `value` holds a key named like a prototype member anywhere. */
function hasPrototypeKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPrototypeKey);
  if (typeof value !== 'object' || value === null) return false;
  return Object.keys(value).some((key) => key === '__proto__' || key === 'constructor' || key === 'prototype' || hasPrototypeKey((value as Record<string, unknown>)[key]));
}

// --- helpers ------------------------------------------------------------------------------------------------

interface User {
  objectId: string;
  sessionToken: string;
  username: string;
}

function expectError(result: HttpResult, status: number, code: number, message?: string, label = ''): void {
  const shown = `${label} → ${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, status, shown);
  assert.equal(result.body?.code, code, shown);
  if (message !== undefined) assert.equal(result.body.error, message, shown);
}

/** A Parse error body: a known code, a string message, a 4xx status (never a 5xx). */
function expectParseError(result: HttpResult, label: string): void {
  const shown = `${label} → ${result.status} ${JSON.stringify(result.body)}`;
  assert.ok(result.status >= 400 && result.status < 500, shown);
  assert.ok(PARSE_CODES.has(result.body?.code), shown);
  assert.equal(typeof result.body.error, 'string', shown);
}

const asUser = (user: User, headers: Record<string, string> = {}): RequestOptions => ({ headers: { 'X-Parse-Session-Token': user.sessionToken, ...headers } });
const basic = (secret: string): string => `Basic ${Buffer.from(`${APP_ID}:${secret}`).toString('base64')}`;
const invalidFunction = (name: string): string => `Invalid function: "${name}"`;
const prohibited = (key: string): string => `Prohibited keyword in request data: {"key":"${key}"}.`;

for (const engine of engines()) {
  describe(`cloud code security (${engine})`, () => {
    let server: TestServer;
    let alice: User;
    let bob: User;

    const fn = (name: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, `/functions/${name}`, { method: 'POST', body: {}, ...options });
    const counts = async (): Promise<Record<string, number>> => {
      const result = await fn('counts', { master: true });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.result;
    };
    const events = async (): Promise<Record<string, unknown>[]> => (await fn('events', { master: true })).body.result;
    const rowCount = async (className: string, where: Record<string, unknown> = {}): Promise<number> => {
      const result = await call(server.url, `/classes/${className}${query({ where, count: 1, limit: 0 })}`, { master: true });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.count;
    };
    const assertServing = async (): Promise<void> => {
      const result = await fn('legit');
      assert.equal(result.status, 200, 'the server keeps serving');
      assert.deepEqual(result.body, { result: 'legit' });
    };
    const signUp = async (username: string, password = 'pw-123456'): Promise<User> => {
      const result = await call(server.url, '/users', { method: 'POST', body: { username, password } });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      return { objectId: result.body.objectId, sessionToken: result.body.sessionToken, username };
    };
    const logIn = async (username: string, password = 'pw-123456'): Promise<User> => {
      const result = await call(server.url, '/login', { method: 'POST', body: { username, password } });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return { objectId: result.body.objectId, sessionToken: result.body.sessionToken, username };
    };

    before(async () => {
      server = await startTestServer(engine, { cloud: SECURITY, maintenanceKey: MAINTENANCE_KEY });
      alice = await signUp(`alice-${engine}`);
      bob = await signUp(`bob-${engine}`);
      await events();
    });
    after(async () => server.stop());

    describe('reference §7.1: cloud function dispatch advisories', () => {
      test('GHSA-6hh7-46r2-vf29: quoted, SQL-ish and unregistered dotted names are 141 "Invalid function" / 141 for jobs; the server stays up', async () => {
        const before = await counts();
        const jobStatuses = await rowCount('_JobStatus');
        const names = [
          "test';declare @q varchar(99);set @q='\\\\x'+(select top 1 name from sys.tables)--",
          'test.function.name',
          "test'",
          'test"',
          "legit'",
          'legit" OR 1=1--',
          '\'; DROP TABLE "_User"; --',
          'legit;',
          "legit') OR ('1'='1",
        ];
        for (const name of names) {
          const path = `/functions/${encodeURIComponent(name)}`;
          expectError(await call(server.url, path, { method: 'POST', body: {} }), 400, 141, invalidFunction(name), `POST ${name}`);
          expectError(await call(server.url, path), 400, 141, invalidFunction(name), `GET ${name}`);
          const job = await call(server.url, `/jobs/${encodeURIComponent(name)}`, { method: 'POST', master: true, body: {} });
          expectError(job, 400, 141, undefined, `job ${name}`);
        }
        assert.deepEqual(await counts(), before, 'no handler ran');
        assert.equal(await rowCount('_JobStatus'), jobStatuses, 'no job status was created');
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('GHSA-6hh7-46r2-vf29 (message): an unknown job is 141 "Invalid job.", as Parse Server answers', async () => {
        for (const name of ['noSuchJob', 'test.function.name', "test'"]) {
          const job = await call(server.url, `/jobs/${encodeURIComponent(name)}`, { method: 'POST', master: true, body: {} });
          expectError(job, 400, 141, 'Invalid job.', `job ${name}`);
        }
      });

      test('GHSA-5j86-7r7m-p8h6: names of Object.prototype members never dispatch (POST, GET, batch, jobs)', async () => {
        const before = await counts();
        const names = [
          'constructor',
          'toString',
          'valueOf',
          'hasOwnProperty',
          'isPrototypeOf',
          'propertyIsEnumerable',
          'toLocaleString',
          '__defineGetter__',
          '__lookupGetter__',
          '__proto__',
          '__proto__.toString',
          'constructor.prototype',
          'prototype',
        ];
        for (const name of names) {
          const path = `/functions/${encodeURIComponent(name)}`;
          expectError(await call(server.url, path, { method: 'POST', body: {} }), 400, 141, invalidFunction(name), `POST ${name}`);
          expectError(await call(server.url, path), 400, 141, invalidFunction(name), `GET ${name}`);
          expectError(await call(server.url, path, { method: 'POST', master: true, body: {} }), 400, 141, invalidFunction(name), `master ${name}`);
          const job = await call(server.url, `/jobs/${encodeURIComponent(name)}`, { method: 'POST', master: true, body: {} });
          expectError(job, 400, 141, undefined, `job ${name}`);
        }
        const batch = await call(server.url, '/batch', {
          method: 'POST',
          body: { requests: names.map((name) => ({ method: 'POST', path: `/parse/functions/${name}`, body: {} })) },
        });
        assert.equal(batch.status, 200);
        assert.deepEqual(
          batch.body.map((entry: { error?: { code: number; error: string } }) => entry.error),
          names.map((name) => ({ code: 141, error: invalidFunction(name) })),
        );
        assert.deepEqual(await counts(), before, 'no handler ran');
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('GHSA-4263-jgmp-7pf4: property paths below a registered name (plain and URL-encoded) are 141; the name itself still answers', async () => {
        const before = await counts();
        const paths: Array<[path: string, name: string]> = [
          'legit.__proto__.__proto__.constructor',
          'legit.__proto__.constructor',
          'legit.constructor',
          'legit.__proto__',
          'legit.prototype',
          'legit.prototype.constructor',
          'legit.toString',
          'legit.call',
          'legit.apply',
          'legit.bind',
          'legit.length',
        ].map((name) => [name, name]);
        paths.push(
          ['legit%2E__proto__%2E__proto__%2Econstructor', 'legit.__proto__.__proto__.constructor'],
          ['legit.%5F%5Fproto%5F%5F.constructor', 'legit.__proto__.constructor'],
          ['legit%2Econstructor', 'legit.constructor'],
          ['%6Cegit.__proto__', 'legit.__proto__'],
        );
        for (const [path, name] of paths) {
          expectError(await call(server.url, `/functions/${path}`, { method: 'POST', body: {} }), 400, 141, invalidFunction(name), path);
        }
        assert.deepEqual(await counts(), before, 'legit never ran through a property path');
        await assertServing();
        assert.equal((await counts()).legit, (before.legit ?? 0) + 1);
        assertNotPolluted(PLANTED);
      });

      test('GHSA-vpj2-qq7w-5qq6 / CVE-2026-34532: a path below a guarded function never reaches its handler without the validator', async () => {
        const before = await counts();
        const names = [
          'protectedFn.prototype.constructor',
          'protectedFn.prototype',
          'protectedFn.constructor',
          'protectedFn.call',
          'protectedFn.apply',
          'masterFn.prototype.constructor',
          'masterFn.prototype',
        ];
        for (const name of names) {
          expectError(await fn(name), 400, 141, invalidFunction(name), `anonymous ${name}`);
          expectError(await fn(name, asUser(alice)), 400, 141, invalidFunction(name), `user ${name}`);
          expectError(await call(server.url, `/functions/${name}`), 400, 141, invalidFunction(name), `GET ${name}`);
        }
        const batch = await call(server.url, '/batch', {
          method: 'POST',
          body: { requests: names.map((name) => ({ method: 'POST', path: `/parse/functions/${name}`, body: {} })) },
        });
        assert.deepEqual(
          batch.body.map((entry: { error?: { code: number } }) => entry.error?.code),
          names.map(() => 141),
        );
        assert.deepEqual(await counts(), before, 'no guarded handler ran');
        expectError(await fn('protectedFn'), 400, 142, 'Validation failed. Please login to continue.', 'protectedFn anonymous');
        expectError(await fn('masterFn', asUser(alice)), 400, 142, 'Validation failed. Master key is required to complete this request.', 'masterFn as a user');
        assert.deepEqual(await counts(), before, 'refused calls ran nothing');
        assert.deepEqual((await fn('protectedFn', asUser(alice))).body, { result: alice.objectId });
        assert.deepEqual((await fn('masterFn', { master: true })).body, { result: 'master only' });
        assertNotPolluted(PLANTED);
      });

      test('GHSA-3v4q-4q9g-x83q: an application id named like a prototype member is 403 everywhere', async () => {
        const before = await counts();
        for (const appId of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', '__defineGetter__', 'prototype']) {
          const headers = { 'X-Parse-Application-Id': appId };
          const attempts: Array<[string, RequestOptions]> = [
            ['/functions/legit', { method: 'POST', body: {}, headers }],
            ['/functions/legit', { method: 'POST', body: {}, headers: { ...headers, 'X-Parse-Master-Key': MASTER_KEY } }],
            ['/classes/Noted', { headers }],
            ['/classes/Noted', { method: 'POST', body: { a: 1 }, headers }],
            ['/jobs/anything', { method: 'POST', body: {}, headers: { ...headers, 'X-Parse-Master-Key': MASTER_KEY } }],
            ['/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/functions/legit', body: {} }] }, headers }],
          ];
          for (const [path, options] of attempts) {
            const result = await call(server.url, path, options);
            assert.equal(result.status, 403, `${appId} ${path} → ${result.status} ${JSON.stringify(result.body)}`);
            assert.deepEqual(result.body, { error: 'unauthorized' });
          }
          // The body-field form of the JS SDK too.
          const bodyForm = await call(server.url, '/functions/legit', {
            method: 'POST',
            bare: true,
            rawBody: JSON.stringify({ _ApplicationId: appId, _JavaScriptKey: JS_KEY }),
            headers: { 'Content-Type': 'text/plain' },
          });
          assert.equal(bodyForm.status, 403, `${appId} body form`);
        }
        assert.deepEqual(await counts(), before);
        assert.equal(await rowCount('Noted'), 0);
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('GHSA-445j-ww4h-339m: a cloud context with __proto__ / constructor keys is refused (105) and pollutes nothing; a deleted context key is gone', async () => {
        const attempts: Array<[label: string, options: RequestOptions, key: string]> = [
          ['header __proto__', { method: 'POST', body: { a: 1 }, headers: { 'X-Parse-Cloud-Context': '{"__proto__":{"isAdmin":true}}' } }, '__proto__'],
          ['header constructor', { method: 'POST', body: { a: 1 }, headers: { 'X-Parse-Cloud-Context': '{"constructor":{"prototype":{"isAdmin":true}}}' } }, 'constructor'],
          ['header nested __proto__', { method: 'POST', body: { a: 1 }, headers: { 'X-Parse-Cloud-Context': '{"deep":{"__proto__":{"isAdmin":true}}}' } }, '__proto__'],
          ['_context __proto__', { method: 'POST', rawBody: '{"a":1,"_context":{"__proto__":{"isAdmin":true}}}', headers: JSON_HEADERS }, '__proto__'],
          ['_context constructor', { method: 'POST', rawBody: '{"a":1,"_context":{"constructor":{"prototype":{"isAdmin":true}}}}', headers: JSON_HEADERS }, 'constructor'],
          [
            '_context, JS SDK text/plain form',
            {
              method: 'POST',
              bare: true,
              rawBody: `{"_ApplicationId":"${APP_ID}","_JavaScriptKey":"${JS_KEY}","a":1,"_context":{"__proto__":{"isAdmin":true}}}`,
              headers: { 'Content-Type': 'text/plain' },
            },
            '__proto__',
          ],
        ];
        for (const [label, options, key] of attempts) {
          expectError(await call(server.url, '/classes/Noted', options), 400, 105, prohibited(key), `save: ${label}`);
          expectError(await call(server.url, '/functions/inspect', options), 400, 105, prohibited(key), `function: ${label}`);
        }
        assert.equal(await rowCount('Noted'), 0, 'nothing was saved');
        assert.deepEqual(await events(), [], 'no trigger ran');
        assertNotPolluted(PLANTED);

        const saved = await call(server.url, '/classes/Noted', { method: 'POST', body: { a: 1 }, headers: { 'X-Parse-Cloud-Context': '{"drop":"gone","keep":1}' } });
        assert.equal(saved.status, 201, JSON.stringify(saved.body));
        const seen = await events();
        assert.deepEqual(
          seen.map(({ event, keys, isAdmin }) => ({ event, keys, isAdmin })),
          [
            { event: 'beforeSave', keys: ['drop', 'keep'], isAdmin: null },
            { event: 'afterSave', keys: ['added', 'keep'], isAdmin: null },
          ],
        );
        assert.equal(seen[1]?.dropIn, false, 'a key deleted in beforeSave is really gone in afterSave');
        assert.equal(seen[1]?.drop, null);
        await call(server.url, `/classes/Noted/${saved.body.objectId}`, { method: 'DELETE', master: true });
        assertNotPolluted(PLANTED);
      });

      test('GHSA-93vw-8fm5-p2jf: there are no webhooks whose answers could pollute; /hooks registers nothing', async () => {
        const attempts: Array<[string, RequestOptions]> = [
          ['/hooks/functions', { method: 'POST', master: true, body: { functionName: 'hooked', url: 'http://127.0.0.1:9/hook' } }],
          ['/hooks/functions/hooked', { method: 'PUT', master: true, body: { url: 'http://127.0.0.1:9/hook' } }],
          ['/hooks/triggers', { method: 'POST', master: true, body: { className: 'Noted', triggerName: 'beforeSave', url: 'http://127.0.0.1:9/hook' } }],
        ];
        for (const [path, options] of attempts) {
          const result = await call(server.url, path, options);
          assert.equal(result.status, 404, `${path} → ${result.status} ${JSON.stringify(result.body)}`);
          assert.deepEqual(result.body, { error: `Cannot route ${path}` });
        }
        expectError(await fn('hooked'), 400, 141, invalidFunction('hooked'));
        const saved = await call(server.url, '/classes/Noted', { method: 'POST', body: { a: 2 } });
        assert.equal(saved.status, 201);
        assert.deepEqual((await events()).map((event) => event.event), ['beforeSave', 'afterSave'], 'only the cloud code triggers ran');
        await call(server.url, `/classes/Noted/${saved.body.objectId}`, { method: 'DELETE', master: true });
        assertNotPolluted(PLANTED);
      });

      test('GHSA-xprv-wvh7-qqqx: data a beforeSave injects is checked like a client body (same answer), prototype keys included', async () => {
        const cases: Array<[injection: string, clientBody: string]> = [
          ['bsonCode', '{"source":"client","payload":{"_bsontype":"Code","code":"this.constructor.constructor(\\"return process\\")()"}}'],
          ['dollarKey', '{"source":"client","payload":{"$where":"sleep(1000)"}}'],
          ['dottedKey', '{"source":"client","payload":{"a.b":1}}'],
          ['protoKey', '{"source":"client","payload":{"__proto__":{"polluted":true}}}'],
          ['constructorKey', '{"source":"client","payload":{"constructor":{"prototype":{"polluted":true}}}}'],
          ['internalColumn', '{"source":"client","_rperm":["*"]}'],
        ];
        const answers: Record<string, { client: unknown; trigger: unknown }> = {};
        for (const [injection, clientBody] of cases) {
          const client = await call(server.url, '/classes/Injected', { method: 'POST', rawBody: clientBody, headers: JSON_HEADERS });
          const trigger = await call(server.url, '/classes/Injected', {
            method: 'POST',
            body: { source: 'trigger' },
            headers: { 'X-Parse-Cloud-Context': JSON.stringify({ inject: injection }) },
          });
          answers[injection] = { client: [client.status, client.body.code ?? null], trigger: [trigger.status, trigger.body.code ?? null] };
        }
        assert.deepEqual(
          Object.fromEntries(Object.entries(answers).map(([injection, { trigger }]) => [injection, trigger])),
          Object.fromEntries(Object.entries(answers).map(([injection, { client }]) => [injection, client])),
          'each injection gets the answer the same data gets from a client',
        );
        assert.deepEqual(answers.protoKey?.client, [400, 105]);
        assert.deepEqual(answers.constructorKey?.client, [400, 105]);
        const stored = await call(server.url, '/classes/Injected', { master: true });
        const withPrototypeKeys = stored.body.results.filter((row: unknown) => hasPrototypeKey(row));
        assert.deepEqual(withPrototypeKeys, [], 'no stored object holds a prototype key');
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('validator semantics (§7.1, no GHSA): the master key skips object validators unless validateMasterKey; function validators always run', async () => {
        const before = await counts();
        expectError(await fn('userUnlessMaster'), 400, 142, 'Validation failed. Please login to continue.');
        assert.deepEqual((await fn('userUnlessMaster', { master: true })).body, { result: { master: true, userId: null } }, 'Parse: the object validator is skipped for master');
        assert.deepEqual((await fn('needsBothRoles', { master: true })).body, { result: 'editor and reviewer' }, 'roles are skipped for master too');
        expectError(await fn('userEvenForMaster', { master: true }), 400, 142, 'Validation failed. Please login to continue.', 'validateMasterKey');
        expectError(await fn('functionValidated', { master: true }), 400, 142, 'A user is required, master key or not.', 'function validator, master');
        expectError(await fn('functionValidated'), 400, 142, 'A user is required, master key or not.', 'function validator, anonymous');
        assert.deepEqual((await fn('functionValidated', asUser(alice))).body, { result: 'validated' });
        const after = await counts();
        assert.equal(after.userUnlessMaster, (before.userUnlessMaster ?? 0) + 1);
        assert.equal(after.needsBothRoles, (before.needsBothRoles ?? 0) + 1);
        assert.equal(after.functionValidated, (before.functionValidated ?? 0) + 1, 'refused calls never reached the handler');
      });

      test('rateLimit on a validator (ISSUE #8684, PR #10550): the 4th call within the window is 429 {code: 100}', async () => {
        for (let i = 1; i <= 3; i++) {
          const result = await fn('limitedThree');
          assert.equal(result.status, 200, `call ${i}`);
          assert.deepEqual(result.body, { result: 'ok' });
        }
        const refused = await fn('limitedThree');
        assert.equal(refused.status, 429);
        assert.deepEqual(refused.body, { code: 100, error: 'Too many requests.' });
        const alsoAsUser = await fn('limitedThree', asUser(alice));
        assert.equal(alsoAsUser.status, 429, 'the default zone is the IP');
        await assertServing();
      });
    });

    describe('prototype-named params and context', () => {
      test('a JSON body param named constructor, __proto__ or prototype is refused (105) before any cloud code runs', async () => {
        const before = await counts();
        const bodies: Array<[body: string, key: string]> = [
          ['{"constructor":{"prototype":{"isAdmin":true}}}', 'constructor'],
          ['{"constructor":"x"}', 'constructor'],
          ['{"__proto__":{"isAdmin":true}}', '__proto__'],
          ['{"prototype":{"isAdmin":true}}', 'prototype'],
          ['{"a":{"__proto__":{"isAdmin":true}}}', '__proto__'],
          ['{"list":[{"constructor":{"prototype":{"isAdmin":true}}}]}', 'constructor'],
          ['{"when":{"__type":"Date","iso":"2020-01-01T00:00:00.000Z","__proto__":{"isAdmin":true}}}', '__proto__'],
        ];
        for (const [body, key] of bodies) {
          expectError(await call(server.url, '/functions/inspect', { method: 'POST', rawBody: body, headers: JSON_HEADERS }), 400, 105, prohibited(key), body);
          expectError(await call(server.url, '/functions/legit', { method: 'POST', rawBody: body, headers: JSON_HEADERS }), 400, 105, prohibited(key), `legit ${body}`);
          const batch = await call(server.url, '/batch', {
            method: 'POST',
            rawBody: `{"requests":[{"method":"POST","path":"/parse/functions/legit","body":${body}}]}`,
            headers: JSON_HEADERS,
          });
          expectError(batch, 400, 105, prohibited(key), `batch ${body}`);
        }
        assert.deepEqual(await counts(), before, 'no handler ran');
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('prototype-named query-string params have no prototype effect on request.params', async () => {
        const searches = [
          '__proto__=x',
          '__proto__=a&__proto__=b',
          '__proto__=isAdmin&__proto__=isAdmin',
          '__proto__[isAdmin]=1',
          'constructor=y',
          'constructor[prototype][isAdmin]=1',
          'prototype=z',
        ];
        const problems: string[] = [];
        for (const search of searches) {
          for (const method of ['GET', 'POST']) {
            const result = await call(server.url, `/functions/inspect?${search}`, method === 'POST' ? { method, body: {} } : {});
            const label = `${method} ?${search} → ${result.status}`;
            // Refusing the request (105, like the same key in a body) is as good as ignoring the key.
            if (result.status === 400 && result.body.code === 105) continue;
            if (result.status !== 200) {
              problems.push(`${label} ${JSON.stringify(result.body)}`);
              continue;
            }
            const seen = result.body.result;
            if (seen.paramsPrototypeIsPlain !== true) problems.push(`${label}: request.params got another prototype (own keys ${JSON.stringify(seen.paramKeys)})`);
            if (seen.probeIsAdmin !== null) problems.push(`${label}: Object.prototype polluted`);
            if (seen.paramKeys.includes('constructor') && seen.paramConstructorType !== 'string') problems.push(`${label}: params.constructor is not the string sent`);
          }
        }
        assert.deepEqual(problems, []);
        assertNotPolluted(PLANTED);
        await assertServing();
      });

      test('a function sees the context as plain data: prototype keys refused (105), others passed as sent', async () => {
        const ok = await fn('inspect', { headers: { 'X-Parse-Cloud-Context': '{"isAdmin":false,"role":"reader"}' } });
        assert.equal(ok.status, 200);
        assert.deepEqual(ok.body.result.contextKeys, ['isAdmin', 'role']);
        assert.equal(ok.body.result.contextIsAdmin, false);
        const viaBody = await call(server.url, '/functions/inspect', { method: 'POST', body: { _context: { source: 'sdk' } } });
        assert.deepEqual(viaBody.body.result.contextKeys, ['source']);
        assert.deepEqual(viaBody.body.result.paramKeys, [], '_context is not a param');
        expectError(await fn('inspect', { headers: { 'X-Parse-Cloud-Context': '{"__proto__":{"isAdmin":true}}' } }), 400, 105, prohibited('__proto__'));
        const afterwards = await fn('inspect');
        assert.equal(afterwards.body.result.contextIsAdmin, null);
        assert.deepEqual(afterwards.body.result.contextKeys, []);
        assertNotPolluted(PLANTED);
      });
    });

    describe('validators over HTTP, with their exact messages', () => {
      let carol: User;
      before(async () => {
        carol = await signUp(`carol-${engine}`);
      });

      test('requireUserKeys (array): no user, a user without the key, a user with it', async () => {
        expectError(await fn('needsNickname'), 400, 142, 'Please login to make this request.', 'anonymous');
        expectError(await fn('needsNickname', asUser(carol)), 400, 142, 'Validation failed. Please set data for nickname on your account.', 'no nickname');
        const forged = await fn('needsNickname', { ...asUser(carol), body: { nickname: 'ace', user: { nickname: 'ace' } } });
        expectError(forged, 400, 142, 'Validation failed. Please set data for nickname on your account.', 'params are not the user');
        assert.equal((await call(server.url, `/users/${carol.objectId}`, { method: 'PUT', body: { nickname: 'joker' }, ...asUser(carol) })).status, 200);
        assert.deepEqual((await fn('needsNickname', asUser(carol))).body, { result: 'joker' });
      });

      test("requireUserKeys (object form): options and a custom error apply to the caller's own field", async () => {
        expectError(await fn('needsAceNickname'), 400, 142, 'Please login to make this request.', 'anonymous');
        await call(server.url, `/users/${carol.objectId}`, { method: 'PUT', body: { nickname: 'joker' }, ...asUser(carol) });
        expectError(await fn('needsAceNickname', { ...asUser(carol), body: { nickname: 'ace' } }), 400, 142, 'Only aces may call this.', 'wrong value');
        await call(server.url, `/users/${carol.objectId}`, { method: 'PUT', body: { nickname: 'ace' }, ...asUser(carol) });
        assert.deepEqual((await fn('needsAceNickname', asUser(carol))).body, { result: 'ace' });
      });

      test('requireAllUserRoles: no user, one of two roles, both (directly or inherited), role names from a function', async () => {
        const [frank, grace, erin] = [await signUp(`frank-${engine}`), await signUp(`grace-${engine}`), await signUp(`erin-${engine}`)];
        const pointer = (user: User) => ({ __type: 'Pointer', className: '_User', objectId: user.objectId });
        const role = async (name: string, users: User[], roles: string[] = []): Promise<string> => {
          const created = await call(server.url, '/roles', {
            method: 'POST',
            master: true,
            body: {
              name,
              ACL: { '*': { read: true } },
              users: { __op: 'AddRelation', objects: users.map(pointer) },
              ...(roles.length > 0 ? { roles: { __op: 'AddRelation', objects: roles.map((objectId) => ({ __type: 'Pointer', className: '_Role', objectId })) } } : {}),
            },
          });
          assert.equal(created.status, 201, JSON.stringify(created.body));
          return created.body.objectId;
        };
        const chief = await role('chief', [erin]);
        await role('editor', [frank, grace], [chief]);
        await role('reviewer', [grace], [chief]);
        // Fresh sessions, so role membership is read after the roles exist.
        const [frankNow, graceNow, erinNow] = [await logIn(frank.username), await logIn(grace.username), await logIn(erin.username)];
        const before = (await counts()).needsBothRoles ?? 0;
        expectError(await fn('needsBothRoles'), 400, 142, 'Validation failed. Please login to continue.', 'anonymous');
        expectError(await fn('needsBothRoles', asUser(frankNow)), 400, 142, 'Validation failed. User does not match all the required roles.', 'editor only');
        expectError(await fn('needsBothRoles', asUser(alice)), 400, 142, 'Validation failed. User does not match all the required roles.', 'no role');
        assert.deepEqual((await fn('needsBothRoles', asUser(graceNow))).body, { result: 'editor and reviewer' }, 'both, directly');
        assert.deepEqual((await fn('needsBothRoles', asUser(erinNow))).body, { result: 'editor and reviewer' }, 'both, through chief');
        assert.equal((await counts()).needsBothRoles, before + 2, 'refused calls never reached the handler');
        expectError(await fn('needsBothRolesLater', asUser(frankNow)), 400, 142, 'Validation failed. User does not match all the required roles.', 'function form');
        assert.deepEqual((await fn('needsBothRolesLater', asUser(graceNow))).body, { result: 'editor and reviewer' });
        const forged = await fn('needsBothRoles', { ...asUser(frankNow), body: { roles: ['editor', 'reviewer'] }, headers: { 'X-Parse-Session-Token': frankNow.sessionToken, 'X-Parse-Role': 'reviewer' } });
        expectError(forged, 400, 142, 'Validation failed. User does not match all the required roles.', 'roles cannot be claimed');
      });

      test('validateMasterKey: true applies the checks to the master key as well', async () => {
        expectError(await fn('userEvenForMaster', { master: true }), 400, 142, 'Validation failed. Please login to continue.', 'master alone');
        expectError(await fn('userEvenForMaster'), 400, 142, 'Validation failed. Please login to continue.', 'anonymous');
        assert.deepEqual((await fn('userEvenForMaster', asUser(alice))).body, { result: { master: false, userId: alice.objectId } });
        // With the master key a session token is ignored (as in Parse), so there is still no user to satisfy it.
        expectError(await fn('userEvenForMaster', { master: true, ...asUser(alice) }), 400, 142, 'Validation failed. Please login to continue.', 'master and a session');
      });

      test('skipWithMasterKey: with the master key the handler does not run at all; others are validated and run', async () => {
        const before = (await counts()).skippedForMaster ?? 0;
        const master = await fn('skippedForMaster', { master: true });
        assert.equal(master.status, 200, JSON.stringify(master.body));
        assert.equal(master.body.result, undefined, 'no result: the handler was skipped');
        assert.equal((await counts()).skippedForMaster ?? 0, before, 'the handler did not run for master');
        expectError(await fn('skippedForMaster'), 400, 142, 'Validation failed. Please login to continue.', 'anonymous');
        assert.deepEqual((await fn('skippedForMaster', asUser(alice))).body, { result: { master: false } });
        assert.equal((await counts()).skippedForMaster, before + 1);
      });
    });

    describe('request.user and request.headers', () => {
      test('a forged user: user / _User / objectId / sessionToken params and X-Parse-User headers never change request.user', async () => {
        const forgedBody = {
          user: { __type: 'Pointer', className: '_User', objectId: alice.objectId },
          _User: { objectId: alice.objectId },
          objectId: alice.objectId,
          userId: alice.objectId,
          sessionToken: alice.sessionToken,
          installationId: 'forged',
        };
        const forgedHeaders = { 'X-Parse-User': alice.objectId, 'X-Parse-User-Id': alice.objectId, 'X-Parse-Session': alice.sessionToken };
        const anonymous = await fn('inspect', { body: forgedBody, headers: forgedHeaders });
        assert.equal(anonymous.status, 200);
        assert.equal(anonymous.body.result.userId, null, 'no session, no user');
        assert.equal(anonymous.body.result.master, false);
        const asBob = await fn('inspect', { body: forgedBody, headers: { ...forgedHeaders, 'X-Parse-Session-Token': bob.sessionToken } });
        assert.equal(asBob.body.result.userId, bob.objectId, 'the session decides, not the params');
        const viaQuery = await call(server.url, `/functions/inspect?user=${alice.objectId}&objectId=${alice.objectId}&sessionToken=${alice.sessionToken}`, { headers: forgedHeaders });
        assert.equal(viaQuery.body.result.userId, null);
        expectError(await fn('protectedFn', { body: forgedBody, headers: forgedHeaders }), 400, 142, 'Validation failed. Please login to continue.');
        const viaSdkBody = await call(server.url, '/functions/protectedFn', {
          method: 'POST',
          bare: true,
          rawBody: JSON.stringify({ _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _User: alice.objectId, user: alice.objectId }),
          headers: { 'Content-Type': 'text/plain' },
        });
        expectError(viaSdkBody, 400, 142, 'Validation failed. Please login to continue.', 'SDK body form');
      });

      test('a session revoked by logout (or deleted by the master key) stops working for functions at once', async () => {
        const dave = await signUp(`dave-${engine}`);
        assert.deepEqual((await fn('protectedFn', asUser(dave))).body, { result: dave.objectId });
        const loggedOut = await call(server.url, '/logout', { method: 'POST', body: {}, ...asUser(dave) });
        assert.equal(loggedOut.status, 200);
        expectError(await fn('protectedFn', asUser(dave)), 400, 209, 'Invalid session token', 'after logout');
        expectError(await fn('inspect', asUser(dave)), 400, 209, 'Invalid session token', 'a public function after logout');
        const batch = await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/functions/protectedFn', body: {} }] }, ...asUser(dave) });
        expectError(batch, 400, 209, 'Invalid session token', 'batch after logout');

        const again = await logIn(dave.username);
        assert.deepEqual((await fn('protectedFn', asUser(again))).body, { result: dave.objectId });
        const session = await call(server.url, '/sessions/me', asUser(again));
        assert.equal(session.status, 200, JSON.stringify(session.body));
        const deleted = await call(server.url, `/sessions/${session.body.objectId}`, { method: 'DELETE', master: true });
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        expectError(await fn('protectedFn', asUser(again)), 400, 209, 'Invalid session token', 'after the master key deleted the session');
        assert.equal((await fn('protectedFn', asUser(alice))).status, 200, "other users' sessions are untouched");
      });

      test('request.headers never carries x-parse-master-key, x-parse-maintenance-key, x-parse-session-token, authorization or cookies', async () => {
        const secrets = [MASTER_KEY, MAINTENANCE_KEY, alice.sessionToken, Buffer.from(`${APP_ID}:${MASTER_KEY}`).toString('base64'), 'session=cookie-secret'];
        const attempts: Array<[label: string, options: RequestOptions, master: boolean, userId: string | null]> = [
          ['session header', asUser(alice), false, alice.objectId],
          ['master key header', { master: true }, true, null],
          ['maintenance key header', { headers: { 'X-Parse-Maintenance-Key': MAINTENANCE_KEY } }, false, null],
          ['HTTP Basic with the master key', { headers: { Authorization: basic(MASTER_KEY) } }, true, null],
          ['HTTP Basic alone', { bare: true, headers: { Authorization: basic(MASTER_KEY) } }, true, null],
          ['HTTP Basic, lower-case scheme', { headers: { authorization: `basic ${Buffer.from(`${APP_ID}:${MASTER_KEY}`).toString('base64')}` } }, true, null],
          ['cookie', { headers: { Cookie: 'session=cookie-secret' } }, false, null],
          ['master key, session and cookie', { master: true, headers: { 'X-Parse-Session-Token': alice.sessionToken, Cookie: 'session=cookie-secret' } }, true, null],
          // The maintenance key wins over the master key, as in Parse, and is never master in cloud code.
          ['every key at once', { master: true, headers: { 'X-Parse-Session-Token': alice.sessionToken, 'X-Parse-Maintenance-Key': MAINTENANCE_KEY, Cookie: 'session=cookie-secret' } }, false, null],
          [
            'JS SDK body form',
            {
              bare: true,
              rawBody: JSON.stringify({ _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _MasterKey: MASTER_KEY, _InstallationId: 'i-1', _ClientVersion: 'js8.0.0' }),
              headers: { 'Content-Type': 'text/plain' },
            },
            true,
            null,
          ],
        ];
        for (const [label, options, master, userId] of attempts) {
          const result = await fn('inspect', options);
          assert.equal(result.status, 200, `${label} → ${JSON.stringify(result.body)}`);
          const seen = result.body.result;
          for (const name of SECRET_HEADERS) assert.ok(!seen.headerNames.includes(name), `${label}: ${name} reached cloud code`);
          for (const secret of secrets) assert.ok(!seen.headersJson.includes(secret), `${label}: a credential reached cloud code`);
          assert.equal(seen.master, master, `${label}: master`);
          if (userId !== null) assert.equal(seen.userId, userId, `${label}: user`);
          assert.ok(!seen.paramKeys.some((key: string) => key.startsWith('_')), `${label}: credential fields are not params (${seen.paramKeys})`);
        }
        await events();
        const saved = await call(server.url, '/classes/Noted', {
          method: 'POST',
          body: { a: 3 },
          headers: { Authorization: basic(MASTER_KEY), 'X-Parse-Session-Token': alice.sessionToken, Cookie: 'session=cookie-secret' },
        });
        assert.equal(saved.status, 201, JSON.stringify(saved.body));
        const [beforeSave] = await events();
        assert.equal(beforeSave?.event, 'beforeSave');
        for (const name of SECRET_HEADERS) assert.ok(!(beforeSave?.headerNames as string[]).includes(name), `trigger: ${name} reached cloud code`);
        await call(server.url, `/classes/Noted/${saved.body.objectId}`, { method: 'DELETE', master: true });
      });
    });

    describe("beforeSave and a _User's internal fields", () => {
      const ATTACKS: Array<[attack: string, code: number, message: string]> = [
        ['hashedPassword', 105, 'Invalid key name: _hashed_password'],
        ['rperm', 105, 'Invalid key name: _rperm'],
        ['wperm', 105, 'Invalid key name: _wperm'],
        ['sessionTokenSet', 141, 'Cannot modify readonly attribute: sessionToken'],
        ['sessionTokenForced', 105, 'sessionToken is an invalid field name.'],
        ['authData', 252, 'This authentication method is unsupported.'],
        ['perishableToken', 105, 'Invalid key name: _perishable_token'],
        ['emailVerifyToken', 105, 'Invalid key name: _email_verify_token'],
        ['failedLoginCount', 105, 'Invalid key name: _failed_login_count'],
        ['passwordHistory', 105, 'Invalid key name: _password_history'],
      ];
      const attack = (name: string): Record<string, string> => ({ 'X-Parse-Cloud-Context': JSON.stringify({ attack: name }) });

      test('beforeSave cannot write internal fields on a sign-up, on an update by the user, or with the master key', async () => {
        const erik = await signUp(`erik-${engine}`, 'original-pw-1');
        const stored = async () => (await call(server.url, `/users/${erik.objectId}`, { master: true })).body;
        const original = await stored();
        for (const [name, code, message] of ATTACKS) {
          expectError(
            await call(server.url, '/users', { method: 'POST', body: { username: `signup-${name}-${engine}`, password: 'pw-123456' }, headers: attack(name) }),
            400,
            code,
            message,
            `sign-up ${name}`,
          );
          expectError(await call(server.url, `/users/${erik.objectId}`, { method: 'PUT', body: { nickname: name }, ...asUser(erik, attack(name)) }), 400, code, message, `update ${name}`);
          expectError(await call(server.url, `/users/${erik.objectId}`, { method: 'PUT', master: true, body: { nickname: name }, headers: attack(name) }), 400, code, message, `master ${name}`);
        }
        assert.deepEqual(await stored(), original, 'the user is unchanged');
        const created = await call(server.url, `/users${query({ where: { username: { $regex: '^signup-' } }, count: 1, limit: 0 })}`, { master: true });
        assert.equal(created.body.count, 0, 'no refused sign-up created a user');
        const login = await call(server.url, '/login', { method: 'POST', body: { username: erik.username, password: 'original-pw-1' } });
        assert.equal(login.status, 200, 'the password hash is unchanged');
        expectError(await call(server.url, '/users/me', { headers: { 'X-Parse-Session-Token': 'r:forged-by-trigger' } }), 400, 209, 'Invalid session token', 'the forged token');
        assert.deepEqual((await fn('protectedFn', asUser(erik))).body, { result: erik.objectId }, 'the real session still works');
      });

      test("beforeSave may change a _User's emailVerified only with the master key", async () => {
        const fay = await signUp(`fay-${engine}`);
        const message = "Clients aren't allowed to manually update email verification.";
        expectError(await call(server.url, `/users/${fay.objectId}`, { method: 'PUT', body: { nickname: 'x' }, ...asUser(fay, attack('emailVerified')) }), 400, 119, message, 'as the user');
        expectError(
          await call(server.url, '/users', { method: 'POST', body: { username: `verified-${engine}`, password: 'pw-123456' }, headers: attack('emailVerified') }),
          400,
          119,
          message,
          'sign-up',
        );
        expectError(
          await call(server.url, `/users/${fay.objectId}`, { method: 'PUT', body: { nickname: 'x' }, headers: { 'X-Parse-Maintenance-Key': MAINTENANCE_KEY, ...attack('rperm') } }),
          400,
          105,
          'Invalid key name: _rperm',
          'maintenance key, internal column',
        );
        assert.notEqual((await call(server.url, `/users/${fay.objectId}`, { master: true })).body.emailVerified, true);
        const master = await call(server.url, `/users/${fay.objectId}`, { method: 'PUT', master: true, body: { nickname: 'y' }, headers: attack('emailVerified') });
        assert.equal(master.status, 200, JSON.stringify(master.body));
        assert.equal((await call(server.url, `/users/${fay.objectId}`, { master: true })).body.emailVerified, true);
      });
    });

    describe('failures never take the server down', () => {
      test('a trigger that throws or rejects answers a Parse error: beforeSave, afterSave (logged only), beforeDelete, beforeFind, afterFind', async () => {
        const before = await rowCount('Fragile');
        const refused: Array<[mode: string, code: number, message: string | undefined]> = [
          ['throw', 141, 'beforeSave exploded'],
          ['reject', 142, 'beforeSave rejected'],
          ['rejectLater', 141, 'beforeSave rejected later'],
          ['typeError', 141, "Cannot read properties of undefined (reading 'property')"],
          ['throwNull', 141, undefined],
          ['rejectUndefined', 141, undefined],
        ];
        for (const [mode, code, message] of refused) {
          expectError(await call(server.url, '/classes/Fragile', { method: 'POST', body: { mode } }), 400, code, message, mode);
        }
        assert.equal(await rowCount('Fragile'), before, 'no refused save was written');
        for (const mode of ['afterThrow', 'afterReject']) {
          const saved = await call(server.url, '/classes/Fragile', { method: 'POST', body: { mode } });
          assert.equal(saved.status, 201, `${mode}: an afterSave failure is only logged`);
        }
        assert.equal(await rowCount('Fragile'), before + 2);
        const kept = await call(server.url, '/classes/Fragile', { method: 'POST', body: { mode: 'fine' } });
        expectError(await call(server.url, `/classes/Fragile/${kept.body.objectId}`, { method: 'DELETE' }), 400, 119, 'Fragile objects stay.', 'beforeDelete');
        expectError(await call(server.url, `/classes/Fragile/${kept.body.objectId}`, { method: 'DELETE', master: true }), 400, 119, 'Fragile objects stay.', 'beforeDelete, master');
        assert.equal((await call(server.url, `/classes/Fragile/${kept.body.objectId}`, { master: true })).status, 200, 'not deleted');

        assert.equal((await call(server.url, '/classes/FragileFind', { method: 'POST', body: { a: 1 } })).status, 201);
        expectError(await call(server.url, '/classes/FragileFind'), 400, 141, 'beforeFind exploded', 'beforeFind');
        expectError(await call(server.url, `/classes/FragileFind${query({ count: 1, limit: 0 })}`), 400, 141, 'beforeFind exploded', 'beforeFind count');
        assert.equal((await call(server.url, '/classes/FragileAfterFind', { method: 'POST', body: { a: 1 } })).status, 201);
        expectError(await call(server.url, '/classes/FragileAfterFind'), 400, 141, 'afterFind rejected', 'afterFind');
        await assertServing();
      });

      test('a handler that throws a non-Error answers 141 ("Script failed." for a falsy value, as Parse Server)', async () => {
        const answer = (result: HttpResult): unknown => [result.status, result.body?.code, typeof result.body?.error === 'string' ? result.body.error : result.body?.error === undefined ? 'no message' : 'not a string'];
        const seen: Record<string, unknown> = {};
        const expected: Record<string, unknown> = {};
        for (const name of ['throwsNull', 'throwsUndefined', 'throwsZero', 'rejectsNull']) {
          seen[name] = answer(await fn(name));
          expected[name] = [400, 141, 'Script failed.'];
        }
        // Parse Server sends these values themselves as `error`; a string is the documented shape.
        seen.throwsEmptyObject = answer(await fn('throwsEmptyObject'));
        expected.throwsEmptyObject = [400, 141, 'Script failed.'];
        seen.throwsNumber = answer(await fn('throwsNumber'));
        expected.throwsNumber = [400, 141, '42'];
        for (const mode of ['throwNull', 'rejectUndefined']) {
          seen[`beforeSave ${mode}`] = answer(await call(server.url, '/classes/Fragile', { method: 'POST', body: { mode } }));
          expected[`beforeSave ${mode}`] = [400, 141, 'Script failed.'];
        }
        assert.deepEqual(seen, expected);
        await assertServing();
      });

      test('a cloud function returning non-JSON data (BigInt, a function, a symbol, a cycle) answers a Parse error (141), never a 500', async () => {
        const names = ['returnsBigInt', 'returnsNestedBigInt', 'returnsFunction', 'returnsSymbol', 'returnsCycle', 'returnsArrayCycle', 'returnsObjectCycle'];
        const seen: Record<string, unknown> = {};
        for (const name of names) {
          const result = await fn(name);
          seen[name] = { status: result.status, code: result.body?.code, message: typeof result.body?.error };
        }
        assert.deepEqual(seen, Object.fromEntries(names.map((name) => [name, { status: 400, code: 141, message: 'string' }])));
        await assertServing();
      });

      test('50 concurrent failing calls (functions, triggers, batches) all get Parse errors; the process survives and keeps serving', async () => {
        const problems: unknown[] = [];
        const onProblem = (error: unknown): void => {
          problems.push(error);
        };
        process.on('unhandledRejection', onProblem);
        process.on('uncaughtException', onProblem);
        try {
          const kept = await call(server.url, '/classes/Fragile', { method: 'POST', master: true, body: { mode: 'fine' } });
          const fragileRows = await rowCount('Fragile');
          const failingBatch = {
            method: 'POST',
            body: {
              requests: [
                { method: 'POST', path: '/parse/functions/throwsError', body: {} },
                { method: 'POST', path: '/parse/classes/Fragile', body: { mode: 'throw' } },
                { method: 'POST', path: '/parse/classes/Fragile', body: { mode: 'rejectLater' } },
                { method: 'GET', path: '/parse/classes/FragileFind', body: {} },
                { method: 'POST', path: '/parse/functions/throwsNull', body: {} },
                { method: 'DELETE', path: `/parse/classes/Fragile/${kept.body.objectId}`, body: {} },
              ],
            },
          };
          const kinds: Array<[label: string, path: string, options: RequestOptions]> = [
            ['throwsError', '/functions/throwsError', { method: 'POST', body: {} }],
            ['rejectsError', '/functions/rejectsError', { method: 'POST', body: {} }],
            ['throwsNull', '/functions/throwsNull', { method: 'POST', body: {} }],
            ['throwsNumber', '/functions/throwsNumber', { method: 'POST', body: {} }],
            ['returnsCycle', '/functions/returnsCycle', { method: 'POST', body: {} }],
            ['beforeSave throw', '/classes/Fragile', { method: 'POST', body: { mode: 'throw' } }],
            ['beforeSave reject', '/classes/Fragile', { method: 'POST', body: { mode: 'reject' } }],
            ['beforeSave rejectLater', '/classes/Fragile', { method: 'POST', body: { mode: 'rejectLater' } }],
            ['beforeSave typeError', '/classes/Fragile', { method: 'POST', body: { mode: 'typeError' } }],
            ['beforeDelete', `/classes/Fragile/${kept.body.objectId}`, { method: 'DELETE' }],
            ['beforeFind', '/classes/FragileFind', {}],
            ['afterFind', '/classes/FragileAfterFind', {}],
            ['batch', '/batch', failingBatch],
            ['transactional batch', '/batch', { ...failingBatch, body: { ...failingBatch.body, transaction: true } }],
          ];
          const plan = Array.from({ length: 50 }, (_, i) => kinds[i % kinds.length] as (typeof kinds)[number]);
          const results = await Promise.all(plan.map(([, path, options]) => call(server.url, path, options)));
          results.forEach((result, i) => {
            const [label, path] = plan[i] as (typeof kinds)[number];
            if (label === 'batch' || label === 'transactional batch') {
              // A transactional batch that fails answers 400 with every entry's error (the others "not run").
              assert.equal(result.status, label === 'batch' ? 200 : 400, `${label} → ${JSON.stringify(result.body)}`);
              assert.ok(Array.isArray(result.body) && result.body.length === 6, `${label} → ${JSON.stringify(result.body)}`);
              for (const entry of result.body) {
                assert.ok(entry.error !== undefined && PARSE_CODES.has(entry.error.code) && typeof entry.error.error === 'string', `${label} entry ${JSON.stringify(entry)}`);
              }
            } else {
              expectParseError(result, `${label} ${path}`);
            }
          });
          assert.equal(await rowCount('Fragile'), fragileRows, 'no failing save was written');
          assert.equal((await call(server.url, `/classes/Fragile/${kept.body.objectId}`, { master: true })).status, 200);
          await assertServing();
          assert.equal((await call(server.url, '/classes/Fragile', { method: 'POST', body: { mode: 'fine' } })).status, 201, 'triggers still run');
          // Give any stray rejection a turn of the event loop to surface.
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.deepEqual(problems, [], 'no unhandled rejection or uncaught exception');
        } finally {
          process.off('unhandledRejection', onProblem);
          process.off('uncaughtException', onProblem);
        }
      });
    });
  });
}
