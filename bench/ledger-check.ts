/**
 * The privilege ledger's cost (issue #6: recording a privileged request must not slow it by more than a few
 * percent). One and the same master-key `get` in Parsec's child, with the ledger switched off (the router
 * dispatches without its observer: nothing is recorded or written) and on (as Parsec runs), in cycles of
 * off, on, on, off. On this shared two-core machine one window's throughput differs from the next by up to
 * 10 % with nothing changed, and it drifts over a run; a cycle weighs a drift on both states alike, and
 * several short cycles average out what one long window each would leave to chance. Reported beside the
 * ratio: the CPU each request cost in each state (Parsec's process, the local PostgreSQL server's, the
 * whole machine's), the cost itself rather than its shadow on throughput. Then one more cycle at a quarter of
 * the "off" throughput, for the latency of a request with and without its record when the machine has room.
 *
 * The correctness guard: every request the server received while the ledger was on left exactly one row in
 * `_PrivilegeLedger`, and none while it was off, so "on" cannot look cheap by not writing.
 */
import type { ServerChild } from './child.ts';
import { machineBusyMicros, postgresMicrosBetween, postgresSample } from './cpu-sample.ts';
import type { HttpMeasurement } from './http-load.ts';
import { progress } from './progress.ts';

export interface LedgerCheck {
  /** HTTP requests Parsec received in each state (all windows, warm-ups included), counted by its HTTP server. */
  readonly requestsOff: number;
  readonly requestsOn: number;
  /** Rows `_PrivilegeLedger` gained in each state, counted in SQL after the ledger's buffer was flushed. */
  readonly recordsOff: number;
  readonly recordsOn: number;
  /** recordsOff = 0 and recordsOn = requestsOn; otherwise `problems` says what differs, and the run fails. */
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

export interface LedgerRun {
  /** The windows of each state, in the order measured. */
  readonly off: readonly HttpMeasurement[];
  readonly on: readonly HttpMeasurement[];
  /**
   * The question the issue asks of one request — is it slower for being recorded? — asked where it can be
   * answered: at a fixed rate (a quarter of the "off" throughput), off, on, on, off, so the latency of a request is
   * not the queue of a saturated machine.
   */
  readonly paced: { readonly requestsPerSec: number; readonly off: readonly HttpMeasurement[]; readonly on: readonly HttpMeasurement[] };
  readonly cpuOff: CpuPerRequest;
  readonly cpuOn: CpuPerRequest;
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

/** The paced windows' rate, as a share of the mean "off" throughput. */
const PACED_SHARE = 0.25;
/**
 * Connections of the paced windows: few, because autocannon paces each connection on its own timer and 32
 * of them fire together, making bursts that queue (p50 about 5 ms at a quarter of capacity, off and on).
 */
const PACED_CONNECTIONS = 4;

/** A paced window: `rate` requests a second in all over `connections`. */
export interface Pace {
  readonly rate: number;
  readonly connections: number;
}

/**
 * `measure` runs the master get under load (warm-up and measured window; paced when given, else as fast as
 * it is answered) and returns the measurement;
 * `cycles` of off, on, on, off; `postgres`: whether a local PostgreSQL server serves Parsec (its CPU is read).
 */
export async function measureLedger(
  label: string,
  child: ServerChild,
  measure: (pace?: Pace) => Promise<HttpMeasurement>,
  options: { readonly cycles: number; readonly postgres: boolean },
): Promise<LedgerRun> {
  const window = async (on: boolean, rate?: number): Promise<Window> => {
    progress(`${label}: the privilege ledger ${on ? 'on' : 'off'}${rate === undefined ? '' : ` at ${rate} requests/s`}`);
    await child.command('ledger', { on });
    const before = await child.command<number>('ledgerRecords');
    const parsecBefore = (await child.stats()).cpuMicros;
    const postgresBefore = options.postgres ? postgresSample() : undefined;
    const machineBefore = machineBusyMicros();
    await child.command('requestCountStart');
    const measured = await measure(rate === undefined ? undefined : { rate, connections: PACED_CONNECTIONS });
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
  const offWindows: Window[] = [];
  const onWindows: Window[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    offWindows.push(await window(false));
    onWindows.push(await window(true), await window(true));
    offWindows.push(await window(false));
  }
  const pacedRate = Math.max(1, Math.round((offWindows.reduce((sum, w) => sum + w.measured.requestsPerSec, 0) / offWindows.length) * PACED_SHARE));
  const paced = [await window(false, pacedRate), await window(true, pacedRate), await window(true, pacedRate), await window(false, pacedRate)];
  const pacedOff = [paced[0], paced[3]].filter((w): w is Window => w !== undefined);
  const pacedOn = [paced[1], paced[2]].filter((w): w is Window => w !== undefined);
  const guarded = { off: [...offWindows, ...pacedOff], on: [...onWindows, ...pacedOn] };
  const problems: string[] = [];
  const [requestsOff, recordsOff, requestsOn, recordsOn] = [sum(guarded.off, 'requests'), sum(guarded.off, 'records'), sum(guarded.on, 'requests'), sum(guarded.on, 'records')];
  if (recordsOff !== 0) problems.push(`the ledger was off, yet ${recordsOff} record(s) were written`);
  if (recordsOn !== requestsOn) problems.push(`${requestsOn} master-key requests were received with the ledger on, but ${recordsOn} record(s) were written`);
  const check: LedgerCheck = { requestsOff, requestsOn, recordsOff, recordsOn, holds: problems.length === 0, ...(problems.length > 0 ? { problems } : {}) };
  return {
    off: offWindows.map((w) => w.measured),
    on: onWindows.map((w) => w.measured),
    paced: { requestsPerSec: pacedRate, off: pacedOff.map((w) => w.measured), on: pacedOn.map((w) => w.measured) },
    cpuOff: cpuPerRequest(offWindows),
    cpuOn: cpuPerRequest(onWindows),
    check,
  };
}

function sum(windows: readonly Window[], key: 'requests' | 'records' | 'parsecMicros'): number {
  return windows.reduce((total, w) => total + w[key], 0);
}

function optionalSum(windows: readonly Window[], key: 'postgresMicros' | 'machineMicros'): number | undefined {
  let total = 0;
  for (const w of windows) {
    const value = w[key];
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

function cpuPerRequest(windows: readonly Window[]): CpuPerRequest {
  const requests = Math.max(1, sum(windows, 'requests'));
  const per = (micros: number | undefined): number | undefined => (micros === undefined ? undefined : Math.round((micros / requests) * 10) / 10);
  return { parsec: per(sum(windows, 'parsecMicros')) ?? 0, postgres: per(optionalSum(windows, 'postgresMicros')), machine: per(optionalSum(windows, 'machineMicros')) };
}
