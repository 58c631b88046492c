/**
 * The privilege ledger's cost (issue #6: recording a privileged request must not slow it by more than a few
 * percent). One and the same master-key `get` in Parsec's child, with the ledger switched off (the router
 * dispatches without its observer: nothing is recorded or written) and on (as Parsec runs).
 *
 * Measured as switched runs: one continuous load, cut into intervals of a couple of seconds, the ledger
 * switched at each cut in cycles of off, on, on, off; each interval's throughput and CPU are read from the
 * server's own counters (responses finished, CPU time) at the cuts, and switching off first writes what the
 * interval buffered, so an "on" interval pays for every record made in it. On this shared two-core machine
 * throughput drifts by 10-30 % within a minute with nothing changed: windows measured one after another,
 * each with its own warm-up, compared a drift as much as the ledger (cycle ratios from 0.67 to 1.17 in one
 * run, and paced p50 ratios from 0.92 to 1.36 between two runs); many short intervals of one load,
 * alternating, weigh a drift on both states alike. Two runs: at saturation (throughput, and the CPU each
 * request cost in each state: Parsec's process, the local PostgreSQL server's, the whole machine's), then
 * paced at a quarter of the saturated "off" throughput (the latency of a request when the machine has room).
 *
 * The correctness guard, in both runs: the ledger stored exactly one record per call of its observer, and those
 * calls match the responses finished in "on" intervals (within the requests in flight at the switches). So
 * "on" cannot look cheap by not writing.
 */
import type { ServerChild } from './child.ts';
import { machineBusyMicros, postgresMicrosBetween, postgresSample, type PostgresSample } from './cpu-sample.ts';
import type { RunningLoad } from './http-load.ts';
import { LatencyRecorder, round } from './latency.ts';
import type { SwitchSample } from './ledger-switch.ts';
import { progress } from './progress.ts';

export interface SwitchedCheck {
  /**
   * Calls of the ledger's observer, records `_PrivilegeLedger` gained, responses finished while the observer
   * was on (an "on" interval's own, without those finished while its buffer was being written at the switch).
   */
  readonly observed: number;
  readonly records: number;
  readonly finishedOn: number;
  readonly loadErrors: number;
  readonly loadNon2xx: number;
}

export interface LedgerCheck {
  readonly saturated: SwitchedCheck;
  readonly paced: SwitchedCheck;
  /** Both as they should be; otherwise `problems` says what differs, and the run fails. */
  readonly holds: boolean;
  readonly problems?: readonly string[];
}

/** CPU per request finished in one state, in microseconds; undefined: not measured here. */
export interface CpuPerRequest {
  readonly parsec: number;
  /** The PostgreSQL server's processes (not measured on PGlite, which runs inside Parsec's process). */
  readonly postgres: number | undefined;
  /** Every process on the machine, the load generator included. */
  readonly machine: number | undefined;
}

/** One interval of a switched run. */
export interface SwitchedInterval {
  readonly on: boolean;
  readonly seconds: number;
  /** Responses the server finished in it. */
  readonly requests: number;
  readonly parsecMicros: number;
  readonly postgresMicros: number | undefined;
  readonly machineMicros: number | undefined;
}

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly samples: number;
}

export interface LedgerRun {
  readonly intervalSec: number;
  /** The saturated run, in the order measured: cycle i is intervals 4i to 4i + 3 (off, on, on, off). */
  readonly intervals: readonly SwitchedInterval[];
  readonly cpuOff: CpuPerRequest;
  readonly cpuOn: CpuPerRequest;
  /**
   * The question the issue asks of one request — is it slower for being recorded? — asked where it can be
   * answered: a second switched run at a fixed rate (a quarter of the saturated "off" throughput, over 4
   * connections), so the latency of a request is not the queue of a saturated machine. Each response's
   * latency counts for the state the ledger was in when it arrived.
   */
  readonly paced: {
    readonly requestsPerSec: number;
    readonly intervals: readonly SwitchedInterval[];
    readonly off: LatencySummary;
    readonly on: LatencySummary;
    readonly cpuOff: CpuPerRequest;
    readonly cpuOn: CpuPerRequest;
  };
  readonly check: LedgerCheck;
}

