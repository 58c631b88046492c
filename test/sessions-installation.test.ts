/**
 * A session remembers the installation (device) it was opened from, and a new log-in from that device ends
 * the device's earlier session of the same user, as Parse does: the SDKs send `X-Parse-Installation-Id`
 * with every request, and a device that logs in again must not leave its old token alive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const device = (installationId: string) => ({ 'X-Parse-Installation-Id': installationId });
const session = (token: string) => ({ 'X-Parse-Session-Token': token });

for (const engine of engines()) {
  describe(`sessions and installations (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [] });
    });
    after(async () => server.stop());

    const signUp = async (username: string, headers: Record<string, string> = {}) => {
      const created = await call(server.url, '/users', { method: 'POST', body: { username, password: 'pw-123456' }, headers });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body as { objectId: string; sessionToken: string };
    };
    const logIn = async (username: string, headers: Record<string, string> = {}) => {
      const result = await call(server.url, '/login', { method: 'POST', body: { username, password: 'pw-123456' }, headers });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.sessionToken as string;
    };
    const works = async (token: string) => (await call(server.url, '/users/me', { headers: session(token) })).status === 200;
    const sessionsOf = async (userId: string) => {
      const where = { user: { __type: 'Pointer', className: '_User', objectId: userId } };
      const found = await call(server.url, `/sessions${query({ where })}`, { master: true });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      return (found.body.results as { installationId?: string; createdWith: { action: string } }[]).map((s) => ({ installationId: s.installationId, action: s.createdWith.action }));
    };

    test('sign-up and log-in record the installation the request came from', async () => {
      const user = await signUp('inst-recorder', device('device-a'));
      assert.deepEqual(await sessionsOf(user.objectId), [{ installationId: 'device-a', action: 'signup' }]);
      const other = await logIn('inst-recorder', device('device-b'));
      assert.ok(await works(other));
      const recorded = (await sessionsOf(user.objectId)).map((s) => s.installationId).sort();
      assert.deepEqual(recorded, ['device-a', 'device-b']);
    });

    test('a new log-in from the same device ends that device\'s earlier session, and only that one', async () => {
      const user = await signUp('inst-replaced', device('phone'));
      const tablet = await logIn('inst-replaced', device('tablet'));
      const browser = await logIn('inst-replaced');
      const again = await logIn('inst-replaced', device('phone'));
      assert.equal(await works(user.sessionToken), false, 'the phone\'s sign-up session ended');
      assert.equal((await call(server.url, '/users/me', { headers: session(user.sessionToken) })).body.code, 209);
      assert.ok(await works(again));
      assert.ok(await works(tablet), 'another device keeps its session');
      assert.ok(await works(browser), 'a session without an installation is left alone');
      const phones = (await sessionsOf(user.objectId)).filter((s) => s.installationId === 'phone');
      assert.equal(phones.length, 1);
    });

    test('a log-in without an installation id ends nothing', async () => {
      await signUp('inst-none');
      const first = await logIn('inst-none');
      const second = await logIn('inst-none');
      assert.ok(await works(first));
      assert.ok(await works(second));
    });

    test('another user logging in on the same device does not end the first user\'s session', async () => {
      const alice = await signUp('inst-alice', device('shared-kiosk'));
      await signUp('inst-bob', device('shared-kiosk'));
      await logIn('inst-bob', device('shared-kiosk'));
      assert.ok(await works(alice.sessionToken));
    });

    test('the installation id in the SDK\'s body form (_InstallationId) counts the same', async () => {
      const user = await signUp('inst-body');
      const viaBody = await call(server.url, '/login', { method: 'POST', body: { username: 'inst-body', password: 'pw-123456', _InstallationId: 'body-device' } });
      assert.equal(viaBody.status, 200, JSON.stringify(viaBody.body));
      assert.ok((await sessionsOf(user.objectId)).some((s) => s.installationId === 'body-device'));
      const again = await call(server.url, '/login', { method: 'POST', body: { username: 'inst-body', password: 'pw-123456', _InstallationId: 'body-device' } });
      assert.equal(await works(viaBody.body.sessionToken), false);
      assert.ok(await works(again.body.sessionToken));
    });

    test('a wrong password from the device ends nothing', async () => {
      const user = await signUp('inst-wrong', device('device-w'));
      const wrong = await call(server.url, '/login', { method: 'POST', body: { username: 'inst-wrong', password: 'nope' }, headers: device('device-w') });
      assert.equal(wrong.body.code, 101);
      assert.ok(await works(user.sessionToken));
    });
  });
}
