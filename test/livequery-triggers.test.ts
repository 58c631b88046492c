/**
 * LiveQuery's cloud triggers: `beforeConnect` and `beforeSubscribe` can refuse (and the latter narrow the
 * query, which is then checked like the client's own), and `afterLiveQueryEvent` works on each
 * subscriber's own copy, with protected fields removed after it.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { engines, MASTER_KEY, startTestServer, type TestServer } from './helpers/server.ts';
import { ok, RawClient, signUp } from './helpers/livequery.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/livequery.js', import.meta.url));
const PUBLIC = { find: { '*': true }, get: { '*': true }, count: { '*': true }, create: { '*': true }, update: { '*': true }, delete: { '*': true }, addField: { '*': true } };

for (const engine of engines()) {
  describe(`LiveQuery triggers (${engine})`, () => {
    let server: TestServer;
    let bob: { id: string; token: string };

    async function seen(): Promise<Record<string, unknown>[]> {
      return ok(await call(server.url, '/functions/liveQuerySeen', { method: 'POST', master: true, body: {} }), 'seen').result as Record<string, unknown>[];
    }

    before(async () => {
      server = await startTestServer(engine, {
        cloud: CLOUD,
        rateLimit: [],
        liveQuery: { classNames: ['Room'], maxConnectionsPerIp: 100, maxConnectionsPerUser: 20, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 },
      });
      bob = await signUp(server, 'bob');
      ok(
        await call(server.url, '/schemas/Room', {
          method: 'POST',
          master: true,
          body: { className: 'Room', fields: { name: { type: 'String' }, open: { type: 'Boolean' }, secret: { type: 'String' } }, classLevelPermissions: { ...PUBLIC, protectedFields: { '*': ['secret'] } } },
        }),
        'Room',
      );
    });
    after(() => server.stop());

    test('beforeConnect sees the user and installation and can refuse the connection', async () => {
      await seen();
      const refused = await RawClient.open(server);
      const answer = await refused.connect({ sessionToken: bob.token, installationId: 'banned-device' });
      assert.deepEqual([answer.op, answer.code, answer.error], ['error', 119, 'This device is banned.']);
      assert.equal((await refused.subscribe(1, { className: 'Room', where: {} })).op, 'error', 'a refused client cannot subscribe');
      const accepted = await RawClient.connected(server, { sessionToken: bob.token, installationId: 'phone' });
      assert.deepEqual(await seen(), [
        { trigger: 'beforeConnect', user: 'bob', master: false, installationId: 'banned-device' },
        { trigger: 'beforeConnect', user: 'bob', master: false, installationId: 'phone' },
      ]);
      refused.close();
      accepted.close();
    });

    test('beforeSubscribe can refuse, and what it leaves in request.query is the subscription (checked like a client query)', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      await seen();
      const refused = await client.subscribe(1, { className: 'Room', where: { name: 'forbidden' } });
      assert.deepEqual([refused.op, refused.code], ['error', 119]);
      assert.equal((await client.subscribe(2, { className: 'Room', where: { name: 'lobby' } })).op, 'subscribed');
      ok(await call(server.url, '/classes/Room', { method: 'POST', body: { name: 'lobby', open: false } }), 'closed lobby');
      ok(await call(server.url, '/classes/Room', { method: 'POST', body: { name: 'lobby', open: true } }), 'open lobby');
      await client.settle();
      assert.deepEqual(client.events().map((frame) => [frame.requestId, frame.object.name, frame.object.open]), [[2, 'lobby', true]]);
      const calls = (await seen()).filter((entry) => entry.trigger === 'beforeSubscribe');
      assert.deepEqual(calls, [
        { trigger: 'beforeSubscribe', className: 'Room', user: 'bob', where: { name: 'forbidden' } },
        { trigger: 'beforeSubscribe', className: 'Room', user: 'bob', where: { name: 'lobby' } },
      ]);
      client.close();
    });

    test('GHSA-5hmj-jcgp-6hff, GHSA-m983-v2ff-wq65, GHSA-9jpp-xhh6-75mf: afterLiveQueryEvent works on per-subscriber copies; protected fields are removed after it', async () => {
      const user = await RawClient.connected(server, { sessionToken: bob.token });
      const masterClient = await RawClient.connected(server, { masterKey: MASTER_KEY });
      for (const client of [user, masterClient]) assert.equal((await client.subscribe(1, { className: 'Room', where: { name: { $in: ['hall', 'muted'] } } })).op, 'subscribed');
      const id = ok(await call(server.url, '/classes/Room', { method: 'POST', master: true, body: { name: 'hall', open: true, secret: 'stored secret' } }), 'hall').objectId as string;
      ok(await call(server.url, `/classes/Room/${id}`, { method: 'PUT', master: true, body: { secret: 'new secret' } }), 'update');
      ok(await call(server.url, '/classes/Room', { method: 'POST', master: true, body: { name: 'muted', open: true } }), 'muted');
      for (const client of [user, masterClient]) await client.settle();
      const userEvents = user.events(1);
      assert.deepEqual(userEvents.map((frame) => [frame.op, frame.object.seenBy]), [
        ['create', 'bob'],
        ['update', 'bob'],
      ]);
      const text = JSON.stringify(user.frames);
      assert.ok(!text.includes('secret"') && !text.includes('planted') && !text.includes('stored secret') && !text.includes('new secret'), text);
      assert.deepEqual(
        masterClient.events(1).map((frame) => [frame.op, frame.object.seenBy, frame.object.secret, frame.original?.secret]),
        [
          ['create', 'master', 'planted by the trigger', undefined],
          ['update', 'master', 'planted by the trigger', 'stored secret'],
        ],
      );
      const events = (await seen()).filter((entry) => entry.trigger === 'afterLiveQueryEvent');
      assert.equal(events.length, 6, 'once per subscriber and event, the muted one included');
      user.close();
      masterClient.close();
    });
  });
}
