/**
 * The privilege ledger's cost (issue #6: recording a privileged request must not slow it by more than a few
 * percent). One and the same master-key `get` in Parsec's child, with the ledger switched off (the router
 * dispatches without its observer: nothing is recorded or written) and on (as Parsec runs).
 *
 * Under saturation, as a switched run: one continuous load, cut into intervals of a couple of seconds, the
 * ledger switched at each cut in cycles of off, on, on, off; each interval's throughput and CPU are read from
 * the server's own counters (responses finished, CPU time) at the cuts, and switching off first writes what
 * the interval buffered, so an "on" interval pays for every record made in it. On this shared two-core
 * machine throughput drifts by 10-30 % within a minute with nothing changed: windows measured one after
 * another, each with its own warm-up, compared a drift as much as the ledger (cycle ratios from 0.67 to 1.17
 * in one run); many short intervals of one load, alternating, weigh a drift on both states alike. Reported
 * beside the ratio: the CPU each request cost in each state (Parsec's process, the local PostgreSQL server's,
 * the whole machine's), the cost itself rather than its shadow on throughput.
 *
 * Then one cycle of separate windows at a quarter of the "off" throughput, for the latency of a request with
 * and without its record when the machine has room.
 *
 * The correctness guard: in the switched run the ledger wrote exactly one row per call of its observer, and
 * those calls match the responses finished in "on" intervals (within the requests in flight at a switch);
 * in the paced windows every request received while on left exactly one row and none while off. So "on"
 * cannot look cheap by not writing.
 */
import type { ServerChild } from './child.ts';
import { machineBusyMicros, postgresMicrosBetween, postgresSample, type PostgresSample } from './cpu-sample.ts';
import type { HttpMeasurement, RunningLoad } from './http-load.ts';
import type { SwitchSample } from './ledger-switch.ts';
import { progress } from './progress.ts';

export interface LedgerCheck {
  /** The switched run: calls of the ledger's observer, rows `_PrivilegeLedger` gained, responses finished while on. */
  readonly switched: { readonly observed: number; readonly records: number; readonly finishedOn: number; readonly loadErrors: number; readonly loadNon2xx: number };
  /** The paced windows: HTTP requests Parsec received in each state, counted by its HTTP server. */
  readonly requestsOff: number;
  readonly requestsOn: number;
  /** Rows `_PrivilegeLedger` gained in each paced state, counted in SQL after the ledger's buffer was flushed. */
  readonly recordsOff: number;
  readonly recordsOn: number;
  /** All of the above as they should be; otherwise `problems` says what differs, and the run fails. */
  readonly holds: boolean;
  readonly problems?: readonly string[];
}

/** CPU per request received (warm-ups included) in one state, in microseconds; undefined: not measured here. */
export interface CpuPerRequest {
  readonly parsec: number;
  /** The PostgreSQL server's processes (not measured on PGlite, which runs inside Parsec's process). */
  readonly postgres: number | undefined;
  /** Every process on the machine, the load generator included. */
  readonly machine: number | undefined;
}

/** One interval of the switched run. */
export interface SwitchedInterval {
  readonly on: boolean;
  readonly seconds: number;
  /** Responses the server finished in it. */
  readonly requests: number;
  readonly parsecMicros: number;
  readonly postgresMicros: number | undefined;
  readonly machineMicros: number | undefined;
}

export interface LedgerRun {
  /** The switched run, in the order measured: cycle i is intervals 4i to 4i + 3 (off, on, on, off). */
  readonly switched: { readonly intervalSec: number; readonly intervals: readonly SwitchedInterval[] };
  readonly cpuOff: CpuPerRequest;
  readonly cpuOn: CpuPerRequest;
  /**
   * The question the issue asks of one request — is it slower for being recorded? — asked where it can be
   * answered: at a fixed rate (a quarter of the "off" throughput), off, on, on, off, so the latency of a request is
   * not the queue of a saturated machine.
   */
  readonly paced: { readonly requestsPerSec: number; readonly off: readonly HttpMeasurement[]; readonly on: readonly HttpMeasurement[]; readonly cpuOff: CpuPerRequest; readonly cpuOn: CpuPerRequest };
  readonly check: LedgerCheck;
}

interface Window {
  readonly measured: HttpMeasurement;
  readonly requests: number;
  readonly records: number;
  readonly parsecMicros: number;
  readonly postgresMicros: number | undefined;
  readonly machineMicros: number | undefined;
}

const difference = (after: number | undefined, before: number | undefined): number | undefined =>
  after === undefined || before === undefined ? undefined : after - before;

/** The paced windows' rate, as a share of the "off" throughput. */
const PACED_SHARE = 0.25;
/**
 * Connections of the paced windows: few, because autocannon paces each connection on its own timer and 32
 * of them fire together, making bursts that queue (p50 about 5 ms at a quarter of capacity, off and on).
 */
const PACED_CONNECTIONS = 4;
/** Each cycle's states: a linear drift within a cycle weighs on both alike. */
const CYCLE = [false, true, true, false] as const;

/** A paced window: `rate` requests a second in all over `connections`. */
export interface Pace {
  readonly rate: number;
  readonly connections: number;
}

