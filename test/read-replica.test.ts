/**
 * Read-replica routing (`readReplicaURI`) against a real PostgreSQL streaming replica (scripts/start-replica.sh,
 * started by .ci/run). Replay on the replica is paused to make its lag visible: a caller who did not write
 * reads the replica's older state, the writer reads its own write (from the primary), and sessions, roles and
 * write paths never read the replica at all. Then the replica lags past the bound, and goes away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config/load.ts';
import type { ParsecConfig } from '../src/config/types.ts';
import { createParsec, type Parsec } from '../src/server.ts';
import { isReplicaFailure, type ReadCounts } from '../src/storage/read-replica.ts';
import { formatWalPosition, parseWalPosition } from '../src/storage/wal-position.ts';
import { assertOk, call, query, type RequestOptions } from './helpers/http.ts';
import { freshPostgresDatabase, testConfig } from './helpers/server.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const PRIMARY = process.env.PARSEC_TEST_DATABASE_URL;
const REPLICA = process.env.PARSEC_TEST_REPLICA_URL;
const CLOUD = fileURLToPath(new URL('./fixtures/cloud/read-replica.js', import.meta.url));

test('WAL positions compare as numbers, not as text', () => {
  const nine = parseWalPosition('9/FFFFFFFF');
  const ten = parseWalPosition('A/0');
  assert.ok(nine !== undefined && ten !== undefined && nine < ten, '9/FFFFFFFF is before A/0 although "9" > "A" as text');
  assert.equal(parseWalPosition('16/B374D848'), (0x16n << 32n) | 0xb374d848n);
  assert.equal(formatWalPosition(parseWalPosition('16/B374D848') ?? 0n), '16/B374D848');
  for (const bad of [null, undefined, '', '1/', '/1', 'x/1', '1/2/3', '123456789/0', 12]) assert.equal(parseWalPosition(bad), undefined, String(bad));
});

test('a replica failure is told from a failing statement: network errors, lost connections and recovery conflicts rerun on the primary', () => {
  // Node's socket errors carry a code that is not a SQLSTATE; a cut replica answers with them mid-read.
  for (const code of ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH']) {
    assert.deepEqual(isReplicaFailure(Object.assign(new Error('socket'), { code })), { lost: true }, code);
  }
  assert.deepEqual(isReplicaFailure(new Error('Connection terminated unexpectedly')), { lost: true });
  for (const code of ['08006', '08001', '53300', '57P01', '3D000']) assert.deepEqual(isReplicaFailure({ code }), { lost: true }, code);
  for (const code of ['40001', '40P01', '42P01', '42703']) assert.deepEqual(isReplicaFailure({ code }), { lost: false }, code);
  // The statement's own failures are the client's answer, wherever it ran.
  for (const code of ['23505', '22P02', '2201B', '57014', '54001']) assert.equal(isReplicaFailure({ code }), undefined, code);
});

test('readReplicaURI is refused with the embedded database, with a message that says why', async () => {
  const loaded = await loadConfig({ argv: ['--read-replica', 'postgres://replica.example/app'], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: 'Str0ng-Master-Key-For-Tests-0123456789', PARSEC_DATABASE_URI: 'memory://' }, cwd: process.cwd() });
  assert.equal(loaded.ok, false);
  assert.ok(!loaded.ok && loaded.problems.some((problem) => /readReplicaURI needs databaseURI to be PostgreSQL/.test(problem)), JSON.stringify(loaded));
  const bad = await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: 'Str0ng-Master-Key-For-Tests-0123456789', PARSEC_DATABASE_URI: 'postgres://db.example/app', PARSEC_READ_REPLICA_URI: 'mysql://secret@replica/app' }, cwd: process.cwd() });
  assert.ok(!bad.ok && bad.problems.some((problem) => /readReplicaURI must be a postgres:\/\/ URL/.test(problem) && !problem.includes('secret')), JSON.stringify(bad));
  const good = await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: 'Str0ng-Master-Key-For-Tests-0123456789', PARSEC_DATABASE_URI: 'postgres://db.example/app', PARSEC_READ_REPLICA_URI: 'postgres://replica.example/app', PARSEC_READ_REPLICA_MAX_LAG_MS: '250' }, cwd: process.cwd() });
  assert.ok(good.ok, JSON.stringify(good));
  assert.equal(good.ok && good.config.readReplicaURI, 'postgres://replica.example/app');
  assert.equal(good.ok && good.config.readReplicaMaxLagMs, 250);
  // Configured in code, past the loader: refused at start rather than silently ignored.
  await assert.rejects(createParsec(testConfig({ databaseURI: 'memory://', readReplicaURI: 'postgres://replica.example/app' })), /PGlite/);
});

if (PRIMARY !== undefined && REPLICA === undefined) {
  // The house rule: with PostgreSQL configured, a test that needs a service fails rather than skips.
  test('read replica: PARSEC_TEST_REPLICA_URL is set', () => {
    assert.fail('PARSEC_TEST_DATABASE_URL is set but PARSEC_TEST_REPLICA_URL is not: run scripts/start-replica.sh and set PARSEC_TEST_REPLICA_URL=postgres://postgres@127.0.0.1:5433/');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(label: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${label}`);
    await sleep(25);
  }
}

interface Node {
  readonly parsec: Parsec;
  readonly url: string;
  readonly counts: ReadCounts;
  stop(): Promise<void>;
}

/** The replica's URI for database `name`: the same server path as PARSEC_TEST_REPLICA_URL, another database. */
function replicaUriFor(primaryUri: string, replicaBase: string = REPLICA ?? ''): string {
  const url = new URL(replicaBase);
  url.pathname = new URL(primaryUri).pathname;
  return url.toString();
}

