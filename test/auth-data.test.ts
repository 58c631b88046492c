/**
 * Third-party auth (`authData`): sign-up and log-in (`POST /users`), link and unlink (`PUT /users/:id`),
 * anonymous users and their upgrade, with the official SDK and over REST, and the security rules of
 * reference §7.3: string ids, validation on every log-in, 252 before any query, validation before 208,
 * nothing the client sent as a credential stored, authData shown to its owner only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RATE_LIMIT } from '../src/config/rate-limit-option.ts';
import { call, query, type HttpResult } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/auth/${name}`, import.meta.url));

/** Providers backed by the fixture adapters (Parse Server shapes: module object, module class, object in code). */
const AUTH = {
  custom: { module: fixture('custom-adapter.js'), secretSuffix: 'configured', appIds: ['test-app'] },
  otherApp: { module: fixture('custom-adapter.js'), options: { secretSuffix: 'configured', appIds: ['another-app'] } },
  classy: { module: fixture('custom-adapter-class.js'), options: { prefix: 'ok-' } },
  inline: { validateAuthData: (authData: { id: string; pin?: string }) => (authData.pin === '1234' ? Promise.resolve() : Promise.reject(new Error('wrong pin'))) },
};

const READ_ONLY_KEY = 'read-only-master-key-for-auth-data';
const as = (token: string) => ({ headers: { 'X-Parse-Session-Token': token } });
const signUpWith = (server: TestServer, authData: unknown, extra: Record<string, unknown> = {}) => call(server.url, '/users', { method: 'POST', body: { authData, ...extra } });

