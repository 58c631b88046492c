/**
 * Read-your-own-writes across a cluster with a read replica. A caller's write is noted on the node that
 * made it and sent to the others through the invalidation channel, so a caller who writes on node A and
 * reads on node B is also sent to the primary until the replica has the write. The message leaves after
 * the write committed and before its response, and reaches B within milliseconds; a client whose next
 * request reaches B sooner than that can still read the replica's older state (sticky sessions close that
 * window; docs/deployment.md says so).
 */
import type { ParsecConfig } from '../config/types.ts';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import { ReadReplica, type ReplicaLog } from '../storage/read-replica.ts';
import { formatWalPosition, parseWalPosition } from '../storage/wal-position.ts';
import type { InvalidationBus } from './invalidation.ts';

const DEFAULT_MAX_LAG_MS = 1_000;

export class ReadRouting {
  constructor(
    readonly replica: ReadReplica,
    private readonly bus: InvalidationBus,
  ) {
    bus.subscribe({
      apply: (event) => {
        if (event.kind !== 'written') return;
        const position = parseWalPosition(event.position);
        if (position !== undefined) replica.noteWrite(event.keys, position);
      },
      // Positions sent meanwhile may be lost: nobody reads the replica until it has what the primary has now.
      reset: () => replica.distrustUntilCaughtUp(),
    });
  }

  /** The node's own primary driver; a transaction-bound driver differs from it (and never reads the replica). */
  get primary(): SqlExecutor {
    return this.replica.primary;
  }

  /** Where a client read by these caller keys goes. While this node may be missing other nodes' positions, the primary. */
  executorFor(keys: readonly string[]): SqlExecutor {
    return this.bus.trusted ? this.replica.executorFor(keys) : this.replica.primaryReads;
  }

  /**
   * A request by these callers has finished and may have written: notes the primary's position now (which
   * covers every write of the request, all committed) here, and tells the other nodes. Never throws: when the
   * primary does not answer, the callers read from the primary until a later position is known.
   */
  async recordWrite(keys: readonly string[]): Promise<void> {
    let position: bigint;
    try {
      position = await this.replica.primaryPosition();
    } catch {
      this.replica.noteUnknownWrite(keys);
      return;
    }
    this.replica.noteWrite(keys, position);
    await this.bus.publish(this.replica.primary, { kind: 'written', keys, position: formatWalPosition(position) }).catch(() => {
      // The primary stopped answering. This node knows the position; another node may serve this caller the
      // replica's state, which is never older than readReplicaMaxLagMs.
    });
  }

  close(): Promise<void> {
    return this.replica.close();
  }
}

/** The read replica of `readReplicaURI`, when configured; PostgreSQL only (the configuration check says so too). */
export function openReadRouting(config: ParsecConfig, driver: Driver, bus: InvalidationBus, log: ReplicaLog): ReadRouting | undefined {
  const uri = config.readReplicaURI;
  if (uri === undefined) return undefined;
  if (driver.kind !== 'postgres') throw new Error('readReplicaURI needs databaseURI to be PostgreSQL: the embedded database (PGlite) has no read replicas');
  const replica = ReadReplica.open(driver, { uri, poolSize: config.databasePoolSize, statementTimeoutMs: config.statementTimeoutMs, maxLagMs: config.readReplicaMaxLagMs ?? DEFAULT_MAX_LAG_MS }, log);
  return new ReadRouting(replica, bus);
}
