import { ServerChild } from './child.ts';
import { measureDb, type DbInput, type DbMeasurement, type DbScenario, type Executor } from './db-limit.ts';
import type { HashLimit, HashLimitRequest } from './hash-limit.ts';
import { measureEnumeration, measureHttp, type EnumerationTiming, type HttpMeasurement, type HttpScenario, type ScenarioInput } from './http-load.ts';
import { progress } from './progress.ts';
import type { CapturedResponses } from './responses.ts';
import { captureResponses, seed, seedUsers } from './seed.ts';
import { probeSessionQueries, type SessionQueries } from './session-queries.ts';
import type { BenchSettings } from './settings.ts';
import { sql, type BenchUser } from './workload.ts';

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
  /** Parsec's own password verification in loops, in Parsec's process, just before the logins. */
  readonly hashLimit: HashLimit;
  readonly enumerationTiming: EnumerationTiming;
  readonly sessionQueries: SessionQueries;
  readonly sqlCheck: SqlCheck;
  readonly responses: CapturedResponses;
  readonly ids: readonly string[];
  readonly users: readonly BenchUser[];
}

/** The HTTP scenarios with an HTTP limit (the bare server's replay). A login's bound is the hashing limit instead. */
export type LimitScenario = Exclude<HttpScenario, 'login'>;

function checkSql(seen: readonly string[]): SqlCheck {
  const mismatched = Object.entries(sql)
    .filter(([, text]) => !seen.includes(text))
    .map(([name]) => name);
  if (mismatched.length === 0) return { matches: true };
  return { matches: false, mismatched, parsecSql: seen.filter((text) => /"(BenchItem|_User|_Session)"/.test(text)) };
}

/**
 * One engine: Parsec in a child process (seed, capture, get/find/create, `/users/me`, the hashing limit,
 * logins, the enumeration check, the session-query probe), then the same database with Parsec gone, driven
 * directly by `openExecutor`. Parsec goes first so that the direct loops never compete with it for the CPU
 * or the database.
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
  let hashLimit: HashLimit;
  let enumerationTiming: EnumerationTiming;
  let sessionQueries: SessionQueries;
  let responses: CapturedResponses;
  let ids: string[];
  let users: BenchUser[];
  let sqlCheck: SqlCheck;
  let parsecPeakRssBytes: number | undefined;
  try {
    const origin = `http://127.0.0.1:${child.port}`;
    progress(`${engine}: seeding ${settings.seedRows} rows through /batch`);
    ids = await seed(origin, settings.seedRows);
    progress(`${engine}: signing up ${settings.users} users (scrypt)`);
    users = await seedUsers(origin, settings.users);
    const [first, second] = users;
    if (first === undefined || second === undefined || users.length < 3) throw new Error('the bench needs at least 3 users');
    responses = await captureResponses(origin, ids, settings.findLimit, first);
    sqlCheck = checkSql(await child.command<string[]>('sql'));
    progress(`${engine}: refreshing planner statistics (ANALYZE)`);
    await child.command('analyze');
    if (!sqlCheck.matches) progress(`WARNING ${engine}: Parsec's SQL differs from bench/workload.ts for ${sqlCheck.mismatched?.join(', ')}`);
    const input: ScenarioInput = { origin, ids, findLimit: settings.findLimit, users };
    // Waits out the password hashes an ended autocannon run left queued on Parsec's thread pool.
    const drain = async (): Promise<void> => {
      await child.command('drain');
    };
    const measure = async (scenario: HttpScenario): Promise<HttpMeasurement> => {
      progress(`${engine}: Parsec ${scenario}`);
      const measured = await measureHttp(scenario, input, settings, scenario === 'login' ? drain : undefined);
      if (scenario === 'login') await drain();
      return measured;
    };
    // Creates after the reads: they grow the table the reads are measured against.
    const get = await measure('get');
    const find = await measure('find');
    const create = await measure('create');
    const me = await measure('me');
    progress(`${engine}: hashing limit (verifyPassword in Parsec's process, ${settings.connections} loops)`);
    const request: HashLimitRequest = { concurrency: settings.connections, warmupSec: settings.warmupSec, durationSec: settings.durationSec };
    hashLimit = await child.command<HashLimit>('hashLimit', request);
    const login = await measure('login');
    parsec = { get, find, create, me, login };
    progress(`${engine}: enumeration timing (wrong password vs unknown user)`);
    // users[0] and users[1] never get a wrong password: a lockout can not refuse the probe's login below.
    enumerationTiming = await measureEnumeration({ ...input, users: users.slice(2) }, settings, login.requestsPerSec, drain);
    if (!enumerationTiming.identicalBodies) progress(`WARNING ${engine}: a wrong password and an unknown user got different response bodies`);
    await drain();
    progress(`${engine}: session queries, cold vs warm`);
    sessionQueries = await probeSessionQueries(child, origin, second);
  } finally {
    parsecPeakRssBytes = (await child.stop())?.maxRssBytes;
  }

  progress(`${engine}: database limit (direct, ${settings.connections} loops)`);
  const executor = await openExecutor();
  try {
    const input: DbInput = { ids, users, findLimit: settings.findLimit };
    const measure = async (scenario: DbScenario): Promise<DbMeasurement> => {
      progress(`${engine}: database ${scenario}`);
      return measureDb(scenario, executor, input, settings);
    };
    const dbLimit = { get: await measure('get'), find: await measure('find'), insert: await measure('insert'), userGet: await measure('userGet') };
    return { parsec, parsecPeakRssBytes, dbLimit, hashLimit, enumerationTiming, sessionQueries, sqlCheck, responses, ids, users };
  } finally {
    await executor.close();
  }
}

export interface HttpLimitRun {
  readonly measurements: Record<LimitScenario, HttpMeasurement>;
  readonly peakRssBytes: number | undefined;
}

/** The bare server replaying Parsec's captured responses: what HTTP alone costs at this load. */
export async function benchHttpLimit(
  responses: CapturedResponses,
  ids: readonly string[],
  users: readonly BenchUser[],
  settings: BenchSettings,
): Promise<HttpLimitRun> {
  progress('http limit: starting bare Fastify');
  const child = await ServerChild.start('bare', './serve-bare.ts', {});
  let measurements: Record<LimitScenario, HttpMeasurement>;
  let peakRssBytes: number | undefined;
  try {
    await child.command('configure', responses);
    const input: ScenarioInput = { origin: `http://127.0.0.1:${child.port}`, ids, findLimit: settings.findLimit, users };
    const measure = async (scenario: LimitScenario): Promise<HttpMeasurement> => {
      progress(`http limit: ${scenario}`);
      return measureHttp(scenario, input, settings);
    };
    measurements = { get: await measure('get'), find: await measure('find'), create: await measure('create'), me: await measure('me') };
  } finally {
    peakRssBytes = (await child.stop())?.maxRssBytes;
  }
  return { measurements, peakRssBytes };
}
