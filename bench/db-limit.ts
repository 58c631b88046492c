import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { LatencyRecorder, round } from './latency.ts';
import type { BenchSettings } from './settings.ts';
import { randomOf, sql, sqlParams } from './workload.ts';

export type DbScenario = 'get' | 'find' | 'insert';

export interface DbMeasurement {
  readonly queriesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly queries: number;
  /** Failed queries, warm-up included: any is a bench bug. */
  readonly errors: number;
}

/** Runs one statement with its parameters; `name` lets pg prepare it once per connection, as Parsec does. */
export interface Executor {
  query(name: string, text: string, params: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A pool of the size Parsec's own, using named prepared statements like Parsec's pg driver. */
export function postgresExecutor(connectionString: string, poolSize: number): Executor {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  pool.on('error', (error) => process.stderr.write(`[bench] idle pg connection failed: ${error.message}\n`));
  // pool.end() resolves before the sockets are closed; waiting for each client's 'end' keeps the
  // following DROP DATABASE … WITH (FORCE) from killing connections that are still closing.
  const ended: Promise<void>[] = [];
  pool.on('connect', (client) => ended.push(new Promise((resolve) => client.once('end', () => resolve()))));
  return {
    query: (name, text, values) => pool.query({ name, text, values }),
    async close() {
      await pool.end();
      await Promise.all(ended);
    },
  };
}

/** The same data directory Parsec used, opened directly: PGlite's single connection, no HTTP, no Parsec. */
export async function pgliteExecutor(dataDir: string): Promise<Executor> {
  const db = await PGlite.create({ dataDir });
  return {
    query: (_name, text, values) => db.query(text, values),
    close: () => db.close(),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}

interface LoopRun {
  readonly latency: LatencyRecorder;
  readonly queries: number;
  readonly errors: number;
  readonly seconds: number;
}

/** `concurrency` async loops, each issuing its next statement as soon as the last one answered. */
async function loops(concurrency: number, durationSec: number, next: () => Promise<unknown>): Promise<LoopRun> {
  const latency = new LatencyRecorder();
  let queries = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + durationSec * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        await next();
        latency.record(performance.now() - begun);
        queries++;
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  if (firstError !== undefined) process.stderr.write(`[bench] database limit: ${errors} failed queries, first: ${describe(firstError)}\n`);
  return { latency, queries, errors, seconds: (performance.now() - start) / 1000 };
}

let insertCounter = 2_000_000;

function statementFor(scenario: DbScenario, executor: Executor, ids: readonly string[], findLimit: number): () => Promise<unknown> {
  switch (scenario) {
    case 'get':
      return () => executor.query('bench_get', sql.get, sqlParams.get(randomOf(ids)));
    case 'find':
      return () => executor.query('bench_find', sql.find, sqlParams.find(findLimit));
    case 'insert':
      return () => executor.query('bench_insert', sql.insert, sqlParams.insert(insertCounter++));
  }
}

/** The database limit: Parsec's statements with nothing in front, at the same concurrency as the HTTP load. */
export async function measureDb(
  scenario: DbScenario,
  executor: Executor,
  ids: readonly string[],
  settings: BenchSettings,
): Promise<DbMeasurement> {
  const next = statementFor(scenario, executor, ids, settings.findLimit);
  const warmup = await loops(settings.connections, settings.warmupSec, next);
  const measured = await loops(settings.connections, settings.durationSec, next);
  const [p50 = Number.NaN, p99 = Number.NaN] = measured.latency.percentiles(50, 99);
  return {
    queriesPerSec: round(measured.queries / measured.seconds, 1),
    p50Ms: round(p50, 2),
    p99Ms: round(p99, 2),
    queries: measured.queries,
    errors: warmup.errors + measured.errors,
  };
}
