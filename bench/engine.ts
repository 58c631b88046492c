import { ServerChild } from './child.ts';
import { probeCloudRoundTrip, type CloudRoundTrip } from './cloud-check.ts';
import { measureDb, type DbInput, type DbMeasurement, type DbScenario, type Executor } from './db-limit.ts';
import type { HashLimit, HashLimitRequest } from './hash-limit.ts';
import { measureEnumeration, measureHttp, startHttpLoad, type EnumerationTiming, type HttpMeasurement, type HttpScenario, type ScenarioInput } from './http-load.ts';
import { measureLedger, type LedgerRun } from './ledger-check.ts';
import { measureLiveQuery, type LiveQueryRun } from './livequery-load.ts';
import { progress } from './progress.ts';
import type { CapturedResponses } from './responses.ts';
import { captureResponses, checkSecured, seed, seedSecured, seedUsers, type SecuredCheck } from './seed.ts';
import { probeSessionQueries, type SessionQueries } from './session-queries.ts';
import type { BenchSettings } from './settings.ts';
import { probeWorkloadSql, type SqlCheck, type WorkloadSql } from './sql-check.ts';
import { CLOUD_FUNCTIONS, GROUPS, type BenchUser, type CloudFunction } from './workload.ts';

export type Engine = 'pglite' | 'postgres';

/** Same pool size for Parsec and for the direct database loops. */
export const POOL_SIZE = 32;

/** The secured find as the role-holding reader and as the master, and what its correctness guard saw. */
export interface SecurityRun {
  readonly user: HttpMeasurement;
  readonly master: HttpMeasurement;
  readonly check: SecuredCheck;
}

/** The routes measured on Parsec alone, against the HTTP, database or hashing limit. */
export type ParsecScenario = Exclude<HttpScenario, 'securedUser' | 'securedMaster' | 'masterGet' | CloudFunction>;

/** The cloud functions' calls, and what one call of each costs the server (the in-process proof). */
export interface CloudRun {
  readonly measurements: Record<CloudFunction, HttpMeasurement>;
  readonly roundTrip: CloudRoundTrip;
}

