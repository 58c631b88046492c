/**
 * `POST /push` (reference §8.1) over HTTP, with the official SDK and from cloud code, on each engine: the
 * master key only (403 for clients, 119 for the read-only master key), 115 without an adapter, the audience
 * (`where` or `channels`, only installations with a device token), deliveries grouped by device type, badges
 * incremented as Parse does, `_PushStatus` recorded with Parse's fields and readable by the master key only,
 * Parse's error codes for bad bodies (and nothing recorded), push_time with and without `scheduledPush`, and an
 * adapter that throws, rejects or hangs recorded as failed without harming the server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertOk, assertRefused, call, query, type HttpResult, type RequestOptions } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import RecordingPushAdapter, { sent, type SentCall } from './fixtures/push/recording-adapter.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/push.js', import.meta.url));
const READ_ONLY_KEY = 'test-read-only-master-key-0123456789';
const MAINTENANCE_KEY = 'test-maintenance-key-0123456789abcdef';
const MASTER: RequestOptions = { master: true };
let counter = 0;
const newInstallationId = (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

const sentFor = (statusId: string): SentCall[] => sent.filter((entry) => entry.pushStatusId === statusId);

/** Polls the status until the background delivery has finished (or gives up after 5 s). */
async function finished(server: TestServer, statusId: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = assertOk(await call(server.url, `/classes/_PushStatus/${statusId}`, MASTER), 'read _PushStatus');
    if (status.status === 'succeeded' || status.status === 'failed' || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function statusCount(server: TestServer): Promise<number> {
  return assertOk(await call(server.url, `/classes/_PushStatus${query({ count: 1, limit: 0 })}`, MASTER), 'count _PushStatus').count;
}

function push(server: TestServer, body: unknown, options: RequestOptions = MASTER): Promise<HttpResult> {
  return call(server.url, '/push', { method: 'POST', body, ...options });
}

function statusIdOf(result: HttpResult): string {
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.deepEqual(result.body, { result: true });
  const id = result.headers.get('x-parse-push-status-id');
  assert.match(id ?? '', /^[A-Za-z0-9]{10}$/);
  return id as string;
}

for (const engine of engines()) {
  describe(`push (${engine})`, () => {
    let server: TestServer;
    const installation = async (fields: Record<string, unknown>): Promise<string> =>
      assertOk(await call(server.url, '/installations', { method: 'POST', master: true, body: { installationId: newInstallationId(), ...fields } }), 'create installation', 201).objectId;
    const stored = async (objectId: string): Promise<Record<string, any>> => assertOk(await call(server.url, `/installations/${objectId}`, MASTER), 'read installation');

    before(async () => {
      server = await startTestServer(engine, {
        cloud: CLOUD,
        readOnlyMasterKey: READ_ONLY_KEY,
        maintenanceKey: MAINTENANCE_KEY,
        push: { adapter: new RecordingPushAdapter({ label: 'in-code' }), sendTimeoutMs: 300 },
      });
    });
    after(async () => server.stop());

    test('a push to a channel reaches its installations with tokens, grouped by device type, and records Parse\'s status', async () => {
      const iosA = await installation({ deviceType: 'ios', deviceToken: 'token-ios-a', channels: ['news'], badge: 2 });
      const iosBad = await installation({ deviceType: 'ios', deviceToken: 'bad-token', channels: ['news'] });
      const android = await installation({ deviceType: 'android', deviceToken: 'token-android', channels: ['news', 'sport'] });
      const noToken = await installation({ deviceType: 'ios', channels: ['news'] });
      const otherChannel = await installation({ deviceType: 'ios', deviceToken: 'token-sport', channels: ['sport'] });
      const unsupported = await installation({ deviceType: 'winrt', deviceToken: 'token-winrt', channels: ['news'] });

      const data = { alert: 'Breaking', badge: 'Increment', sound: 'default', 'content-available': 1, title: 'News' };
      const statusId = statusIdOf(await push(server, { channels: ['news'], data }));
      const status = await finished(server, statusId);

      const calls = sentFor(statusId);
      const reached = calls.flatMap((entry) => entry.installations.map((device) => device.objectId)).sort();
      assert.deepEqual(reached, [iosA, iosBad, android].sort(), 'no device without a token, none outside the channel, no unsupported type');
      for (const entry of calls) {
        assert.equal(new Set(entry.installations.map((device) => device.deviceType)).size, 1, 'one device type per send');
        // Each send carries the badge its devices now have (Parse groups incremented devices by badge).
        for (const device of entry.installations) assert.equal(entry.body.data.badge, device.badge);
        assert.equal(entry.body.data.alert, 'Breaking');
        assert.equal(entry.body.data.sound, 'default');
        assert.equal(entry.body.data['content-available'], 1);
        assert.equal(entry.body.data.title, 'News');
      }
      assert.equal((await stored(iosA)).badge, 3);
      assert.equal((await stored(iosBad)).badge, 1);
      assert.equal((await stored(android)).badge, 1);
      assert.equal((await stored(noToken)).badge, undefined, 'a device without a token is not touched');
      assert.equal((await stored(otherChannel)).badge, undefined);
      assert.equal((await stored(unsupported)).badge, 1, 'the badge changes for the whole audience, as in Parse');

      assert.equal(status.status, 'succeeded');
      assert.equal(status.source, 'rest');
      assert.deepEqual(JSON.parse(status.query), { channels: { $in: ['news'] } });
      assert.deepEqual(JSON.parse(status.payload), data);
      assert.equal(status.pushHash, createHash('md5').update('Breaking').digest('hex'));
      assert.equal(status.numSent, 2);
      assert.equal(status.numFailed, 2);
      assert.deepEqual(status.sentPerType, { ios: 1, android: 1 });
      assert.deepEqual(status.failedPerType, { ios: 1, winrt: 1 });
      assert.equal(status.count, undefined, 'count is removed when every batch is sent');
      assert.ok(!Number.isNaN(Date.parse(status.pushTime)));
      assert.equal(status.expiry, undefined);
    });

    test('a where query selects installations with the ordinary query language', async () => {
      const vip = await installation({ deviceType: 'android', deviceToken: 'token-vip', appVersion: '2.1', channels: [] });
      await installation({ deviceType: 'android', deviceToken: 'token-old', appVersion: '1.0', channels: [] });
      const statusId = statusIdOf(await push(server, { where: { appVersion: { $regex: '^2\\.' }, deviceType: 'android' }, data: { alert: { body: 'hi', title: 't' } } }));
      const status = await finished(server, statusId);
      assert.deepEqual(sentFor(statusId).flatMap((entry) => entry.installations.map((device) => device.objectId)), [vip]);
      assert.equal(status.numSent, 1);
      assert.equal(status.pushHash, createHash('md5').update(JSON.stringify({ body: 'hi', title: 't' })).digest('hex'));
      // A where that matches nothing still succeeds, with nothing sent.
      const none = statusIdOf(await push(server, { where: { appVersion: 'nope' }, data: { alert: 'x' } }));
      const empty = await finished(server, none);
      assert.equal(empty.status, 'succeeded');
      assert.equal(empty.numSent, 0);
      assert.equal(sentFor(none).length, 0);
    });

    test('a large audience is sent in batches of 100, each device exactly once', async () => {
      for (let round = 0; round < 3; round += 1) {
        const requests = Array.from({ length: 40 }, (_, index) => ({
          method: 'POST',
          path: '/parse/installations',
          body: { installationId: newInstallationId(), deviceType: index % 2 === 0 ? 'ios' : 'android', deviceToken: `crowd-${round}-${index}`, channels: ['crowd'] },
        }));
        const created = assertOk(await call(server.url, '/batch', { method: 'POST', master: true, body: { requests } }), 'batch create');
        assert.ok(created.every((entry: { success?: unknown }) => entry.success !== undefined), JSON.stringify(created));
      }
      const statusId = statusIdOf(await push(server, { channels: ['crowd'], data: { alert: 'everyone' } }));
      const status = await finished(server, statusId);
      const calls = sentFor(statusId);
      const tokens = calls.flatMap((entry) => entry.installations.map((device) => device.deviceToken));
      assert.equal(tokens.length, 120);
      assert.equal(new Set(tokens).size, 120, 'no device twice');
      assert.ok(calls.every((entry) => entry.installations.length <= 100));
      assert.equal(calls.length, 4, 'two batches, two device types each');
      assert.equal(status.status, 'succeeded');
      assert.equal(status.numSent, 120);
      assert.deepEqual(status.sentPerType, { ios: 60, android: 60 });
      assert.equal(status.count, undefined);
    });

    test('only the master key may push: clients get 403, the read-only master key 119, and nothing is recorded', async () => {
      const before = await statusCount(server);
      const user = assertOk(await call(server.url, '/users', { method: 'POST', body: { username: `pusher-${engine}`, password: 'pw-123456' } }), 'sign up', 201);
      const body = { channels: ['news'], data: { alert: 'nope' } };
      const anonymous = await push(server, body, {});
      assert.equal(anonymous.status, 403);
      assert.deepEqual(anonymous.body, { error: 'unauthorized: master key is required' });
      assert.equal((await push(server, body, { headers: { 'X-Parse-Session-Token': user.sessionToken } })).status, 403);
      assertRefused(await push(server, body, { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 119, "read-only masterKey isn't allowed to send push notifications.", 'read-only');
      assert.equal((await push(server, body, { headers: { 'X-Parse-Maintenance-Key': MAINTENANCE_KEY } })).status, 403, 'the maintenance key is no master key');
      // A batch sub-request passes the same check.
      const batch = assertOk(await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/push', body }] } }), 'batch');
      assert.ok(batch[0].error !== undefined && batch[0].success === undefined, JSON.stringify(batch));
      assert.equal(await statusCount(server), before);
    });

    test('_PushStatus is readable by the master key only and written by no one through the API', async () => {
      const statusId = statusIdOf(await push(server, { channels: ['nobody'], data: { alert: 'x' } }));
      await finished(server, statusId);
      assertRefused(await call(server.url, '/classes/_PushStatus'), 119, undefined, 'anonymous find');
      assertRefused(await call(server.url, `/classes/_PushStatus/${statusId}`), 119, undefined, 'anonymous get');
      assert.equal(assertOk(await call(server.url, `/classes/_PushStatus/${statusId}`, { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 'read-only get').objectId, statusId);
      assertRefused(await call(server.url, '/classes/_PushStatus', { method: 'POST', master: true, body: { status: 'succeeded' } }), 119, undefined, 'master create');
      assertRefused(await call(server.url, `/classes/_PushStatus/${statusId}`, { method: 'PUT', master: true, body: { status: 'failed' } }), 119, undefined, 'master update');
      assertRefused(await call(server.url, `/classes/_PushStatus/${statusId}`, { method: 'DELETE', master: true }), 119, undefined, 'master delete');
      assert.equal((await finished(server, statusId)).status, 'succeeded');
    });

    test('bad push bodies get Parse\'s codes and record nothing', async () => {
      await installation({ deviceType: 'ios', deviceToken: 'token-bad-input', channels: ['bad-input'] });
      const before = await statusCount(server);
      const sentBefore = sent.length;
      const cases: [unknown, number, string | RegExp | undefined][] = [
        [{ data: { alert: 'x' } }, 115, 'Sending a push requires either "channels" or a "where" query.'],
        [{ where: {}, channels: ['a'], data: { alert: 'x' } }, 115, 'Channels and query can not be set at the same time.'],
        [{ where: 'deviceType=ios', data: { alert: 'x' } }, 102, undefined],
        [{ where: [1], data: { alert: 'x' } }, 102, undefined],
        [{ where: { deviceType: { $bogus: 1 } }, data: { alert: 'x' } }, 102, undefined],
        [{ channels: 'bad-input', data: { alert: 'x' } }, 112, undefined],
        [{ channels: [1], data: { alert: 'x' } }, 112, undefined],
        [{ channels: ['bad-input'], data: 'just text' }, 115, 'data must be a JSON object.'],
        [{ channels: ['bad-input'], data: ['x'] }, 115, 'data must be a JSON object.'],
        [{ channels: ['bad-input'], data: { alert: 'x' }, push_time: 'not a time' }, 115, 'not a time is not valid time.'],
        [{ channels: ['bad-input'], data: { alert: 'x' }, push_time: { iso: 'x' } }, 115, /is not valid time\.$/],
        [{ channels: ['bad-input'], data: { alert: 'x' }, expiration_time: true }, 115, 'true is not valid time.'],
        [{ channels: ['bad-input'], data: { alert: 'x' }, expiration_interval: -5 }, 115, 'expiration_interval must be a number greater than 0'],
        [{ channels: ['bad-input'], data: { alert: 'x' }, expiration_interval: '60' }, 115, 'expiration_interval must be a number greater than 0'],
        [{ channels: ['bad-input'], data: { alert: 'x' }, expiration_time: 1_900_000_000, expiration_interval: 60 }, 115, 'Both expiration_time and expiration_interval cannot be set'],
        [{ channels: ['bad-input'], data: { alert: 'x', badge: 'lots' } }, 115, "Invalid value for badge, expected number or 'Increment' or {increment: number}"],
        [{ where: { deviceType: 'winrt' }, data: { alert: 'x' } }, 115, 'winrt is not supported push type.'],
        ['a string body', 115, undefined],
      ];
      for (const [body, code, message] of cases) assertRefused(await push(server, body), code, message, JSON.stringify(body));
      // Prototype keys never reach the push code (refused when the body is read).
      const polluted = await call(server.url, '/push', { method: 'POST', master: true, rawBody: '{"where":{"__proto__":{"x":1}},"data":{"alert":"x"}}', headers: { 'Content-Type': 'application/json' } });
      assertRefused(polluted, 105, undefined, '__proto__ in where');
      assert.equal(await statusCount(server), before);
      assert.equal(sent.length, sentBefore, 'nothing was sent');
      assert.equal((await call(server.url, '/health')).status, 200);
    });

    test('push_time is recorded and sent at once without scheduledPush; expiration_interval sets the expiry', async () => {
      await installation({ deviceType: 'ios', deviceToken: 'token-timed', channels: ['timed'] });
      const started = Date.now();
      const statusId = statusIdOf(await push(server, { channels: ['timed'], data: { alert: 'later' }, push_time: '2099-01-01T10:00:00Z', expiration_interval: 3600 }));
      const status = await finished(server, statusId);
      assert.equal(status.status, 'succeeded');
      assert.ok(Date.parse(status.pushTime) < Date.parse('2099-01-01'), 'without scheduledPush the push time recorded is now');
      assert.equal(status.expiration_interval, 3600);
      assert.equal(status.expiry, undefined, 'a scheduled interval is not turned into a time (Parse)');
      const [call1] = sentFor(statusId);
      assert.equal(call1?.body.push_time, '2099-01-01T10:00:00.000Z');

      const immediate = statusIdOf(await push(server, { channels: ['timed'], data: { alert: 'soon' }, expiration_interval: 60 }));
      const expiring = await finished(server, immediate);
      assert.ok(expiring.expiry >= started + 60_000 && expiring.expiry <= Date.now() + 60_000, `expiry ${expiring.expiry}`);
      assert.equal(sentFor(immediate)[0]?.body.expiration_time, expiring.expiry);

      const byTime = statusIdOf(await push(server, { channels: ['timed'], data: { alert: 'until' }, expiration_time: 1_900_000_000 }));
      assert.equal((await finished(server, byTime)).expiry, 1_900_000_000_000);
    });

    test('an adapter that throws, rejects or hangs is recorded as failed and the server carries on', async () => {
      await installation({ deviceType: 'android', deviceToken: 'token-misbehave', channels: ['misbehave'] });
      for (const alert of ['throw', 'reject', 'hang']) {
        const statusId = statusIdOf(await push(server, { channels: ['misbehave'], data: { alert } }));
        const status = await finished(server, statusId);
        assert.equal(status.status, 'failed', alert);
        assert.equal(typeof status.errorMessage?.message, 'string', alert);
        assert.equal(status.numFailed, 1, alert);
        assert.deepEqual(status.failedPerType, { android: 1 }, alert);
        assert.equal(status.count, undefined, alert);
      }
      assert.equal((await call(server.url, '/health')).status, 200);
    });

    test('the Parse JS SDK sends a push with Parse.Push.send and the master key', async () => {
      const target = await installation({ deviceType: 'ios', deviceToken: 'token-sdk', channels: ['sdk'], timeZone: 'Europe/Paris' });
      const Parse = parseSdk(server.url);
      const where = new Parse.Query(Parse.Installation).equalTo('timeZone', 'Europe/Paris');
      const statusId = await Parse.Push.send({ where, data: { alert: 'from the SDK' } }, { useMasterKey: true });
      assert.match(statusId, /^[A-Za-z0-9]{10}$/);
      const status = await finished(server, statusId);
      assert.equal(status.status, 'succeeded');
      assert.deepEqual(sentFor(statusId).flatMap((entry) => entry.installations.map((device) => device.objectId)), [target]);
      const pushStatus = await Parse.Push.getPushStatus(statusId, { useMasterKey: true });
      assert.equal(pushStatus.get('numSent'), 1);
    });

    test('Parse.Push.send in cloud code goes through the same path; without the master key it is refused', async () => {
      await installation({ deviceType: 'android', deviceToken: 'token-cloud', channels: ['cloud'] });
      const result = assertOk(await call(server.url, '/functions/pushFromCloud', { method: 'POST', master: true, body: { channels: ['cloud'], alert: 'from cloud' } }), 'cloud push');
      const status = await finished(server, result.result);
      assert.equal(status.status, 'succeeded');
      assert.equal(status.numSent, 1);
      assert.equal(sentFor(result.result)[0]?.body.data.alert, 'from cloud');

      const before = await statusCount(server);
      const user = assertOk(await call(server.url, '/users', { method: 'POST', body: { username: `cloud-pusher-${engine}`, password: 'pw-123456' } }), 'sign up', 201);
      const refused = await call(server.url, '/functions/pushWithoutMaster', { method: 'POST', body: {}, headers: { 'X-Parse-Session-Token': user.sessionToken } });
      assert.notEqual(refused.status, 200, JSON.stringify(refused.body));
      assert.equal(await statusCount(server), before);
    });
  });

  describe(`push configuration (${engine})`, () => {
    test('without a push adapter POST /push answers 115 and records nothing', async () => {
      const server = await startTestServer(engine);
      try {
        assertRefused(await push(server, { channels: ['x'], data: { alert: 'x' } }), 115, 'Missing push configuration', 'no adapter');
        assert.equal(await statusCount(server), 0);
        assert.equal((await push(server, { channels: ['x'] }, {})).status, 403, 'the master key is checked first');
      } finally {
        await server.stop();
      }
    });

    test('an adapter module path with options is loaded; scheduledPush records a push_time push without sending it', async () => {
      const module = fileURLToPath(new URL('./fixtures/push/recording-adapter.ts', import.meta.url));
      const server = await startTestServer(engine, { push: { adapter: { module, options: { label: 'from-module', types: ['ios'] } } }, scheduledPush: true });
      try {
        await call(server.url, '/installations', { method: 'POST', master: true, body: { installationId: newInstallationId(), deviceType: 'ios', deviceToken: 'token-module', channels: ['m'] } });
        const now = statusIdOf(await push(server, { channels: ['m'], data: { alert: 'now' } }));
        assert.equal((await finished(server, now)).status, 'succeeded');
        assert.equal(sent.find((entry) => entry.pushStatusId === now)?.label, 'from-module');
        assertRefused(await push(server, { where: { deviceType: 'android' }, data: { alert: 'x' } }), 115, 'android is not supported push type.', 'types from options');

        const scheduled = statusIdOf(await push(server, { channels: ['m'], data: { alert: 'later' }, push_time: '2099-01-01T10:00:00' }));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const status = assertOk(await call(server.url, `/classes/_PushStatus/${scheduled}`, MASTER), 'scheduled status');
        assert.equal(status.status, 'scheduled');
        assert.equal(status.pushTime, '2099-01-01T10:00:00.000', 'a local time is kept without its zone, as in Parse');
        assert.equal(sentFor(scheduled).length, 0);
        const zoned = statusIdOf(await push(server, { channels: ['m'], data: { alert: 'later' }, push_time: '2099-01-01T10:00:00+02:00' }));
        assert.equal(assertOk(await call(server.url, `/classes/_PushStatus/${zoned}`, MASTER), 'zoned').pushTime, '2099-01-01T08:00:00.000Z');
        const seconds = statusIdOf(await push(server, { channels: ['m'], data: { alert: 'later' }, push_time: 4_070_944_800 }));
        assert.equal(assertOk(await call(server.url, `/classes/_PushStatus/${seconds}`, MASTER), 'seconds').pushTime, '2099-01-01T10:00:00.000', 'seconds are local time in Parse');
      } finally {
        await server.stop();
      }
    });

    test('a push adapter module that is not an adapter stops the start', async () => {
      const module = fileURLToPath(new URL('./fixtures/cloud/push.js', import.meta.url));
      await assert.rejects(startTestServer(engine, { push: { adapter: { module: `${module}.missing`, options: {} } } }));
      const notAdapter = fileURLToPath(new URL('./helpers/http.ts', import.meta.url));
      await assert.rejects(startTestServer(engine, { push: { adapter: { module: notAdapter, options: {} } } }), /no send and getValidPushTypes/);
    });
  });
}
