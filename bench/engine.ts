import { ServerChild } from './child.ts';
import { measureDb, type DbMeasurement, type DbScenario, type Executor } from './db-limit.ts';
import { measureHttp, type HttpMeasurement, type HttpScenario } from './http-load.ts';
import { progress } from './progress.ts';
import type { CapturedResponses } from './responses.ts';
import { captureResponses, seed } from './seed.ts';
import type { BenchSettings } from './settings.ts';
import { sql } from './workload.ts';

export type Engine = 'pglite' | 'postgres';

/** Same pool size for Parsec and for the direct database loops. */
export const POOL_SIZE = 32;

export interface SqlCheck {
  /** Parsec sent exactly the bench's hard-coded statements during seeding and capture. */
  readonly matches: boolean;
  readonly mismatched?: string[];
  /** What Parsec sent instead, when it did not match: update bench/workload.ts. */
  readonly parsecSql?: string[];
}

export interface EngineRun {
  readonly parsec: Record<HttpScenario, HttpMeasurement>;
  readonly parsecPeakRssBytes: number | undefined;
  readonly dbLimit: Record<DbScenario, DbMeasurement>;
  readonly sqlCheck: SqlCheck;
  readonly responses: CapturedResponses;
  readonly ids: readonly string[];
}

function checkSql(seen: readonly string[]): SqlCheck {
  const mismatched = Object.entries(sql)
    .filter(([, text]) => !seen.includes(text))
    .map(([name]) => name);
  if (mismatched.length === 0) return { matches: true };
  return { matches: false, mismatched, parsecSql: seen.filter((text) => text.includes('"BenchItem"')) };
}

/**
 * One engine: Parsec in a child process (seed, capture, get/find/create under load), then the same
 * database with Parsec gone, driven directly by `openExecutor`. Parsec goes first so that the direct
 * loops never compete with it for the CPU or the database.
 */
export async function benchEngine(
  engine: Engine,
  databaseURI: string,
  openExecutor: () => Promise<Executor>,
  settings: BenchSettings,
): Promise<EngineRun> {
  progress(`${engine}: starting Parsec`);
  const child = await ServerChild.start(`parsec-${engine}`, './serve-parsec.ts', {
    databaseURI,
    poolSize: POOL_SIZE,
    maxLimit: Math.max(1000, settings.findLimit),
  });
  let parsec: Record<HttpScenario, HttpMeasurement>;
  let responses: CapturedResponses;
  let ids: string[];
  let sqlCheck: SqlCheck;
  let parsecPeakRssBytes: number | undefined;
  try {
    const origin = `http://127.0.0.1:${child.port}`;
    progress(`${engine}: seeding ${settings.seedRows} rows through /batch`);
    ids = await seed(origin, settings.seedRows);
    responses = await captureResponses(origin, ids, settings.findLimit);
    sqlCheck = checkSql(await child.command<string[]>('sql'));
    progress(`${engine}: refreshing planner statistics (ANALYZE)`);
    await child.command('analyze');
    if (!sqlCheck.matches) progress(`WARNING ${engine}: Parsec's SQL differs from bench/workload.ts for ${sqlCheck.mismatched?.join(', ')}`);
    const input = { origin, ids, findLimit: settings.findLimit };
    const measure = async (scenario: HttpScenario): Promise<HttpMeasurement> => {
      progress(`${engine}: Parsec ${scenario}`);
      return measureHttp(scenario, input, settings);
    };
    // Creates last: they grow the table the reads are measured against.
    parsec = { get: await measure('get'), find: await measure('find'), create: await measure('create') };
  } finally {
    parsecPeakRssBytes = (await child.stop())?.maxRssBytes;
  }

  progress(`${engine}: database limit (direct, ${settings.connections} loops)`);
  const executor = await openExecutor();
  try {
    const measure = async (scenario: DbScenario): Promise<DbMeasurement> => {
      progress(`${engine}: database ${scenario}`);
      return measureDb(scenario, executor, ids, settings);
    };
    const dbLimit = { get: await measure('get'), find: await measure('find'), insert: await measure('insert') };
    return { parsec, parsecPeakRssBytes, dbLimit, sqlCheck, responses, ids };
  } finally {
    await executor.close();
  }
}

export interface HttpLimitRun {
  readonly measurements: Record<HttpScenario, HttpMeasurement>;
  readonly peakRssBytes: number | undefined;
}

/** The bare server replaying Parsec's captured responses: what HTTP alone costs at this load. */
export async function benchHttpLimit(responses: CapturedResponses, ids: readonly string[], settings: BenchSettings): Promise<HttpLimitRun> {
  progress('http limit: starting bare Fastify');
  const child = await ServerChild.start('bare', './serve-bare.ts', {});
  let measurements: Record<HttpScenario, HttpMeasurement>;
  let peakRssBytes: number | undefined;
  try {
    await child.command('configure', responses);
    const input = { origin: `http://127.0.0.1:${child.port}`, ids, findLimit: settings.findLimit };
    const measure = async (scenario: HttpScenario): Promise<HttpMeasurement> => {
      progress(`http limit: ${scenario}`);
      return measureHttp(scenario, input, settings);
    };
    measurements = { get: await measure('get'), find: await measure('find'), create: await measure('create') };
  } finally {
    peakRssBytes = (await child.stop())?.maxRssBytes;
  }
  return { measurements, peakRssBytes };
}