const difference = (after: number | undefined, before: number | undefined): number | undefined =>
  after === undefined || before === undefined ? undefined : after - before;

/** The paced run's rate, as a share of the saturated "off" throughput. */
const PACED_SHARE = 0.25;
/**
 * Connections of the paced run: few, because autocannon paces each connection on its own timer and 32
 * of them fire together, making bursts that queue (p50 about 5 ms at a quarter of capacity, off and on).
 */
const PACED_CONNECTIONS = 4;
/** Each cycle's states: a linear drift within a cycle weighs on both alike. */
const CYCLE = [false, true, true, false] as const;

export interface LedgerOptions {
  readonly cycles: number;
  readonly intervalSec: number;
  /** Seconds of load before the first interval. */
  readonly warmupSec: number;
  /** The saturated load's connections: a switch can find up to this many requests in flight. */
  readonly connections: number;
  /** Whether a local PostgreSQL server serves Parsec (its CPU is read). */
  readonly postgres: boolean;
}

/** Starts the master get: as fast as it is answered, or paced; `onResponse` sees every response. */
export type StartLoad = (pace: { readonly rate: number; readonly connections: number } | undefined, onResponse?: (statusCode: number, responseTimeMs: number) => void) => RunningLoad;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureLedger(label: string, child: ServerChild, startLoad: StartLoad, options: LedgerOptions): Promise<LedgerRun> {
  const problems: string[] = [];
  progress(`${label}: the privilege ledger switched every ${options.intervalSec} s, ${options.cycles} cycles of off, on, on, off, at saturation`);
  const saturated = await switchedRun(child, () => startLoad(undefined), options, options.connections);
  problems.push(...saturated.problems.map((problem) => `saturated: ${problem}`));
  const offIntervals = saturated.intervals.filter((interval) => !interval.on);
  const offRate = sumOf(offIntervals, 'requests') / Math.max(1e-9, sumOf(offIntervals, 'seconds'));
  const pacedRate = Math.max(1, Math.round(offRate * PACED_SHARE));
  progress(`${label}: the privilege ledger switched likewise at ${pacedRate} requests/s`);
  const latency = { off: new LatencyRecorder(), on: new LatencyRecorder() };
  // Undefined through the warm-up: its responses count for neither state.
  let pacedState: boolean | undefined;
  const paced = await switchedRun(
    child,
    () =>
      startLoad({ rate: pacedRate, connections: PACED_CONNECTIONS }, (statusCode, ms) => {
        if (pacedState !== undefined && statusCode >= 200 && statusCode < 300) latency[pacedState ? 'on' : 'off'].record(ms);
      }),
    options,
    PACED_CONNECTIONS,
    (on) => {
      pacedState = on;
    },
  );
  problems.push(...paced.problems.map((problem) => `paced: ${problem}`));
  const summary = (recorder: LatencyRecorder): LatencySummary => {
    const [p50 = Number.NaN, p99 = Number.NaN] = recorder.percentiles(50, 99);
    return { p50Ms: round(p50, 3), p99Ms: round(p99, 3), samples: recorder.size };
  };
  const inState = (intervals: readonly SwitchedInterval[], on: boolean) => intervals.filter((interval) => interval.on === on);
  return {
    intervalSec: options.intervalSec,
    intervals: saturated.intervals,
    cpuOff: cpuPerRequest(offIntervals),
    cpuOn: cpuPerRequest(inState(saturated.intervals, true)),
    paced: {
      requestsPerSec: pacedRate,
      intervals: paced.intervals,
      off: summary(latency.off),
      on: summary(latency.on),
      cpuOff: cpuPerRequest(inState(paced.intervals, false)),
      cpuOn: cpuPerRequest(inState(paced.intervals, true)),
    },
    check: { saturated: saturated.check, paced: paced.check, holds: problems.length === 0, ...(problems.length > 0 ? { problems } : {}) },
  };
}

/**
 * One continuous load, switched at every interval's end (see the top of this file); `onSwitched` hears each
 * new state as soon as it holds. `inFlight`: how many requests a switch can find in flight.
 */
