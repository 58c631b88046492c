/**
 * LiveQuery's protocol and its five events, with the official JS SDK's own client (`query.subscribe()` and
 * `Parse.LiveQueryClient`) and with raw frames where the exact wire shape matters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { APP_ID, engines, JS_KEY, startTestServer, type TestServer } from './helpers/server.ts';
import { hubOf, ok, RawClient, wsUrl, type Frame } from './helpers/livequery.ts';

/** Collects an SDK subscription's events as [event, object JSON, original JSON]. */
function record(subscription: any): { events: [string, any, any][]; opened: Promise<void> } {
  const events: [string, any, any][] = [];
  for (const name of ['create', 'enter', 'update', 'leave', 'delete']) {
    subscription.on(name, (object: any, original: any) => {
      events.push([name, object.toJSON(), original && typeof original.toJSON === 'function' ? original.toJSON() : undefined]);
    });
  }
  return { events, opened: new Promise((resolve) => subscription.on('open', () => resolve())) };
}

async function eventually(check: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const engine of engines()) {
  describe(`LiveQuery protocol (${engine})`, () => {
    let server: TestServer;
    let Parse: any;

    before(async () => {
      server = await startTestServer(engine, { liveQuery: { classNames: ['Message', 'Note'], maxConnectionsPerIp: 100, maxConnectionsPerUser: 20, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 } });
      Parse = parseSdk(server.url);
      Parse.liveQueryServerURL = wsUrl(server);
    });
    after(async () => {
      await Parse.LiveQuery.close();
      // The SDK keeps its default client (and its URL) in a module-level variable: the next suite needs a new one.
      Parse.CoreManager.getLiveQueryController()._clearCachedDefaultClient();
      await server.stop();
    });

    test('query.subscribe() receives create, update, enter, leave and delete as a find would decide them', async () => {
      const query = new Parse.Query('Message');
      query.greaterThan('n', 5);
      const subscription = await query.subscribe();
      const { events, opened } = record(subscription);
      await subscription.subscribePromise;
      await opened;
      const first = await new Parse.Object('Message').save({ n: 10, text: 'in' }, { useMasterKey: true });
      await first.save({ text: 'still in' }, { useMasterKey: true });
      await first.save({ n: 1 }, { useMasterKey: true });
      await first.save({ n: 7 }, { useMasterKey: true });
      await new Parse.Object('Message').save({ n: 2 }, { useMasterKey: true });
      await first.destroy({ useMasterKey: true });
      await hubOf(server).idle();
      await eventually(() => events.length >= 5, 'five events');
      assert.deepEqual(
        events.map(([name]) => name),
        ['create', 'update', 'leave', 'enter', 'delete'],
      );
      const [create, update, leave, enter, del] = events;
      assert.equal(create?.[1].objectId, first.id);
      assert.equal(create?.[1].text, 'in');
      assert.equal(update?.[1].text, 'still in');
      assert.equal(update?.[2].text, 'in');
      assert.equal(leave?.[1].n, 1);
      assert.equal(leave?.[2].n, 10);
      assert.equal(enter?.[1].n, 7);
      assert.equal(enter?.[2].n, 1);
      assert.equal(del?.[1].objectId, first.id);
      await subscription.unsubscribe();
    });

    test('Parse.LiveQueryClient with keys and watch: only the selected fields, only when a watched field changes', async () => {
      const client = new Parse.LiveQueryClient({ applicationId: APP_ID, serverURL: wsUrl(server), javascriptKey: JS_KEY });
      client.open();
      const query = new Parse.Query('Note');
      query.select('title');
      query.watch('title');
      const subscription = client.subscribe(query);
      const { events } = record(subscription);
      await subscription.subscribePromise;
      const note = await new Parse.Object('Note').save({ title: 'a', body: 'secret-ish', other: 1 });
      await note.save({ other: 2 });
      await note.save({ title: 'b' });
      await hubOf(server).idle();
      await eventually(() => events.length >= 2, 'two events');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        events.map(([name, object]) => [name, object.title, object.body, object.other]),
        [
          ['create', 'a', undefined, undefined],
          ['update', 'b', undefined, undefined],
        ],
      );
      await client.close();
    });

    test('connect, subscribe, update and unsubscribe answer with the request ids, and no event follows an unsubscribe', async () => {
      const client = await RawClient.connected(server);
      const connected = client.frames[0] as Frame;
      assert.equal(typeof connected.clientId, 'string');
      assert.deepEqual(await client.subscribe(1, { className: 'Message', where: { tag: 'x' } }), { op: 'subscribed', clientId: connected.clientId, requestId: 1 });
      await call(server.url, '/classes/Message', { method: 'POST', body: { tag: 'x' } });
      await call(server.url, '/classes/Message', { method: 'POST', body: { tag: 'y' } });
      await client.settle();
      assert.deepEqual(client.events(1).map((frame) => [frame.op, frame.object.tag, frame.object.className]), [['create', 'x', 'Message']]);
      // `update` replaces the subscription's query under the same request id.
      client.send({ op: 'update', requestId: 1, query: { className: 'Message', where: { tag: 'y' } } });
      assert.equal((await client.next((frame) => frame.op === 'subscribed' && frame.requestId === 1 && frame !== client.frames.find((f) => f.op === 'subscribed'))).requestId, 1);
      client.clear();
      await call(server.url, '/classes/Message', { method: 'POST', body: { tag: 'x' } });
      await call(server.url, '/classes/Message', { method: 'POST', body: { tag: 'y' } });
      await client.settle();
      assert.deepEqual(client.events(1).map((frame) => [frame.op, frame.object.tag]), [['create', 'y']]);
      client.send({ op: 'unsubscribe', requestId: 1 });
      assert.deepEqual(await client.answerTo(1), { op: 'unsubscribed', clientId: connected.clientId, requestId: 1 });
      client.clear();
      await call(server.url, '/classes/Message', { method: 'POST', body: { tag: 'y' } });
      await client.settle();
      assert.deepEqual(client.events(), []);
      client.close();
    });

    test('writes through /batch and cloud-free updates with operations publish their committed result', async () => {
      const client = await RawClient.connected(server);
      await client.subscribe(1, { className: 'Message', where: { kind: 'batch' } });
      const created = ok(
        await call(server.url, '/batch', {
          method: 'POST',
          body: { requests: [{ method: 'POST', path: '/parse/classes/Message', body: { kind: 'batch', count: 1 } }] },
        }),
        'batch',
      );
      const id = created[0].success.objectId as string;
      ok(await call(server.url, `/classes/Message/${id}`, { method: 'PUT', body: { count: { __op: 'Increment', amount: 2 } } }), 'increment');
      await client.settle();
      assert.deepEqual(
        client.events(1).map((frame) => [frame.op, frame.object.count, frame.original?.count]),
        [
          ['create', 1, undefined],
          ['update', 3, 1],
        ],
      );
      client.close();
    });

    test('a class not in liveQuery.classNames cannot be subscribed to', async () => {
      const client = await RawClient.connected(server);
      const answer = await client.subscribe(1, { className: 'Other', where: {} });
      assert.equal(answer.op, 'error');
      assert.equal(answer.code, 119);
      client.close();
    });

    test('a wrong application id or key is refused at connect', async () => {
      for (const extra of [{ applicationId: 'wrong' }, { javascriptKey: 'wrong' }, { applicationId: 42 }]) {
        const client = await RawClient.open(server);
        const answer = await client.connect(extra);
        assert.equal(answer.op, 'error', JSON.stringify(extra));
        assert.equal(answer.code, 119);
        const subscribed = await client.subscribe(1, { className: 'Message', where: {} });
        assert.equal(subscribed.op, 'error', 'no subscription without a connection');
        client.close();
      }
    });
  });
}
