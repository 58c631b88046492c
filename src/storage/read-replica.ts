/**
 * Read-replica routing (`readReplicaURI`): a client's reads may be served by a PostgreSQL streaming
 * replica, which lags the primary by a little. Two rules keep that invisible to clients:
 *
 * - **Read your own writes.** After a caller writes, the primary's WAL position is noted under the caller's
 *   keys; that caller's reads go to the replica only once the replica has replayed up to it.
 * - **Bounded staleness for everybody.** Each node polls the primary's position and the replica's replay
 *   position (every 50 ms) and knows how long ago the replica last held everything the primary had. Beyond
 *   `readReplicaMaxLagMs`, or while the replica is unreachable, every read goes to the primary, and routing
 *   returns by itself when the replica catches up. A read the replica fails for replica reasons (connection
 *   lost, recovery conflict, a table it has not replayed yet) is run again on the primary: a replica never
 *   costs a client an error or a hang.
 *
 * Which statements may go to the replica is decided by the caller of `executorFor` (client finds, counts,
 * includes and aggregates outside a transaction), never guessed from SQL text.
 */
import type { Driver, QueryResult, SqlExecutor } from './driver.ts';
import { sqlState } from './driver.ts';
import { openPostgresReplica, type ReplicaPool } from './drivers/postgres.ts';
import { parseWalPosition, type WalPosition } from './wal-position.ts';
import { withTimeout } from './with-timeout.ts';

export interface ReplicaLog {
  warn(message: string): void;
  info(message: string): void;
}

export interface ReadReplicaOptions {
  readonly uri: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly maxLagMs: number;
}

/** What `/ready` and the logs say about the replica. */
export type ReplicaState = 'ok' | 'lagging' | 'unreachable' | 'not a replica';

/** Statements of client reads each side ran, and how many replica reads were rerun on the primary (tests, bench). */
export interface ReadCounts {
  replica: number;
  primary: number;
  rerunOnPrimary: number;
}

export const POLL_MS = 50;
const POLL_TIMEOUT_MS = 1_000;
const POLL_BACKOFF_MAX_MS = 1_000;
/** Positions of callers whose writes the replica has not replayed yet; beyond it, the oldest become a floor. */
const MAX_TRACKED_CALLERS = 100_000;
/** Primary positions remembered to measure the lag; a replica further behind than these is lagging anyway. */
const MAX_SAMPLES = 1_000;

/**
 * Where the primary has written its log to: after a commit returns (synchronous_commit on, the default) its
 * commit record is flushed, so this covers it. Not the insert position, which can run ahead of what may be
 * sent to replicas (other sessions' unflushed records) and would keep writers on the primary for nothing.
 */
const PRIMARY_POSITION = 'SELECT pg_current_wal_lsn()::text AS lsn';
const REPLAY_POSITION = 'SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS lsn';

/**
 * A Node system error's code (`ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `ETIMEDOUT`…), which `sqlState` passes
 * on like a SQLSTATE: no SQLSTATE class begins with E.
 */
const SYSTEM_ERROR = /^E[A-Z]+$/;

/** Errors that say the replica (not the statement) failed: the read is run on the primary instead. */
export function isReplicaFailure(error: unknown): { readonly lost: boolean } | undefined {
  const state = sqlState(error);
  // No SQLSTATE: the network (refused, reset, timed out connecting or waiting for the answer).
  if (state === undefined || SYSTEM_ERROR.test(state)) return { lost: true };
  if (state.startsWith('08') || state.startsWith('53') || ['57P01', '57P02', '57P03', '57P04', '3D000'].includes(state)) return { lost: true };
  // Recovery conflicts cancel replica reads (40001, 40P01); a class or field created a moment ago may not be
  // replayed yet (42P01, 42703); a replica refuses writes (25006), which a read should never be.
  if (['40001', '40P01', '42P01', '42703', '25006'].includes(state)) return { lost: false };
  return undefined;
}

