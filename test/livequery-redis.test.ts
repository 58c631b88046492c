/**
 * LiveQuery across nodes through Redis pub/sub: two `parsec start` processes on one PostgreSQL database with
 * `redisURL` set. A write through node A reaches a subscriber of node B (a change far over NOTIFY's 8000
 * bytes included) without any NOTIFY or `_LiveQueryChange` row; a rolled-back write tells nobody; losing
 * Redis for a while crashes nothing and changes flow again once it is back. Runs only with both
 * PARSEC_TEST_DATABASE_URL and PARSEC_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createClient } from '@redis/client';
import { startNode, type ClusterNode } from './helpers/cluster.ts';
import { call, type RequestOptions } from './helpers/http.ts';
import { freshPostgresDatabase, MASTER_KEY } from './helpers/server.ts';
import { ok, RawClient } from './helpers/livequery.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const enabled = process.env.PARSEC_TEST_DATABASE_URL !== undefined && process.env.PARSEC_TEST_REDIS_URL !== undefined;
// Its own app id per run, hence its own channel: runs sharing one Redis never hear each other.
const APP_ID = `lq-redis-${process.pid}-${Date.now()}`;

describe('LiveQuery across nodes through Redis (postgres + redis)', { skip: !enabled && 'PARSEC_TEST_DATABASE_URL and PARSEC_TEST_REDIS_URL are not both set' }, () => {
  let database: { uri: string; drop: () => Promise<void> };
  let redisProxy: TcpProxy;
  let a: ClusterNode;
  let b: ClusterNode;
  let listener: pg.Client;
  const notifications: string[] = [];
  let redis: ReturnType<typeof createClient>;
  const published: string[] = [];
  let user: { objectId: string; sessionToken: string };

  const rest = (node: ClusterNode, path: string, options: RequestOptions = {}) => call(node.url, path, { ...options, headers: { 'X-Parse-Application-Id': APP_ID, ...options.headers } });
  const subscriberOn = async (node: ClusterNode, where: Record<string, unknown>): Promise<RawClient> => {
    const client = await RawClient.connected(node.url.replace(/^http/, 'ws'), { applicationId: APP_ID, sessionToken: user.sessionToken });
    assert.equal((await client.subscribe(1, { className: 'Doc', where })).op, 'subscribed');
    return client;
  };
  const create = async (node: ClusterNode, body: Record<string, unknown>, label: string): Promise<string> =>
    ok(await rest(node, '/classes/Doc', { method: 'POST', master: true, body: { ACL: { '*': { read: true } }, ...body } }), label).objectId as string;

  before(async () => {
    database = await freshPostgresDatabase();
    const target = new URL(process.env.PARSEC_TEST_REDIS_URL as string);
    redisProxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const env = {
      PARSEC_APP_ID: APP_ID,
      PARSEC_MASTER_KEY: MASTER_KEY,
      PARSEC_DATABASE_URI: database.uri,
      PARSEC_REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      PARSEC_LOG_LEVEL: 'warn',
      PARSEC_RATE_LIMIT: '[]',
      PARSEC_LIVE_QUERY: JSON.stringify({ classNames: ['Doc'] }),
    };
    a = await startNode('A', env);
    // B names its Redis as Parse Server does, in liveQuery itself (its rate-limit counters stay in PostgreSQL).
    const { PARSEC_REDIS_URL: redisURL, ...withoutRedis } = env;
    b = await startNode('B', { ...withoutRedis, PARSEC_LIVE_QUERY: JSON.stringify({ classNames: ['Doc'], redisURL }) });
    // Watching both paths from outside: what Redis carried, and that PostgreSQL carried nothing.
    listener = new pg.Client({ connectionString: database.uri });
    await listener.connect();
    listener.on('notification', (message) => notifications.push(message.payload ?? ''));
    await listener.query('LISTEN parsec_livequery');
    redis = createClient({ url: process.env.PARSEC_TEST_REDIS_URL });
    redis.on('error', () => undefined);
    await redis.connect();
    await redis.subscribe(`parsec:livequery:${APP_ID}`, (message) => published.push(message));
    ok(await rest(a, '/schemas/Doc', { method: 'POST', master: true, body: { className: 'Doc', fields: { kind: { type: 'String' }, title: { type: 'String' } } } }), 'class');
    user = ok(await rest(a, '/users', { method: 'POST', body: { username: 'redisuser', password: 'pw-123456' } }), 'sign up');
  });
  after(async () => {
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await listener?.end().catch(() => undefined);
    await redis?.close().catch(() => undefined);
    await redisProxy?.close();
    await database?.drop();
  });

  test('a write on node A reaches a subscriber on node B through Redis, a change over 8000 bytes included, and never through NOTIFY', async () => {
    const subscriber = await subscriberOn(b, { kind: 'x' });
    const small = await create(a, { kind: 'x', title: 'small' }, 'small');
    const big = await create(a, { kind: 'x', title: 'big', big: 'y'.repeat(20_000) }, 'big');
    assert.equal((await subscriber.next((frame) => frame.op === 'create' && frame.object.objectId === small, 'the small create on node B', 10_000)).object.title, 'small');
    const event = await subscriber.next((frame) => frame.op === 'create' && frame.object.objectId === big, 'the big create on node B', 10_000);
    assert.equal(event.object.big.length, 20_000);
    ok(await rest(a, `/classes/Doc/${small}`, { method: 'PUT', master: true, body: { title: 'edited' } }), 'edit');
    const update = await subscriber.next((frame) => frame.op === 'update' && frame.object.title === 'edited', 'the update on node B', 10_000);
    assert.equal(update.original.title, 'small');
    subscriber.close();

    assert.ok(published.some((message) => message.includes(big) && Buffer.byteLength(message) > 20_000), 'the big change went through Redis whole');
    assert.deepEqual(notifications, [], 'no LiveQuery NOTIFY with Redis configured');
    const { rows } = await listener.query<{ table: string | null }>(`SELECT to_regclass('"_LiveQueryChange"')::text AS "table"`);
    assert.equal(rows[0]?.table ?? null, null, 'no side table for large changes with Redis');
  });

  test('a transactional batch that rolls back tells no node', async () => {
    const onB = await subscriberOn(b, {});
    const onA = await subscriberOn(a, {});
    const failed = await rest(a, '/batch', {
      method: 'POST',
      body: {
        transaction: true,
        requests: [
          { method: 'POST', path: '/parse/classes/Doc', body: { kind: 'rolled back', ACL: { '*': { read: true } } } },
          { method: 'PUT', path: '/parse/classes/Doc/doesNotExist', body: { kind: 'never' } },
        ],
      },
    });
    assert.equal(failed.body?.[1]?.error?.code, 101, JSON.stringify(failed.body));
    // Changes from one node reach Redis in order: once this one has arrived, the rolled-back one would have.
    const marker = await create(a, { kind: 'marker' }, 'marker');
    await onB.next((frame) => frame.op === 'create' && frame.object.objectId === marker, 'the marker on node B', 10_000);
    await onA.next((frame) => frame.op === 'create' && frame.object.objectId === marker, 'the marker on node A', 10_000);
    for (const client of [onA, onB]) assert.ok(!client.frames.some((frame) => frame.object?.kind === 'rolled back'), JSON.stringify(client.frames));
    // Node A hears its own message back from Redis too; it was dispatched at commit, so it must be ignored.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(onA.frames.filter((frame) => frame.op === 'create' && frame.object.objectId === marker).length, 1, 'no duplicate event on the writing node');
    assert.ok(!published.some((message) => message.includes('rolled back')), 'nothing was published for the rollback');
    assert.ok(published.some((message) => message.includes(marker)));
    onA.close();
    onB.close();
  });

  test('Redis lost for a while: writes still succeed, no node crashes, and changes flow again once it is back', async () => {
    const subscriber = await subscriberOn(b, {});
    redisProxy.cut();
    // Lost for the other nodes (pub/sub keeps nothing), but the write itself succeeds.
    const missed = await create(a, { kind: 'while Redis was away' }, 'write while Redis is away');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    redisProxy.restore();
    const deadline = Date.now() + 15_000;
    let delivered = false;
    while (!delivered) {
      assert.ok(Date.now() < deadline, `no change reached node B after Redis came back; A:\n${a.output()}\nB:\n${b.output()}`);
      const id = await create(a, { kind: 'after Redis came back' }, 'write after Redis is back');
      delivered = await subscriber.next((frame) => frame.op === 'create' && frame.object.objectId === id, 'a change after the outage', 1_000).then(
        () => true,
        () => false,
      );
    }
    assert.equal(a.process.exitCode, null, a.output());
    assert.equal(b.process.exitCode, null, b.output());
    assert.ok(!subscriber.frames.some((frame) => frame.object?.objectId === missed), 'the change published while Redis was away is missed, as documented');
    assert.match(b.output(), /Redis subscriber for other nodes' changes was lost/);
    assert.match(a.output(), /publishing a change to other nodes through Redis failed/);
    subscriber.close();
  });
});
