/**
 * The cluster bench (`npm run bench -- --cluster`, issue #8): two Parsec nodes, each in its own child
 * process, on one PostgreSQL database — as two servers behind a load balancer. The same HTTP scenarios as
 * the single-node bench, first on one node with all the connections, then spread over both (half the
 * connections each), back to back; then the invalidation latency between the two (invalidation-latency.ts).
 * See bench/README.md.
 */
import pg from 'pg';
import { createClient } from '@redis/client';
import type { RateLimitRule } from '../src/config/types.ts';
import { ServerChild } from './child.ts';
import { COUNTED_PING_PATH, measureHttpSpread, type HttpMeasurement, type ScenarioInput, type SpreadMeasurement, type SpreadScenario, type WindowMeter } from './http-load.ts';
import { runInvalidation, type InvalidationRun, type Node } from './invalidation-latency.ts';
import { progress } from './progress.ts';
import { seed, seedUsers } from './seed.ts';
import type { BenchSettings, ClusterSettings } from './settings.ts';
import { APP_ID } from '../test/helpers/server.ts';

/**
 * Each node's database pool. Two nodes hold as many connections as the single-node bench's one (32), and
 * stay well inside a shared server's `max_connections` (100 by default), which other work uses too.
 */
export const NODE_POOL_SIZE = 16;

/** Creates go after the reads (they grow the table the reads are measured against), as in the single-node bench. */
export const CLUSTER_SCENARIOS = ['get', 'find', 'create', 'me', 'ping', 'guarded', 'countedPing'] as const satisfies readonly SpreadScenario[];
export type ClusterScenario = (typeof CLUSTER_SCENARIOS)[number];

/**
 * `countedPing`'s rule: a ceiling never reached, so every call is counted (in PostgreSQL's
 * `_RateLimitCounter`, or in Redis) and none refused. A short window, so its Redis keys expire soon after.
 */
const COUNTED_RULE: RateLimitRule = { requestPath: COUNTED_PING_PATH.replace(/^\/parse/, ''), requestTimeWindow: 10_000, requestCount: 1_000_000_000 };

/**
 * One scenario on one node (all the connections) and on both (half each), twice each in the order one,
 * two, two, one: a drift of the shared machine's load over the four windows weighs on both alike.
 */
export interface ScaleOut {
  readonly oneNode: readonly [HttpMeasurement, HttpMeasurement];
  readonly twoNodes: readonly [SpreadMeasurement, SpreadMeasurement];
  /** The CPU each of those windows took (same order). */
  readonly cpu: { readonly oneNode: readonly [WindowCpu, WindowCpu]; readonly twoNodes: readonly [WindowCpu, WindowCpu] };
}

/**
 * CPU time over one measured window, in seconds: each node's (both, also the idle one in a one-node window)
 * and the load generator's (this process: autocannon). On a shared machine the scheduler decides how much
 * CPU a window gets, so requests/s moves with other people's work; requests per CPU-second of the nodes
 * does much less, and tells whether a node in a cluster spends more per request than a node alone.
 */
export interface WindowCpu {
  readonly nodesSec: readonly number[];
  readonly loadGeneratorSec: number;
  readonly elapsedSec: number;
}

function ownCpuMicros(): number {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
}

function cpuMeter(children: readonly ServerChild[]): WindowMeter & { read(): WindowCpu } {
  const sample = async (): Promise<{ nodes: number[]; self: number; at: number }> => {
    const nodes = (await Promise.all(children.map((child) => child.stats()))).map((stats) => stats.cpuMicros);
    return { nodes, self: ownCpuMicros(), at: performance.now() };
  };
  let first: Awaited<ReturnType<typeof sample>> | undefined;
  let window: WindowCpu | undefined;
  return {
    async begin() {
      first = await sample();
    },
    async end() {
      const last = await sample();
      if (first === undefined) throw new Error('cpuMeter: end before begin');
      const start = first;
      window = {
        nodesSec: last.nodes.map((micros, i) => (micros - (start.nodes[i] ?? micros)) / 1e6),
        loadGeneratorSec: (last.self - start.self) / 1e6,
        elapsedSec: (last.at - start.at) / 1000,
      };
    },
    read() {
      if (window === undefined) throw new Error('cpuMeter: no window measured');
      return window;
    },
  };
}

/** Where `countedPing`'s calls were counted, seen from outside right after it was measured. */
export interface RateLimitCounters {
  readonly store: 'postgres' | 'redis';
  /** Rows of `_RateLimitCounter` (PostgreSQL: the bench database is its own), or keys of this app for the bench's client addresses (Redis). */
  readonly counters: number;
}