function refused(result: HttpResult, code: number, label: string): void {
  assert.ok(result.status === 400 || result.status === 404, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
  assert.equal(result.body.code, code, `${label}: ${JSON.stringify(result.body)}`);
}

async function userCount(server: TestServer): Promise<number> {
  const { rows } = await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_User"');
  return rows[0]?.n ?? -1;
}

async function storedAuthData(server: TestServer, userId: string): Promise<unknown> {
  const { rows } = await server.parsec.services.driver.query<{ authData: unknown }>('SELECT "authData" FROM "_User" WHERE "objectId" = $1', [userId]);
  return rows[0]?.authData;
}

async function sessionsOf(server: TestServer, userId: string): Promise<unknown[]> {
  const { rows } = await server.parsec.services.driver.query<{ createdWith: unknown }>('SELECT "createdWith" FROM "_Session" WHERE "user" = $1 ORDER BY "createdAt"', [userId]);
  return rows.map((row) => row.createdWith);
}

/** The SQL a request runs, recorded by wrapping the server's driver for its duration. */
async function queriesDuring(server: TestServer, run: () => Promise<unknown>): Promise<string[]> {
  const driver = server.parsec.services.driver as { query: (...args: unknown[]) => Promise<unknown> };
  const original = driver.query;
  const seen: string[] = [];
  driver.query = function (this: unknown, ...args: unknown[]) {
    seen.push(String(args[0]));
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    driver.query = original;
  }
  return seen;
}

for (const engine of engines()) {
  describe(`authData: sign-up, log-in, link, unlink (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      // Many log-ins from one address: the default limits are tested below on a server of their own.
      server = await startTestServer(engine, { rateLimit: [], auth: AUTH, readOnlyMasterKey: READ_ONLY_KEY });
      Parse = parseSdk(server.url);
      Parse.User.enableUnsafeCurrentUser();
    });
    after(async () => server.stop());

    test('SDK: AnonymousUtils.logIn signs up, the same id logs in again, the session records the provider', async () => {
      const user = await Parse.AnonymousUtils.logIn();
      assert.ok(Parse.AnonymousUtils.isLinked(user));
      assert.match(user.getSessionToken(), /^r:/);
      assert.equal(typeof user.get('username'), 'string', 'a random username is generated, as Parse does');
      const anonymousId = user.get('authData').anonymous.id;
      assert.deepEqual(await storedAuthData(server, user.id), { anonymous: { id: anonymousId } });
      const again = await signUpWith(server, { anonymous: { id: anonymousId } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.objectId, user.id, 'the same user');
      assert.notEqual(again.body.sessionToken, user.getSessionToken(), 'a new session');
      assert.deepEqual(again.body.authData, { anonymous: { id: anonymousId } }, 'the user sees their own authData');
      assert.deepEqual(await sessionsOf(server, user.id), [
        { action: 'signup', authProvider: 'anonymous' },
        { action: 'login', authProvider: 'anonymous' },
      ]);
      await Parse.User.logOut();
    });

    test('SDK: an anonymous user becomes a regular one by signing up; the anonymous id no longer reaches the account', async () => {
      const user = await Parse.AnonymousUtils.logIn();
      const anonymousId = user.get('authData').anonymous.id;
      // setUsername is what strips anonymity in the SDK (it sends authData.anonymous: null).
      user.setUsername(`upgraded-${engine}`);
      user.setPassword('upgrade-pw-1');
      await user.signUp();
      assert.ok(!Parse.AnonymousUtils.isLinked(user));
      assert.deepEqual(await storedAuthData(server, user.id), {}, 'the anonymous link is gone');
      await Parse.User.logOut();
      const loggedIn = await Parse.User.logIn(`upgraded-${engine}`, 'upgrade-pw-1');
      assert.equal(loggedIn.id, user.id);
      await Parse.User.logOut();
      const reuse = await signUpWith(server, { anonymous: { id: anonymousId } });
      assert.equal(reuse.status, 201, 'the old anonymous id makes a new account');
      assert.notEqual(reuse.body.objectId, user.id);
    });

    test('REST: setting a password on an anonymous user ends its anonymity even without authData.anonymous: null', async () => {
      const created = await signUpWith(server, { anonymous: { id: `rest-upgrade-${engine}` } });
      assert.equal(created.status, 201);
      const upgraded = await call(server.url, `/users/${created.body.objectId}`, { method: 'PUT', body: { username: `rest-up-${engine}`, password: 'pw-123456' }, ...as(created.body.sessionToken) });
      assert.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
      assert.deepEqual(await storedAuthData(server, created.body.objectId), {});
      const login = await call(server.url, '/login', { method: 'POST', body: { username: `rest-up-${engine}`, password: 'pw-123456' } });
      assert.equal(login.body.objectId, created.body.objectId);
    });

    test('SDK: linkWith a custom adapter, logInWith it, _unlinkFrom it; only the id is stored', async () => {
      const user = new Parse.User();
      user.set({ username: `linker-${engine}`, password: 'linker-pw-1' });
      await user.signUp();
      await user.linkWith('custom', { authData: { id: `c-${engine}`, password: `right-c-${engine}` } });
      assert.deepEqual(await storedAuthData(server, user.id), { custom: { id: `c-${engine}` } }, 'the password sent for verification is not stored');
      const me = await call(server.url, '/users/me', as(user.getSessionToken()));
      assert.deepEqual(me.body.authData, { custom: { id: `c-${engine}` } });
      await Parse.User.logOut();
      const viaProvider = await Parse.User.logInWith('custom', { authData: { id: `c-${engine}`, password: `right-c-${engine}` } });
      assert.equal(viaProvider.id, user.id);
      assert.deepEqual((await sessionsOf(server, user.id)).at(-1), { action: 'login', authProvider: 'custom' });
      await viaProvider._unlinkFrom('custom');
      assert.deepEqual(await storedAuthData(server, user.id), {});
      await Parse.User.logOut();
      const afterUnlink = await signUpWith(server, { custom: { id: `c-${engine}`, password: `right-c-${engine}` } });
      assert.equal(afterUnlink.status, 201, 'an unlinked id signs up a new account');
      assert.notEqual(afterUnlink.body.objectId, user.id);
    });

    test('sign-up with username, password and authData keeps all three; the generated username is returned otherwise', async () => {
      const full = await signUpWith(server, { custom: { id: `full-${engine}`, password: `right-full-${engine}` } }, { username: `full-${engine}`, password: 'full-pw-1' });
      assert.equal(full.status, 201, JSON.stringify(full.body));
      assert.equal(full.body.username, undefined, 'a chosen username is not echoed');
      const login = await call(server.url, '/login', { method: 'POST', body: { username: `full-${engine}`, password: 'full-pw-1' } });
      assert.equal(login.body.objectId, full.body.objectId);
      const bare = await signUpWith(server, { inline: { id: `inline-${engine}`, pin: '1234' } });
      assert.equal(bare.status, 201);
      assert.match(bare.body.username, /^[A-Za-z0-9]{25}$/);
      assert.deepEqual(await storedAuthData(server, bare.body.objectId), { inline: { id: `inline-${engine}` } });
      assert.deepEqual(await sessionsOf(server, bare.body.objectId), [{ action: 'signup', authProvider: 'inline' }]);
    });

    test('every log-in is validated by the provider: a linked id without (or with wrong) credentials gets 101 and no session', async () => {
      const owner = await signUpWith(server, { custom: { id: `victim-${engine}`, password: `right-victim-${engine}` } });
      assert.equal(owner.status, 201);
      const before = await sessionsOf(server, owner.body.objectId);
      for (const [label, authData] of [
        ['id only (GHSA-pfj7-wv7c-22pr)', { custom: { id: `victim-${engine}` } }],
        ['wrong password', { custom: { id: `victim-${engine}`, password: 'wrong' } }],
        ['operator as password', { custom: { id: `victim-${engine}`, password: { $ne: null } } }],
      ] as const) {
        const attempt = await signUpWith(server, authData);
        refused(attempt, 101, label);
        assert.equal(attempt.body.sessionToken, undefined);
      }
      assert.deepEqual(await sessionsOf(server, owner.body.objectId), before, 'no session was created');
    });

    test('the app id check of an adapter runs (validateAppId with appIds), and custom errors keep their Parse code', async () => {
      const count = await userCount(server);
      const wrongApp = await signUpWith(server, { otherApp: { id: 'o1', password: 'right-o1' } });
      refused(wrongApp, 101, 'appIds without this app');
      assert.equal(wrongApp.body.error, 'Custom auth app id is not allowed.');
      const internal = await signUpWith(server, { classy: { id: 'k1', code: 'wrong' } });
      refused(internal, 101, 'a thrown Error');
      assert.equal(internal.body.error, 'classy auth is invalid for this user.', 'the adapter\'s internal message is not shown');
      const good = await signUpWith(server, { classy: { id: 'k1', code: 'ok-k1' } });
      assert.equal(good.status, 201, 'a class adapter gets its options');
      assert.equal(await userCount(server), count + 1);
    });

    test('authData ids must be strings and providers configured: 250/252 for every bad shape, nothing created, no 5xx', async () => {
      const existing = await signUpWith(server, { anonymous: { id: `shape-${engine}` } });
      assert.equal(existing.status, 201);
      const count = await userCount(server);
      const cases: [unknown, number][] = [
        [{ anonymous: { id: { $ne: null } } }, 250],
        [{ anonymous: { id: { $regex: '.*' } } }, 250],
        [{ anonymous: { id: 5 } }, 250],
        [{ anonymous: { id: '' } }, 250],
        [{ anonymous: { id: ['a'] } }, 250],
        [{ anonymous: {} }, 250],
        [{ anonymous: 'x' }, 250],
        [{ anonymous: [] }, 250],
        [{ nonExistentProvider: { id: 'x' } }, 252],
        [{ bogus: 'x' }, 252],
        [{ __proto__x: { id: 'x' } }, 252],
        ['x', 252],
        [['anonymous'], 252],
        [7, 252],
        [{}, 200],
        [{ bogus: null }, 200],
      ];
      for (const [authData, code] of cases) refused(await signUpWith(server, authData), code, JSON.stringify(authData));
      const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i}`, { id: 'x' }]));
      refused(await signUpWith(server, nine), 252, 'too many providers');
      assert.equal(await userCount(server), count, 'no refused request created a user');
      const batch = await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/users', body: { authData: { anonymous: { id: { $ne: null } } } } }] } });
      assert.equal(batch.body[0].error.code, 250, 'batch sub-requests get the same check');
    });

    test('an unknown provider answers 252 before any database query (GHSA-g4cf-xj29-wqqr)', async () => {
      let answer: HttpResult | undefined;
      const seen = await queriesDuring(server, async () => {
        answer = await signUpWith(server, { nonExistentProvider: { id: 'x' } });
      });
      refused(answer as HttpResult, 252, 'unknown provider');
      assert.equal((answer as HttpResult).body.error, 'This authentication method is unsupported.');
      assert.deepEqual(seen, [], 'no SQL ran');
      const onUpdate = await queriesDuring(server, async () => {
        answer = await call(server.url, '/users/someone', { method: 'PUT', body: { authData: { nonExistentProvider: { id: 'x' } } } });
      });
      assert.ok(!onUpdate.some((sql) => sql.includes('authData')), onUpdate.join('\n'));
    });

    test('208 only after the provider validated the credentials (GHSA-8w3j-g983-8jh5), on sign-up and on link', async () => {
      const alice = await signUpWith(server, { custom: { id: `shared-${engine}`, password: `right-shared-${engine}` } });
      const bob = await call(server.url, '/users', { method: 'POST', body: { username: `bob-${engine}`, password: 'bob-pw-1' } });
      const link = (password: string) => call(server.url, `/users/${bob.body.objectId}`, { method: 'PUT', body: { authData: { custom: { id: `shared-${engine}`, password } } }, ...as(bob.body.sessionToken) });
      refused(await link('guess'), 101, 'bogus credentials on link: 101, not 208');
      refused(await link(`right-shared-${engine}`), 208, 'real credentials of an id linked elsewhere: 208');
      assert.deepEqual(await storedAuthData(server, bob.body.objectId), null, "bob's row is unchanged");
      assert.deepEqual(await storedAuthData(server, alice.body.objectId), { custom: { id: `shared-${engine}` } });
      const twoUsers = await signUpWith(server, { custom: { id: `shared-${engine}`, password: `right-shared-${engine}` }, anonymous: { id: `bob-anon-${engine}` } });
      assert.equal(twoUsers.status, 200, 'a linked provider plus a new one logs in and links the new one');
      assert.equal(twoUsers.body.objectId, alice.body.objectId);
      const bobAnon = await signUpWith(server, { anonymous: { id: `other-anon-${engine}` } });
      const both = await signUpWith(server, { custom: { id: `shared-${engine}`, password: `right-shared-${engine}` }, anonymous: { id: `other-anon-${engine}` } });
      refused(both, 208, 'ids of two different accounts');
      assert.notEqual(bobAnon.body.objectId, alice.body.objectId);
    });

    test('linking: only the user may link or unlink, an anonymous id cannot be added, authData is shown to its owner only', async () => {
      const carol = await call(server.url, '/users', { method: 'POST', body: { username: `carol-${engine}`, password: 'carol-pw-1' } });
      const dave = await call(server.url, '/users', { method: 'POST', body: { username: `dave-${engine}`, password: 'dave-pw-1' } });
      const carolId = carol.body.objectId;
      const linked = await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: { id: `carol-${engine}`, pin: '1234' } }, ACL: { '*': { read: true } } }, ...as(carol.body.sessionToken) });
      assert.equal(linked.status, 200, JSON.stringify(linked.body));
      const byDave = await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: null } }, ...as(dave.body.sessionToken) });
      refused(byDave, 101, 'another user unlinking');
      const byAnyone = await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: { id: 'hijack', pin: '1234' } } } });
      assert.ok([101, 206, 209].includes(byAnyone.body.code), JSON.stringify(byAnyone.body));
      refused(await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { anonymous: { id: 'second-password' } } }, ...as(carol.body.sessionToken) }), 252, 'anonymous link on an account');
      refused(await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { 'authData.inline': { id: 'dotted' } }, ...as(carol.body.sessionToken) }), 252, 'a dotted authData write');
      refused(await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: { id: 'x', pin: 'bad' } } }, ...as(carol.body.sessionToken) }), 101, 'a link with bad credentials');
      assert.deepEqual(await storedAuthData(server, carolId), { inline: { id: `carol-${engine}` } }, 'every refused change left authData as it was');
      const seenByDave = await call(server.url, `/users/${carolId}`, as(dave.body.sessionToken));
      assert.equal(seenByDave.status, 200);
      assert.equal(seenByDave.body.authData, undefined, "another user never sees authData");
      const found = await call(server.url, `/users${query({ where: { objectId: carolId } })}`, as(dave.body.sessionToken));
      assert.equal(found.body.results[0].authData, undefined);
      const own = await call(server.url, `/users/${carolId}`, as(carol.body.sessionToken));
      assert.deepEqual(own.body.authData, { inline: { id: `carol-${engine}` } });
      const resent = await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: { id: `carol-${engine}` } } }, ...as(carol.body.sessionToken) });
      assert.equal(resent.status, 200, 'the SDK sending back the stored id (no credentials) is not a new link');
      const unlinked = await call(server.url, `/users/${carolId}`, { method: 'PUT', body: { authData: { inline: null } }, ...as(carol.body.sessionToken) });
      assert.equal(unlinked.status, 200);
      assert.deepEqual(await storedAuthData(server, carolId), {});
    });

    test('no one but the master key may name authData in a query, even on users they can read', async () => {
      const erin = await signUpWith(server, { anonymous: { id: `erin-secret-${engine}` } });
      await call(server.url, `/users/${erin.body.objectId}`, { method: 'PUT', body: { ACL: { '*': { read: true } } }, ...as(erin.body.sessionToken) });
      const frank = await call(server.url, '/users', { method: 'POST', body: { username: `frank-${engine}`, password: 'frank-pw-1' } });
      const asFrank = as(frank.body.sessionToken);
      const visible = await call(server.url, `/users/${erin.body.objectId}`, asFrank);
      assert.equal(visible.status, 200, 'erin is publicly readable');
      assert.equal(visible.body.authData, undefined);
      const probes: Record<string, unknown>[] = [
        { where: { 'authData.anonymous.id': `erin-secret-${engine}` } },
        { where: { 'authData.anonymous.id': { $regex: '^erin' } } },
        { where: { authData: { $exists: true } } },
        { where: { $or: [{ username: 'x' }, { 'authData.anonymous.id': { $gt: '' } }] } },
        { order: 'authData' },
        { keys: 'authData' },
      ];
      for (const probe of probes) {
        for (const who of [asFrank, {}]) refused(await call(server.url, `/users${query(probe)}`, who), 119, JSON.stringify(probe));
      }
      const master = await call(server.url, `/users${query({ where: { 'authData.anonymous.id': `erin-secret-${engine}` } })}`, { master: true });
      assert.equal(master.body.results[0]?.objectId, erin.body.objectId, 'the master key may');
    });

    test('the read-only master key cannot log in or sign up with authData (119, no session)', async () => {
      const owner = await signUpWith(server, { inline: { id: `ro-${engine}`, pin: '1234' } });
      const before = await sessionsOf(server, owner.body.objectId);
      const count = await userCount(server);
      for (const authData of [{ inline: { id: `ro-${engine}`, pin: '1234' } }, { inline: { id: `ro-new-${engine}`, pin: '1234' } }]) {
        const answer = await call(server.url, '/users', { method: 'POST', body: { authData }, headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } });
        refused(answer, 119, JSON.stringify(authData));
      }
      assert.deepEqual(await sessionsOf(server, owner.body.objectId), before);
      assert.equal(await userCount(server), count);
    });

    test('concurrent sign-ups with one new id make one account; no 5xx', async () => {
      const id = `race-${engine}`;
      const answers = await Promise.all(Array.from({ length: 6 }, () => signUpWith(server, { anonymous: { id } })));
      for (const answer of answers) assert.ok([200, 201, 208].includes(answer.status === 400 ? 208 : answer.status) && answer.status < 500, JSON.stringify(answer.body));
      const { rows } = await server.parsec.services.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM "_User" WHERE "authData" -> 'anonymous' ->> 'id' = $1`, [id]);
      assert.equal(rows[0]?.n, 1);
    });

    test('the lookup by provider id uses the index', async () => {
      const plan = await server.parsec.services.driver.query<Record<string, string>>(
        `EXPLAIN SELECT "objectId" FROM "_User" WHERE ("authData" -> 'anonymous' ->> 'id') = 'x'`,
      );
      // A fresh table is small enough for a sequential scan to win; disable it to see the index can serve the query.
      const text = JSON.stringify(plan.rows);
      if (!/_User_authData_anonymous_id/.test(text)) {
        await server.parsec.services.driver.query('SET enable_seqscan = off');
        const forced = await server.parsec.services.driver.query(`EXPLAIN SELECT "objectId" FROM "_User" WHERE ("authData" -> 'anonymous' ->> 'id') = 'x'`);
        await server.parsec.services.driver.query('SET enable_seqscan = on');
        assert.match(JSON.stringify(forced.rows), /_User_authData_anonymous_id/);
      }
    });

    test('a _User create CLP that denies sign-up refuses authData sign-ups (119) but not log-ins of linked accounts', async () => {
      const linked = await signUpWith(server, { inline: { id: `clp-${engine}`, pin: '1234' } });
      assert.equal(linked.status, 201);
      const schema = await call(server.url, '/schemas/_User', { method: 'PUT', master: true, body: { classLevelPermissions: { find: { '*': true }, get: { '*': true }, create: {}, update: { '*': true }, delete: { '*': true }, addField: {} } } });
      assert.equal(schema.status, 200, JSON.stringify(schema.body));
      try {
        const count = await userCount(server);
        refused(await signUpWith(server, { anonymous: { id: `clp-new-${engine}` } }), 119, 'sign-up');
        assert.equal(await userCount(server), count);
        const login = await signUpWith(server, { inline: { id: `clp-${engine}`, pin: '1234' } });
        assert.equal(login.status, 200, JSON.stringify(login.body));
        assert.equal(login.body.objectId, linked.body.objectId);
      } finally {
        await call(server.url, '/schemas/_User', { method: 'PUT', master: true, body: { classLevelPermissions: { find: { '*': true }, count: { '*': true }, get: { '*': true }, create: { '*': true }, update: { '*': true }, delete: { '*': true }, addField: { '*': true } } } });
      }
    });
  });

  describe(`authData: options and limits (${engine})`, () => {
    const started: TestServer[] = [];
    const start = async (overrides: Parameters<typeof startTestServer>[1]): Promise<TestServer> => {
      const server = await startTestServer(engine, overrides);
      started.push(server);
      return server;
    };
    after(async () => {
      for (const server of started) await server.stop();
    });

    test('enableAnonymousUsers: false answers 252 and creates nothing; other providers still work', async () => {
      const server = await start({ rateLimit: [], enableAnonymousUsers: false, auth: { inline: AUTH.inline, anonymous: true } });
      refused(await signUpWith(server, { anonymous: { id: 'a1' } }), 252, 'anonymous disabled');
      assert.equal(await userCount(server), 0);
      assert.equal((await signUpWith(server, { inline: { id: 'i1', pin: '1234' } })).status, 201);
    });

    test('log-ins with authData count toward the sign-up rate limit (POST /users) of the defaults', async () => {
      const server = await start({ rateLimit: DEFAULT_RATE_LIMIT });
      const first = await signUpWith(server, { anonymous: { id: 'limited' } });
      assert.equal(first.status, 201);
      const limit = DEFAULT_RATE_LIMIT.find((rule) => rule.requestPath === '/users')?.requestCount ?? 0;
      for (let i = 1; i < limit; i++) assert.equal((await signUpWith(server, { anonymous: { id: 'limited' } })).status, 200);
      const over = await signUpWith(server, { anonymous: { id: 'limited' } });
      assert.equal(over.status, 429);
      assert.equal(over.body.code, 100);
    });

    test('beforeLogin and afterLogin run for authData log-ins (not sign-ups), and beforeLogin can refuse one', async () => {
      const server = await start({ rateLimit: [], cloud: fileURLToPath(new URL('./fixtures/cloud/accounts.js', import.meta.url)) });
      const events = async (): Promise<unknown[]> => (await call(server.url, '/functions/events', { method: 'POST', master: true, body: {} })).body.result;
      const blocked = await signUpWith(server, { anonymous: { id: 'blocked' } }, { username: 'blocked-user' });
      const fine = await signUpWith(server, { anonymous: { id: 'fine' } }, { username: 'fine-user' });
      assert.equal(blocked.status, 201);
      assert.equal(fine.status, 201);
      assert.deepEqual(await events(), [], 'sign-ups run no login trigger');
      const refusedLogin = await signUpWith(server, { anonymous: { id: 'blocked' } });
      refused(refusedLogin, 119, 'beforeLogin refused');
      assert.equal(refusedLogin.body.error, 'This account is suspended.');
      assert.equal((await sessionsOf(server, blocked.body.objectId)).length, 1, 'no session for the refused log-in');
      assert.equal((await signUpWith(server, { anonymous: { id: 'fine' } })).status, 200);
      assert.deepEqual(await events(), [
        { event: 'beforeLogin', username: 'fine-user' },
        { event: 'afterLogin', username: 'fine-user' },
      ]);
    });

    test('preventLoginWithUnverifiedEmail: an authData account with an unverified email gets no session (sign-up or log-in) until verified', async () => {
      const mail: unknown[] = [];
      const server = await startTestServer(engine, { rateLimit: [], verifyUserEmails: true, preventLoginWithUnverifiedEmail: true }, { mail: { sendMail: (message) => (mail.push(message), Promise.resolve()) } });
      started.push(server);
      const withEmail = await signUpWith(server, { anonymous: { id: 'mailer' } }, { email: 'mailer@example.com' });
      assert.equal(withEmail.status, 201);
      assert.equal(withEmail.body.sessionToken, undefined);
      refused(await signUpWith(server, { anonymous: { id: 'mailer' } }), 205, 'log-in before verifying');
      const without = await signUpWith(server, { anonymous: { id: 'no-mail' } });
      assert.match(without.body.sessionToken, /^r:/, 'nothing to verify, so a session');
      await server.parsec.services.driver.query(`UPDATE "_User" SET "emailVerified" = true WHERE "objectId" = $1`, [withEmail.body.objectId]);
      assert.equal((await signUpWith(server, { anonymous: { id: 'mailer' } })).status, 200);
    });

    test('a provider configuration error stops the start, naming the provider', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ google: {} }, /auth\.google\.clientId/],
        [{ facebook: { appIds: 'abc' } }, /auth\.facebook\.appIds must be a non-empty array/],
        [{ github: { clientId: 'x' } }, /auth\.github\.clientSecret/],
        [{ twitter: { consumerKey: 'x' } }, /no built-in "twitter" adapter/],
        [{ keycloak: { oauth2: true } }, /auth\.keycloak needs jwksUri/],
        [{ keycloak: { oauth2: true, jwksUri: 'http://insecure.example/jwks', issuer: 'x', clientId: 'y' } }, /https URL/],
        [{ 'bad-name': true }, /not a valid provider name/],
        [{ mine: { module: fixture('tokens.ts') } }, /no validateAuthData function/],
      ];
      for (const [auth, message] of cases) {
        await assert.rejects(startTestServer(engine, { auth }), message, JSON.stringify(auth));
      }
    });
  });
}
