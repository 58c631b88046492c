/**
 * The bench child's switch for the privilege ledger (ledger-check.ts): off is the router dispatching without
 * the ledger's observer (nothing recorded or written), on is the observer Parsec installed. While a switched
 * run counts, every response the server finishes and every call of the observer is counted, and each switch
 * returns those counts with the process's CPU time, so the parent can cut one continuous load into
 * intervals of either state.
 */
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { DispatchObserver, Router } from '../src/http/router.ts';
import type { PrivilegeLedger } from '../src/security/ledger.ts';

/** The counters at one switch. */
export interface SwitchSample {
  /** Responses finished since the switched run began. */
  readonly finished: number;
  /**
   * `finished` when the observer was switched: less than `finished` when switching off wrote the buffer,
   * because responses keep finishing (dispatched without the observer) while that write runs.
   */
  readonly finishedAtSwitch: number;
  /** Calls of the ledger's observer since the switched run began: one record each in this bench's load. */
  readonly observed: number;
  /** This process's CPU time (user + system), µs. */
  readonly cpuMicros: number;
}

export class LedgerSwitch {
  private readonly observer: DispatchObserver;
  private on = true;
  private counting: { finished: number; observed: number; stop: () => void } | undefined;

  constructor(
    private readonly router: Router,
    private readonly ledger: PrivilegeLedger,
    private readonly server: Server,
  ) {
    const installed = router.observe(undefined);
    if (installed === undefined) throw new Error('the privilege ledger is not installed');
    // Counting the calls costs both states nothing: off, the observer is not called at all.
    this.observer = (dispatched) => {
      if (this.counting !== undefined) this.counting.observed += 1;
      installed(dispatched);
    };
    router.observe(this.observer);
  }

  /** Switches without counting (between runs); a request keeps the observer it was dispatched with. */
  set(on: boolean): void {
    this.on = on;
    this.router.observe(on ? this.observer : undefined);
  }

  /** Starts counting finished responses and observer calls. */
  startCounting(): void {
    if (this.counting !== undefined) throw new Error('the switched run is already counting');
    const onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
      response.once('finish', () => {
        if (counting === this.counting) counting.finished += 1;
      });
    };
    this.server.on('request', onRequest);
    const counting = { finished: 0, observed: 0, stop: () => this.server.off('request', onRequest) };
    this.counting = counting;
  }

  /**
   * Switches to `on` and returns the counters. Switching off first writes what was buffered, so the interval
   * that ends here pays for every record made in it.
   */
  async switchTo(on: boolean): Promise<SwitchSample> {
    if (this.counting === undefined) throw new Error('the switched run is not counting');
    const counting = this.counting;
    const writes = this.on && !on;
    this.set(on);
    const finishedAtSwitch = counting.finished;
    if (writes) await this.ledger.flush();
    const cpu = process.cpuUsage();
    return { finished: counting.finished, finishedAtSwitch, observed: counting.observed, cpuMicros: cpu.user + cpu.system };
  }

  stopCounting(): void {
    this.counting?.stop();
    this.counting = undefined;
  }
}
