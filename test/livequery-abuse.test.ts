/**
 * LiveQuery under bad input and abuse: limits on connections per IP and per user, subscriptions per
 * connection and message size answer Parse errors; malformed frames of every kind get an error for that
 * client only; the server stays up and every other subscriber keeps receiving its events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { call } from './helpers/http.ts';
import { fuzzParameters, PARSE_CODES } from './helpers/fuzz.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { ok, RawClient, signUp } from './helpers/livequery.ts';

const LIMITS = { classNames: ['Doc'], maxConnectionsPerIp: 6, maxConnectionsPerUser: 2, maxSubscriptionsPerConnection: 3, maxMessageBytes: 1024 };

for (const engine of engines()) {
  describe(`LiveQuery limits and bad input (${engine})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(engine, { rateLimit: [], liveQuery: LIMITS });
    });
    after(() => server.stop());

    /** A subscriber that must keep hearing about writes whatever the others do. */
    async function canary(): Promise<{ client: RawClient; check: (label: string) => Promise<void> }> {
      const client = await RawClient.connected(server);
      assert.equal((await client.subscribe(1, { className: 'Doc', where: { kind: 'canary' } })).op, 'subscribed');
      return {
        client,
        async check(label) {
          const before = client.events(1).length;
          ok(await call(server.url, '/classes/Doc', { method: 'POST', body: { kind: 'canary' } }), 'canary write');
          await client.settle();
          assert.equal(client.events(1).length, before + 1, `${label}: the canary still hears its events`);
        },
      };
    }

    test('subscriptions per connection: past maxSubscriptionsPerConnection the subscription is refused (155), an update of an existing one is not', async () => {
      const client = await RawClient.connected(server);
      for (const id of [1, 2, 3]) assert.equal((await client.subscribe(id, { className: 'Doc', where: { n: id } })).op, 'subscribed');
      const refused = await client.subscribe(4, { className: 'Doc', where: {} });
      assert.deepEqual([refused.op, refused.code], ['error', 155]);
      client.send({ op: 'update', requestId: 2, query: { className: 'Doc', where: { n: 20 } } });
      const answers = () => client.frames.filter((frame) => frame.requestId === 2 && frame.op === 'subscribed').length;
      await client.next((frame) => frame.requestId === 2 && frame.op === 'subscribed' && answers() === 2, 'the update');
      ok(await call(server.url, '/classes/Doc', { method: 'POST', body: { n: 4 } }), 'n 4');
      await client.settle();
      assert.deepEqual(client.events(), [], 'the refused subscription does not exist');
      client.close();
    });

    test('connections per IP: past maxConnectionsPerIp a socket gets 155 and is closed; closing one frees a place', async () => {
      const open = await Promise.all(Array.from({ length: LIMITS.maxConnectionsPerIp }, () => RawClient.open(server)));
      const extra = await RawClient.open(server);
      const refusal = await extra.next((frame) => frame.op === 'error', 'the refusal');
      assert.equal(refusal.code, 155);
      const deadline = Date.now() + 2000;
      while (extra.closed === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(extra.closed !== undefined, 'the refused socket is closed');
      open[0]?.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await RawClient.connected(server);
      again.close();
      for (const client of open) client.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
    });

    test('connections per user: past maxConnectionsPerUser a connect is refused (155)', async () => {
      const user = await signUp(server, 'many-tabs');
      const first = await RawClient.connected(server, { sessionToken: user.token });
      const second = await RawClient.connected(server, { sessionToken: user.token });
      const third = await RawClient.open(server);
      const answer = await third.connect({ sessionToken: user.token });
      assert.deepEqual([answer.op, answer.code], ['error', 155]);
      first.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const fourth = await RawClient.connected(server, { sessionToken: user.token });
      for (const client of [second, third, fourth]) client.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
    });

    test('message size: a frame over maxMessageBytes is a 116 for that client; a frame far over it closes only that socket', async () => {
      const watcher = await canary();
      const client = await RawClient.connected(server);
      client.send({ op: 'subscribe', requestId: 1, query: { className: 'Doc', where: { kind: 'x'.repeat(1500) } } });
      const tooLarge = await client.next((frame) => frame.op === 'error', 'the 116');
      assert.equal(tooLarge.code, 116);
      assert.equal((await client.subscribe(2, { className: 'Doc', where: {} })).op, 'subscribed', 'the connection still works');
      client.send('x'.repeat(LIMITS.maxMessageBytes * 3));
      const deadline = Date.now() + 2000;
      while (client.closed === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(client.closed?.code, 1009);
      await watcher.check('after an oversized frame');
      watcher.client.close();
    });

    test('malformed frames: each gets a Parse error for that client, the connection and every other subscriber carry on', async () => {
      const watcher = await canary();
      const client = await RawClient.open(server);
      const shapes: unknown[] = [
        'not json',
        '[1,2]',
        'null',
        '42',
        '{"op":"subscribe"}',
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', where: {} } },
        { op: 'dance' },
        { op: 'connect', applicationId: { $ne: 1 } },
        '{"op":"connect","__proto__":{"polluted":true}}',
      ];
      for (const shape of shapes) {
        client.send(shape);
        const answer = await client.next((frame) => frame.op === 'error', `an answer to ${JSON.stringify(shape)}`);
        assert.ok(PARSE_CODES.has(answer.code as number) || answer.code === 403, JSON.stringify(answer));
        client.clear();
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((await client.connect()).op, 'connected');
      const badRequests: unknown[] = [
        { op: 'subscribe', requestId: 0, query: { className: 'Doc' } },
        { op: 'subscribe', requestId: 1.5, query: { className: 'Doc' } },
        { op: 'subscribe', requestId: 1, query: 'Doc' },
        { op: 'subscribe', requestId: 1, query: { className: '__proto__' } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', where: [] } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', where: { $where: 'sleep(10)' } } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', where: { 'a;drop table x': 1 } } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', keys: 'title' } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', watch: [1] } },
        { op: 'subscribe', requestId: 1, query: { className: 'Doc', where: {} }, sessionToken: 'r:nope' },
        { op: 'unsubscribe', requestId: 77 },
      ];
      for (const request of badRequests) {
        client.send(request);
        const answer = await client.next((frame) => frame.op === 'error', `an answer to ${JSON.stringify(request)}`);
        assert.ok(PARSE_CODES.has(answer.code as number), JSON.stringify([request, answer]));
        client.clear();
      }
      await watcher.check('after malformed frames');
      const binary = await RawClient.connected(server);
      binary.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      assert.equal((await binary.next((frame) => frame.op === 'error', 'binary')).code, 107);
      for (const each of [client, binary, watcher.client]) each.close();
    });

    test('a flood of messages from one client closes that client only (1008); the others carry on', async () => {
      const watcher = await canary();
      const flooder = await RawClient.connected(server);
      for (let index = 0; index < 2000; index++) flooder.send({ op: 'subscribe', requestId: 1, query: { className: 'Doc', where: { n: { $regex: `^${index}` } } } });
      const deadline = Date.now() + 5000;
      while (flooder.closed === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(flooder.closed?.code, 1008);
      await watcher.check('after a flood');
      watcher.client.close();
    });

    test('fuzz: random frames never crash the server or reach another subscriber', async () => {
      const watcher = await canary();
      const client = await RawClient.connected(server);
      const value = fc.letrec((tie) => ({
        any: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('any'), { maxKeys: 3 })),
      })).any;
      const where = fc.dictionary(fc.constantFrom('title', 'n', 'kind', '$or', '$and', '$nor', 'title.x', '$relatedTo', 'objectId'), fc.oneof(value, fc.record({ $in: value }), fc.record({ $regex: fc.string() }), fc.record({ $exists: value })), { maxKeys: 3 });
      const frame = fc.oneof(
        fc.record({ op: fc.constantFrom('subscribe', 'update'), requestId: fc.oneof(fc.integer({ min: 1, max: 3 }), value), query: fc.oneof(value, fc.record({ className: fc.constantFrom('Doc', '_User', 'X', ''), where, keys: fc.option(value), watch: fc.option(value) })) }),
        fc.record({ op: fc.constantFrom('unsubscribe', 'connect'), requestId: value }),
        fc.string().map((text) => ({ raw: text })),
      );
      await fc.assert(
        fc.asyncProperty(frame, async (sent) => {
          client.send('raw' in sent ? sent.raw : sent);
          await client.settle();
          for (const answer of client.frames) if (answer.op === 'error') assert.ok(PARSE_CODES.has(answer.code as number), JSON.stringify([sent, answer]));
          client.clear();
        }),
        fuzzParameters(150),
      );
      ok(await call(server.url, '/health'), 'alive');
      await watcher.check('after the fuzz');
      client.close();
      watcher.client.close();
    });
  });
}
