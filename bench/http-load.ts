import autocannon from 'autocannon';
import { LatencyRecorder, round } from './latency.ts';
import type { BenchSettings } from './settings.ts';
import { CLIENT_HEADERS, MASTER_HEADERS, guardedParams, item, knownWrongLogin, paths, randomOf, unknownLogin, type BenchUser, type CloudFunction } from './workload.ts';

/**
 * `securedUser` / `securedMaster`: one and the same find on the ACL'd class, as the role-holding reader and
 * as the master. `ping`, `guarded`, `cloudQuery`: the cloud functions of bench/cloud/main.js. `masterGet`: the
 * get with the master key, every one a privileged request the ledger records (ledger-check.ts).
 */
export type HttpScenario = 'get' | 'find' | 'create' | 'me' | 'login' | 'securedUser' | 'securedMaster' | 'masterGet' | CloudFunction;

/**
 * The cluster bench's scenarios (cluster.ts): the routes whose work a second node can share, and
 * `countedPing`, the `ping` call on a route with a rate-limit rule, every call counted in the nodes' shared
 * store, from one of `CLIENT_ADDRESSES` callers (in `X-Forwarded-For`, as a load balancer sets it).
 */
export type SpreadScenario = 'get' | 'find' | 'create' | 'me' | 'ping' | 'guarded' | 'countedPing';

