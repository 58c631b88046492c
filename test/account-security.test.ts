// Account lockout and password policy: what a refused login or password change answers, and that it
// changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ParsecConfig } from '../src/config/types.ts';
import { call, type HttpResult } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const INVALID = { code: 101, error: 'Invalid username/password.' };
const as = (token: string) => ({ headers: { 'X-Parse-Session-Token': token } });

interface Stored {
  count: number | null;
  locked: boolean;
  expiresAt: Date | null;
  hash: string;
  history: unknown;
  changedAt: Date | null;
  sessions: number;
}

function helpers(get: () => TestServer) {
  const db = () => get().parsec.services.driver;
  return {
    async signUp(username: string, password: string): Promise<{ id: string; token: string }> {
      const result = await call(get().url, '/users', { method: 'POST', body: { username, password } });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      return { id: result.body.objectId, token: result.body.sessionToken };
    },
    login(username: string, password: string, path = '/login'): Promise<HttpResult> {
      return call(get().url, path, { method: 'POST', body: { username, password } });
    },
    changePassword(id: string, password: string, options: Parameters<typeof call>[2] = {}): Promise<HttpResult> {
      return call(get().url, `/users/${id}`, { method: 'PUT', body: { password }, ...options });
    },
    async stored(id: string): Promise<Stored> {
      const { rows } = await db().query<Stored>(
        'SELECT "_failed_login_count" AS count, COALESCE("_account_lockout_expires_at" > now(), false) AS locked, ' +
          '"_account_lockout_expires_at" AS "expiresAt", "_hashed_password" AS hash, "_password_history" AS history, ' +
          '"_password_changed_at" AS "changedAt", (SELECT count(*)::int FROM "_Session" s WHERE s."user" = u."objectId") AS sessions ' +
          'FROM "_User" u WHERE "objectId" = $1',
        [id],
      );
      assert.ok(rows[0], `user ${id} exists`);
      return rows[0];
    },
    /** Moves a user's clock: the lock runs out, or the password gets older. */
    async age(id: string, column: '_account_lockout_expires_at' | '_password_changed_at', interval: string): Promise<void> {
      await db().query(`UPDATE "_User" SET "${column}" = now() - $2::interval WHERE "objectId" = $1`, [id, interval]);
    },
  };
}

