/**
 * Cloud functions over HTTP and through the official SDK: dispatch by registered name only, the request
 * cloud code sees, result and error encoding, access declarations, and cloud code's own Parse calls acting
 * as the caller (or as anonymous with cloudActsAsCaller: false).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createParsec } from '../src/server.ts';
import { call } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, MASTER_KEY, startTestServer, testConfig, type TestServer } from './helpers/server.ts';

const FUNCTIONS = fileURLToPath(new URL('./fixtures/cloud/functions.js', import.meta.url));
const UNDECLARED = fileURLToPath(new URL('./fixtures/cloud/undeclared.js', import.meta.url));

async function signUp(url: string, username: string): Promise<{ objectId: string; sessionToken: string }> {
  const result = await call(url, '/users', { method: 'POST', body: { username, password: 'pw-123456' } });
  assert.equal(result.status, 201, JSON.stringify(result.body));
  return result.body;
}

const asUser = (sessionToken: string) => ({ headers: { 'X-Parse-Session-Token': sessionToken } });

for (const engine of engines()) {
  describe(`cloud functions (${engine})`, () => {
    let server: TestServer;
    let alice: { objectId: string; sessionToken: string };
    let bob: { objectId: string; sessionToken: string };
    before(async () => {
      server = await startTestServer(engine, { cloud: FUNCTIONS });
      alice = await signUp(server.url, `alice-${engine}`);
      bob = await signUp(server.url, `bob-${engine}`);
      for (const [text, acl] of [
        ['public note', { '*': { read: true } }],
        ['alice note', { [alice.objectId]: { read: true } }],
        ['bob note', { [bob.objectId]: { read: true } }],
      ] as const) {
        const created = await call(server.url, '/classes/PrivateNote', { method: 'POST', master: true, body: { text, ACL: acl } });
        assert.equal(created.status, 201);
      }
    });
    after(async () => server.stop());

    test('a public function answers {result}, over POST and GET', async () => {
      const posted = await call(server.url, '/functions/hello', { method: 'POST', body: { name: 'Ada' } });
      assert.equal(posted.status, 200);
      assert.deepEqual(posted.body, { result: 'Hello Ada' });
      const got = await call(server.url, '/functions/hello?name=Bo');
      assert.deepEqual(got.body, { result: 'Hello Bo' });
    });

    test('the official SDK calls it with Parse.Cloud.run', async () => {
      const Parse = parseSdk(server.url);
      assert.equal(await Parse.Cloud.run('hello', { name: 'SDK' }), 'Hello SDK');
    });

    test('names that are not registered functions are 141 "Invalid function", and the server keeps serving', async () => {
      for (const name of ['constructor', 'toString', '__proto__', 'hello.prototype.constructor', 'hasOwnProperty', "hello'", 'hello%2F..', 'nope']) {
        const result = await call(server.url, `/functions/${name}`, { method: 'POST', body: {} });
        assert.equal(result.status, 400, name);
        assert.equal(result.body.code, 141, name);
        assert.match(result.body.error, /^Invalid function/, name);
      }
      assert.equal((await call(server.url, '/functions/hello', { method: 'POST', body: {} })).status, 200);
    });

    test('request carries the verified user, master flag, params, context and installation id; headers carry no credentials', async () => {
      const result = await call(server.url, '/functions/echoRequest', {
        method: 'POST',
        body: { when: { __type: 'Date', iso: '2020-01-02T03:04:05.000Z' }, user: { objectId: bob.objectId }, x: 1 },
        headers: {
          ...asUser(alice.sessionToken).headers,
          'X-Parse-Installation-Id': 'install-1',
          'X-Parse-Cloud-Context': JSON.stringify({ source: 'test' }),
          'X-Parse-Master-Key': 'wrong-but-present',
        },
      });
      // A wrong master key is not master (as in Parse), and its value still never reaches cloud code.
      assert.equal(result.status, 200);
      assert.ok(!result.body.result.headerNames.includes('x-parse-master-key'));
      const ok = await call(server.url, '/functions/echoRequest', {
        method: 'POST',
        body: { when: { __type: 'Date', iso: '2020-01-02T03:04:05.000Z' }, user: { objectId: bob.objectId }, x: 1 },
        headers: { ...asUser(alice.sessionToken).headers, 'X-Parse-Installation-Id': 'install-1', 'X-Parse-Cloud-Context': JSON.stringify({ source: 'test' }) },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const seen = ok.body.result;
      assert.equal(seen.userId, alice.objectId, 'the user comes from the token, never from params');
      assert.equal(seen.username, `alice-${engine}`);
      assert.equal(seen.hasSessionToken, true);
      assert.equal(seen.master, false);
      assert.equal(seen.functionName, 'echoRequest');
      assert.equal(seen.installationId, 'install-1');
      assert.deepEqual(seen.context, { source: 'test' });
      assert.equal(seen.paramDateIsDate, true);
      assert.deepEqual(seen.params.user, { objectId: bob.objectId });
      for (const secret of ['x-parse-session-token', 'x-parse-master-key', 'x-parse-maintenance-key', 'authorization']) {
        assert.ok(!seen.headerNames.includes(secret), `${secret} must not reach cloud code`);
      }
      const master = await call(server.url, '/functions/echoRequest', { method: 'POST', master: true, body: {} });
      assert.equal(master.body.result.master, true);
      assert.equal(master.body.result.userId, null);
    });

    test('request.user follows changes to the user at once (the cached record is forgotten on write)', async () => {
      const before = await call(server.url, '/functions/echoRequest', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.equal(before.body.result.username, `bob-${engine}`);
      const renamed = await call(server.url, `/users/${bob.objectId}`, { method: 'PUT', body: { username: `bobby-${engine}` }, ...asUser(bob.sessionToken) });
      assert.equal(renamed.status, 200);
      const after = await call(server.url, '/functions/echoRequest', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.equal(after.body.result.username, `bobby-${engine}`);
      await call(server.url, `/users/${bob.objectId}`, { method: 'PUT', body: { username: `bob-${engine}` }, master: true });
      const restored = await call(server.url, '/functions/echoRequest', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.equal(restored.body.result.username, `bob-${engine}`, 'a master-key write is forgotten too');
    });

    test('request.user is a full Parse.User of its own: what a handler does to it reaches no other call', async () => {
      const updated = await call(server.url, `/users/${alice.objectId}`, {
        method: 'PUT',
        body: { profile: { list: ['a'], nested: { deep: 'x' } }, tags: ['t'] },
        ...asUser(alice.sessionToken),
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      const me = await call(server.url, '/users/me', asUser(alice.sessionToken));
      // The first call reads the record and caches it; the next ones build their user from the cache, after a handler tampered with its own.
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await call(server.url, '/functions/tamperWithUser', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
        assert.equal(result.status, 200, JSON.stringify(result.body));
        const seen = result.body.result;
        assert.deepEqual(
          { isUser: seen.isUser, existed: seen.existed, dirty: seen.dirty, sessionToken: seen.sessionToken, aclIsAcl: seen.aclIsAcl, createdAtIsDate: seen.createdAtIsDate },
          { isUser: true, existed: true, dirty: false, sessionToken: alice.sessionToken, aclIsAcl: true, createdAtIsDate: true },
        );
        assert.equal(seen.json.objectId, alice.objectId);
        assert.equal(seen.json.username, me.body.username, `call ${attempt}: the username is the stored one`);
        assert.deepEqual(seen.json.ACL, me.body.ACL, `call ${attempt}: the ACL is the stored one`);
        assert.equal(seen.json.createdAt, me.body.createdAt, `call ${attempt}: dates are the stored ones`);
        assert.equal(seen.json.updatedAt, me.body.updatedAt);
        assert.deepEqual(seen.json.profile, { list: ['a'], nested: { deep: 'x' } }, `call ${attempt}: nested objects are the stored ones`);
        assert.deepEqual(seen.json.tags, ['t']);
      }
    });

    test('a malformed cloud context is refused with 107', async () => {
      const result = await call(server.url, '/functions/hello', { method: 'POST', body: {}, headers: { 'X-Parse-Cloud-Context': '{"a":' } });
      assert.equal(result.status, 400);
      assert.equal(result.body.code, 107);
      const array = await call(server.url, '/functions/hello', { method: 'POST', body: {}, headers: { 'X-Parse-Cloud-Context': '[1]' } });
      assert.equal(array.body.code, 107);
    });

    test('Parse objects in a result are encoded in full, at any depth', async () => {
      const result = await call(server.url, '/functions/makeObject', { method: 'POST', body: {} });
      assert.equal(result.status, 200);
      const { note, list, n } = result.body.result;
      assert.equal(note.__type, 'Object');
      assert.equal(note.className, 'CloudNote');
      assert.equal(note.objectId, 'fixedId123');
      assert.equal(note.title, 'from cloud');
      assert.equal(list[0].__type, 'Object');
      assert.equal(n, 1);
    });

    test('errors: a Parse.Error keeps its code, anything else is 141 with its message and no stack', async () => {
      const parseError = await call(server.url, '/functions/throwsParseError', { method: 'POST', body: {} });
      assert.equal(parseError.status, 404);
      assert.deepEqual(parseError.body, { code: 101, error: 'no such thing' });
      const error = await call(server.url, '/functions/throwsError', { method: 'POST', body: {} });
      assert.equal(error.status, 400);
      assert.deepEqual(error.body, { code: 141, error: 'something broke inside' });
      const text = await call(server.url, '/functions/throwsString', { method: 'POST', body: {} });
      assert.deepEqual(text.body, { code: 141, error: 'plain refusal' });
      const httpCode = await call(server.url, '/functions/throwsHttpCode', { method: 'POST', body: {} });
      assert.equal(httpCode.status, 400, 'cloud code cannot produce a 5xx');
      assert.equal(httpCode.body.code, 141);
    });

    test('requireUser: anonymous is refused; the user is the token\'s', async () => {
      const anonymous = await call(server.url, '/functions/whoAmI', { method: 'POST', body: {} });
      assert.equal(anonymous.body.code, 142);
      assert.equal(anonymous.body.error, 'Validation failed. Please login to continue.');
      const forged = await call(server.url, '/functions/whoAmI', { method: 'POST', body: { user: alice.objectId }, headers: { 'X-Parse-User': alice.objectId } });
      assert.equal(forged.body.code, 142);
      const real = await call(server.url, '/functions/whoAmI', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.deepEqual(real.body, { result: bob.objectId });
      const badToken = await call(server.url, '/functions/whoAmI', { method: 'POST', body: {}, headers: { 'X-Parse-Session-Token': 'r:forged0000000000000000000000000' } });
      assert.equal(badToken.body.code, 209);
    });

    test('requireMaster: only the master key', async () => {
      const user = await call(server.url, '/functions/adminOnly', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.equal(user.body.code, 142);
      assert.equal(user.body.error, 'Validation failed. Master key is required to complete this request.');
      const master = await call(server.url, '/functions/adminOnly', { method: 'POST', master: true, body: {} });
      assert.deepEqual(master.body, { result: 'secret' });
    });

    test('internal functions are unreachable over HTTP, reachable from cloud code and with the master key', async () => {
      const direct = await call(server.url, '/functions/internalTool', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.equal(direct.body.code, 141);
      assert.match(direct.body.error, /Invalid function/);
      const batched = await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/functions/internalTool', body: {} }] } });
      assert.equal(batched.body[0].error.code, 141);
      const viaCloud = await call(server.url, '/functions/callsInternal', { method: 'POST', body: {} });
      assert.deepEqual(viaCloud.body, { result: 'internal result' });
      const master = await call(server.url, '/functions/internalTool', { method: 'POST', master: true, body: {} });
      assert.deepEqual(master.body, { result: 'internal result' });
    });

    test("cloud code's queries act as the caller by default; useMasterKey and sessionToken work", async () => {
      const anonymous = await call(server.url, '/functions/listNotes', { method: 'POST', body: {} });
      assert.deepEqual(anonymous.body, { result: ['public note'] });
      const asAlice = await call(server.url, '/functions/listNotes', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.deepEqual(asAlice.body, { result: ['alice note', 'public note'] });
      const withToken = await call(server.url, '/functions/listNotesWithToken', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.deepEqual(withToken.body, { result: ['bob note', 'public note'] });
      const master = await call(server.url, '/functions/listNotesAsMaster', { method: 'POST', body: {} });
      assert.deepEqual(master.body, { result: ['alice note', 'bob note', 'public note'] });
    });

    test('objects saved by cloud code on behalf of a user go through the same permissions', async () => {
      const saved = await call(server.url, '/functions/saveNote', { method: 'POST', body: { text: 'saved in cloud' }, ...asUser(alice.sessionToken) });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      const stored = await call(server.url, `/classes/PrivateNote/${saved.body.result}`, { master: true });
      assert.equal(stored.body.text, 'saved in cloud');
    });

    test("the seed's averageStars runs unchanged with { fields: ['movie'], requireUser: true }", async () => {
      for (const stars of [3, 5]) {
        await call(server.url, '/classes/Review', { method: 'POST', master: true, body: { movie: 'Up', stars } });
      }
      const missing = await call(server.url, '/functions/averageStars', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.equal(missing.body.code, 142);
      assert.equal(missing.body.error, 'Validation failed. Please specify data for movie.');
      const anonymous = await call(server.url, '/functions/averageStars', { method: 'POST', body: { movie: 'Up' } });
      assert.equal(anonymous.body.code, 142);
      const average = await call(server.url, '/functions/averageStars', { method: 'POST', body: { movie: 'Up' }, ...asUser(alice.sessionToken) });
      assert.deepEqual(average.body, { result: 4 });
    });

    test('rateLimit: counted however the call arrives (direct, GET, batch, _method override); 429 with code 100', async () => {
      const post = () => call(server.url, '/functions/limitedDirect', { method: 'POST', body: {} });
      assert.equal((await post()).status, 200);
      assert.equal((await call(server.url, '/functions/limitedDirect?x=1')).status, 200);
      const refused = await post();
      assert.equal(refused.status, 429);
      assert.deepEqual(refused.body, { code: 100, error: 'Too many requests.' });
      const master = await call(server.url, '/functions/limitedDirect', { method: 'POST', master: true, body: {} });
      assert.equal(master.status, 200, 'the master key is not limited unless includeMasterKey');

      const batch = await call(server.url, '/batch', {
        method: 'POST',
        body: { requests: [1, 2, 3].map(() => ({ method: 'POST', path: '/parse/functions/limitedBatch', body: {} })) },
      });
      const codes = batch.body.map((entry: { success?: unknown; error?: { code: number } }) => entry.error?.code ?? 'ok');
      assert.deepEqual(codes.sort(), [100, 'ok', 'ok'], 'each sub-request counts');

      for (let i = 0; i < 2; i++) {
        const spoofed = await call(server.url, '/functions/limitedOverride', { method: 'POST', rawBody: JSON.stringify({ _method: 'GET' }), headers: { 'Content-Type': 'text/plain' } });
        assert.equal(spoofed.status, 200);
      }
      const third = await call(server.url, '/functions/limitedOverride', { method: 'POST', rawBody: JSON.stringify({ _method: 'GET' }), headers: { 'Content-Type': 'text/plain' } });
      assert.equal(third.status, 429);
    });

    test("rateLimit zone 'user' counts per user, not per IP", async () => {
      const first = await call(server.url, '/functions/limitedPerUser', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.equal(first.status, 200);
      const again = await call(server.url, '/functions/limitedPerUser', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.deepEqual(again.body, { code: 100, error: 'Slow down.' });
      const otherUser = await call(server.url, '/functions/limitedPerUser', { method: 'POST', body: {}, ...asUser(bob.sessionToken) });
      assert.equal(otherUser.status, 200, 'same IP, different user');
    });

    test('rateLimit does not count cloud code\'s own calls unless includeInternalRequests', async () => {
      const result = await call(server.url, '/functions/callsLimitedTwice', { method: 'POST', body: {} });
      assert.deepEqual(result.body, { result: 'ok' });
    });

    test('a guarded admin function refuses everyone but role admin, and then deletes with the master key', async () => {
      const victim = await signUp(server.url, `victim-${engine}`);
      const admin = await signUp(server.url, `admin-${engine}`);
      const role = await call(server.url, '/classes/_Role', {
        method: 'POST',
        master: true,
        body: { name: 'admin', ACL: { '*': { read: true } }, users: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: admin.objectId }] } },
      });
      assert.equal(role.status, 201, JSON.stringify(role.body));
      for (const headers of [{}, asUser(alice.sessionToken).headers]) {
        const refused = await call(server.url, '/functions/deleteUserAsAdmin', { method: 'POST', body: { userId: victim.objectId }, headers });
        assert.equal(refused.body.code, 142, JSON.stringify(refused.body));
      }
      assert.equal((await call(server.url, `/users/${victim.objectId}`, { master: true })).status, 200, 'refused calls changed nothing');
      const done = await call(server.url, '/functions/deleteUserAsAdmin', { method: 'POST', body: { userId: victim.objectId }, ...asUser(admin.sessionToken) });
      assert.deepEqual(done.body, { result: 'deleted' });
      assert.equal((await call(server.url, `/users/${victim.objectId}`, { master: true })).status, 404);
    });
  });
}

describe('cloud code configuration', () => {
  test('requireFunctionAccess: a function that does not say who may call it stops the start, naming each', async () => {
    await assert.rejects(createParsec(testConfig({ cloud: UNDECLARED })), (error: Error) => {
      assert.match(error.message, /openToAll/);
      assert.match(error.message, /alsoOpen/);
      assert.doesNotMatch(error.message, /- declared/);
      assert.match(error.message, /requireFunctionAccess: false/);
      return true;
    });
  });

  test('requireFunctionAccess: false restores Parse Server: anyone with the app keys', async () => {
    const server = await startTestServer('pglite', { cloud: UNDECLARED, requireFunctionAccess: false });
    try {
      const result = await call(server.url, '/functions/openToAll', { method: 'POST', body: {} });
      assert.deepEqual(result.body, { result: 'anyone' });
    } finally {
      await server.stop();
    }
  });

  test('cloudActsAsCaller: false makes un-optioned cloud queries anonymous, as Parse Server', async () => {
    const server = await startTestServer('pglite', { cloud: FUNCTIONS, cloudActsAsCaller: false });
    try {
      const alice = await signUp(server.url, 'alice-anon');
      await call(server.url, '/classes/PrivateNote', { method: 'POST', master: true, body: { text: 'alice only', ACL: { [alice.objectId]: { read: true } } } });
      const result = await call(server.url, '/functions/listNotes', { method: 'POST', body: {}, ...asUser(alice.sessionToken) });
      assert.deepEqual(result.body, { result: [] });
    } finally {
      await server.stop();
    }
  });

  test('a handler past cloudTimeoutMs answers 124 and the server keeps serving', async () => {
    const server = await startTestServer('pglite', { cloud: FUNCTIONS, cloudTimeoutMs: 200 });
    try {
      const result = await call(server.url, '/functions/slow', { method: 'POST', body: {} });
      assert.equal(result.body.code, 124);
      assert.equal((await call(server.url, '/functions/hello', { method: 'POST', body: {} })).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('two servers in one process each run their own cloud code with their own Parse', async () => {
    const one = await startTestServer('pglite', { cloud: FUNCTIONS });
    const two = await startTestServer('pglite', { cloud: FUNCTIONS, masterKey: `${MASTER_KEY}-two` });
    try {
      await call(one.url, '/classes/PrivateNote', { method: 'POST', master: true, body: { text: 'only on one', ACL: {} } });
      const fromTwo = await call(two.url, '/functions/listNotesAsMaster', { method: 'POST', body: {} });
      assert.deepEqual(fromTwo.body, { result: [] });
      const fromOne = await call(one.url, '/functions/listNotesAsMaster', { method: 'POST', body: {} });
      assert.deepEqual(fromOne.body, { result: ['only on one'] });
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