export interface LedgerOptions {
  readonly cycles: number;
  readonly intervalSec: number;
  /** Seconds of load before the first interval. */
  readonly warmupSec: number;
  /** The load's connections: a switch can find up to this many requests in flight. */
  readonly connections: number;
  /** Whether a local PostgreSQL server serves Parsec (its CPU is read). */
  readonly postgres: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `startLoad` starts the master get as fast as it is answered, until stopped; `measurePaced` runs it at a
 * paced rate (warm-up and measured window) and returns the measurement.
 */
export async function measureLedger(
  label: string,
  child: ServerChild,
  startLoad: () => RunningLoad,
  measurePaced: (pace: Pace) => Promise<HttpMeasurement>,
  options: LedgerOptions,
): Promise<LedgerRun> {
  const problems: string[] = [];
  const switched = await switchedRun(label, child, startLoad, options, problems);
  const offIntervals = switched.intervals.filter((interval) => !interval.on);
  const offRate = sumOf(offIntervals, 'requests') / Math.max(1e-9, sumOf(offIntervals, 'seconds'));
  const pacedRate = Math.max(1, Math.round(offRate * PACED_SHARE));
  const window = async (on: boolean): Promise<Window> => {
    progress(`${label}: the privilege ledger ${on ? 'on' : 'off'} at ${pacedRate} requests/s`);
    await child.command('ledger', { on });
    const before = await child.command<number>('ledgerRecords');
    const parsecBefore = (await child.stats()).cpuMicros;
    const postgresBefore = options.postgres ? postgresSample() : undefined;
    const machineBefore = machineBusyMicros();
    await child.command('requestCountStart');
    const measured = await measurePaced({ rate: pacedRate, connections: PACED_CONNECTIONS });
    // Waits until every request received has been answered (autocannon abandons those in flight at the end).
    const requests = await child.command<number>('requestCountStop');
    const parsecMicros = (await child.stats()).cpuMicros - parsecBefore;
    const postgres = postgresMicrosBetween(postgresBefore, options.postgres ? postgresSample() : undefined);
    const machine = difference(machineBusyMicros(), machineBefore);
    // After the CPU readings: the flush writes what "on" buffered, and is charged to no window (the guard's
    // count(*) would be charged to whichever came last).
    const records = (await child.command<number>('ledgerRecords')) - before;
    return { measured, requests, records, parsecMicros, postgresMicros: postgres, machineMicros: machine };
  };
  const paced: Window[] = [];
  for (const on of CYCLE) paced.push(await window(on));
  const pacedOff = paced.filter((_, i) => !CYCLE[i]);
  const pacedOn = paced.filter((_, i) => CYCLE[i]);
  const [requestsOff, recordsOff, requestsOn, recordsOn] = [sumOf(pacedOff, 'requests'), sumOf(pacedOff, 'records'), sumOf(pacedOn, 'requests'), sumOf(pacedOn, 'records')];
  if (recordsOff !== 0) problems.push(`paced: the ledger was off, yet ${recordsOff} record(s) were written`);
  if (recordsOn !== requestsOn) problems.push(`paced: ${requestsOn} master-key requests were received with the ledger on, but ${recordsOn} record(s) were written`);
  const check: LedgerCheck = { switched: switched.check, requestsOff, requestsOn, recordsOff, recordsOn, holds: problems.length === 0, ...(problems.length > 0 ? { problems } : {}) };
  return {
    switched: { intervalSec: options.intervalSec, intervals: switched.intervals },
    cpuOff: cpuPerRequest(offIntervals),
    cpuOn: cpuPerRequest(switched.intervals.filter((interval) => interval.on)),
    paced: { requestsPerSec: pacedRate, off: pacedOff.map((w) => w.measured), on: pacedOn.map((w) => w.measured), cpuOff: cpuPerRequest(pacedOff), cpuOn: cpuPerRequest(pacedOn) },
    check,
  };
}

/** One continuous load, switched at every interval's end (see the top of this file). */
async function switchedRun(
  label: string,
  child: ServerChild,
  startLoad: () => RunningLoad,
  options: LedgerOptions,
  problems: string[],
): Promise<{ intervals: SwitchedInterval[]; check: LedgerCheck['switched'] }> {
  progress(`${label}: the privilege ledger switched every ${options.intervalSec} s, ${options.cycles} cycles of off, on, on, off`);
  // Off through the warm-up: every record written from here on is one the observer counted.
  await child.command('ledger', { on: false });
  const recordsBefore = await child.command<number>('ledgerRecords');
  const load = startLoad();
  const intervals: SwitchedInterval[] = [];
  let observed = 0;
  let loadResult: { errors: number; non2xx: number };
  try {
    await sleep(options.warmupSec * 1000);
    await child.command('switchedStart');
    type Cut = { readonly counters: SwitchSample; readonly at: number; readonly postgres: PostgresSample | undefined; readonly machine: number | undefined };
    const cut = async (on: boolean): Promise<Cut> => {
      const counters = await child.command<SwitchSample>('ledgerSwitch', { on });
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
  const finishedOn = sumOf(intervals.filter((interval) => interval.on), 'requests');
  // At each switch up to `connections` requests are in flight, dispatched under one state and finished under the other.
  const switches = intervals.filter((interval, i) => i > 0 && interval.on !== intervals[i - 1]?.on).length + 1;
  const slack = options.connections * switches;
  if (records !== observed) problems.push(`switched: the ledger's observer was called ${observed} times, but ${records} record(s) were written`);
  if (Math.abs(observed - finishedOn) > slack) problems.push(`switched: ${finishedOn} responses finished while on, but the observer was called ${observed} times (more apart than the ${slack} in flight at the switches)`);
  if (loadResult.errors > 0 || loadResult.non2xx > 0) problems.push(`switched: the load met ${loadResult.errors} errors and ${loadResult.non2xx} non-2xx responses`);
  return { intervals, check: { observed, records, finishedOn, loadErrors: loadResult.errors, loadNon2xx: loadResult.non2xx } };
}

type Summable = 'requests' | 'records' | 'parsecMicros' | 'seconds';

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