export interface ClusterRun {
  readonly throughput: Record<ClusterScenario, ScaleOut>;
  readonly invalidation: InvalidationRun;
  readonly rateLimits: RateLimitCounters;
  /** Each node's peak resident memory over its life (the first node also served the seeding). */
  readonly peakRssBytes: readonly (number | undefined)[];
}

/** Planner statistics as autovacuum would have them in a database up for a while (see serve-parsec.ts). */
async function analyze(databaseURI: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseURI });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function countCounters(databaseURI: string, redisURL: string | undefined): Promise<RateLimitCounters> {
  if (redisURL !== undefined) {
    const redis = createClient({ url: redisURL });
    redis.on('error', () => undefined);
    await redis.connect();
    try {
      // This app's keys for the bench's client addresses only: a test suite may share the Redis (and the app id).
      return { store: 'redis', counters: (await redis.keys(`parsec:rl:${APP_ID}:*10.0.*`)).length };
    } finally {
      await redis.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseURI });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM "_RateLimitCounter"');
    return { store: 'postgres', counters: rows[0]?.n ?? 0 };
  } finally {
    await client.end();
  }
}

export async function benchCluster(databaseURI: string, settings: BenchSettings, cluster: ClusterSettings): Promise<ClusterRun> {
  const args = {
    databaseURI,
    poolSize: NODE_POOL_SIZE,
    maxLimit: Math.max(1000, settings.findLimit),
    cluster: { redisURL: cluster.redisURL, rateLimit: [COUNTED_RULE], trustProxy: true },
  };
  const children: ServerChild[] = [];
  const peakRssBytes: (number | undefined)[] = [];
  try {
    // The first node creates the schema; the second starts on it, as in a rolling deploy.
    progress('cluster: starting node A');
    const a = await ServerChild.start('parsec-A', './serve-parsec.ts', args);
    children.push(a);
    const nodeA: Node = { name: 'A', origin: `http://127.0.0.1:${a.port}` };
    progress(`cluster: seeding ${settings.seedRows} rows through /batch on node A`);
    const ids = await seed(nodeA.origin, settings.seedRows);
    progress(`cluster: signing up ${settings.users} users (scrypt) on node A`);
    const users = await seedUsers(nodeA.origin, settings.users);
    progress('cluster: starting node B');
    const b = await ServerChild.start('parsec-B', './serve-parsec.ts', args);
    children.push(b);
    const nodeB: Node = { name: 'B', origin: `http://127.0.0.1:${b.port}` };
    await analyze(databaseURI);

    const inputs: ScenarioInput[] = [nodeA, nodeB].map(({ origin }) => ({ origin, ids, findLimit: settings.findLimit, users }));
    const throughput = {} as Record<ClusterScenario, ScaleOut>;
    let rateLimits: RateLimitCounters | undefined;
    const measure = async (scenario: ClusterScenario, nodes: 1 | 2): Promise<{ measured: SpreadMeasurement; cpu: WindowCpu }> => {
      progress(`cluster: ${scenario} on ${nodes === 1 ? 'node A alone' : 'nodes A and B'}`);
      const meter = cpuMeter(children);
      const measured = await measureHttpSpread(scenario, inputs.slice(0, nodes), settings, meter);
      return { measured, cpu: meter.read() };
    };
    for (const scenario of CLUSTER_SCENARIOS) {
      const one1 = await measure(scenario, 1);
      const two1 = await measure(scenario, 2);
      const two2 = await measure(scenario, 2);
      const one2 = await measure(scenario, 1);
      throughput[scenario] = {
        oneNode: [one1.measured.total, one2.measured.total],
        twoNodes: [two1.measured, two2.measured],
        cpu: { oneNode: [one1.cpu, one2.cpu], twoNodes: [two1.cpu, two2.cpu] },
      };
      // The creates grew BenchItem.
      if (scenario === 'create') await analyze(databaseURI);
      if (scenario === 'countedPing') rateLimits = await countCounters(databaseURI, cluster.redisURL);
    }
    if (rateLimits === undefined) throw new Error('cluster: countedPing was not measured');

    const revocations = `${cluster.revocations} session revocations, ${Math.ceil(cluster.revocations / 4)} role and ${Math.ceil(cluster.revocations / 4)} CLP changes`;
    progress(`cluster: invalidation latency (${revocations}, each way)`);
    const invalidation = await runInvalidation({ nodes: [nodeA, nodeB], users, revocations: cluster.revocations, limitMs: cluster.refusalLimitMs });
    for (const problem of invalidation.check.problems ?? []) progress(`FAILURE cluster: ${problem}`);
    return { throughput, invalidation, rateLimits, peakRssBytes };
  } finally {
    // Filled here, whatever happened: the run's result holds the same array.
    for (const child of children) peakRssBytes.push((await child.stop())?.maxRssBytes);
  }
}
