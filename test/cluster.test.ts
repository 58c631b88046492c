// Three Parsec processes on one PostgreSQL database (and once more with Redis): what is true on one node
// must hold across them. Revocation, role, permission and schema changes on one node reach the others
// within a second; rate limits count for the cluster; losing the database (or Redis) for a few seconds
// costs Parse errors, not crashes, and the nodes recover by themselves; stopping a node fails nothing elsewhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { startNode, type ClusterNode } from './helpers/cluster.ts';
import { freshPostgresDatabase } from './helpers/server.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

// Its own app id per run: rate-limit counters in a shared Redis are kept per app.
const APP_ID = `cluster-${process.pid}-${Date.now()}`;
const MASTER_KEY = 'Cluster-Master-Key-9f3!x';
const CLOUD = fileURLToPath(new URL('./fixtures/cloud/cluster.js', import.meta.url));
/** The bound the issue sets for a change on one node to reach every other. */
const PROPAGATION_LIMIT_MS = 1_000;

interface Reply {
  status: number;
  body: any;
}

async function send(node: ClusterNode, path: string, options: { method?: string; body?: unknown; token?: string; master?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'X-Parse-Application-Id': APP_ID, 'Content-Type': 'application/json' };
  if (options.token !== undefined) headers['X-Parse-Session-Token'] = options.token;
  if (options.master === true) headers['X-Parse-Master-Key'] = MASTER_KEY;
  const response = await fetch(node.url + path, { method: options.method ?? 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Polls until `refused` holds; resolves with the milliseconds it took, failing past the limit. */
async function timeUntil(label: string, check: () => Promise<boolean>, limitMs = PROPAGATION_LIMIT_MS): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    const elapsed = performance.now() - started;
    assert.ok(elapsed < limitMs, `${label}: still not seen after ${Math.round(elapsed)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

const variants = process.env.PARSEC_TEST_DATABASE_URL === undefined ? [] : process.env.PARSEC_TEST_REDIS_URL === undefined ? ['PostgreSQL only'] : ['PostgreSQL only', 'PostgreSQL and Redis'];

for (const variant of variants) {
  const withRedis = variant.includes('Redis');
  describe(`a cluster of three nodes (${variant})`, () => {
    let database: { uri: string; drop: () => Promise<void> };
    let pgProxy: TcpProxy;
    let redisProxy: TcpProxy | undefined;
    let nodes: ClusterNode[] = [];
    let a: ClusterNode, b: ClusterNode, c: ClusterNode;
    let counter = 0;
    const unique = (base: string): string => `${base}${++counter}${Date.now() % 100000}`;

    async function signUp(node: ClusterNode): Promise<{ id: string; token: string; username: string }> {
      const username = unique('user');
      const reply = await send(node, '/users', { method: 'POST', body: { username, password: 'Secret-pw-1' } });
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      return { id: reply.body.objectId, token: reply.body.sessionToken, username };
    }

    before(async () => {
      database = await freshPostgresDatabase();
      const target = new URL(database.uri);
      pgProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxied = new URL(database.uri);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(pgProxy.port);
      const env: Record<string, string> = {
        PARSEC_APP_ID: APP_ID,
        PARSEC_MASTER_KEY: MASTER_KEY,
        PARSEC_DATABASE_URI: proxied.toString(),
        PARSEC_CLOUD: CLOUD,
        PARSEC_LOG_LEVEL: 'warn',
        PARSEC_STATEMENT_TIMEOUT_MS: '5000',
        PARSEC_ALLOW_CLIENT_CLASS_CREATION: 'false',
        PARSEC_IDEMPOTENCY_OPTIONS: JSON.stringify({ paths: ['functions/.*'], ttl: 300 }),
      };
      if (withRedis) {
        const redis = new URL(process.env.PARSEC_TEST_REDIS_URL as string);
        redisProxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
        env.PARSEC_REDIS_URL = `redis://127.0.0.1:${redisProxy.port}`;
      }
      // The first node creates the schema; the others start on it, as a rolling deploy would.
      a = await startNode('A', env);
      [b, c] = await Promise.all([startNode('B', env), startNode('C', env)]);
      nodes = [a, b, c];
    });

    after(async () => {
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
      await pgProxy?.close();
      await redisProxy?.close();
      await database?.drop();
    });

    test('logout, session deletion, password change and user deletion on one node end the sessions on every node within 1 s', async (t) => {
      const latencies: number[] = [];
      for (let round = 0; round < 8; round++) {
        const user = await signUp(a);
        // Warm every node's cache with the session.
        for (const node of nodes) assert.equal((await send(node, '/users/me', { token: user.token })).status, 200);
        assert.equal((await send(a, '/logout', { method: 'POST', token: user.token })).status, 200);
        for (const node of [b, c]) {
          latencies.push(await timeUntil(`logout on A seen by ${node.name}`, async () => (await send(node, '/users/me', { token: user.token })).body?.code === 209));
        }
      }
      // Another session of the same user, deleted through /sessions on B.
      const user = await signUp(c);
      const login = await send(c, '/login', { method: 'POST', body: { username: user.username, password: 'Secret-pw-1' } });
      for (const node of nodes) assert.equal((await send(node, '/users/me', { token: login.body.sessionToken })).status, 200);
      const sessions = await send(b, '/sessions', { token: user.token });
      const target = sessions.body.results.find((session: any) => session.createdWith?.action === 'login');
      assert.ok(target !== undefined, JSON.stringify(sessions.body));
      assert.equal((await send(b, `/sessions/${target.objectId}`, { method: 'DELETE', token: user.token })).status, 200);
      latencies.push(await timeUntil('session deleted on B, seen by A', async () => (await send(a, '/users/me', { token: login.body.sessionToken })).body?.code === 209));
      // A password change on A ends the user's other sessions everywhere.
      const second = await send(a, '/login', { method: 'POST', body: { username: user.username, password: 'Secret-pw-1' } });
      for (const node of nodes) assert.equal((await send(node, '/users/me', { token: second.body.sessionToken })).status, 200);
      assert.equal((await send(a, `/users/${user.id}`, { method: 'PUT', token: user.token, body: { password: 'Another-pw-2' } })).status, 200);
      latencies.push(await timeUntil('password change on A, seen by C', async () => (await send(c, '/users/me', { token: second.body.sessionToken })).body?.code === 209));
      // Deleting the user on C ends its last session on A and B.
      for (const node of nodes) assert.equal((await send(node, '/users/me', { token: user.token })).status, 200);
      assert.equal((await send(c, `/users/${user.id}`, { method: 'DELETE', master: true })).status, 200);
      latencies.push(await timeUntil('user deleted on C, seen by B', async () => (await send(b, '/users/me', { token: user.token })).body?.code === 209));
      t.diagnostic(`revocation reached another node in p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} changes`);
    });

    test('role membership and class-level permission changes on one node apply on every node within 1 s', async (t) => {
      const user = await signUp(a);
      const className = unique('Doc');
      assert.equal((await send(a, `/schemas/${className}`, { method: 'POST', master: true, body: { fields: { title: { type: 'String' } } } })).status, 200);
      const roleName = unique('editors');
      const role = await send(b, '/roles', { method: 'POST', master: true, body: { name: roleName, ACL: {}, users: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: user.id }] } } });
      assert.equal(role.status, 201, JSON.stringify(role.body));
      const doc = await send(a, `/classes/${className}`, { method: 'POST', master: true, body: { title: 'secret', ACL: { [`role:${roleName}`]: { read: true } } } });
      // Warm every node's role cache: the member reads the document everywhere.
      for (const node of nodes) assert.equal((await send(node, `/classes/${className}/${doc.body.objectId}`, { token: user.token })).status, 200);
      const removed = await send(b, `/roles/${role.body.objectId}`, { method: 'PUT', master: true, body: { users: { __op: 'RemoveRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: user.id }] } } });
      assert.equal(removed.status, 200);
      const roleLatency = await timeUntil('role change on B, seen by C', async () => (await send(c, `/classes/${className}/${doc.body.objectId}`, { token: user.token })).status === 404);
      // A public class, locked down on A: B stops serving finds at once.
      const open = unique('Open');
      assert.equal((await send(a, `/schemas/${open}`, { method: 'POST', master: true, body: { fields: { n: { type: 'Number' } } } })).status, 200);
      for (const node of nodes) assert.equal((await send(node, `/classes/${open}`, { token: user.token })).status, 200);
      const locked = await send(a, `/schemas/${open}`, { method: 'PUT', master: true, body: { classLevelPermissions: { find: {}, get: {}, count: {}, create: {}, update: {}, delete: {}, addField: {} } } });
      assert.equal(locked.status, 200, JSON.stringify(locked.body));
      const clpLatency = await timeUntil('CLP change on A, seen by B', async () => (await send(b, `/classes/${open}`, { token: user.token })).body?.code === 119);
      t.diagnostic(`role change reached another node in ${roleLatency.toFixed(1)} ms, CLP change in ${clpLatency.toFixed(1)} ms`);
    });

    test('a rate limit of 3 is 3 for the cluster, however the calls are spread', async () => {
      const replies: Reply[] = [];
      for (let i = 0; i < 9; i++) replies.push(await send(nodes[i % 3] as ClusterNode, '/functions/limited', { method: 'POST', body: {} }));
      assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200, 429, 429, 429, 429, 429, 429]);
      assert.ok(replies.slice(3).every((reply) => reply.body.code === 100));
      if (withRedis) {
        // Counted in Redis, not in PostgreSQL's fallback table.
        const redis = createClient({ url: process.env.PARSEC_TEST_REDIS_URL });
        await redis.connect();
        try {
          assert.ok((await redis.keys(`parsec:rl:${APP_ID}:*`)).length > 0);
        } finally {
          await redis.close();
        }
      }
    });

    test('the same X-Parse-Request-Id sent to every node at once runs exactly once', async () => {
      for (let round = 0; round < 5; round++) {
        const requestId = unique('req');
        const replies = await Promise.all(
          nodes.map(async (node) => {
            const response = await fetch(`${node.url}/functions/countCall`, {
              method: 'POST',
              headers: { 'X-Parse-Application-Id': APP_ID, 'Content-Type': 'application/json', 'X-Parse-Request-Id': requestId },
              body: JSON.stringify({ requestId }),
            });
            return { status: response.status, body: await response.json() };
          }),
        );
        assert.equal(replies.filter((reply) => reply.status === 200).length, 1, JSON.stringify(replies));
        assert.ok(replies.filter((reply) => reply.status !== 200).every((reply) => reply.status === 400 && reply.body.code === 159), JSON.stringify(replies));
        const runs = await send(a, `/classes/CallLog${'?where=' + encodeURIComponent(JSON.stringify({ requestId }))}&count=1&limit=0`, { master: true });
        assert.equal(runs.body.count, 1, 'the function body ran once');
      }
    });

    test('PostgreSQL gone for 3 s: Parse errors, no crash, no hang, and every node recovers by itself', async () => {
      const user = await signUp(a);
      const outcomes: { status: number; code?: number; ms: number }[] = [];
      let running = true;
      const load = nodes.map(async (node) => {
        while (running) {
          const started = performance.now();
          const reply = await send(node, '/users/me', { token: user.token });
          outcomes.push({ status: reply.status, code: reply.body?.code, ms: performance.now() - started });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      pgProxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Load balancers see it: /ready answers 503 (the database and the invalidation channel are gone).
      const duringOutage = await fetch(`${a.url}/ready`);
      assert.equal(duringOutage.status, 503);
      assert.deepEqual(await duringOutage.json(), { status: 'unavailable', database: 'unreachable', invalidation: 'lagging' });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      pgProxy.restore();
      // Every node serves the user again by itself.
      for (const node of nodes) await timeUntil(`${node.name} recovers`, async () => (await send(node, '/users/me', { token: user.token })).status === 200, 15_000);
      for (const node of nodes) await timeUntil(`${node.name} ready`, async () => (await fetch(`${node.url}/ready`)).status === 200, 15_000);
      running = false;
      await Promise.all(load);
      assert.ok(nodes.every((node) => node.process.exitCode === null), 'no node exited');
      const failed = outcomes.filter((outcome) => outcome.status !== 200);
      assert.ok(failed.length > 0, 'the outage was felt (otherwise this test proves nothing)');
      // A lost database is the server's problem (code 1, HTTP 500, as Parse answers it), never a hang or a bare error.
      assert.ok(failed.every((outcome) => typeof outcome.code === 'number'), JSON.stringify(failed.slice(0, 5)));
      assert.ok(outcomes.every((outcome) => outcome.ms < 15_000), 'every request was answered within the bound');
      // Invalidation works again after the outage: the listeners reconnected.
      const fresh = await signUp(b);
      for (const node of nodes) assert.equal((await send(node, '/users/me', { token: fresh.token })).status, 200);
      assert.equal((await send(b, '/logout', { method: 'POST', token: fresh.token })).status, 200);
      await timeUntil('logout after the outage, seen by C', async () => (await send(c, '/users/me', { token: fresh.token })).body?.code === 209);
    });

    if (withRedis) {
      test('Redis gone: rate limits keep counting (through PostgreSQL) and nothing fails', async () => {
        redisProxy?.cut();
        try {
          const replies: Reply[] = [];
          for (let i = 0; i < 6; i++) replies.push(await send(nodes[i % 3] as ClusterNode, '/functions/limitedWide', { method: 'POST', body: {} }));
          assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 429, 429, 429, 429]);
        } finally {
          redisProxy?.restore();
        }
      });
    }

    test('SIGTERM one node under load: no request fails on the others, and it exits cleanly', async () => {
      const user = await signUp(b);
      const failures: string[] = [];
      let served = 0;
      let running = true;
      const load = [b, c].map(async (node) => {
        while (running) {
          const reply = await send(node, '/users/me', { token: user.token }).catch((error: unknown) => ({ status: 0, body: String(error) }));
          if (reply.status === 200) served++;
          else failures.push(`${node.name}: ${reply.status} ${JSON.stringify(reply.body)}`);
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const code = await a.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      running = false;
      await Promise.all(load);
      assert.equal(code, 0, a.output());
      assert.deepEqual(failures, []);
      assert.ok(served > 10);
    });
  });
}
