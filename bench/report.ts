import os from 'node:os';
import type { DbMeasurement, DbScenario } from './db-limit.ts';
import type { CloudRoundTrip } from './cloud-check.ts';
import { CLUSTER_SCENARIOS, type ClusterRun, type ClusterScenario, type RateLimitCounters, type WindowCpu } from './cluster.ts';
import type { CpuPerRequest, LatencySummary, LedgerCheck, SwitchedInterval } from './ledger-check.ts';
import type { LiveQueryRun } from './livequery-load.ts';
import type { Engine, EngineRun, HttpLimitRun, LimitScenario } from './engine.ts';
import type { HashLimit } from './hash-limit.ts';
import { CLIENT_ADDRESSES, type EnumerationTiming, type HttpMeasurement, type SpreadMeasurement } from './http-load.ts';
import type { InvalidationRun } from './invalidation-latency.ts';
import { round } from './latency.ts';
import type { SecuredCheck } from './seed.ts';
import type { SessionQueries } from './session-queries.ts';
import { redact } from './postgres.ts';
import type { BenchSettings, ClusterSettings } from './settings.ts';
import type { SqlCheck } from './sql-check.ts';
import { CLOUD_FUNCTIONS, type CloudFunction } from './workload.ts';

export interface ParsecEntry extends HttpMeasurement {
  /** Parsec's requests/s over the bare server's for the same route: 1.0 would mean Parsec costs nothing. */
  readonly vsHttpLimit: number;
  /** Parsec's requests/s over direct queries/s of the statement it issues (create ↔ insert, me ↔ userGet). */
  readonly vsDbLimit: number;
}

export interface LoginEntry extends HttpMeasurement {
  /** Logins/s over password verifications/s in Parsec's own process: the share of the hashing limit reached. */
  readonly vsHashLimit: number;
}

/** The cost of security: one and the same find on ACL'd rows as a role-holding user and with the master key. */
export interface SecurityEntry {
  readonly user: HttpMeasurement;
  readonly master: HttpMeasurement;
  /** user requests/s ÷ master requests/s: 1.0 means the permission check costs nothing; it should stay near 1. */
  readonly userVsMaster: number;
  /** What the correctness guard saw before the measurement (a wrong answer fails the run instead). */
  readonly check: SecuredCheck;
}

/** A cloud function's calls, against the bare server answering the same route with the same JSON. */
export interface CloudEntry extends HttpMeasurement {
  /** Calls/s over the bare route's requests/s. */
  readonly vsHttpLimit: number;
}

export interface CloudReport extends Record<CloudFunction, CloudEntry> {
  /** The targets, on every engine: `ping` ≥ 40 % and `guarded` ≥ 30 % of the bare route. */
  readonly targets: Record<'ping' | 'guarded', Target>;
  /** One call of each traced: HTTP requests received and sent, statements; `holds: false` fails the run. */
  readonly roundTrip: CloudRoundTrip;
}

/**
 * The privilege ledger's cost: one and the same master-key get with the ledger off and on, as one load
 * switched every `intervalSec` in cycles of off, on, on, off (see ledger-check.ts).
 */
export interface LedgerEntry {
  readonly intervalSec: number;
  /** Requests/s of each interval in each state, in the order measured. */
  readonly offRequestsPerSec: readonly number[];
  readonly onRequestsPerSec: readonly number[];
  /** Requests/s over all "on" intervals ÷ over all "off" intervals: 1.0 means recording costs the request nothing. */
  readonly onVsOff: number;
  /** Each cycle's own ratio (its two "on" intervals ÷ its two "off" ones): how far one cycle alone can be off. */
  readonly cycleRatios: readonly number[];
  /** CPU per request in each state (µs): the cost itself; the difference is what one record costs. */
  readonly cpuOff: CpuPerRequest;
  readonly cpuOn: CpuPerRequest;
  /** Machine CPU per request off ÷ on: the same question asked of the cost rather than of throughput. */
  readonly machineCpuOffVsOn: number | undefined;
  /** Switched likewise at a fixed rate with room to spare: latency off and on (every response of each state), their ratios, CPU per request. */
  readonly paced: {
    readonly requestsPerSec: number;
    readonly off: LatencySummary;
    readonly on: LatencySummary;
    readonly p50OnVsOff: number;
    readonly p99OnVsOff: number;
    readonly cpuOff: CpuPerRequest;
    readonly cpuOn: CpuPerRequest;
  };
  /**
   * The words — recording must not slow the request it describes by more than a few percent — as
   * measured where one request can be seen: median latency at a quarter of capacity, off ÷ on ≥ 0.95.
   */
  readonly pacedTarget: Target;
  /** The same bar for capacity: throughput at saturation on ÷ off ≥ 0.95 (machine-wide CPU contention included). */
  readonly target: Target;
  /** Every master request received while on left one row, none while off; `holds: false` fails the run. */
  readonly check: LedgerCheck;
}