export interface EngineRun {
  readonly parsec: Record<ParsecScenario, HttpMeasurement>;
  /** The cost of security: the same find on ACL'd rows as a user holding a role, and with the master key. */
  readonly security: SecurityRun;
  /** Cloud Code: `ping`, `guarded`, `cloudQuery` under load, and the traced single calls. */
  readonly cloud: CloudRun;
  /** The privilege ledger's cost: a master get with the ledger off and on, and the records it wrote. */
  readonly ledger: LedgerRun;
  /** The LiveQuery scenario: subscribers, writes, event latency and cost, and its correctness guard. */
  readonly liveQuery: LiveQueryRun;
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

/** Parsec's HTTP scenarios with an HTTP limit. A login's bound is the hashing limit instead. */
export type LimitScenario = Exclude<ParsecScenario, 'login'>;
/** Everything the bare server replays: those, and the cloud functions' calls. */
export type BareScenario = LimitScenario | CloudFunction;

/**
 * One engine: Parsec in a child process (seed, capture, the traced probes that give the database limit
 * its statements, one traced call of each cloud function, get/find, the secured find as a user and as the
 * master, create, `/users/me`, the cloud functions, the hashing limit, logins, the enumeration check, the
 * session-query probe), then the same database with Parsec gone, driven directly by `openExecutor` with
 * Parsec's statements. Parsec goes first so that the direct loops never compete with it for the CPU or the
 * database.
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
    // The secured find's correctness guard reads a whole group in one page.
    maxLimit: Math.max(1000, settings.findLimit, Math.ceil(settings.seedRows / GROUPS)),
  });
  let parsec: Record<ParsecScenario, HttpMeasurement>;
  let security: SecurityRun;
  let cloud: CloudRun;
  let ledger: LedgerRun;
  let liveQuery: LiveQueryRun;
  let hashLimit: HashLimit;
  let enumerationTiming: EnumerationTiming;
  let sessionQueries: SessionQueries;
  let responses: CapturedResponses;
  let ids: string[];
  let users: BenchUser[];
  /** Holds roles (`Members`, and `Readers` through it): reads the secured rows, and binds its roles in `userGet`. */
  let reader: BenchUser;
  let workloadSql: WorkloadSql;
  let parsecPeakRssBytes: number | undefined;
  try {
    const origin = `http://127.0.0.1:${child.port}`;
    progress(`${engine}: seeding ${settings.seedRows} rows through /batch`);
    ids = await seed(origin, settings.seedRows);
    progress(`${engine}: signing up ${settings.users} users (scrypt)`);
    users = await seedUsers(origin, settings.users);
    const [first, second] = users;
    if (first === undefined || second === undefined || users.length < 3) throw new Error('the bench needs at least 3 users');
    reader = first;
    // users[0] reads the secured rows through its roles; the other half is users[1]'s alone.
    progress(`${engine}: seeding the roles Members ⊂ Readers and ${settings.seedRows} ACL'd rows`);
    const secured = await seedSecured(origin, settings.seedRows, first, second);
    const securedCheck = await checkSecured(origin, secured, first, settings.findLimit);
    responses = await captureResponses(origin, ids, settings.findLimit, first);
    progress(`${engine}: tracing Parsec's statements for the database limit`);
    workloadSql = await probeWorkloadSql(child, { origin, ids, users, reader: first, findLimit: settings.findLimit });
    const mismatched = Object.entries(workloadSql.check.statements).filter(([, check]) => !check.matches);
    for (const [name, check] of mismatched) progress(`WARNING ${engine}: the database limit's ${name} is not what Parsec sends: ${check.problems?.join('; ')}`);
    progress(`${engine}: tracing one call of each cloud function (HTTP requests and statements)`);
    const roundTrip = await probeCloudRoundTrip(child, { origin, sql: workloadSql.sql, user: first, plainUser: users[2] ?? second });
    for (const problem of roundTrip.problems ?? []) progress(`FAILURE ${engine}: ${problem}`);
    progress(`${engine}: refreshing planner statistics (ANALYZE)`);
    await child.command('analyze');
    const input: ScenarioInput = { origin, ids, findLimit: settings.findLimit, users, reader: first };
    // Waits out the password hashes an ended autocannon run left queued on Parsec's thread pool.
    const drain = async (): Promise<void> => {
      await child.command('drain');
    };
    const measure = async (scenario: HttpScenario, windowSettings = settings, rate?: number): Promise<HttpMeasurement> => {
      progress(`${engine}: Parsec ${scenario}`);
      const measured = await measureHttp(scenario, input, windowSettings, scenario === 'login' ? drain : undefined, rate);
      if (scenario === 'login') await drain();
      return measured;
    };
    // Creates after the reads: they grow the table the reads are measured against.
    const get = await measure('get');
    const find = await measure('find');
    // Back to back, so the ratio compares the two under the same conditions.
    security = { user: await measure('securedUser'), master: await measure('securedMaster'), check: securedCheck };
    // Cycles of off, on, on, off (see ledger-check.ts); before the creates, like the plain gets.
    ledger = await measureLedger(
      engine,
      child,
      (pace, onResponse) =>
        startHttpLoad('masterGet', input, pace?.connections ?? settings.connections, { ...(pace === undefined ? {} : { overallRate: pace.rate }), ...(onResponse === undefined ? {} : { onResponse }) }),
      { cycles: settings.ledgerCycles, intervalSec: settings.ledgerIntervalSec, warmupSec: settings.warmupSec, connections: settings.connections, postgres: engine === 'postgres' },
    );
    for (const problem of ledger.check.problems ?? []) progress(`FAILURE ${engine}: the privilege ledger: ${problem}`);
    const create = await measure('create');
    // The creates grew BenchItem: statistics as a server up for a while would have them (see serve-parsec.ts).
    await child.command('analyze');
    const me = await measure('me');
    const functions = {} as Record<CloudFunction, HttpMeasurement>;
    for (const name of CLOUD_FUNCTIONS) functions[name] = await measure(name);
    cloud = { measurements: functions, roundTrip };
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
    // The reader holds roles (Members, and Readers through it): the lookup's role expansion has work to do.
    sessionQueries = await probeSessionQueries(child, origin, first, workloadSql.sql);
    // Last: its class and its objects are its own, and nothing measured after it could feel them.
    liveQuery = await measureLiveQuery(engine, child, origin, users, {
      clients: settings.liveQueryClients,
      writesPerSec: settings.liveQueryWritesPerSec,
      warmupSec: settings.warmupSec,
      durationSec: settings.durationSec,
      postgres: engine === 'postgres',
    });
    for (const problem of liveQuery.check.problems ?? []) progress(`FAILURE ${engine}: LiveQuery: ${problem}`);
  } finally {
    parsecPeakRssBytes = (await child.stop())?.maxRssBytes;
  }

  progress(`${engine}: database limit (direct, ${settings.connections} loops)`);
  const executor = await openExecutor();
  try {
    const input: DbInput = { sql: workloadSql.sql, ids, users, reader, findLimit: settings.findLimit };
    const measure = async (scenario: DbScenario): Promise<DbMeasurement> => {
      progress(`${engine}: database ${scenario}`);
      return measureDb(scenario, executor, input, settings);
    };
    const dbLimit = { get: await measure('get'), find: await measure('find'), insert: await measure('insert'), userGet: await measure('userGet') };
    return { parsec, security, cloud, ledger, liveQuery, parsecPeakRssBytes, dbLimit, hashLimit, enumerationTiming, sessionQueries, sqlCheck: workloadSql.check, responses, ids, users };
  } finally {
    await executor.close();
  }
}

export interface HttpLimitRun {
  readonly measurements: Record<BareScenario, HttpMeasurement>;
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
  let measurements: Record<BareScenario, HttpMeasurement>;
  let peakRssBytes: number | undefined;
  try {
    await child.command('configure', responses);
    const input: ScenarioInput = { origin: `http://127.0.0.1:${child.port}`, ids, findLimit: settings.findLimit, users };
    const measure = async (scenario: BareScenario): Promise<HttpMeasurement> => {
      progress(`http limit: ${scenario}`);
      return measureHttp(scenario, input, settings);
    };
    measurements = {
      get: await measure('get'),
      find: await measure('find'),
      create: await measure('create'),
      me: await measure('me'),
      ping: await measure('ping'),
      guarded: await measure('guarded'),
      cloudQuery: await measure('cloudQuery'),
    };
  } finally {
    peakRssBytes = (await child.stop())?.maxRssBytes;
  }
  return { measurements, peakRssBytes };
}
