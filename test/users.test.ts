import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { call, query, type HttpResult } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const READ_ONLY_KEY = 'read-only-master-key-for-users-test';

for (const engine of engines()) {
  describe(`users and sessions (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      // This file signs up and logs in far more often than one client would: the default rate limits are
      // abuse-limits.test.ts's subject, not this file's.
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY, rateLimit: [] });
      Parse = parseSdk(server.url);
      // Node keeps no per-user storage; the SDK needs this to track a current user in a test process.
      Parse.User.enableUnsafeCurrentUser();
    });
    after(async () => server.stop());

    const as = (token: string) => ({ headers: { 'X-Parse-Session-Token': token } });
    async function signUp(username: string, extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
      const result = await call(server.url, '/users', { method: 'POST', body: { username, password: `${username}-pw`, ...extra } });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      return { id: result.body.objectId, token: result.body.sessionToken };
    }
    const noSecrets = (result: HttpResult): void => {
      const text = JSON.stringify(result.body);
      assert.doesNotMatch(text, /"password":|_hashed|_session_token|\$scrypt\$/i, text);
    };

    test('the SDK flows: signUp, current, logOut, logIn, become, Session.current', async () => {
      const user = new Parse.User();
      user.set({ username: 'sdk-user', password: 'secret-1', email: 'sdk@example.com' });
      await user.signUp();
      assert.match(user.getSessionToken(), /^r:[0-9a-f]{32}$/);
      assert.equal(user.get('password'), undefined);
      await Parse.User.logOut();
      const loggedIn = await Parse.User.logIn('sdk-user', 'secret-1');
      assert.equal(loggedIn.id, user.id);
      assert.equal(loggedIn.get('email'), 'sdk@example.com', 'users see their own email');
      const became = await Parse.User.become(loggedIn.getSessionToken());
      assert.equal(became.get('username'), 'sdk-user');
      const session = await Parse.Session.current();
      assert.equal(session.getSessionToken(), loggedIn.getSessionToken());
      await Parse.User.logOut();
      const me = await call(server.url, '/users/me', as(loggedIn.getSessionToken()));
      assert.equal(me.body.code, 209, 'logging out ends the session');
    });

    test('sign-up checks: username, password, email, duplicates, server fields', async () => {
      await signUp('taken', { email: 'taken@example.com' });
      const cases: [Record<string, unknown>, number][] = [
        [{ password: 'x' }, 200],
        [{ username: 'nopw' }, 201],
        [{ username: '', password: 'x' }, 200],
        [{ username: 'u1', password: 5 }, 201],
        [{ username: { $ne: null }, password: 'x' }, 121],
        [{ username: { name: 'x' }, password: 'x' }, 200],
        [{ username: 'u2', password: 'x', email: 'not-an-email' }, 125],
        [{ username: 'taken', password: 'x' }, 202],
        [{ username: 'u3', password: 'x', email: 'TAKEN@example.com' }, 203],
        [{ username: 'u4', password: 'x', emailVerified: true }, 119],
        [{ username: 'u5', password: 'x', sessionToken: 'r:00000000000000000000000000000000' }, 105],
        [{ username: 'u6', password: 'x', authData: { bogus: 'x' } }, 252],
        [{ authData: {} }, 200],
        [{ username: 'u7', password: 'x', _hashed_password: 'x' }, 105],
      ];
      for (const [body, code] of cases) {
        const result = await call(server.url, '/users', { method: 'POST', body });
        assert.equal(result.body.code, code, JSON.stringify(body));
      }
      const count = await call(server.url, `/users${query({ count: 1, limit: 0 })}`, { master: true });
      const names = await call(server.url, '/users', { master: true });
      assert.ok(!names.body.results.some((u: { username: string }) => /^u\d$/.test(u.username)), 'no refused sign-up created a user');
      assert.ok(count.body.count >= 1);
    });

    test('passwords are stored as scrypt hashes and never returned on any path', async () => {
      const { id, token } = await signUp('hashed', { email: 'hashed@example.com' });
      const { rows } = await server.parsec.services.driver.query<{ h: string }>('SELECT "_hashed_password" AS h FROM "_User" WHERE "objectId" = $1', [id]);
      assert.match(rows[0]?.h ?? '', /^\$scrypt\$N=\d+,r=\d+,p=\d+\$/);
      const columns = await server.parsec.services.driver.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = '_User'",
      );
      assert.ok(!columns.rows.some((c) => c.column_name === 'password'), 'no plaintext password column');
      noSecrets(await call(server.url, '/login', { method: 'POST', body: { username: 'hashed', password: 'hashed-pw' } }));
      noSecrets(await call(server.url, '/users/me', as(token)));
      noSecrets(await call(server.url, `/users/${id}`, as(token)));
      noSecrets(await call(server.url, '/users', { master: true }));
      noSecrets(await call(server.url, `/classes/_User${query({ keys: 'password,username' })}`, { master: true }));
      const internal = await call(server.url, `/classes/_User${query({ keys: '_hashed_password' })}`, { master: true });
      assert.equal(internal.body.code, 105, 'internal columns cannot even be named');
    });

    test('a bcrypt hash migrated from Parse Server still logs in and is upgraded', async () => {
      const { id } = await signUp('migrated');
      const legacy = bcrypt.hashSync('parse-era-password', 10);
      await server.parsec.services.driver.query('UPDATE "_User" SET "_hashed_password" = $1 WHERE "objectId" = $2', [legacy, id]);
      const wrong = await call(server.url, '/login', { method: 'POST', body: { username: 'migrated', password: 'nope' } });
      assert.equal(wrong.body.code, 101);
      const login = await call(server.url, '/login', { method: 'POST', body: { username: 'migrated', password: 'parse-era-password' } });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const { rows } = await server.parsec.services.driver.query<{ h: string }>('SELECT "_hashed_password" AS h FROM "_User" WHERE "objectId" = $1', [id]);
      assert.match(rows[0]?.h ?? '', /^\$scrypt\$/);
      const again = await call(server.url, '/login', { method: 'POST', body: { username: 'migrated', password: 'parse-era-password' } });
      assert.equal(again.status, 200);
    });

    test('unknown user and wrong password give the same answer; non-strings never reach a query', async () => {
      await signUp('known');
      const unknown = await call(server.url, '/login', { method: 'POST', body: { username: 'nobody-here', password: 'x' } });
      const wrong = await call(server.url, '/login', { method: 'POST', body: { username: 'known', password: 'x' } });
      assert.deepEqual(unknown.body, { code: 101, error: 'Invalid username/password.' });
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.status, unknown.status);
      const injected = await call(server.url, '/login', { method: 'POST', body: { username: { $regex: '.*' }, password: { $ne: 'x' } } });
      assert.equal(injected.body.code, 101);
      const byEmail = await call(server.url, '/login', { method: 'POST', body: { email: { $ne: null }, password: 'x' } });
      assert.equal(byEmail.body.code, 101);
      const getLogin = await call(server.url, `/login${query({ username: 'known', password: 'known-pw' })}`);
      assert.equal(getLogin.status, 400, 'GET /login is off unless allowGetLogin is set');
    });

    test('forged, foreign and malformed tokens are refused with 209', async () => {
      const alice = await signUp('alice');
      const sessions = await call(server.url, '/sessions', as(alice.token));
      const sessionId = sessions.body.results[0].objectId as string;
      const forged = ['r:' + '0'.repeat(32), 'r:' + 'f'.repeat(32), sessionId, alice.id, `${alice.token}x`, alice.token.toUpperCase(), 'not-a-token'];
      for (const token of forged) {
        const result = await call(server.url, '/users/me', as(token));
        assert.equal(result.status, 400, token);
        assert.equal(result.body.code, 209, token);
      }
      const objectToken = await call(server.url, '/users/me', {
        bare: true,
        method: 'POST',
        rawBody: JSON.stringify({ _method: 'GET', _ApplicationId: server.config.appId, _JavaScriptKey: 'test-javascript-key', _SessionToken: { $regex: 'r:' } }),
      });
      assert.equal(objectToken.body.code, 209);
      const hash = createHash('sha256').update(alice.token).digest('hex');
      const byHash = await call(server.url, '/users/me', as(hash));
      assert.equal(byHash.body.code, 209, 'the stored hash is not a token');
    });

    test('identity comes only from the token: body fields and headers cannot claim another user', async () => {
      const alice = await signUp('claim-alice');
      const bob = await signUp('claim-bob', { email: 'bob@example.com' });
      const me = await call(server.url, '/users/me', { headers: { 'X-Parse-Session-Token': alice.token, 'X-Parse-User': bob.id } });
      assert.equal(me.body.objectId, alice.id);
      const viaBody = await call(server.url, '/users/me', {
        headers: { 'X-Parse-Session-Token': alice.token },
        method: 'POST',
        body: { _method: 'GET', user: { __type: 'Pointer', className: '_User', objectId: bob.id }, objectId: bob.id, _User: bob.id },
      });
      assert.equal(viaBody.body.objectId, alice.id);
      const update = await call(server.url, `/users/${bob.id}`, { method: 'PUT', body: { username: 'hijacked' }, ...as(alice.token) });
      assert.equal(update.body.code, 101);
      const remove = await call(server.url, `/users/${bob.id}`, { method: 'DELETE', ...as(alice.token) });
      assert.equal(remove.body.code, 101);
      const bobNow = await call(server.url, `/users/${bob.id}`, { master: true });
      assert.equal(bobNow.body.username, 'claim-bob');
      const password = await call(server.url, `/users/${bob.id}`, { method: 'PUT', body: { password: 'owned' }, ...as(alice.token) });
      assert.equal(password.body.code, 101);
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'claim-bob', password: 'owned' } })).body.code, 101);
    });

    test('other users see no email; a user sees their own', async () => {
      const publicUser = await call(server.url, '/users', {
        method: 'POST',
        body: { username: 'public-user', password: 'pw', email: 'public@example.com', ACL: { '*': { read: true } } },
      });
      const viewer = await signUp('viewer');
      const seen = await call(server.url, `/users/${publicUser.body.objectId}`, as(viewer.token));
      assert.equal(seen.status, 200);
      assert.equal(seen.body.username, 'public-user');
      assert.equal(seen.body.email, undefined);
      const own = await call(server.url, `/users/${publicUser.body.objectId}`, as(publicUser.body.sessionToken));
      assert.equal(own.body.email, 'public@example.com');
      assert.deepEqual(own.body.ACL[publicUser.body.objectId], { read: true, write: true }, 'a user can never lock themself out');
      const privateByDefault = await call(server.url, `/users/${viewer.id}`, as(publicUser.body.sessionToken));
      assert.equal(privateByDefault.body.code, 101, 'enforcePrivateUsers: new users are not publicly readable');
    });

    test('an expired session is refused even right after it was cached', async () => {
      const short = await startTestServer(engine, { sessionLength: 3 });
      try {
        const created = await call(short.url, '/users', { method: 'POST', body: { username: 'brief', password: 'pw' } });
        const token = created.body.sessionToken as string;
        assert.equal((await call(short.url, '/users/me', as(token))).status, 200, 'cached now');
        await new Promise((resolve) => setTimeout(resolve, 3100));
        const expired = await call(short.url, '/users/me', as(token));
        assert.deepEqual(expired.body, { code: 209, error: 'Session token is expired.' });
      } finally {
        await short.stop();
      }
    });

    test('a password change revokes the other sessions at once; the changing session survives', async () => {
      const { id, token: first } = await signUp('rotating');
      const second = (await call(server.url, '/login', { method: 'POST', body: { username: 'rotating', password: 'rotating-pw' } })).body.sessionToken;
      assert.equal((await call(server.url, '/users/me', as(second))).status, 200, 'warm in the cache');
      const changed = await call(server.url, `/users/${id}`, { method: 'PUT', body: { password: 'new-pw' }, ...as(first) });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal((await call(server.url, '/users/me', as(second))).body.code, 209);
      assert.equal((await call(server.url, '/users/me', as(first))).status, 200);
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'rotating', password: 'rotating-pw' } })).body.code, 101);
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'rotating', password: 'new-pw' } })).status, 200);
    });

    test('deleting a user ends their sessions', async () => {
      const { id, token } = await signUp('leaving');
      assert.equal((await call(server.url, '/users/me', as(token))).status, 200);
      assert.equal((await call(server.url, `/users/${id}`, { method: 'DELETE', ...as(token) })).status, 200);
      assert.equal((await call(server.url, '/users/me', as(token))).body.code, 209);
      const { rows } = await server.parsec.services.driver.query('SELECT 1 FROM "_Session" WHERE "user" = $1', [id]);
      assert.equal(rows.length, 0);
    });

    test('sessions: own only, server fields immutable by key presence, stored as hashes', async () => {
      const alice = await signUp('sess-alice');
      const bob = await signUp('sess-bob');
      const aliceSessions = await call(server.url, '/sessions', as(alice.token));
      assert.equal(aliceSessions.body.results.length, 1);
      const aliceSession = aliceSessions.body.results[0];
      assert.equal(aliceSession.user.objectId, alice.id);
      assert.equal(aliceSession.sessionToken, undefined, 'listed sessions carry no token');
      const bobsView = await call(server.url, `/sessions/${aliceSession.objectId}`, as(bob.token));
      assert.equal(bobsView.body.code, 101);
      const bobUpdate = await call(server.url, `/sessions/${aliceSession.objectId}`, { method: 'PUT', body: { foo: 'bar' }, ...as(bob.token) });
      assert.equal(bobUpdate.body.code, 101);
      const bobDelete = await call(server.url, `/sessions/${aliceSession.objectId}`, { method: 'DELETE', ...as(bob.token) });
      assert.equal(bobDelete.body.code, 101);
      assert.equal((await call(server.url, '/users/me', as(alice.token))).status, 200);
      assert.equal((await call(server.url, '/sessions', as(bob.token))).body.results.length, 1);
      assert.deepEqual((await call(server.url, '/sessions')).body, { results: [] }, 'anonymous callers see no sessions');

      for (const body of [
        { expiresAt: { __type: 'Date', iso: '2999-01-01T00:00:00.000Z' } },
        { expiresAt: null },
        { createdWith: null },
        { user: { __type: 'Pointer', className: '_User', objectId: bob.id } },
        { user: { __op: 'Delete' } },
        { sessionToken: 'r:' + '1'.repeat(32) },
        { installationId: 'x' },
        { restricted: false },
      ]) {
        const result = await call(server.url, `/sessions/${aliceSession.objectId}`, { method: 'PUT', body, ...as(alice.token) });
        assert.equal(result.body.code, 105, JSON.stringify(body));
      }
      const custom = await call(server.url, `/sessions/${aliceSession.objectId}`, { method: 'PUT', body: { device: 'phone' }, ...as(alice.token) });
      assert.equal(custom.status, 200);

      for (const body of [{ sessionToken: 'r:' + '2'.repeat(32) }, { expiresAt: { __type: 'Date', iso: '2999-01-01T00:00:00.000Z' } }, { createdWith: { action: 'login' } }, { user: bob.id }]) {
        const chosen = await call(server.url, '/sessions', { method: 'POST', body, ...as(alice.token) });
        assert.equal(chosen.body.code, 105, JSON.stringify(body));
      }
      assert.equal((await call(server.url, '/users/me', as('r:' + '2'.repeat(32)))).body.code, 209);
      const restricted = await call(server.url, '/sessions', { method: 'POST', body: {}, ...as(alice.token) });
      assert.equal(restricted.status, 201);
      assert.equal(restricted.body.restricted, true);
      assert.equal((await call(server.url, '/users/me', as(restricted.body.sessionToken))).body.objectId, alice.id);
      assert.equal((await call(server.url, '/sessions', { method: 'POST', body: {} })).body.code, 209);

      const me = await call(server.url, '/sessions/me', as(alice.token));
      assert.equal(me.body.sessionToken, alice.token);
      noSecrets(me);
      const { rows } = await server.parsec.services.driver.query<Record<string, unknown>>('SELECT * FROM "_Session"');
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes(alice.token.slice(2)), 'no token is stored');
      assert.ok(dump.includes(createHash('sha256').update(alice.token).digest('hex')), 'its hash is');

      const deleted = await call(server.url, `/sessions/${aliceSession.objectId}`, { method: 'DELETE', ...as(alice.token) });
      assert.equal(deleted.status, 200);
      assert.equal((await call(server.url, '/users/me', as(alice.token))).body.code, 209, 'deleting a session revokes it at once');
    });

    test('loginAs: master only, never the read-only master key', async () => {
      const { id } = await signUp('impersonated');
      const asClient = await call(server.url, '/loginAs', { method: 'POST', body: { userId: id } });
      assert.equal(asClient.status, 403);
      const readOnly = await call(server.url, '/loginAs', { method: 'POST', body: { userId: id }, headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } });
      assert.equal(readOnly.body.code, 119);
      const missing = await call(server.url, '/loginAs', { method: 'POST', body: {}, master: true });
      assert.equal(missing.body.code, 162);
      const master = await call(server.url, '/loginAs', { method: 'POST', body: { userId: id }, master: true });
      assert.equal(master.status, 200);
      assert.equal((await call(server.url, '/users/me', as(master.body.sessionToken))).body.objectId, id);
    });

    test('verifyPassword checks credentials without creating a session', async () => {
      const { id } = await signUp('verifier');
      const before = await server.parsec.services.driver.query('SELECT 1 FROM "_Session" WHERE "user" = $1', [id]);
      const ok = await call(server.url, '/verifyPassword', { method: 'POST', body: { username: 'verifier', password: 'verifier-pw' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.objectId, id);
      assert.equal(ok.body.sessionToken, undefined);
      noSecrets(ok);
      const after = await server.parsec.services.driver.query('SELECT 1 FROM "_Session" WHERE "user" = $1', [id]);
      assert.equal(after.rows.length, before.rows.length);
      assert.equal((await call(server.url, '/verifyPassword', { method: 'POST', body: { username: 'verifier', password: 'x' } })).body.code, 101);
    });
  });
}