type TargetScenario = 'get' | 'find' | 'create';

export interface Target {
  readonly rule: string;
  readonly ratio: number;
  readonly required: number;
  readonly pass: boolean;
}

export interface EngineReport {
  readonly parsec: Record<LimitScenario, ParsecEntry> & { readonly login: LoginEntry; readonly peakRssMB: number | null };
  readonly security: SecurityEntry;
  readonly cloud: CloudReport;
  readonly ledger: LedgerEntry;
  /** 1,000 subscribers over 50 queries under 500 writes/s: event latency, CPU per event, and the guard. */
  readonly liveQuery: LiveQueryRun;
  readonly dbLimit: Record<DbScenario, DbMeasurement>;
  readonly hashLimit: HashLimit;
  readonly enumerationTiming: EnumerationTiming;
  readonly sessionQueries: SessionQueries;
  readonly targets?: Record<TargetScenario, Target>;
  readonly sqlCheck: SqlCheck;
}

export type EngineOutcome = { readonly run: EngineRun } | { readonly skipped: string };

const DB_STATEMENT = { get: 'get', find: 'find', create: 'insert', me: 'userGet' } as const;

function megabytes(bytes: number | undefined): number | null {
  return bytes === undefined ? null : round(bytes / (1024 * 1024), 1);
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? round(numerator / denominator, 3) : Number.NaN;
}

function target(rule: string, value: number, required: number): Target {
  return { rule, ratio: value, required, pass: value >= required };
}

/** The spec's PostgreSQL targets: get ≥ 50% of the lower limit, find ≥ 70% and create ≥ 60% of the DB's. */
function targets(run: EngineRun, http: HttpLimitRun): Record<TargetScenario, Target> {
  const { parsec, dbLimit } = run;
  const getLimit = Math.min(http.measurements.get.requestsPerSec, dbLimit.get.queriesPerSec);
  return {
    get: target('get ≥ 50% of min(HTTP limit, DB limit)', ratio(parsec.get.requestsPerSec, getLimit), 0.5),
    find: target('find ≥ 70% of DB limit', ratio(parsec.find.requestsPerSec, dbLimit.find.queriesPerSec), 0.7),
    create: target('create ≥ 60% of DB limit (insert)', ratio(parsec.create.requestsPerSec, dbLimit.insert.queriesPerSec), 0.6),
  };
}

function cloudReport(run: EngineRun, http: HttpLimitRun): CloudReport {
  const entries = {} as Record<CloudFunction, CloudEntry>;
  for (const name of CLOUD_FUNCTIONS) {
    const measured = run.cloud.measurements[name];
    entries[name] = { ...measured, vsHttpLimit: ratio(measured.requestsPerSec, http.measurements[name].requestsPerSec) };
  }
  return {
    ...entries,
    targets: {
      ping: target('public function call ≥ 40% of the bare route (HTTP limit)', entries.ping.vsHttpLimit, 0.4),
      guarded: target('requireUser + fields call with a session token ≥ 30% of the bare route (HTTP limit)', entries.guarded.vsHttpLimit, 0.3),
    },
    roundTrip: run.cloud.roundTrip,
  };
}