/** A database on the primary, once the replica has it too (CREATE DATABASE reaches it through replication). */
async function replicatedDatabase(): Promise<{ uri: string; drop: () => Promise<void> }> {
  const database = await freshPostgresDatabase();
  await until('the new database on the replica', async () => {
    const client = new pg.Client({ connectionString: replicaUriFor(database.uri) });
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
  return database;
}

async function startNode(databaseUri: string, overrides: Partial<ParsecConfig>): Promise<Node> {
  const parsec = await createParsec(testConfig({ databaseURI: databaseUri, readReplicaURI: replicaUriFor(databaseUri), cloud: CLOUD, ...overrides }));
  await parsec.app.listen({ port: 0, host: '127.0.0.1' });
  const address = parsec.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const reads = parsec.services.reads;
  assert.ok(reads !== undefined, 'read routing is configured');
  return { parsec, url: `http://127.0.0.1:${port}/parse`, counts: reads.replica.counts, stop: () => parsec.close() };
}

/** Replay on the replica, paused and resumed: what the primary commits meanwhile is not visible there. */
class Replay {
  private constructor(private readonly admin: pg.Client, private readonly primary: pg.Client) {}

  static async connect(): Promise<Replay> {
    const admin = new pg.Client({ connectionString: replicaUriFor('postgres://x/postgres') });
    const primary = new pg.Client({ connectionString: PRIMARY });
    await admin.connect();
    await primary.connect();
    const replay = new Replay(admin, primary);
    await replay.resume();
    return replay;
  }

  async pause(): Promise<void> {
    await this.admin.query('SELECT pg_wal_replay_pause()');
    await until('replay paused', async () => (await this.admin.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state')).rows[0]?.state === 'paused');
  }

  async resume(): Promise<void> {
    await this.admin.query('SELECT pg_wal_replay_resume()');
  }

  /** Waits until the replica has replayed everything the primary has now. */
  async caughtUp(): Promise<void> {
    const { rows } = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const target = rows[0]?.lsn ?? '0/0';
    await until('the replica caught up', async () => (await this.admin.query<{ behind: boolean }>('SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()) > 0 AS behind', [target])).rows[0]?.behind === false);
  }

  async close(): Promise<void> {
    await this.resume().catch(() => undefined);
    await this.admin.end().catch(() => undefined);
    await this.primary.end().catch(() => undefined);
  }
}

/** Runs `work` with replay paused, resuming it whatever happens (a paused replica would stall every other test). */
async function whilePaused(replay: Replay, work: () => Promise<void>): Promise<void> {
  await replay.caughtUp();
  await replay.pause();
  try {
    await work();
  } finally {
    await replay.resume();
  }
}

const master: RequestOptions = { master: true };
const device = (installationId: string): RequestOptions => ({ headers: { 'X-Parse-Installation-Id': installationId } });
const asUser = (token: string): RequestOptions => ({ headers: { 'X-Parse-Session-Token': token } });
const PUBLIC = { '*': { read: true, write: true } };

async function titles(node: Node, className: string, who: RequestOptions): Promise<string[]> {
  const body = assertOk(await call(node.url, `/classes/${className}${query({ order: 'title' })}`, who), `find ${className}`);
  return (body.results as { title: string }[]).map((result) => result.title);
}

async function create(node: Node, className: string, body: Record<string, unknown>, who: RequestOptions): Promise<string> {
  return assertOk(await call(node.url, `/classes/${className}`, { ...who, method: 'POST', body }), `create ${className}`, 201).objectId as string;
}

async function signUp(node: Node, username: string): Promise<{ userId: string; token: string }> {
  const body = assertOk(await call(node.url, '/users', { method: 'POST', body: { username, password: 'pw-0123456789' } }), `sign up ${username}`, 201);
  return { userId: body.objectId as string, token: body.sessionToken as string };
}

const snapshot = (counts: ReadCounts): ReadCounts => ({ ...counts });

describe('read replica', { skip: PRIMARY === undefined || REPLICA === undefined ? 'needs PARSEC_TEST_DATABASE_URL and PARSEC_TEST_REPLICA_URL' : false }, () => {
  let replay: Replay;
  let database: { uri: string; drop: () => Promise<void> };
  let node: Node;

  before(async () => {
    replay = await Replay.connect();
    database = await replicatedDatabase();
    // A lag bound far above the pauses below: only the callers' own writes decide where they read.
    node = await startNode(database.uri, { readReplicaMaxLagMs: 60_000 });
    await until('replica in use', () => node.parsec.services.reads?.replica.state === 'ok');
  });

  after(async () => {
    await node?.stop();
    await database?.drop();
    await replay?.close();
  });

  test('a caller who did not write reads the replica; each writer reads its own write: a user, the master key, an anonymous device', async () => {
    const alice = await signUp(node, 'alice');
    const bob = await signUp(node, 'bob');
    await create(node, 'Note', { title: 'a-before', ACL: PUBLIC }, master);
    await whilePaused(replay, async () => {
      const before = snapshot(node.counts);
      // Bob has not written since the pause: his find is served by the replica, which has only a-before.
      assert.deepEqual(await titles(node, 'Note', asUser(bob.token)), ['a-before']);
      assert.equal(node.counts.replica, before.replica + 1, 'served by the replica');

      await create(node, 'Note', { title: 'b-master', ACL: PUBLIC }, master);
      assert.deepEqual(await titles(node, 'Note', master), ['a-before', 'b-master'], 'the master key reads its own write');
      assert.deepEqual(await titles(node, 'Note', asUser(bob.token)), ['a-before'], 'another caller reads the replica (its older state)');

      await create(node, 'Note', { title: 'c-alice', ACL: PUBLIC }, asUser(alice.token));
      assert.deepEqual(await titles(node, 'Note', asUser(alice.token)), ['a-before', 'b-master', 'c-alice'], 'a user reads her own write');
      const noteCount = assertOk(await call(node.url, `/classes/Note${query({ count: 1, limit: 0 })}`, asUser(alice.token)), 'count');
      assert.equal(noteCount.count, 3, 'and counts it');

      await create(node, 'Note', { title: 'd-device', ACL: PUBLIC }, device('device-d'));
      assert.deepEqual(await titles(node, 'Note', device('device-d')), ['a-before', 'b-master', 'c-alice', 'd-device'], 'an anonymous device reads its own write');
      assert.deepEqual(await titles(node, 'Note', device('device-e')), ['a-before'], 'another device reads the replica');
      assert.deepEqual(await titles(node, 'Note', asUser(bob.token)), ['a-before']);

      // Anonymous without an installation id: known by its IP.
      await create(node, 'Note', { title: 'e-ip', ACL: PUBLIC }, {});
      assert.ok((await titles(node, 'Note', {})).includes('e-ip'), 'an anonymous caller without installation id reads its own write (by IP)');

      // A get is a read like a find: the replica does not have b-master yet, the writer does.
      const ids = assertOk(await call(node.url, `/classes/Note${query({ where: { title: 'b-master' } })}`, master), 'find b').results as { objectId: string }[];
      const id = ids[0]?.objectId ?? '';
      assert.equal((await call(node.url, `/classes/Note/${id}`, asUser(bob.token))).status, 404, 'not on the replica yet');
      assertOk(await call(node.url, `/classes/Note/${id}`, master), 'the writer gets it');
    });
    // Once replayed, everybody reads everything from the replica again.
    await until('bob sees every note', async () => (await titles(node, 'Note', asUser(bob.token))).length === 5);
    await until('the writer is back on the replica once it has her write', async () => {
      const before = snapshot(node.counts);
      assert.equal((await titles(node, 'Note', asUser(alice.token))).length, 5);
      return node.counts.replica === before.replica + 1;
    });
  });

  test('includes, aggregates and cloud code queries follow the same rule', async () => {
    await create(node, 'Author', { title: 'author-1', ACL: PUBLIC }, master);
    // Classes exist before the pause: a table the replica has not replayed yet sends a read to the primary.
    await create(node, 'CloudNote', { tag: 'setup', ACL: {} }, master);
    await whilePaused(replay, async () => {
      const authorId = await create(node, 'Author', { title: 'author-2', ACL: PUBLIC }, master);
      await create(node, 'Book', { title: 'book', author: { __type: 'Pointer', className: 'Author', objectId: authorId }, ACL: PUBLIC }, master);
      const books = assertOk(await call(node.url, `/classes/Book${query({ include: 'author' })}`, master), 'books').results;
      assert.equal(books[0]?.author?.title, 'author-2', 'the writer includes its own new object');
      const distinct = assertOk(await call(node.url, `/aggregate/Author${query({ distinct: 'title' })}`, master), 'distinct').results;
      assert.deepEqual([...distinct].sort(), ['author-1', 'author-2'], 'the master key aggregates over its own write');

      // Cloud code: a function saves with the master key, then queries as its caller, who must see the save.
      const result = assertOk(await call(node.url, '/functions/saveThenFind', { ...device('device-cloud'), method: 'POST', body: { tag: 'x' } }), 'saveThenFind');
      assert.equal(result.result, 1, 'the cloud query reads what the function just saved');
      assert.equal((await titles(node, 'CloudNote', device('device-cloud'))).length, 1, 'and so does the caller afterwards');
      assert.equal((await titles(node, 'CloudNote', device('device-other'))).length, 0, 'another caller reads the replica');
    });
  });

  test('sessions, roles, /users/me, login and write paths never read the replica, even while it lags', async () => {
    const carol = await signUp(node, 'carol');
    const dave = await signUp(node, 'dave');
    const roleId = await create(node, '_Role', { name: 'editors', users: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: carol.userId }] }, ACL: { '*': { read: true } } }, master);
    await create(node, 'Secret', { title: 'for-editors', ACL: { 'role:editors': { read: true } } }, master);
    const guardedId = await create(node, 'Guarded', { title: 'original', ACL: PUBLIC }, master);
    // A class created inside a transactional batch is not visible to the batch's later reads (a known limit).
    await create(node, 'Batched', { title: 'setup', ACL: PUBLIC }, master);
    await create(node, 'Unique', { name: 'setup', ACL: PUBLIC }, master);
    const sessions = assertOk(await call(node.url, `/classes/_Session${query({ where: { user: { __type: 'Pointer', className: '_User', objectId: dave.userId } } })}`, master), 'sessions').results as { objectId: string }[];
    assert.equal((await titles(node, 'Secret', asUser(carol.token))).length, 1, 'carol is an editor');
    assertOk(await call(node.url, '/users/me', asUser(dave.token)), 'dave is logged in');

    await whilePaused(replay, async () => {
      // Revoked on the primary (by the master key: dave did not write): refused at once.
      assertOk(await call(node.url, `/classes/_Session/${sessions[0]?.objectId ?? ''}`, { ...master, method: 'DELETE' }), 'revoke');
      const refused = await call(node.url, '/users/me', asUser(dave.token));
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 209, 'the revoked session is refused although the replica still has it');

      // Carol leaves the role on the primary: her permissions change at once, although her find reads the replica.
      assertOk(await call(node.url, `/roles/${roleId}`, { ...master, method: 'PUT', body: { users: { __op: 'RemoveRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: carol.userId }] } } }), 'remove from role');
      const before = snapshot(node.counts);
      assert.deepEqual(await titles(node, 'Secret', asUser(carol.token)), [], 'no longer an editor');
      assert.equal(node.counts.replica, before.replica + 1, 'that find was served by the replica, with the roles read from the primary');

      // The master key changes carol's record: /users/me reads the primary, her finds read the replica.
      assertOk(await call(node.url, `/users/${carol.userId}`, { ...master, method: 'PUT', body: { nickname: 'cc' } }), 'set nickname');
      assert.equal(assertOk(await call(node.url, '/users/me', asUser(carol.token)), 'me').nickname, 'cc');

      // Someone signs up while replay is paused and logs in from another device: login reads the primary.
      await signUp(node, 'erin');
      assertOk(await call(node.url, '/login', { ...device('erin-phone'), method: 'POST', body: { username: 'erin', password: 'pw-0123456789' } }), 'login');

      // An update by a caller who did not write: its beforeSave sees the stored object, read from the primary.
      assertOk(await call(node.url, `/classes/Guarded/${guardedId}`, { ...master, method: 'PUT', body: { title: 'changed' } }), 'master changes it');
      const updated = await call(node.url, `/classes/Guarded/${guardedId}`, { ...device('device-writer'), method: 'PUT', body: { title: 'again' } });
      assertOk(updated, 'update by another caller');
      const stored = assertOk(await call(node.url, `/classes/Guarded/${guardedId}`, master), 'read back');
      assert.equal(stored.originalTitle, 'changed', 'beforeSave was shown the primary\'s row, not the replica\'s');

      // A write trigger's own query (a uniqueness check) reads the primary, though its caller did not write.
      await create(node, 'Unique', { name: 'taken', ACL: PUBLIC }, master);
      const duplicate = await call(node.url, '/classes/Unique', { ...device('device-unique'), method: 'POST', body: { name: 'taken', ACL: PUBLIC } });
      assert.equal(duplicate.status, 400, JSON.stringify(duplicate.body));
      assert.equal(duplicate.body.code, 137, 'the beforeSave query saw the name taken on the primary');

      // A transactional batch reads inside its transaction.
      const batch = assertOk(await call(node.url, '/batch', { ...device('device-batch'), method: 'POST', body: { transaction: true, requests: [
        { method: 'POST', path: '/parse/classes/Batched', body: { title: 'in-batch', ACL: PUBLIC } },
        { method: 'GET', path: '/parse/classes/Batched', body: {} },
      ] } }), 'batch');
      assert.deepEqual(batch[1]?.success?.results?.map((result: { title: string }) => result.title).sort(), ['in-batch', 'setup'], 'the batch reads its own write in its transaction');
    });
  });

  test('a writer is back on the replica as soon as it has replayed the write (measured)', async () => {
    const kim = await signUp(node, 'kim');
    await create(node, 'Measured', { title: 'setup', ACL: PUBLIC }, master);
    await replay.caughtUp();
    const rounds = 30;
    let immediateOnPrimary = 0;
    let laterOnPrimary = 0;
    const replayWaits: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await create(node, 'Measured', { title: `m-${i}`, ACL: PUBLIC }, asUser(kim.token));
      let before = snapshot(node.counts);
      assert.ok((await titles(node, 'Measured', asUser(kim.token))).includes(`m-${i}`), 'the writer reads its write');
      if (node.counts.primary > before.primary) immediateOnPrimary++;
      const started = Date.now();
      await replay.caughtUp();
      replayWaits.push(Date.now() - started);
      // Once the replica has the write, the node sees it at its next poll (every 50 ms).
      await sleep(150);
      before = snapshot(node.counts);
      assert.ok((await titles(node, 'Measured', asUser(kim.token))).includes(`m-${i}`));
      if (node.counts.primary > before.primary) laterOnPrimary++;
    }
    replayWaits.sort((x, y) => x - y);
    console.log(`# read replica: a writer's read right after its write went to the primary ${immediateOnPrimary}/${rounds} times; the replica had the write ${replayWaits[Math.floor(rounds / 2)]} ms later (median; max ${replayWaits[rounds - 1]} ms); 150 ms after that the writer read the primary ${laterOnPrimary}/${rounds} times`);
    assert.ok(laterOnPrimary <= 3, `once the replica has the write the writer reads the replica again (${laterOnPrimary}/${rounds} did not)`);
  });

  test('ACLs and class-level permissions hold on replica reads: the same statement', async () => {
    const frank = await signUp(node, 'frank');
    const grace = await signUp(node, 'grace');
    await create(node, 'Private', { title: 'franks', ACL: { [frank.userId]: { read: true, write: true } } }, master);
    await create(node, 'Private', { title: 'public', ACL: { '*': { read: true } } }, master);
    const franks = assertOk(await call(node.url, `/classes/Private${query({ where: { title: 'franks' } })}`, master), 'id').results[0].objectId as string;
    assertOk(await call(node.url, '/schemas/MasterOnly', { ...master, method: 'POST', body: { classLevelPermissions: { find: {}, get: {}, count: {}, create: {}, update: {}, delete: {}, addField: {} } } }), 'CLP');
    await replay.caughtUp();
    await until('replica in use', () => node.parsec.services.reads?.replica.state === 'ok');
    const before = snapshot(node.counts);
    assert.deepEqual(await titles(node, 'Private', asUser(grace.token)), ['public']);
    assert.deepEqual(await titles(node, 'Private', device('device-acl')), ['public']);
    assert.deepEqual(await titles(node, 'Private', asUser(frank.token)), ['franks', 'public']);
    assert.equal((await call(node.url, `/classes/Private/${franks}`, asUser(grace.token))).status, 404, 'a get of a row grace may not read');
    const count = assertOk(await call(node.url, `/classes/Private${query({ count: 1, limit: 0 })}`, asUser(grace.token)), 'count');
    assert.equal(count.count, 1, 'counts carry the ACL too');
    assert.equal(node.counts.replica, before.replica + 5, 'all of these were served by the replica');
    const refused = await call(node.url, '/classes/MasterOnly', asUser(grace.token));
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 119, 'the class-level permission refuses before any read');
    assert.equal((await call(node.url, `/aggregate/Private${query({ distinct: 'title' })}`, asUser(grace.token))).status, 403, 'aggregate stays master-only');
  });
});

describe('read replica: lag bound and outages', { skip: PRIMARY === undefined || REPLICA === undefined ? 'needs PARSEC_TEST_DATABASE_URL and PARSEC_TEST_REPLICA_URL' : false }, () => {
  let replay: Replay;
  let database: { uri: string; drop: () => Promise<void> };

  before(async () => {
    replay = await Replay.connect();
    database = await replicatedDatabase();
  });

  after(async () => {
    await database?.drop();
    await replay?.close();
  });

  test('past readReplicaMaxLagMs everybody reads the primary, and the replica again once it catches up', async () => {
    const node = await startNode(database.uri, { readReplicaMaxLagMs: 300 });
    try {
      await until('replica in use', () => node.parsec.services.reads?.replica.state === 'ok');
      await create(node, 'Lag', { title: 'one', ACL: PUBLIC }, master);
      await whilePaused(replay, async () => {
        await create(node, 'Lag', { title: 'two', ACL: PUBLIC }, master);
        // Within the bound another caller may still read the replica's state; past it, nobody does.
        await until('the replica counts as lagging', () => node.parsec.services.reads?.replica.state === 'lagging', 5_000);
        const before = snapshot(node.counts);
        assert.deepEqual(await titles(node, 'Lag', device('device-lag')), ['one', 'two'], 'a caller who did not write reads the primary');
        assert.equal(node.counts.replica, before.replica, 'nothing read from the replica');
        const ready = await call(node.url, '/ready', { bare: true });
        assert.equal(ready.status, 200, 'a lagging replica does not make the node unready');
        assert.equal(ready.body.replica, 'lagging');
      });
      await until('the replica is in use again', () => node.parsec.services.reads?.replica.state === 'ok', 5_000);
      const before = snapshot(node.counts);
      assert.deepEqual(await titles(node, 'Lag', device('device-lag')), ['one', 'two']);
      assert.equal(node.counts.replica, before.replica + 1, 'routing returned to the replica');
    } finally {
      await node.stop();
    }
  });

  test('a replica that goes away: every read still answers, from the primary, and routing comes back with it', async () => {
    const replicaUrl = new URL(REPLICA ?? '');
    const proxy: TcpProxy = await startTcpProxy(replicaUrl.hostname, Number(replicaUrl.port || 5432));
    const proxied = new URL(replicaUriFor(database.uri));
    proxied.port = String(proxy.port);
    const node = await startNode(database.uri, { readReplicaURI: proxied.toString() });
    try {
      await until('replica in use', () => node.parsec.services.reads?.replica.state === 'ok');
      await create(node, 'Outage', { title: 'kept', ACL: PUBLIC }, master);
      await replay.caughtUp();
      // Reads in flight while the replica is cut: each one answers, from one side or the other.
      let stop = false;
      const failures: string[] = [];
      let answered = 0;
      const load = (async () => {
        while (!stop) {
          const result = await call(node.url, '/classes/Outage', device('device-load'));
          if (result.status !== 200 || result.body.results?.length !== 1) failures.push(`${result.status} ${JSON.stringify(result.body)}`);
          answered++;
        }
      })();
      await sleep(200);
      proxy.cut();
      await until('the replica counts as unreachable', () => node.parsec.services.reads?.replica.state === 'unreachable', 5_000);
      const during = await call(node.url, '/ready', { bare: true });
      assert.equal(during.status, 200, 'the node stays ready: the primary serves every read');
      assert.equal(during.body.replica, 'unreachable');
      const before = snapshot(node.counts);
      await sleep(500);
      assert.equal(node.counts.replica, before.replica, 'no read reached the replica while it was away');
      assert.ok(node.counts.primary > before.primary, 'they went to the primary');
      proxy.restore();
      await until('the replica is in use again', () => node.parsec.services.reads?.replica.state === 'ok', 10_000);
      const back = snapshot(node.counts);
      await sleep(200);
      stop = true;
      await load;
      assert.deepEqual(failures, [], 'no read failed');
      assert.ok(answered > 10, `reads kept flowing (${answered})`);
      assert.ok(node.counts.replica > back.replica, 'routing came back to the replica');
    } finally {
      await node.stop();
      await proxy.close();
    }
  });

  test('a replica that stops answering without closing anything: reads waiting on it are answered by the primary', async () => {
    const replicaUrl = new URL(REPLICA ?? '');
    const proxy = await startTcpProxy(replicaUrl.hostname, Number(replicaUrl.port || 5432));
    const proxied = new URL(replicaUriFor(database.uri));
    proxied.port = String(proxy.port);
    const node = await startNode(database.uri, { readReplicaURI: proxied.toString() });
    try {
      await until('replica in use', () => node.parsec.services.reads?.replica.state === 'ok');
      await create(node, 'Frozen', { title: 'f', ACL: PUBLIC }, master);
      await replay.caughtUp();
      await until('the replica serves Frozen', async () => {
        const before = snapshot(node.counts);
        await titles(node, 'Frozen', device('device-frozen'));
        return node.counts.replica > before.replica;
      });
      proxy.freeze();
      const started = Date.now();
      // Sent while the node still trusts the replica: they go there, and wait.
      const reads = await Promise.all(Array.from({ length: 4 }, () => call(node.url, '/classes/Frozen', device('device-frozen'))));
      const waited = Date.now() - started;
      for (const read of reads) assert.deepEqual(read.body.results?.map((r: { title: string }) => r.title), ['f'], `${read.status} ${JSON.stringify(read.body)}`);
      assert.ok(waited < 5_000, `answered in ${waited} ms, not after the client-side timeout`);
      assert.equal(node.parsec.services.reads?.replica.state, 'unreachable');
      assert.ok(node.counts.rerunOnPrimary >= 1, 'the waiting reads were run again on the primary');
      proxy.thaw();
      await until('the replica is in use again', () => node.parsec.services.reads?.replica.state === 'ok', 10_000);
      await until('replica reads resume', async () => {
        const before = snapshot(node.counts);
        await titles(node, 'Frozen', device('device-frozen'));
        return node.counts.replica > before.replica;
      });
    } finally {
      proxy.thaw();
      await node.stop();
      await proxy.close();
    }
  });

  test('a node started while its replica is down serves every read from the primary', async () => {
    const replicaUrl = new URL(REPLICA ?? '');
    const proxy = await startTcpProxy(replicaUrl.hostname, Number(replicaUrl.port || 5432));
    proxy.cut();
    const proxied = new URL(replicaUriFor(database.uri));
    proxied.port = String(proxy.port);
    const node = await startNode(database.uri, { readReplicaURI: proxied.toString() });
    try {
      await create(node, 'ColdStart', { title: 'x', ACL: PUBLIC }, master);
      assert.deepEqual(await titles(node, 'ColdStart', device('device-cold')), ['x']);
      await until('the replica counts as unreachable', () => node.parsec.services.reads?.replica.state === 'unreachable', 5_000);
      proxy.restore();
      await until('the replica is in use', () => node.parsec.services.reads?.replica.state === 'ok', 10_000);
    } finally {
      await node.stop();
      await proxy.close();
    }
  });

  test('two nodes: a caller who writes on A reads the write on B; a revocation on A is refused on B at once', async () => {
    const a = await startNode(database.uri, { readReplicaMaxLagMs: 60_000 });
    const b = await startNode(database.uri, { readReplicaMaxLagMs: 60_000 });
    try {
      await until('replica in use', () => a.parsec.services.reads?.replica.state === 'ok' && b.parsec.services.reads?.replica.state === 'ok');
      const henry = await signUp(a, 'henry');
      const ivy = await signUp(a, 'ivy');
      assertOk(await call(b.url, '/users/me', asUser(ivy.token)), 'ivy on B');
      const ivySessions = assertOk(await call(a.url, `/classes/_Session${query({ where: { user: { __type: 'Pointer', className: '_User', objectId: ivy.userId } } })}`, master), 'sessions').results as { objectId: string }[];
      await create(a, 'Shared', { title: 'setup', ACL: {} }, master);
      let staleImmediately = 0;
      const trials = 10;
      await whilePaused(replay, async () => {
        for (let i = 0; i < trials; i++) {
          await create(a, 'Shared', { title: `h-${i}`, ACL: PUBLIC }, asUser(henry.token));
          // The position travels as a NOTIFY; a request that overtakes it may still read the replica (measured).
          if (!(await titles(b, 'Shared', asUser(henry.token))).includes(`h-${i}`)) staleImmediately++;
          await sleep(100);
          assert.ok((await titles(b, 'Shared', asUser(henry.token))).includes(`h-${i}`), `henry reads h-${i} on B once the message has arrived`);
        }
        assert.equal((await titles(b, 'Shared', device('device-b'))).length, 0, 'a caller who did not write reads the replica on B');
        assertOk(await call(a.url, `/classes/_Session/${ivySessions[0]?.objectId ?? ''}`, { ...master, method: 'DELETE' }), 'revoke ivy on A');
        await until('ivy refused on B', async () => (await call(b.url, '/users/me', asUser(ivy.token))).status === 400, 1_000);
      });
      console.log(`# read replica across nodes: ${staleImmediately}/${trials} reads sent to B right after the write on A's response still read the replica's older state`);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
