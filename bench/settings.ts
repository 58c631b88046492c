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
  readonly quick: boolean;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function readSettings(argv: readonly string[]): BenchSettings {
  const unknown = argv.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) throw new Error(`unknown argument(s): ${unknown.join(' ')} (only --quick is accepted)`);
  const quick = argv.includes('--quick');
  return {
    connections: positiveInt('BENCH_CONNECTIONS', 32),
    durationSec: positiveInt('BENCH_DURATION', quick ? 3 : 10),
    warmupSec: positiveInt('BENCH_WARMUP', quick ? 1 : 2),
    seedRows: 10_000,
    findLimit: 100,
    users: 50,
    quick,
  };
}