function ledgerReport(run: EngineRun): LedgerEntry {
  const { intervals, intervalSec, cpuOff, cpuOn, check } = run.ledger;
  const pacedRun = run.ledger.paced;
  const paced = {
    requestsPerSec: pacedRun.requestsPerSec,
    off: pacedRun.off,
    on: pacedRun.on,
    p50OnVsOff: ratio(pacedRun.on.p50Ms, pacedRun.off.p50Ms),
    p99OnVsOff: ratio(pacedRun.on.p99Ms, pacedRun.off.p99Ms),
    cpuOff: pacedRun.cpuOff,
    cpuOn: pacedRun.cpuOn,
  };
  const rate = (intervals: readonly SwitchedInterval[]): number => intervals.reduce((sum, i) => sum + i.requests, 0) / Math.max(1e-9, intervals.reduce((sum, i) => sum + i.seconds, 0));
  const inState = (intervals: readonly SwitchedInterval[], on: boolean) => intervals.filter((interval) => interval.on === on);
  const onVsOff = ratio(rate(inState(intervals, true)), rate(inState(intervals, false)));
  // Cycle i is intervals 4i to 4i + 3.
  const cycleRatios = Array.from({ length: Math.floor(intervals.length / 4) }, (_, i) => {
    const cycle = intervals.slice(4 * i, 4 * i + 4);
    return ratio(rate(inState(cycle, true)), rate(inState(cycle, false)));
  });
  const perSec = (on: boolean) => inState(intervals, on).map((interval) => Math.round(interval.requests / Math.max(1e-9, interval.seconds)));
  const machineCpuOffVsOn = cpuOff.machine === undefined || cpuOn.machine === undefined ? undefined : ratio(cpuOff.machine, cpuOn.machine);
  return {
    intervalSec,
    offRequestsPerSec: perSec(false),
    onRequestsPerSec: perSec(true),
    onVsOff,
    cycleRatios,
    cpuOff,
    cpuOn,
    machineCpuOffVsOn,
    paced,
    pacedTarget: target('at a quarter of capacity, a master-key get is at most ~5% slower with its record (p50 off ÷ on ≥ 0.95)', ratio(pacedRun.off.p50Ms, pacedRun.on.p50Ms), 0.95),
    target: target('at saturation, master-key get throughput with the ledger ≥ 95% of the same get without it', onVsOff, 0.95),
    check,
  };
}

export function engineReport(engine: Engine, run: EngineRun, http: HttpLimitRun): EngineReport {
  const entry = (scenario: LimitScenario): ParsecEntry => {
    const measured = run.parsec[scenario];
    return {
      ...measured,
      vsHttpLimit: ratio(measured.requestsPerSec, http.measurements[scenario].requestsPerSec),
      vsDbLimit: ratio(measured.requestsPerSec, run.dbLimit[DB_STATEMENT[scenario]].queriesPerSec),
    };
  };
  const login: LoginEntry = { ...run.parsec.login, vsHashLimit: ratio(run.parsec.login.requestsPerSec, run.hashLimit.verificationsPerSec) };
  return {
    parsec: { get: entry('get'), find: entry('find'), create: entry('create'), me: entry('me'), login, peakRssMB: megabytes(run.parsecPeakRssBytes) },
    security: { user: run.security.user, master: run.security.master, userVsMaster: ratio(run.security.user.requestsPerSec, run.security.master.requestsPerSec), check: run.security.check },
    cloud: cloudReport(run, http),
    ledger: ledgerReport(run),
    liveQuery: run.liveQuery,
    dbLimit: run.dbLimit,
    hashLimit: run.hashLimit,
    enumerationTiming: run.enumerationTiming,
    sessionQueries: run.sessionQueries,
    ...(engine === 'postgres' ? { targets: targets(run, http) } : {}),
    sqlCheck: run.sqlCheck,
  };
}

/**
 * Every error or non-2xx anywhere: the numbers of a run with failures mean nothing. And a cloud function's
 * `Parse.Query` that is not the one in-process find it should be (an HTTP round trip in disguise), or a
 * privilege ledger that did not write one record per master request (its cost would be understated).
 */
