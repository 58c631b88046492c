/** Load settings shared by every measurement of one run, so the numbers in one report are comparable. */
export interface BenchSettings {
  /** Concurrent HTTP connections, and concurrent query loops (and pool size) for the database limit. */
  readonly connections: number;
  /** Measured seconds per measurement. */
  readonly durationSec: number;
  /** Discarded seconds run before each measurement (JIT, plan caches, pool fill). */
  readonly warmupSec: number;
  /** Rows seeded before get/find are measured. */
  readonly seedRows: number;
  /** Rows a find returns. */
  readonly findLimit: number;
  /** Users signed up before the logins and `/users/me` (each sign-up hashes a password, so not many). */
  readonly users: number;
  /** The privilege ledger's cost: the switched runs' cycles of off, on, on, off and the seconds of each interval. */
  readonly ledgerCycles: number;
  readonly ledgerIntervalSec: number;
  /** The LiveQuery scenario: subscribed WebSocket clients, and the writes a second issued to them. */
  readonly liveQueryClients: number;
  readonly liveQueryWritesPerSec: readonly number[];
  readonly quick: boolean;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** A comma-separated list of positive integers, e.g. `500,250`. */
function positiveInts(name: string, fallback: readonly number[]): readonly number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((value) => !Number.isInteger(value) || value <= 0)) throw new Error(`${name} must be positive integers separated by commas, got ${JSON.stringify(raw)}`);
  return values;
}

const ARGUMENTS = ['--quick', '--cluster'];

export function readSettings(argv: readonly string[]): BenchSettings {
  const unknown = argv.filter((arg) => !ARGUMENTS.includes(arg));
  if (unknown.length > 0) throw new Error(`unknown argument(s): ${unknown.join(' ')} (only ${ARGUMENTS.join(' and ')} are accepted)`);
  const quick = argv.includes('--quick');
  return {
    connections: positiveInt('BENCH_CONNECTIONS', 32),
    durationSec: positiveInt('BENCH_DURATION', quick ? 3 : 10),
    warmupSec: positiveInt('BENCH_WARMUP', quick ? 1 : 2),
    seedRows: 10_000,
    findLimit: 100,
    users: 50,
    ledgerCycles: positiveInt('BENCH_LEDGER_CYCLES', quick ? 5 : 10),
    ledgerIntervalSec: positiveInt('BENCH_LEDGER_INTERVAL', 2),
    liveQueryClients: positiveInt('BENCH_LIVEQUERY_CLIENTS', 1000),
    liveQueryWritesPerSec: positiveInts('BENCH_LIVEQUERY_WRITES', [500, 250]),
    quick,
  };
}

/** `--cluster`: the cluster bench (cluster.ts) instead of the single-node one; PostgreSQL only. */
export function clusterMode(argv: readonly string[]): boolean {
  return argv.includes('--cluster');
}

/** What the cluster bench adds to the load settings. */
export interface ClusterSettings {
  /** Parsec nodes on the one database. */
  readonly nodes: 2;
  /** Revocations timed (logouts and session deletions, half each); role and CLP changes get a quarter as many each. */
  readonly revocations: number;
  /** Milliseconds a revoked token may keep working on the other node before the run fails. */
  readonly refusalLimitMs: number;
  /** The nodes' rate-limit counters go to Redis when set (else to PostgreSQL); never printed unredacted. */
  readonly redisURL: string | undefined;
}

export function readClusterSettings(settings: BenchSettings): ClusterSettings {
  const redisURL = process.env.PARSEC_BENCH_REDIS_URL || process.env.PARSEC_TEST_REDIS_URL || undefined;
  return { nodes: 2, revocations: positiveInt('BENCH_REVOCATIONS', settings.quick ? 50 : 200), refusalLimitMs: 5_000, redisURL };
}