export class ReadReplica {
  readonly counts: ReadCounts = { replica: 0, primary: 0, rerunOnPrimary: 0 };
  private readonly pool: ReplicaPool;
  private readonly replicaReads: SqlExecutor;
  /** The primary, counted: where client reads go when the replica may not serve them. */
  readonly primaryReads: SqlExecutor;
  /** Each caller key's last write position not yet replayed by the replica. */
  private readonly positions = new Map<string, WalPosition>();
  /** Keys whose write position could not be read: they wait for a primary position sampled after `since`. */
  private readonly pending = new Map<string, number>();
  /** Every read waits for this position (callers evicted from `positions`, or messages missed). */
  private floor: WalPosition = 0n;
  /** Set when this node may have missed other nodes' positions: no replica read until a fresh sample. */
  private floorPendingSince: number | undefined;
  private readonly samples: { readonly at: number; readonly position: WalPosition }[] = [];
  private replayed: WalPosition | undefined;
  /** When the replica last held everything the primary had (the time of that primary sample). */
  private caughtUpAt: number | undefined;
  private reachable = false;
  private inRecovery = true;
  private lastState: ReplicaState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  /** Reads waiting on the replica: when it is found unreachable they give up and go to the primary. */
  private readonly waiting = new Set<() => void>();

  private constructor(
    readonly primary: Driver,
    private readonly options: ReadReplicaOptions,
    private readonly log: ReplicaLog,
  ) {
    this.pool = openPostgresReplica(options.uri, options.poolSize, options.statementTimeoutMs);
    this.replicaReads = { query: (sql, params) => this.readOnReplica(sql, params) };
    this.primaryReads = {
      query: (sql, params) => {
        this.counts.primary++;
        return this.primary.query(sql, params);
      },
    };
  }

  /**
   * Opens the pool and starts polling. Never fails because the replica is down: reads simply go to the
   * primary until it answers (the first poll decides).
   */
  static open(primary: Driver, options: ReadReplicaOptions, log: ReplicaLog): ReadReplica {
    const replica = new ReadReplica(primary, options, log);
    replica.schedule(0);
    return replica;
  }

  /**
   * Where a read by a caller known by `keys` goes: the replica when it is healthy and has replayed every
   * write those keys made (and the floor), else the primary.
   */
  executorFor(keys: readonly string[]): SqlExecutor {
    return this.mayRead(keys) ? this.replicaReads : this.primaryReads;
  }

  /** The primary's current WAL position: read right after a write commits, it covers that write. */
  async primaryPosition(): Promise<WalPosition> {
    const { rows } = await this.primary.query<{ lsn: string }>(PRIMARY_POSITION);
    const position = parseWalPosition(rows[0]?.lsn);
    if (position === undefined) throw new Error('the primary did not report its WAL position');
    return position;
  }

  /** These callers wrote up to `position` (here, or on another node): their reads wait for the replica to reach it. */
  noteWrite(keys: readonly string[], position: WalPosition): void {
    for (const key of keys) {
      const known = this.positions.get(key);
      if (known !== undefined && known >= position) continue;
      // Deleted first so the map stays in order of last write, and eviction takes the oldest.
      this.positions.delete(key);
      this.positions.set(key, position);
    }
    if (this.positions.size > MAX_TRACKED_CALLERS) this.evictOldest();
  }

  /** These callers wrote, but their position is unknown (the primary did not answer): primary until a later sample. */
  noteUnknownWrite(keys: readonly string[]): void {
    const now = Date.now();
    for (const key of keys) this.pending.set(key, now);
  }

  /** This node may have missed other nodes' write positions: no replica read until it has replayed what the primary has now. */
  distrustUntilCaughtUp(): void {
    this.floorPendingSince = Date.now();
  }

  /** Logs the replica's state at the next poll even if unchanged (once the node's logger is wired). */
  announce(): void {
    this.lastState = undefined;
  }

  get state(): ReplicaState {
    if (!this.reachable) return 'unreachable';
    if (!this.inRecovery) return 'not a replica';
    return this.caughtUpAt !== undefined && Date.now() - this.caughtUpAt <= this.options.maxLagMs ? 'ok' : 'lagging';
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.pool.close().catch(() => undefined);
  }

  private mayRead(keys: readonly string[]): boolean {
    const replayed = this.replayed;
    if (replayed === undefined || this.state !== 'ok' || this.floorPendingSince !== undefined || replayed < this.floor) return false;
    for (const key of keys) {
      if (this.pending.has(key)) return false;
      const position = this.positions.get(key);
      if (position !== undefined && replayed < position) return false;
    }
    return true;
  }

