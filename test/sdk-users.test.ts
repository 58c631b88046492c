/**
 * User behaviours the official JS SDK relies on (its integration suite ParseUserTest, without third-party
 * authData, which has its own tests), written for Parsec and run on every engine with the SDK's
 * current-user flow: sign-up and log-in (`existed`), become and revoked sessions, the current user, a user's own updates and deletion, other users' objects refused with 209 and unchanged,
 * counting and querying users under Parsec's private-user default, and verifyPassword.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`SDK users (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    let counter = 0;
    const name = (): string => `sdk-user-${++counter}`;
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [] });
      Parse = parseSdk(server.url);
      Parse.User.enableUnsafeCurrentUser();
    });
    beforeEach(() => Parse.User.logOut());
    after(async () => {
      await Parse.User.logOut();
      Parse.User.disableUnsafeCurrentUser();
      await server.stop();
    });

    const rejectsWith = async (promise: Promise<unknown>, code: number, message?: string): Promise<void> => {
      await assert.rejects(promise, (error: any) => {
        assert.equal(error.code, code, String(error.message));
        if (message !== undefined) assert.equal(error.message, message);
        return true;
      });
    };

    test('sign up (static and instance) is new; log in is existing; wrong name or password is 101', async () => {
      const username = name();
      const created = await Parse.User.signUp(username, 'zxcv');
      assert.ok(created.getSessionToken());
      assert.equal(created.existed(), false);
      const instance = new Parse.User();
      instance.setUsername(name());
      instance.setPassword('asdf');
      await instance.signUp();
      assert.equal(instance.existed(), false);
      const loggedIn = await Parse.User.logIn(username, 'zxcv');
      assert.equal(loggedIn.get('username'), username);
      assert.equal(loggedIn.existed(), true);
      await rejectsWith(Parse.User.logIn('false_user', 'asdf3'), 101, 'Invalid username/password.');
      await rejectsWith(Parse.User.logIn(username, 'asdfWrong'), 101, 'Invalid username/password.');
    });

    test('become restores a user from its session token; a log-in from the same device ends its earlier session; garbage is 209', async () => {
      const user = await Parse.User.signUp(name(), 'parse', { code: 'red' });
      assert.equal(Parse.User.current().id, user.id);
      const first = user.getSessionToken();
      // The SDK sends its installation id: a new log-in from this installation replaces its session, as Parse does.
      const second = await Parse.User.logIn(user.get('username'), 'parse');
      await rejectsWith(Parse.User.become(first), 209);
      const token = second.getSessionToken();
      const restored = await Parse.User.become(token);
      assert.equal(Parse.User.current().id, user.id);
      assert.equal(restored.get('code'), 'red');
      const me = await Parse.User.me(token);
      assert.equal(me.id, user.id);
      await Parse.User.logOut();
      assert.equal(Parse.User.current(), null);
      await rejectsWith(Parse.User.become(token), 209);
      await rejectsWith(Parse.User.become('garbage'), 209);
    });

    test('the current user follows sign-ups and log-ins; a plain save does not log in', async () => {
      const [a, b] = [name(), name()];
      const first = await Parse.User.signUp(a, 'password');
      assert.equal(first.isCurrent(), true);
      const second = await Parse.User.signUp(b, 'password');
      assert.deepEqual([first.isCurrent(), second.isCurrent()], [false, true]);
      await Parse.User.logIn(a, 'password');
      assert.equal(Parse.User.current().id, first.id);
      await Parse.User.logOut();
      assert.equal(Parse.User.current(), null);
      const saved = await new Parse.User().save({ username: name(), password: 'asdf', email: `${name()}@example.com` });
      assert.ok(saved.id);
      assert.equal(Parse.User.current(), null);
    });

    // Parse's suite expects 209 "Cannot modify user" here; Parsec answers 101, as for any object the caller
    // may not write (missing and forbidden look the same).
    test('another user cannot be changed, deleted or saved in a batch by someone else (101), and stays the same', async () => {
      const victimName = name();
      const victim = await Parse.User.signUp(victimName, 'asdf', { email: `${victimName}@example.com` });
      const asMaster = await new Parse.Query(Parse.User).get(victim.id, { useMasterKey: true });
      await Parse.User.logOut();
      await Parse.User.signUp(name(), 'password');
      asMaster.set('username', 'changed');
      await rejectsWith(asMaster.save(), 101);
      await rejectsWith(asMaster.destroy(), 101);
      const item = await new Parse.Object('SdkUserItem', { number: 0 }).save();
      item.set('number', 1);
      await assert.rejects(Parse.Object.saveAll([item, asMaster]));
      const stored = await new Parse.Query(Parse.User).get(victim.id, { useMasterKey: true });
      assert.equal(stored.get('username'), victimName);
    });

    test('a user reads, fetches with include, updates and deletes itself', async () => {
      const child = new Parse.Object('SdkUserChild', { field: 'test' });
      const username = name();
      const user = new Parse.User({ username, password: 'asdf', email: `${username}@example.com`, child });
      await user.signUp();
      assert.equal(user.has('sessionToken'), true);
      const read = await new Parse.Query(Parse.User).get(user.id);
      assert.equal(read.has('sessionToken'), false);
      assert.equal(read.get('child').get('field'), undefined);
      await read.fetchWithInclude('child');
      assert.equal(read.get('child').get('field'), 'test');
      const loggedIn = await Parse.User.logIn(username, 'asdf');
      loggedIn.set('username', `${username}-renamed`);
      await loggedIn.save();
      assert.equal((await new Parse.Query(Parse.User).get(user.id)).get('username'), `${username}-renamed`);
      assert.equal(loggedIn.get('email'), `${username}@example.com`);
      await loggedIn.destroy();
      await rejectsWith(new Parse.Query(Parse.User).get(user.id, { useMasterKey: true }), 101);
    });

    test('counting and finding users: the master key sees all; a user sees only itself (private users)', async () => {
      await Parse.User.signUp(name(), 'mypass', { array: ['hello'] });
      const total = await new Parse.Query(Parse.User).count({ useMasterKey: true });
      assert.ok(total >= 2);
      const seen = await new Parse.Query(Parse.User).find();
      assert.deepEqual(seen.map((u: any) => u.id), [Parse.User.current().id]);
      await Parse.User.logOut();
      assert.deepEqual(await new Parse.Query(Parse.User).find(), []);
    });

    test('verifyPassword (static and instance): the user without secrets, or 101', async () => {
      const username = name();
      const user = await Parse.User.signUp(username, 'xyz123');
      const verified = await Parse.User.verifyPassword(username, 'xyz123');
      assert.equal(verified.username, username);
      assert.equal(verified.password, undefined);
      assert.equal((await user.verifyPassword('xyz123')).username, username);
      await rejectsWith(Parse.User.verifyPassword(username, 'wrong password'), 101, 'Invalid username/password.');
      await rejectsWith(user.verifyPassword('wrong password'), 101, 'Invalid username/password.');
    });

    test('a password changed with the master key is never answered back and ends the user\'s sessions', async () => {
      const user = await Parse.User.signUp(name(), 'password');
      const token = user.getSessionToken();
      user.setPassword('password2');
      await user.save(null, { useMasterKey: true });
      const stored = await new Parse.Query(Parse.User).get(user.id, { useMasterKey: true });
      assert.equal(stored.get('password'), undefined);
      await rejectsWith(Parse.User.me(token), 209);
      await rejectsWith(Parse.User.logIn(user.get('username'), 'password'), 101);
      assert.ok((await Parse.User.logIn(user.get('username'), 'password2')).getSessionToken());
    });

    test('anonymous users: log in, save data, and become a regular user keeping it', async () => {
      const anonymous = await Parse.AnonymousUtils.logIn();
      anonymous.set('field', 'hello world');
      await anonymous.save();
      assert.ok(anonymous.get('authData').anonymous);
      assert.equal((await new Parse.Query(Parse.User).get(anonymous.id)).get('field'), 'hello world');
      const username = name();
      anonymous.setUsername(username);
      anonymous.setPassword('baz');
      await anonymous.signUp();
      const stored = await new Parse.Query(Parse.User).get(anonymous.id);
      // No provider left: no authData at all, as Parse (not an empty object).
      assert.deepEqual([stored.get('username'), stored.get('field'), stored.get('authData')], [username, 'hello world', undefined]);
      const me = await Parse.User.me(anonymous.getSessionToken());
      assert.equal(me.get('authData'), undefined);
      await Parse.User.logOut();
      await rejectsWith(new Parse.Query(Parse.User).get(anonymous.id), 101, 'Object not found.');
    });
  });
}