export function failures(label: string, run: EngineRun | HttpLimitRun): string[] {
  const found: string[] = [];
  const http =
    'measurements' in run
      ? run.measurements
      : { ...run.parsec, securedUser: run.security.user, securedMaster: run.security.master, ...run.cloud.measurements };
  for (const [scenario, m] of Object.entries(http)) {
    if (m.errors > 0 || m.non2xx > 0) found.push(`${label} ${scenario}: ${m.errors} errors, ${m.non2xx} non-2xx responses`);
  }
  if ('dbLimit' in run) {
    for (const [scenario, m] of Object.entries(run.dbLimit)) {
      if (m.errors > 0) found.push(`${label} database ${scenario}: ${m.errors} failed queries`);
    }
    if (run.hashLimit.errors > 0) found.push(`${label} hashing limit: ${run.hashLimit.errors} failed verifications`);
    // Only what invalidates the timings; the timings themselves (and identicalBodies) are reported, not judged.
    const { unexpected, errors } = run.enumerationTiming;
    if (unexpected > 0 || errors > 0) found.push(`${label} enumeration timing: ${errors} errors, ${unexpected} responses other than 404 {code: 101}`);
    for (const problem of run.cloud.roundTrip.problems ?? []) found.push(`${label} cloud round trip: ${problem}`);
    for (const problem of run.ledger.check.problems ?? []) found.push(`${label} privilege ledger: ${problem}`);
    if (!run.liveQuery.check.holds) found.push(`${label} LiveQuery: ${(run.liveQuery.check.problems ?? ['the guard failed']).join('; ')}`);
  }
  return found;
}