  /**
   * A read on the replica, run again on the primary when the replica fails it for its own reasons, or when
   * the poller finds the replica gone while the read waits (a network that swallows packets would otherwise
   * hold it until the client-side timeout).
   */
  private async readOnReplica<Row>(sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<Row>> {
    const abandon = signal();
    this.waiting.add(abandon.resolve);
    const outcome = await this.pool.query<Row>(sql, params, abandon.promise).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    this.waiting.delete(abandon.resolve);
    if ('result' in outcome) {
      this.counts.replica++;
      return outcome.result;
    }
    const failure = isReplicaFailure(outcome.error);
    if (failure === undefined) throw outcome.error;
    if (failure.lost) this.unreachable(outcome.error);
    this.counts.rerunOnPrimary++;
    return this.primaryReads.query<Row>(sql, params);
  }

  private unreachable(error: unknown): void {
    this.reachable = false;
    for (const giveUp of this.waiting) giveUp();
    this.waiting.clear();
    this.report(error);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.poll().then(
        () => {
          this.failures = 0;
          this.schedule(POLL_MS);
        },
        (error: unknown) => {
          this.failures++;
          this.unreachable(error);
          this.schedule(Math.min(POLL_MS * 2 ** this.failures, POLL_BACKOFF_MAX_MS));
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One sample: the primary's position first, then the replica's, so a replica at that position was at most this old. */
  private async poll(): Promise<void> {
    const at = Date.now();
    const primary = await withTimeout(this.primaryPosition(), POLL_TIMEOUT_MS, `no answer within ${POLL_TIMEOUT_MS} ms`);
    this.addSample(at, primary);
    const { rows } = await this.pool.probe<{ recovery: boolean; lsn: string | null }>(REPLAY_POSITION);
    const row = rows[0];
    this.reachable = true;
    this.inRecovery = row?.recovery === true;
    const replayed = parseWalPosition(row?.lsn);
    if (!this.inRecovery || replayed === undefined) {
      this.replayed = undefined;
      this.report(undefined);
      return;
    }
    this.replayed = replayed;
    this.advance(replayed);
    this.resolvePending(at, primary);
    this.report(undefined);
  }

  private addSample(at: number, position: WalPosition): void {
    this.samples.push({ at, position });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** The replica holds everything the primary had at the newest sample at or below its replay position. */
  private advance(replayed: WalPosition): void {
    let index = -1;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if ((this.samples[i] as { position: WalPosition }).position <= replayed) {
        index = i;
        break;
      }
    }
    if (index >= 0) {
      const at = (this.samples[index] as { at: number }).at;
      if (this.caughtUpAt === undefined || at > this.caughtUpAt) this.caughtUpAt = at;
      // Older samples can never matter again: the replay position only moves forward.
      this.samples.splice(0, index);
    }
    for (const [key, position] of this.positions) if (position <= replayed) this.positions.delete(key);
  }

  /** Writes whose position was unknown, and a distrusted node, get the primary's position sampled after them. */
  private resolvePending(at: number, primary: WalPosition): void {
    for (const [key, since] of this.pending) {
      if (at <= since) continue;
      this.pending.delete(key);
      this.noteWrite([key], primary);
    }
    if (this.floorPendingSince !== undefined && at > this.floorPendingSince) {
      this.floorPendingSince = undefined;
      if (primary > this.floor) this.floor = primary;
    }
  }

  private evictOldest(): void {
    for (const [key, position] of this.positions) {
      if (this.positions.size <= MAX_TRACKED_CALLERS) break;
      this.positions.delete(key);
      if (position > this.floor) this.floor = position;
    }
  }

  /** Logs each change of state once: the node says when it stops and starts using the replica. */
  private report(error: unknown): void {
    const state = this.state;
    if (state === this.lastState) return;
    const first = this.lastState === undefined;
    this.lastState = state;
    const reason = error instanceof Error ? ` (${error.message})` : '';
    switch (state) {
      case 'ok':
        this.log.info(first ? 'read replica is in use for client reads' : 'read replica caught up: client reads use it again');
        return;
      case 'lagging':
        this.log.warn(`read replica lags more than ${this.options.maxLagMs} ms: client reads go to the primary until it catches up`);
        return;
      case 'unreachable':
        this.log.warn(`read replica is unreachable${reason}: client reads go to the primary until it answers`);
        return;
      case 'not a replica':
        this.log.warn('readReplicaURI names a server that is not in recovery (not a streaming replica): client reads go to the primary');
        return;
    }
  }
}

function signal(): { readonly promise: Promise<void>; readonly resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