/** Distinct client addresses `countedPing` comes from: one rate-limit counter each, as many callers have. */
export const CLIENT_ADDRESSES = 1000;
export const COUNTED_PING_PATH = '/parse/functions/countedPing';
const clientAddress = (n: number): string => `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;

export interface HttpMeasurement {
  /** Mean of autocannon's per-second request counts. */
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses received in the measured window. */
  readonly responses: number;
  /** Connection errors and timeouts, warm-up included: any is a bug, never load shedding. */
  readonly errors: number;
  /** Non-2xx responses, warm-up included. */
  readonly non2xx: number;
}

export interface ScenarioInput {
  readonly origin: string;
  /** Seeded object ids; gets pick among them at random. */
  readonly ids: readonly string[];
  readonly findLimit: number;
  /** Seeded users: logins cycle through their credentials, `/users/me` through their sign-up tokens. */
  readonly users: readonly BenchUser[];
  /** The user whose session token the secured find sends (holds `role:Readers` through `Members`). */
  readonly reader?: BenchUser;
}

/** Seconds autocannon waits for a response. Logins queue for the hashing thread pool, so they get longer. */
const TIMEOUT_SEC = 10;
const HASHING_TIMEOUT_SEC = 30;

/** Creates number their items from here, clear of the seeded ones (only `name`/`score` vary). */
let createCounter = 1_000_000;
let meCounter = 0;
let loginCounter = 0;
let guardedCounter = 0;
let countedCounter = 0;

const JSON_HEADERS = { ...CLIENT_HEADERS, 'content-type': 'application/json' };

function cycle<T>(values: readonly T[], n: number): T {
  const value = values[n % values.length];
  if (value === undefined) throw new Error('cycle: empty list');
  return value;
}

function requestFor(scenario: HttpScenario | SpreadScenario, input: ScenarioInput): autocannon.Request {
  switch (scenario) {
    case 'countedPing':
      return {
        method: 'POST',
        path: COUNTED_PING_PATH,
        body: '{}',
        setupRequest: (request) => ({
          ...request,
          headers: { ...JSON_HEADERS, 'x-forwarded-for': clientAddress(countedCounter++ % CLIENT_ADDRESSES) },
        }),
      };
    case 'get':
      return {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: paths.get(randomOf(input.ids)) }),
      };
    case 'masterGet':
      return {
        method: 'GET',
        headers: { ...MASTER_HEADERS },
        setupRequest: (request) => ({ ...request, path: paths.get(randomOf(input.ids)) }),
      };
    case 'find':
      return { method: 'GET', path: paths.find(input.findLimit) };
    case 'create':
      return {
        method: 'POST',
        path: paths.create,
        headers: JSON_HEADERS,
        setupRequest: (request) => ({ ...request, body: JSON.stringify(item(createCounter++)) }),
      };
    case 'me':
      // The same few tokens over and over: after the warm-up every session is in Parsec's cache.
      return {
        method: 'GET',
        path: paths.me,
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'x-parse-session-token': cycle(input.users, meCounter++).sessionToken },
        }),
      };
    case 'securedUser': {
      if (input.reader === undefined) throw new Error('securedUser: no reader');
      return { method: 'GET', path: paths.securedFind(input.findLimit), headers: { ...CLIENT_HEADERS, 'x-parse-session-token': input.reader.sessionToken } };
    }
    case 'securedMaster':
      return { method: 'GET', path: paths.securedFind(input.findLimit), headers: { ...MASTER_HEADERS } };
    case 'ping':
    case 'cloudQuery':
      // No params: an empty JSON object, as a client's `Parse.Cloud.run(name)` sends.
      return { method: 'POST', path: paths.cloudFunction(scenario), headers: JSON_HEADERS, body: '{}' };
    case 'guarded':
      // Like `me`, the seeded users' tokens in turn (cached after the warm-up), and the required `n`.
      return {
        method: 'POST',
        path: paths.cloudFunction('guarded'),
        headers: JSON_HEADERS,
        setupRequest: (request) => {
          const n = guardedCounter++;
          return {
            ...request,
            headers: { ...request.headers, 'x-parse-session-token': cycle(input.users, n).sessionToken },
            body: JSON.stringify(guardedParams(n)),
          };
        },
      };
    case 'login':
      return {
        method: 'POST',
        path: paths.login,
        headers: JSON_HEADERS,
        setupRequest: (request) => {
          const { username, password } = cycle(input.users, loginCounter++);
          return { ...request, body: JSON.stringify({ username, password }) };
        },
      };
  }
}

interface RunOptions {
  readonly connections: number;
  /** Measured seconds, unless `amount` is given: then exactly that many requests, spread over the connections. */
  readonly durationSec: number;
  readonly amount?: number;
  /** Requests a second from all connections together (open loop); absent: as fast as answers come. */
  readonly overallRate?: number;
  readonly timeoutSec: number;
  readonly requests: autocannon.Request[];
}

/** One autocannon run, started: the instance (to stop it early) and its result once it ends. */
function start(origin: string, options: RunOptions, onResponse: (statusCode: number, responseTimeMs: number) => void): { instance: autocannon.Instance; finished: Promise<autocannon.Result> } {
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: origin,
        connections: options.connections,
        duration: options.durationSec,
        ...(options.amount === undefined ? {} : { amount: options.amount }),
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
        timeout: options.timeoutSec,
        headers: { ...CLIENT_HEADERS },
        requests: options.requests,
      },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        else resolve(result);
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => onResponse(statusCode, responseTime));
  });
  if (instance === undefined) throw new Error('autocannon did not start');
  return { instance, finished };
}

/** One autocannon run; `onResponse` sees every response's status and its sub-millisecond latency. */
function run(origin: string, options: RunOptions, onResponse: (statusCode: number, responseTimeMs: number) => void): Promise<autocannon.Result> {
  return start(origin, options, onResponse).finished;
}

/**
 * A discarded warm-up, then the measured run, both at the run's connection count. `settle` runs between
 * the two: autocannon abandons the requests still in flight when a run ends, and for logins that is up to
 * `connections` password hashes still queued on the server's thread pool, which would eat into the
 * measured window.
 */
export async function measureHttp(
  scenario: HttpScenario,
  input: ScenarioInput,
  settings: BenchSettings,
  settle?: () => Promise<void>,
  overallRate?: number,
): Promise<HttpMeasurement> {
  const timeoutSec = scenario === 'login' ? HASHING_TIMEOUT_SEC : TIMEOUT_SEC;
  const options = (durationSec: number): RunOptions => ({
    connections: settings.connections,
    durationSec,
    timeoutSec,
    requests: [requestFor(scenario, input)],
    ...(overallRate === undefined ? {} : { overallRate }),
  });
  const warmup = await run(input.origin, options(settings.warmupSec), () => undefined);
  await settle?.();
  const latency = new LatencyRecorder();
  const result = await run(input.origin, options(settings.durationSec), (statusCode, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latency.record(responseTime);
  });
  return summarize(latency, result, warmup);
}

function summarize(latency: LatencyRecorder, result: autocannon.Result, warmup: autocannon.Result): HttpMeasurement {
  const [p50 = Number.NaN, p99 = Number.NaN] = latency.percentiles(50, 99);
  return {
    requestsPerSec: round(result.requests.mean, 1),
    p50Ms: round(p50, 2),
    p99Ms: round(p99, 2),
    responses: result.requests.total,
    errors: warmup.errors + result.errors,
    non2xx: warmup.non2xx + result.non2xx,
  };
}

/**
 * Load that runs until `stop`, for measurements that read the server's own counters meanwhile: as fast as
 * answers come, or `overallRate` requests a second in all; `onResponse` sees each response's status and
 * sub-millisecond latency.
 */
export interface RunningLoad {
  /** Ends the load; resolves to its connection errors and timeouts, and its non-2xx responses. */
  stop(): Promise<{ readonly errors: number; readonly non2xx: number }>;
}

export function startHttpLoad(
  scenario: HttpScenario,
  input: ScenarioInput,
  connections: number,
  options: { readonly overallRate?: number; readonly onResponse?: (statusCode: number, responseTimeMs: number) => void } = {},
): RunningLoad {
  const { instance, finished } = start(
    input.origin,
    // An hour: the caller stops it long before.
    { connections, durationSec: 3600, timeoutSec: TIMEOUT_SEC, requests: [requestFor(scenario, input)], ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }) },
    options.onResponse ?? (() => undefined),
  );
  return {
    async stop() {
      instance.stop();
      const result = await finished;
      return { errors: result.errors, non2xx: result.non2xx };
    },
  };
}

/** One load spread over several servers: each server's share, and the whole. */
export interface SpreadMeasurement {
  /** Requests/s, responses, errors and non-2xx summed over the servers; p50/p99 over every response. */
  readonly total: HttpMeasurement;
  /** In the order of the servers given. */
  readonly perServer: readonly HttpMeasurement[];
}

/** Called just before the measured window starts and just after it ended (e.g. to read the servers' CPU time). */
export interface WindowMeter {
  begin(): Promise<void>;
  end(): Promise<void>;
}

/**
 * `measureHttp`'s load split over `inputs` (one per server): the same connection count in all, an equal
 * share to each server (one autocannon per server, all started together, for the same windows), as a
 * load balancer spreading keep-alive connections evenly would. With one input it is `measureHttp`'s load
 * (without its `settle`, which only logins need).
 */
export async function measureHttpSpread(scenario: SpreadScenario, inputs: readonly ScenarioInput[], settings: BenchSettings, meter?: WindowMeter): Promise<SpreadMeasurement> {
  if (inputs.length === 0 || inputs.length > settings.connections) throw new Error(`measureHttpSpread: ${inputs.length} servers for ${settings.connections} connections`);
  const share = (i: number): number => Math.floor(settings.connections / inputs.length) + (i < settings.connections % inputs.length ? 1 : 0);
  const options = (i: number, input: ScenarioInput, durationSec: number): RunOptions => ({
    connections: share(i),
    durationSec,
    timeoutSec: TIMEOUT_SEC,
    requests: [requestFor(scenario, input)],
  });
  const warmups = await Promise.all(inputs.map((input, i) => run(input.origin, options(i, input, settings.warmupSec), () => undefined)));
  const all = new LatencyRecorder();
  await meter?.begin();
  const measured = await Promise.all(
    inputs.map(async (input, i) => {
      const latency = new LatencyRecorder();
      const result = await run(input.origin, options(i, input, settings.durationSec), (statusCode, responseTime) => {
        if (statusCode < 200 || statusCode >= 300) return;
        latency.record(responseTime);
        all.record(responseTime);
      });
      return { latency, result };
    }),
  );
  await meter?.end();
  const perServer = measured.map(({ latency, result }, i) => {
    const warmup = warmups[i];
    if (warmup === undefined) throw new Error('measureHttpSpread: a warm-up is missing');
    return summarize(latency, result, warmup);
  });
  const sum = (key: 'requestsPerSec' | 'responses' | 'errors' | 'non2xx'): number => perServer.reduce((total, m) => total + m[key], 0);
  const [p50 = Number.NaN, p99 = Number.NaN] = all.percentiles(50, 99);
  return {
    total: { requestsPerSec: round(sum('requestsPerSec'), 1), p50Ms: round(p50, 2), p99Ms: round(p99, 2), responses: sum('responses'), errors: sum('errors'), non2xx: sum('non2xx') },
    perServer,
  };
}

type LoginKind = 'knownWrong' | 'unknown';

export interface TimingPair {
  readonly connections: number;
  readonly knownWrongP50Ms: number;
  readonly unknownP50Ms: number;
  /** knownWrongP50Ms ÷ unknownP50Ms: 1.0 means the median does not tell the two apart. */
  readonly ratio: number;
  readonly knownWrongP99Ms: number;
  readonly unknownP99Ms: number;
  readonly p99Ratio: number;
  /** Measured requests of each kind; equal by construction. */
  readonly knownWrongRequests: number;
  readonly unknownRequests: number;
}

export interface EnumerationTiming extends TimingPair {
  /**
   * The same check with one connection. At `connections` both kinds wait in one queue for the hashing
   * threads, so most of their latency is the same queueing and a difference in service time is diluted;
   * one at a time, latency is the service time itself.
   */
  readonly oneConnection: TimingPair;
  /** Responses other than Parse's 404 `{code: 101}`, warm-ups included: any is a bug. */
  readonly unexpected: number;
  /** Both kinds got byte-identical response bodies, and only one body each (warm-ups included). */
  readonly identicalBodies: boolean;
  /** Connection errors and timeouts, warm-ups included. */
  readonly errors: number;
}

/**
 * Failing logins, strictly alternating (across all connections, in the order they are sent) between an
 * existing user with a wrong password and a username that does not exist. `input.users` are the users
 * whose password is guessed wrong (with Parsec's default account lockout they collect failed attempts).
 */
interface EnumerationRun {
  readonly result: autocannon.Result;
  readonly latency: Record<LoginKind, LatencyRecorder>;
  readonly unexpected: number;
  /** Distinct response bodies per kind. */
  readonly bodies: Record<LoginKind, Set<string>>;
}

function enumerationRun(input: ScenarioInput, options: Omit<RunOptions, 'requests'>): Promise<EnumerationRun> {
  let turn = 0;
  let unexpected = 0;
  const bodies: Record<LoginKind, Set<string>> = { knownWrong: new Set(), unknown: new Set() };
  // autocannon calls a request's onResponse and then, synchronously, emits 'response' for the same reply.
  let lastKind: LoginKind | undefined;
  const latency: Record<LoginKind, LatencyRecorder> = { knownWrong: new LatencyRecorder(), unknown: new LatencyRecorder() };
  const request: autocannon.Request = {
    method: 'POST',
    path: paths.login,
    headers: JSON_HEADERS,
    setupRequest: (req, context) => {
      const n = turn++;
      const kind: LoginKind = n % 2 === 0 ? 'knownWrong' : 'unknown';
      (context as { kind?: LoginKind }).kind = kind;
      const i = Math.floor(n / 2);
      const body = kind === 'knownWrong' ? knownWrongLogin(cycle(input.users, i)) : unknownLogin(i % input.users.length);
      return { ...req, body: JSON.stringify(body) };
    },
    onResponse: (status, body, context) => {
      lastKind = (context as { kind?: LoginKind }).kind;
      if (lastKind !== undefined && bodies[lastKind].size < 10) bodies[lastKind].add(body);
      let code: unknown;
      try {
        code = (JSON.parse(body) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      if (status !== 404 || code !== 101) unexpected++;
    },
  };
  return run(input.origin, { ...options, requests: [request] }, (_status, responseTime) => {
    if (lastKind !== undefined) latency[lastKind].record(responseTime);
    lastKind = undefined;
  }).then((result) => ({ result, latency, unexpected, bodies }));
}

function timingPair(connections: number, latency: Record<LoginKind, LatencyRecorder>): TimingPair {
  const [knownP50 = Number.NaN, knownP99 = Number.NaN] = latency.knownWrong.percentiles(50, 99);
  const [unknownP50 = Number.NaN, unknownP99 = Number.NaN] = latency.unknown.percentiles(50, 99);
  return {
    connections,
    knownWrongP50Ms: round(knownP50, 2),
    unknownP50Ms: round(unknownP50, 2),
    ratio: round(knownP50 / unknownP50, 3),
    knownWrongP99Ms: round(knownP99, 2),
    unknownP99Ms: round(unknownP99, 2),
    p99Ratio: round(knownP99 / unknownP99, 3),
    knownWrongRequests: latency.knownWrong.size,
    unknownRequests: latency.unknown.size,
  };
}

/**
 * The enumeration check: does a wrong password for an existing user take measurably longer (or shorter)
 * than a username that does not exist? A warm-up (which also pays Parsec's one-time dummy hash), then a
 * fixed, even number of requests per connection so both kinds get exactly the same count: about
 * `durationSec` worth at the login rate measured just before. Then the same at one connection.
 */
export async function measureEnumeration(
  input: ScenarioInput,
  settings: BenchSettings,
  loginsPerSec: number,
  settle: () => Promise<void>,
): Promise<EnumerationTiming> {
  const rate = Number.isFinite(loginsPerSec) && loginsPerSec > 0 ? loginsPerSec : 1;
  const { connections } = settings;
  const base = { connections, durationSec: settings.warmupSec, timeoutSec: HASHING_TIMEOUT_SEC };
  const warmup = await enumerationRun(input, base);
  await settle();
  const perConnectionPairs = Math.max(1, Math.round((rate * settings.durationSec) / (2 * connections)));
  const loaded = await enumerationRun(input, { ...base, amount: 2 * connections * perConnectionPairs });
  await settle();
  // One at a time: each request takes one hash's worth of time, so a fixed count rather than the window.
  const serialPairs = Math.max(10, 3 * settings.durationSec);
  const serial = await enumerationRun(input, { ...base, connections: 1, amount: 2 * serialPairs });
  const runs = [warmup, loaded, serial];
  const all = (kind: LoginKind): string[] => [...new Set(runs.flatMap((r) => [...r.bodies[kind]]))];
  const [knownBodies, unknownBodies] = [all('knownWrong'), all('unknown')];
  return {
    ...timingPair(connections, loaded.latency),
    oneConnection: timingPair(1, serial.latency),
    unexpected: runs.reduce((sum, r) => sum + r.unexpected, 0),
    identicalBodies: knownBodies.length === 1 && unknownBodies.length === 1 && knownBodies[0] === unknownBodies[0],
    errors: runs.reduce((sum, r) => sum + r.result.errors, 0),
  };
}
