/**
 * The privilege ledger's cost (issue #6: recording a privileged request must not slow it by more than a few
 * percent). One and the same master-key `get` in Parsec's child, with the ledger switched off (the router
 * dispatches without its observer: nothing is recorded or written) and on (as Parsec runs), in the order
 * off, on, on, off: a change of the machine's load during the four windows (the machine is shared) weighs
 * on both states alike, so the ratio is steadier than one window each would give. The correctness guard:
 * every request the server received while the ledger was on left exactly one row in `_PrivilegeLedger`,
 * and none while it was off, so "on" cannot look cheap by not writing.
 */
import type { ServerChild } from './child.ts';
import type { HttpMeasurement } from './http-load.ts';
import { progress } from './progress.ts';

export interface LedgerCheck {
  /** HTTP requests Parsec received in each state (both windows, warm-ups included), counted by its HTTP server. */
  readonly requestsOff: number;
  readonly requestsOn: number;
  /** Rows `_PrivilegeLedger` gained in each state, counted in SQL after the ledger's buffer was flushed. */
  readonly recordsOff: number;
  readonly recordsOn: number;
  /** recordsOff = 0 and recordsOn = requestsOn; otherwise `problems` says what differs, and the run fails. */
  readonly holds: boolean;
  readonly problems?: readonly string[];
}

export interface LedgerRun {
  /** The two windows of each state, in the order measured (off first and last, on between). */
  readonly off: readonly [HttpMeasurement, HttpMeasurement];
  readonly on: readonly [HttpMeasurement, HttpMeasurement];
  readonly check: LedgerCheck;
}

interface Window {
  readonly measured: HttpMeasurement;
  readonly requests: number;
  readonly records: number;
}

/** `measure` runs the master get under load (warm-up and measured window) and returns the measurement. */
export async function measureLedger(label: string, child: ServerChild, measure: () => Promise<HttpMeasurement>): Promise<LedgerRun> {
  const window = async (on: boolean): Promise<Window> => {
    progress(`${label}: the privilege ledger ${on ? 'on' : 'off'}`);
    await child.command('ledger', { on });
    const before = await child.command<number>('ledgerRecords');
    await child.command('requestCountStart');
    const measured = await measure();
    // Waits until every request received has been answered (autocannon abandons those in flight at the end).
    const requests = await child.command<number>('requestCountStop');
    const records = (await child.command<number>('ledgerRecords')) - before;
    return { measured, requests, records };
  };
  const off1 = await window(false);
  const on1 = await window(true);
  const on2 = await window(true);
  const off2 = await window(false);
  const sum = (windows: readonly Window[], key: 'requests' | 'records'): number => windows.reduce((total, w) => total + w[key], 0);
  const [requestsOff, recordsOff, requestsOn, recordsOn] = [sum([off1, off2], 'requests'), sum([off1, off2], 'records'), sum([on1, on2], 'requests'), sum([on1, on2], 'records')];
  const problems: string[] = [];
  if (recordsOff !== 0) problems.push(`the ledger was off, yet ${recordsOff} record(s) were written`);
  if (recordsOn !== requestsOn) problems.push(`${requestsOn} master-key requests were received with the ledger on, but ${recordsOn} record(s) were written`);
  const check: LedgerCheck = { requestsOff, requestsOn, recordsOff, recordsOn, holds: problems.length === 0, ...(problems.length > 0 ? { problems } : {}) };
  return { off: [off1.measured, off2.measured], on: [on1.measured, on2.measured], check };
}