async function switchedRun(
  child: ServerChild,
  startLoad: () => RunningLoad,
  options: LedgerOptions,
  inFlight: number,
  onSwitched: (on: boolean) => void = () => undefined,
): Promise<{ intervals: SwitchedInterval[]; check: SwitchedCheck; problems: string[] }> {
  // Off through the warm-up: every record written from here on is one the observer counted.
  await child.command('ledger', { on: false });
  const recordsBefore = await child.command<number>('ledgerRecords');
  const load = startLoad();
  const intervals: SwitchedInterval[] = [];
  let observed = 0;
  let finishedOn = 0;
  let loadResult: { errors: number; non2xx: number };
  try {
    await sleep(options.warmupSec * 1000);
    await child.command('switchedStart');
    type Cut = { readonly counters: SwitchSample; readonly at: number; readonly postgres: PostgresSample | undefined; readonly machine: number | undefined };
    const cut = async (on: boolean): Promise<Cut> => {
      const counters = await child.command<SwitchSample>('ledgerSwitch', { on });
      onSwitched(on);
      return { counters, at: performance.now(), postgres: options.postgres ? postgresSample() : undefined, machine: machineBusyMicros() };
    };
    const states = Array.from({ length: options.cycles }, () => CYCLE).flat();
    let previous = await cut(states[0] ?? false);
    for (const [index, on] of states.entries()) {
      await sleep(options.intervalSec * 1000);
      // The next interval's state; after the last, off (which writes what the last "on" buffered).
      const next = await cut(states[index + 1] ?? false);
      intervals.push({
        on,
        seconds: (next.at - previous.at) / 1000,
        requests: next.counters.finished - previous.counters.finished,
        parsecMicros: next.counters.cpuMicros - previous.counters.cpuMicros,
        postgresMicros: postgresMicrosBetween(previous.postgres, next.postgres),
        machineMicros: difference(next.machine, previous.machine),
      });
      if (on) finishedOn += next.counters.finishedAtSwitch - previous.counters.finished;
      previous = next;
    }
    // The last interval was off: nothing dispatched while on is still in flight.
    observed = previous.counters.observed;
    await child.command('switchedStop');
  } finally {
    loadResult = await load.stop();
  }
  await child.command('ledger', { on: true });
  const records = (await child.command<number>('ledgerRecords')) - recordsBefore;
  // At each switch some requests are in flight, dispatched under one state and finished under the other.
  const switches = intervals.filter((interval, i) => i > 0 && interval.on !== intervals[i - 1]?.on).length + 1;
  const slack = inFlight * switches;
  const problems: string[] = [];
  if (records !== observed) problems.push(`the ledger's observer was called ${observed} times, but ${records} record(s) were written`);
  if (Math.abs(observed - finishedOn) > slack) problems.push(`${finishedOn} responses finished while on, but the observer was called ${observed} times (more apart than the ${slack} in flight at the switches)`);
  if (loadResult.errors > 0 || loadResult.non2xx > 0) problems.push(`the load met ${loadResult.errors} errors and ${loadResult.non2xx} non-2xx responses`);
  return { intervals, check: { observed, records, finishedOn, loadErrors: loadResult.errors, loadNon2xx: loadResult.non2xx }, problems };
}

type Summable = 'requests' | 'parsecMicros' | 'seconds';

function sumOf<T extends Partial<Record<Summable, number>>>(items: readonly T[], key: Summable): number {
  return items.reduce((total, item) => total + (item[key] ?? 0), 0);
}

function optionalSum(items: readonly { readonly postgresMicros: number | undefined; readonly machineMicros: number | undefined }[], key: 'postgresMicros' | 'machineMicros'): number | undefined {
  let total = 0;
  for (const item of items) {
    const value = item[key];
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

function cpuPerRequest(items: readonly { readonly requests: number; readonly parsecMicros: number; readonly postgresMicros: number | undefined; readonly machineMicros: number | undefined }[]): CpuPerRequest {
  const requests = Math.max(1, sumOf(items, 'requests'));
  const per = (micros: number | undefined): number | undefined => (micros === undefined ? undefined : Math.round((micros / requests) * 10) / 10);
  return { parsec: per(sumOf(items, 'parsecMicros')) ?? 0, postgres: per(optionalSum(items, 'postgresMicros')), machine: per(optionalSum(items, 'machineMicros')) };
}
