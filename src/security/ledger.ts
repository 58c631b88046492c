import type { AuthContext } from '../auth/context.ts';
import { logSafely } from '../errors/log-safely.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import type { Logger } from '../rest/services.ts';
import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import { sqlState, type Driver } from '../storage/driver.ts';
import { LedgerBatch } from './ledger-batch.ts';
import { batchBounds } from './ledger-bounds.ts';
import { timeWindows } from './ledger-windows.ts';
import { BATCH_FIRST, BATCH_LAST, countRecords, deleteBatchesOlderThan, ensureLedgerStorage, insertBatch, LEDGER_VIEW } from './ledger-storage.ts';

const LEDGER_FIELDS = new Map<string, FieldType>([
  ['keyKind', { type: 'String' }],
  ['ip', { type: 'String' }],
  ['method', { type: 'String' }],
  ['path', { type: 'String' }],
  ['origin', { type: 'String' }],
  ['onBehalfOf', { type: 'String' }],
  ['className', { type: 'String' }],
  ['operation', { type: 'String' }],
  ['objectIds', { type: 'Array' }],
  ['status', { type: 'Number' }],
  // The span of the batch a record came in: for the bounds a query implies (ledger-bounds.ts), never shown.
  [BATCH_FIRST, { type: 'Date' }],
  [BATCH_LAST, { type: 'Date' }],
]);

const FLUSH_MS = 250;
/** Records per batch: a statement's fixed cost (a connection, a row, a commit) is shared by its records. */
const FLUSH_SIZE = 1000;
/** After a failed write, the next attempt (sooner would only repeat the error in the log). */
const RETRY_MS = 5_000;
/** What the buffer keeps while the database does not answer: a minute of a busy server's master traffic. */
const MAX_BUFFERED = 20 * FLUSH_SIZE;
/**
 * Errors a batch will meet again however often it is sent (data exceptions, integrity violations): it is
 * dropped and counted in the log rather than retried, so it cannot hold every later record back.
 */
const HOPELESS = /^2[23]/;

export type KeyKind = 'master' | 'readOnlyMaster' | 'maintenance' | 'escalation';

export interface LedgerEntry {
  readonly keyKind: KeyKind;
  readonly ip: string;
  readonly method: string;
  readonly path: string;
  /** For an escalation: the function, trigger or job whose code used `useMasterKey`. */
  readonly origin: string | undefined;
  /** The user on whose behalf the privileged work ran ('anonymous', or a user id). */
  readonly onBehalfOf: string | undefined;
  readonly className: string | undefined;
  readonly operation: string;
  readonly objectIds: readonly string[];
  readonly status: number;
}

export async function ensureLedgerClass(driver: Driver, schemas: SchemaStore): Promise<void> {
  await ensureLedgerStorage(driver);
  // The class's fields for queries; its relation is the view ledger-storage.ts keeps.
  await schemas.ensureFields(LEDGER_VIEW, LEDGER_FIELDS, driver, 'own');
}

/** Who a privileged request acted for, as the ledger writes it. */
export function onBehalfOf(auth: AuthContext | undefined): string | undefined {
  if (auth === undefined) return undefined;
  if (auth.kind === 'user') return auth.userId;
  return auth.kind === 'anonymous' ? 'anonymous' : auth.kind;
}

/**
 * The privilege ledger: one record per request made with the master, read-only master or maintenance key,
 * and per `useMasterKey` escalation in cloud code. Records are buffered and appended as one row every
 * 250 ms (or 1,000 records; see ledger-storage.ts), so recording costs the request it describes a record
 * written into a buffer, not a round trip. A failed write is logged and retried (after 5 s, or sooner with
 * the next batch); the buffer is bounded, and what cannot be kept is counted in the log, never silently
 * lost. Clients can neither read nor write it; the master key reads it through `/classes/_PrivilegeLedger`
 * with the usual filters.
 */
export class PrivilegeLedger {
  private buffer = new LedgerBatch();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly driver: Driver,
    private readonly log: () => Logger,
    private readonly retentionDays: number,
  ) {}

  record(entry: LedgerEntry): void {
    if (this.buffer.size >= MAX_BUFFERED) {
      this.dropped += 1;
      return;
    }
    this.buffer.add(entry);
    if (this.buffer.size >= FLUSH_SIZE) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when it is stored (or the failure logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = new LedgerBatch();
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: LedgerBatch): Promise<void> {
    if (batch.size === 0) return;
    try {
      await insertBatch(this.driver, batch);
    } catch (error) {
      if (HOPELESS.test(sqlState(error) ?? '')) {
        logSafely(this.log(), 'error', { err: error, records: batch.size }, 'privilege ledger records were refused by the database and dropped');
      } else if (this.buffer.size + batch.size > MAX_BUFFERED) {
        this.dropped += batch.size;
      } else {
        // Kept for the next attempt, and said out loud.
        this.buffer.prepend(batch);
        // Unref: a database that stays away must not hold a stopping process open.
        this.timer ??= setTimeout(() => void this.flush(), RETRY_MS).unref();
        logSafely(this.log(), 'error', { err: error, records: batch.size }, 'the privilege ledger could not be written; will retry');
      }
    }
    if (this.dropped > 0) {
      logSafely(this.log(), 'error', { dropped: this.dropped }, 'privilege ledger records were dropped: the buffer was full');
      this.dropped = 0;
    }
  }

  /** Deletes records older than the retention period (0 keeps them forever). */
  async prune(): Promise<void> {
    if (this.retentionDays <= 0) return;
    await deleteBatchesOlderThan(this.driver, this.retentionDays);
  }
}

const NOTHING: Condition = { type: 'or', conditions: [] };

/**
 * Master-only reads, narrowed to the batches a query's time bounds or record ids allow, and a page ordered by
 * time looked for near its end first; nobody writes it through the API, not even the master key (append-only).
 */
export function ledgerPlugin(): ClassPlugin {
  return {
    className: LEDGER_VIEW,
    operations: new Set(['find', 'get', 'count']),
    masterOnly: true,
    rowFilter: () => NOTHING,
    impliedWhere: batchBounds,
    readWindows: timeWindows,
    countAll: countRecords,
    filterRead(_caller, record) {
      delete record[BATCH_FIRST];
      delete record[BATCH_LAST];
    },
  };
}