export function settingsReport(settings: BenchSettings): Record<string, unknown> {
  return {
    ...settings,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}` },
  };
}

export function httpLimitReport(http: HttpLimitRun): Record<string, unknown> {
  return { ...http.measurements, peakRssMB: megabytes(http.peakRssBytes) };
}

/** A spread measurement as reported: the whole, and each node's share. */
export type SpreadEntry = HttpMeasurement & { readonly perNode: Readonly<Record<string, HttpMeasurement>> };

/** The CPU one measured window took. */
export interface CpuEntry {
  /** Cores used on average over the window (CPU seconds ÷ elapsed seconds): each node's, and the load generator's. */
  readonly cores: Readonly<Record<string, number>>;
  /** Responses in the window ÷ CPU seconds of the nodes together. */
  readonly requestsPerNodeCpuSec: number;
}

/** One scenario of the cluster bench: one node with every connection, both nodes with half each (one, two, two, one). */
export interface ScaleOutEntry {
  readonly oneNode: readonly [HttpMeasurement, HttpMeasurement];
  readonly twoNodes: readonly [SpreadEntry, SpreadEntry];
  /** Two nodes' mean requests/s ÷ one node's: what the second node adds on this machine. */
  readonly twoVsOne: number;
  readonly cpu: { readonly oneNode: readonly [CpuEntry, CpuEntry]; readonly twoNodes: readonly [CpuEntry, CpuEntry] };
  /**
   * Responses per CPU-second of the nodes, on two nodes ÷ on one (both windows of each pooled): below 1.0, a
   * node serving half the load in a cluster spends more CPU per request than one node serving it all.
   */
  readonly cpuEfficiencyTwoVsOne: number;
}

export interface ClusterReport {
  readonly throughput: Record<ClusterScenario, ScaleOutEntry>;
  /** `countedPing` ÷ `ping` requests/s, on one node and on two: what counting every call in the shared store costs. */
  readonly countedVsPing: { readonly oneNode: number; readonly twoNodes: number };
  readonly rateLimits: RateLimitCounters & { readonly expected: number };
  readonly peakRssMB: Readonly<Record<string, number | null>>;
  readonly invalidation: InvalidationRun;
}

export const NODE_NAMES = ['A', 'B'] as const;

export function clusterReport(run: ClusterRun): ClusterReport {
  const throughput = {} as Record<ClusterScenario, ScaleOutEntry>;
  const entry = (spread: SpreadMeasurement): SpreadEntry => ({ ...spread.total, perNode: Object.fromEntries(spread.perServer.map((m, i) => [NODE_NAMES[i] ?? String(i), m])) });
  const total = (windows: readonly HttpMeasurement[]): number => windows.reduce((sum, window) => sum + window.requestsPerSec, 0);
  const nodeCpu = (cpu: WindowCpu): number => cpu.nodesSec.reduce((sum, sec) => sum + sec, 0);
  const cpuEntry = (m: HttpMeasurement, cpu: WindowCpu): CpuEntry => {
    const cores: Record<string, number> = {};
    cpu.nodesSec.forEach((sec, i) => (cores[NODE_NAMES[i] ?? String(i)] = ratio(sec, cpu.elapsedSec)));
    cores.loadGenerator = ratio(cpu.loadGeneratorSec, cpu.elapsedSec);
    return { cores, requestsPerNodeCpuSec: round(m.responses / nodeCpu(cpu), 1) };
  };
  /** Responses per node CPU-second, pooled over windows. */
  const pooled = (windows: readonly HttpMeasurement[], cpu: readonly WindowCpu[]): number =>
    windows.reduce((sum, m) => sum + m.responses, 0) / cpu.reduce((sum, window) => sum + nodeCpu(window), 0);
  for (const scenario of CLUSTER_SCENARIOS) {
    const { oneNode, twoNodes, cpu } = run.throughput[scenario];
    const two = [entry(twoNodes[0]), entry(twoNodes[1])] as const;
    throughput[scenario] = {
      oneNode,
      twoNodes: two,
      twoVsOne: ratio(total(two), total(oneNode)),
      cpu: {
        oneNode: [cpuEntry(oneNode[0], cpu.oneNode[0]), cpuEntry(oneNode[1], cpu.oneNode[1])],
        twoNodes: [cpuEntry(two[0], cpu.twoNodes[0]), cpuEntry(two[1], cpu.twoNodes[1])],
      },
      cpuEfficiencyTwoVsOne: ratio(pooled(two, cpu.twoNodes), pooled(oneNode, cpu.oneNode)),
    };
  }
  const { ping, countedPing } = throughput;
  return {
    throughput,
    countedVsPing: {
      oneNode: ratio(total(countedPing.oneNode), total(ping.oneNode)),
      twoNodes: ratio(total(countedPing.twoNodes), total(ping.twoNodes)),
    },
    rateLimits: { ...run.rateLimits, expected: CLIENT_ADDRESSES },
    peakRssMB: Object.fromEntries(run.peakRssBytes.map((bytes, i) => [NODE_NAMES[i] ?? String(i), megabytes(bytes)])),
    invalidation: run.invalidation,
  };
}

/** Errors or non-2xx on any node, a change another node did not refuse in time (or a control it refused), calls not counted. */
export function clusterFailures(run: ClusterRun): string[] {
  const found: string[] = [];
  const flag = (label: string, m: HttpMeasurement): void => {
    if (m.errors > 0 || m.non2xx > 0) found.push(`cluster ${label}: ${m.errors} errors, ${m.non2xx} non-2xx responses`);
  };
  for (const scenario of CLUSTER_SCENARIOS) {
    const { oneNode, twoNodes } = run.throughput[scenario];
    oneNode.forEach((m, window) => flag(`${scenario} on one node (window ${window + 1})`, m));
    twoNodes.forEach((spread, window) => spread.perServer.forEach((m, i) => flag(`${scenario} on two nodes (window ${window + 1}, node ${NODE_NAMES[i] ?? String(i)})`, m)));
  }
  for (const problem of run.invalidation.check.problems ?? []) found.push(`cluster invalidation: ${problem}`);
  if (!run.invalidation.check.holds && run.invalidation.check.problems === undefined) found.push('cluster invalidation: the check does not hold');
  if (run.rateLimits.counters === 0) found.push(`cluster rate limits: countedPing's calls left no counter in ${run.rateLimits.store}`);
  return found;
}

export function clusterSettingsReport(cluster: ClusterSettings, nodePoolSize: number): Record<string, unknown> {
  return { nodes: cluster.nodes, nodePoolSize, revocations: cluster.revocations, refusalLimitMs: cluster.refusalLimitMs, redis: cluster.redisURL === undefined ? null : redact(cluster.redisURL) };
}