for (const engine of engines()) {
  describe(`account lockout (${engine})`, () => {
    const lockout: ParsecConfig['accountLockout'] = { duration: 5, threshold: 3, unlockOnPasswordReset: true };
    let server: TestServer;
    const h = helpers(() => server);
    before(async () => {
      // Lockout is tested alone: the default rate limits (abuse-limits.test.ts) would refuse these guesses first.
      server = await startTestServer(engine, { accountLockout: lockout, rateLimit: [] });
    });
    after(async () => server.stop());

    test('the threshold-th wrong password locks; while locked even the right one is refused, like a wrong one', async () => {
      const { id } = await h.signUp('lock-a', 'right-pw');
      for (let i = 1; i <= 3; i++) {
        const wrong = await h.login('lock-a', `wrong-${i}`);
        assert.equal(wrong.status, 404);
        assert.deepEqual(wrong.body, INVALID);
        assert.equal((await h.stored(id)).count, i);
      }
      const locked = await h.stored(id);
      assert.equal(locked.locked, true);
      const minutes = ((locked.expiresAt?.getTime() ?? 0) - Date.now()) / 60_000;
      assert.ok(minutes > 4.9 && minutes <= 5.01, `locked for the configured duration, got ${minutes} minutes`);

      const unknown = await h.login('nobody-at-all', 'right-pw');
      for (const path of ['/login', '/verifyPassword']) {
        const right = await h.login('lock-a', 'right-pw', path);
        assert.equal(right.status, unknown.status, path);
        assert.deepEqual(right.body, unknown.body, `${path}: a locked account answers exactly like an unknown user`);
      }
      const wrongWhileLocked = await h.login('lock-a', 'wrong-again');
      assert.deepEqual(wrongWhileLocked.body, INVALID);
      const after = await h.stored(id);
      assert.deepEqual(
        { count: after.count, expiresAt: after.expiresAt, sessions: after.sessions },
        { count: 3, expiresAt: locked.expiresAt, sessions: locked.sessions },
        'refused logins while locked change nothing: no session, no count, the lock is not extended',
      );

      await h.age(id, '_account_lockout_expires_at', '1 second');
      const afterLock = await h.login('lock-a', 'right-pw');
      assert.equal(afterLock.status, 200, JSON.stringify(afterLock.body));
      assert.match(afterLock.body.sessionToken, /^r:/);
      const cleared = await h.stored(id);
      assert.equal(cleared.count, 0);
      assert.equal(cleared.expiresAt, null);
    });

    test('a lock that ran out starts a fresh series of attempts', async () => {
      const { id } = await h.signUp('lock-b', 'right-pw');
      for (let i = 0; i < 3; i++) await h.login('lock-b', 'wrong');
      assert.equal((await h.stored(id)).locked, true);
      await h.age(id, '_account_lockout_expires_at', '1 second');
      assert.deepEqual((await h.login('lock-b', 'wrong')).body, INVALID);
      const state = await h.stored(id);
      assert.equal(state.count, 1, 'counting restarts');
      assert.equal(state.locked, false);
      assert.equal((await h.login('lock-b', 'right-pw')).status, 200);
    });

    test('a successful login resets the count', async () => {
      const { id } = await h.signUp('lock-c', 'right-pw');
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 2; i++) assert.deepEqual((await h.login('lock-c', 'wrong')).body, INVALID);
        assert.equal((await h.stored(id)).count, 2);
        assert.equal((await h.login('lock-c', 'right-pw')).status, 200, `round ${round}`);
        assert.equal((await h.stored(id)).count, 0);
      }
      assert.equal((await h.stored(id)).locked, false);
    });

    test('wrong passwords through /verifyPassword count too', async () => {
      const { id } = await h.signUp('lock-d', 'right-pw');
      for (let i = 0; i < 3; i++) assert.deepEqual((await h.login('lock-d', 'wrong', '/verifyPassword')).body, INVALID);
      assert.equal((await h.stored(id)).locked, true);
      const sessions = (await h.stored(id)).sessions;
      assert.deepEqual((await h.login('lock-d', 'right-pw')).body, INVALID);
      assert.equal((await h.stored(id)).sessions, sessions);
    });

    test('16 concurrent wrong passwords never pass the threshold without locking', async () => {
      const { id } = await h.signUp('lock-race', 'right-pw');
      const before = await h.stored(id);
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => h.login('lock-race', `guess-${i}`)));
      for (const answer of answers) assert.deepEqual(answer.body, INVALID);
      const state = await h.stored(id);
      assert.equal(state.count, 3, 'every failure counted up to the threshold, none past it');
      assert.equal(state.locked, true);
      assert.deepEqual((await h.login('lock-race', 'right-pw')).body, INVALID, 'the right password is refused now');
      assert.equal((await h.stored(id)).sessions, before.sessions);
    });

    test('the right password among concurrent wrong ones is refused once they locked the account', async () => {
      const { id } = await h.signUp('lock-race-2', 'right-pw');
      for (let i = 0; i < 3; i++) await h.login('lock-race-2', 'wrong');
      // Locked: whatever order they run in, none of these may log in.
      const answers = await Promise.all([...Array.from({ length: 8 }, () => h.login('lock-race-2', 'wrong')), h.login('lock-race-2', 'right-pw')]);
      for (const answer of answers) assert.deepEqual(answer.body, INVALID);
      assert.equal((await h.stored(id)).count, 3);
    });

    test('unknown users are never locked and keep answering 101; nothing is stored for them', async () => {
      const { rows: before } = await server.parsec.services.driver.query('SELECT count(*)::int AS n FROM "_User"');
      const answers = await Promise.all(Array.from({ length: 10 }, () => h.login('ghost-user', 'anything')));
      for (const answer of answers) {
        assert.equal(answer.status, 404);
        assert.deepEqual(answer.body, INVALID);
      }
      for (let i = 0; i < 5; i++) assert.deepEqual((await h.login('ghost-user', 'anything')).body, INVALID);
      const { rows: after } = await server.parsec.services.driver.query('SELECT count(*)::int AS n FROM "_User"');
      assert.deepEqual(after, before);
    });

    test('unlockOnPasswordReset: changing the password unlocks the account', async () => {
      const { id, token } = await h.signUp('lock-e', 'right-pw');
      for (let i = 0; i < 3; i++) await h.login('lock-e', 'wrong');
      assert.equal((await h.stored(id)).locked, true);
      const changed = await h.changePassword(id, 'new-pw', as(token));
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const state = await h.stored(id);
      assert.equal(state.count, 0);
      assert.equal(state.locked, false);
      assert.equal((await h.login('lock-e', 'new-pw')).status, 200);
    });

    test('without unlockOnPasswordReset a password change leaves the lock; accountLockout off never locks', async () => {
      const strict = await startTestServer(engine, { accountLockout: { duration: 5, threshold: 2, unlockOnPasswordReset: false } });
      const off = await startTestServer(engine, { accountLockout: undefined });
      try {
        const s = helpers(() => strict);
        const { id, token } = await s.signUp('kept-locked', 'right-pw');
        for (let i = 0; i < 2; i++) await s.login('kept-locked', 'wrong');
        assert.equal((await s.changePassword(id, 'new-pw', as(token))).status, 200);
        assert.equal((await s.stored(id)).locked, true);
        assert.equal((await s.stored(id)).count, 2);
        assert.deepEqual((await s.login('kept-locked', 'new-pw')).body, INVALID);

        const o = helpers(() => off);
        const user = await o.signUp('never-locked', 'right-pw');
        for (let i = 0; i < 12; i++) assert.deepEqual((await o.login('never-locked', 'wrong')).body, INVALID);
        assert.equal((await o.login('never-locked', 'right-pw')).status, 200);
        const state = await o.stored(user.id);
        assert.equal(state.count, null, 'nothing is counted when lockout is off');
        assert.equal(state.expiresAt, null);
      } finally {
        await strict.stop();
        await off.stop();
      }
    });
  });

  describe(`password policy (${engine})`, () => {
    let server: TestServer;
    const h = helpers(() => server);
    before(async () => {
      server = await startTestServer(engine, {
        passwordPolicy: { validatorPattern: /^(?=.*[0-9]).{8,}$/, doNotAllowUsername: true, maxPasswordHistory: 3, maxPasswordAge: 30 },
      });
    });
    after(async () => server.stop());

    const usersNamed = async (username: string): Promise<number> => {
      const { rows } = await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_User" WHERE "username" = $1', [username]);
      return rows[0]?.n ?? 0;
    };

    test('sign-up: a password the pattern refuses is 142 with the default message, and no user is created', async () => {
      for (const password of ['short1', 'no-digits-here']) {
        const result = await call(server.url, '/users', { method: 'POST', body: { username: 'pattern-user', password } });
        assert.equal(result.status, 400);
        assert.deepEqual(result.body, { code: 142, error: 'Password does not meet the Password Policy requirements.' });
      }
      assert.equal(await usersNamed('pattern-user'), 0);
      await h.signUp('pattern-user', 'long-enough-1');
    });

    test('password change: refused by the pattern (even with the master key), and nothing changes', async () => {
      const { id, token } = await h.signUp('changer', 'first-pass-1');
      const before = await h.stored(id);
      const refused = await h.changePassword(id, 'weak', as(token));
      assert.deepEqual(refused.body, { code: 142, error: 'Password does not meet the Password Policy requirements.' });
      const byMaster = await h.changePassword(id, 'weak', { master: true });
      assert.equal(byMaster.body.code, 142);
      const after = await h.stored(id);
      assert.equal(after.hash, before.hash);
      assert.deepEqual(after.changedAt, before.changedAt);
      assert.equal(after.sessions, before.sessions, 'no session was revoked');
      assert.equal((await h.login('changer', 'first-pass-1')).status, 200);
    });

    test('doNotAllowUsername: at sign-up, at a change, and with a username set in the same write', async () => {
      const signUp = await call(server.url, '/users', { method: 'POST', body: { username: 'carol', password: 'xcarol-123' } });
      assert.deepEqual(signUp.body, { code: 142, error: 'Password cannot contain your username.' });
      assert.equal(await usersNamed('carol'), 0);
      const { id, token } = await h.signUp('carol', 'secret-pw-1');
      const before = await h.stored(id);
      assert.equal((await h.changePassword(id, 'carol-again-2', as(token))).body.code, 142);
      const renamed = await call(server.url, `/users/${id}`, { method: 'PUT', body: { username: 'dave', password: 'my-dave-pw-3' }, ...as(token) });
      assert.equal(renamed.body.code, 142);
      const after = await h.stored(id);
      assert.equal(after.hash, before.hash);
      const current = await call(server.url, `/users/${id}`, as(token));
      assert.equal(current.body.username, 'carol', 'the refused write changed nothing, the username included');
      assert.equal((await h.changePassword(id, 'Carol-differs-4', as(token))).status, 200, 'the check is case-sensitive, as in Parse');
    });

    test('maxPasswordHistory: the last 3 passwords are refused, older ones allowed', async () => {
      const { id, token } = await h.signUp('historian', 'password-1');
      for (const next of ['password-2', 'password-3']) assert.equal((await h.changePassword(id, next, as(token))).status, 200);
      const before = await h.stored(id);
      assert.equal((before.history as unknown[]).length, 2, 'the 2 hashes before the current one are kept');
      for (const reused of ['password-3', 'password-2', 'password-1']) {
        const refused = await h.changePassword(id, reused, as(token));
        assert.deepEqual(refused.body, { code: 142, error: 'New password should not be the same as last 3 passwords.' }, reused);
      }
      const unchanged = await h.stored(id);
      assert.equal(unchanged.hash, before.hash);
      assert.deepEqual(unchanged.history, before.history);
      assert.equal((await h.changePassword(id, 'password-4', as(token))).status, 200);
      const after = await h.stored(id);
      assert.equal((after.history as unknown[]).length, 2, 'the history keeps its length');
      assert.ok(!(after.history as string[]).includes(after.hash), 'the current hash is not in its own history');
      assert.equal((await h.changePassword(id, 'password-1', as(token))).status, 200, 'four passwords ago is allowed again');
      assert.equal((await h.login('historian', 'password-1')).status, 200);
    });

    test('the history is no oracle: another user or an anonymous caller gets 101 whatever the password', async () => {
      const victim = await h.signUp('victim', 'v1ct1m-secret');
      const other = await h.signUp('intruder', 'intr-secret-1');
      const before = await h.stored(victim.id);
      for (const password of ['v1ct1m-secret', 'some-other-2', 'weak', 'v1ct1m-other']) {
        for (const options of [as(other.token), {}]) {
          const result = await h.changePassword(victim.id, password, options);
          assert.deepEqual(result.body, { code: 101, error: 'Object not found.' }, password);
        }
      }
      assert.equal((await h.stored(victim.id)).hash, before.hash);
    });

    test('maxPasswordAge: an expired password answers 101 after the password check, and creates no session', async () => {
      const { id } = await h.signUp('ageing', 'old-secret-1');
      await h.age(id, '_password_changed_at', '29 days');
      assert.equal((await h.login('ageing', 'old-secret-1')).status, 200);
      await h.age(id, '_password_changed_at', '31 days');
      const before = await h.stored(id);
      const expired = await h.login('ageing', 'old-secret-1');
      assert.equal(expired.status, 404);
      assert.deepEqual(expired.body, { code: 101, error: 'Your password has expired. Please reset your password.' });
      assert.deepEqual((await h.login('ageing', 'wrong-pass-1')).body, INVALID, 'a wrong password still answers as usual');
      assert.equal((await h.stored(id)).sessions, before.sessions);
      // A password set before the policy existed has no date: its age starts now.
      await server.parsec.services.driver.query('UPDATE "_User" SET "_password_changed_at" = NULL WHERE "objectId" = $1', [id]);
      assert.equal((await h.login('ageing', 'old-secret-1')).status, 200);
      const dated = await h.stored(id);
      assert.ok(dated.changedAt !== null && Math.abs(dated.changedAt.getTime() - Date.now()) < 60_000);
    });

    test('a custom message and a validator callback (a config object in code)', async () => {
      const custom = await startTestServer(engine, {
        passwordPolicy: {
          validatorPattern: /^.{6,}$/g,
          validatorCallback: (password) => Promise.resolve(!password.toLowerCase().includes('password')),
          validationError: 'Use 6 characters or more, and not the word password.',
        },
      });
      try {
        const message = { code: 142, error: 'Use 6 characters or more, and not the word password.' };
        for (const password of ['short', 'MyPassword1']) {
          const result = await call(custom.url, '/users', { method: 'POST', body: { username: 'callback-user', password } });
          assert.deepEqual(result.body, message, password);
        }
        // A g flag on a shared RegExp must not make every other check start mid-string.
        for (let i = 0; i < 3; i++) {
          const result = await call(custom.url, '/users', { method: 'POST', body: { username: `callback-user-${i}`, password: 'fine-secret' } });
          assert.equal(result.status, 201, JSON.stringify(result.body));
        }
        const { rows } = await custom.parsec.services.driver.query('SELECT 1 FROM "_User" WHERE "username" = $1', ['callback-user']);
        assert.equal(rows.length, 0);
      } finally {
        await custom.stop();
      }
    });
  });
}
