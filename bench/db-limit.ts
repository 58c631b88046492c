import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { measureLoops } from './loops.ts';
import type { BenchSettings } from './settings.ts';
import { randomOf, rolesOf, sqlParams, type BenchUser, type StatementName } from './workload.ts';

/** `userGet`: Parsec's get-by-id of a `_User` as that user (what a warm-session `/users/me` costs the database). */
export type DbScenario = StatementName;

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

let insertCounter = 2_000_000;

/** What the direct loops send: Parsec's statements (traced in this run) and the seeded objects and users. */
export interface DbInput {
  /** The texts Parsec sent for each request kind (see sql-check.ts). */
  readonly sql: Readonly<Record<DbScenario, string>>;
  readonly ids: readonly string[];
  readonly users: readonly BenchUser[];
  /** The user holding roles: their `userGet` binds them, as Parsec's does. */
  readonly reader: BenchUser;
  readonly findLimit: number;
}

function statementFor(scenario: DbScenario, executor: Executor, input: DbInput): () => Promise<unknown> {
  const text = input.sql[scenario];
  switch (scenario) {
    case 'get':
      return () => executor.query('bench_get', text, sqlParams.get(randomOf(input.ids)));
    case 'find':
      return () => executor.query('bench_find', text, sqlParams.find(input.findLimit));
    case 'insert':
      return () => executor.query('bench_insert', text, sqlParams.insert(insertCounter++));
    case 'userGet': {
      // Built once per user (as the HTTP load cycles through them), so the loop only draws one.
      const params = input.users.map((user) => sqlParams.userGet(user.objectId, rolesOf(user, input.reader)));
      return () => executor.query('bench_user_get', text, randomOf(params));
    }
  }
}

/** The database limit: Parsec's statements with nothing in front, at the same concurrency as the HTTP load. */
export async function measureDb(
  scenario: DbScenario,
  executor: Executor,
  input: DbInput,
  settings: BenchSettings,
): Promise<DbMeasurement> {
  const next = statementFor(scenario, executor, input);
  const summary = await measureLoops(`database limit ${scenario}`, settings.connections, settings.warmupSec, settings.durationSec, next);
  return { queriesPerSec: summary.perSec, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, queries: summary.completed, errors: summary.errors };
}
