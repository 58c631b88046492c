import type { AuthContext } from '../auth/context.ts';
import { logSafely } from '../errors/log-safely.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Logger } from '../rest/services.ts';
import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import type { Driver } from '../storage/driver.ts';
import { physicalIndexName } from '../storage/sql/ddl.ts';
import { ident } from '../storage/sql/params.ts';

export const LEDGER_CLASS = '_PrivilegeLedger';

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
]);

/** How many object ids one record keeps (a find of 1,000 rows is one record, not a copy of the result). */
const MAX_IDS = 20;
const FLUSH_MS = 250;
/**
 * Records per INSERT. A statement's fixed cost (parse, plan, commit, WAL flush) is shared by its rows: on
 * PostgreSQL 1,000 rows a statement cost the server about 30 % less CPU per row than 200 did.
 */
const FLUSH_SIZE = 1000;
/** After a failed write, the next attempt (sooner would only repeat the error in the log). */
const RETRY_MS = 5_000;
/** What the buffer keeps while the database does not answer: a minute of a busy server's master traffic. */
const MAX_BUFFERED = 20 * FLUSH_SIZE;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A record's id: the time it was recorded in milliseconds (7 base-62 digits, sortable until the year 5400)
 * and 8 random characters. Ids that grow with time append to the right edge of the primary key's index instead
 * of landing on a random leaf page (the cheaper insert the ledger's cost budget needs), and sort in the
 * order they were recorded. The random part keeps ids of one millisecond apart (62^8 values).
 */
export function ledgerRecordId(timeMs: number): string {
  let prefix = '';
  let rest = Math.max(0, Math.floor(timeMs));
  for (let digit = 0; digit < 7; digit++) {
    prefix = (ID_ALPHABET[rest % 62] ?? '0') + prefix;
    rest = Math.floor(rest / 62);
  }
  return prefix + newObjectId(8);
}

/**
 * A batch of records in one statement whose text never changes: each column travels as one array and
 * `unnest` makes the rows. (A VALUES list was a different statement for every batch size, up to 200 texts,
 * each prepared on every pooled PostgreSQL connection where it crowded out the hot statements, with 15
 * parameters a row to bind.) The columns are LEDGER_FIELDS'; the batch shares one timestamp.
 */
const INSERT_BATCH =
  `INSERT INTO "${LEDGER_CLASS}" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "keyKind", "ip", "method", "path", "origin", "onBehalfOf", "className", "operation", "objectIds", "status") ` +
  `SELECT r."objectId", $1::timestamptz, $1::timestamptz, '{}'::text[], '{}'::text[], r."keyKind", r."ip", r."method", r."path", r."origin", r."onBehalfOf", r."className", r."operation", r."objectIds"::jsonb, r."status" ` +
  'FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::float8[]) ' +
  'AS r("objectId", "keyKind", "ip", "method", "path", "origin", "onBehalfOf", "className", "operation", "objectIds", "status")';

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
  await schemas.ensureFields(LEDGER_CLASS, LEDGER_FIELDS, driver);
  await driver.query(`CREATE INDEX IF NOT EXISTS "${LEDGER_CLASS}_createdAt" ON "${LEDGER_CLASS}" ("createdAt")`);
  // Every record's _rperm/_wperm are empty and only the master keys read the class, so no query uses the
  // ACL's GIN indexes every class gets; kept, each would be updated on every record (and its pending list
  // merged by vacuum) on the path whose cost must stay within a few percent.
  for (const column of ['_rperm', '_wperm']) await driver.query(`DROP INDEX IF EXISTS ${ident(physicalIndexName(LEDGER_CLASS, column))}`);
}

/** Who a privileged request acted for, as the ledger writes it. */
export function onBehalfOf(auth: AuthContext | undefined): string | undefined {
  if (auth === undefined) return undefined;
  if (auth.kind === 'user') return auth.userId;
  return auth.kind === 'anonymous' ? 'anonymous' : auth.kind;
}

/**
 * The privilege ledger: one record per request made with the master, read-only master or maintenance key,
 * and per `useMasterKey` escalation in cloud code. Records are buffered and written in one multi-row
 * INSERT every 250 ms (or 1,000 records), so recording costs the request it describes an array push, not a
 * round trip. A failed write is logged and retried with the next batch; the buffer is bounded, and what
 * cannot be kept is counted in the log, never silently lost. Clients can neither read nor write it; the
 * master key reads it through `/classes/_PrivilegeLedger` with the usual filters.
 */
export class PrivilegeLedger {
  private buffer = new Columns();
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
    this.buffer = new Columns();
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: Columns): Promise<void> {
    if (batch.size === 0) return;
    try {
      await this.driver.query(INSERT_BATCH, [new Date().toISOString(), ...batch.params()]);
    } catch (error) {
      // Kept for the next attempt (within the bound), and said out loud.
      this.buffer.prepend(batch, MAX_BUFFERED);
      // Unref: a database that stays away must not hold a stopping process open.
      this.timer ??= setTimeout(() => void this.flush(), RETRY_MS).unref();
      logSafely(this.log(), 'error', { err: error, records: batch.size }, 'the privilege ledger could not be written; will retry');
    }
    if (this.dropped > 0) {
      logSafely(this.log(), 'error', { dropped: this.dropped }, 'privilege ledger records were dropped: the buffer was full');
      this.dropped = 0;
    }
  }

  /** Deletes records older than the retention period (0 keeps them forever). */
  async prune(): Promise<void> {
    if (this.retentionDays <= 0) return;
    await this.driver.query(`DELETE FROM "${LEDGER_CLASS}" WHERE "createdAt" < now() - make_interval(days => $1::int)`, [this.retentionDays]);
  }
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/** One element of a PostgreSQL array literal: NULL, a number, or a quoted string with `\` and `"` escaped. */
function arrayElement(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  // Most values (kinds, addresses, routes, class names) hold neither character: no replace for them.
  return NEEDS_ESCAPE.test(value) ? `"${value.replace(ESCAPED, '\\$&')}"` : `"${value}"`;
}

/**
 * Buffered records as the statement's columns (INSERT_BATCH's order, id first), each value already encoded
 * as an element of the array literal the statement receives. Encoding a record when it is made costs its
 * request a microsecond or two; encoding a thousand at the flush blocked the event loop for about a
 * millisecond, and the requests that arrived meanwhile waited (p50 0.61 → 0.92 ms, p99 1.9 → 4.8 ms, at a
 * quarter of capacity). Plain strings in arrays are also what the garbage collector moves cheapest.
 */
class Columns {
  // The id, then the ten columns INSERT_BATCH unnests after it.
  private readonly columns: string[][] = Array.from({ length: 11 }, () => []);

  get size(): number {
    return this.columns[0]?.length ?? 0;
  }

  add(entry: LedgerEntry): void {
    const ids = entry.objectIds.length > MAX_IDS ? entry.objectIds.slice(0, MAX_IDS) : entry.objectIds;
    const values = [ledgerRecordId(Date.now()), entry.keyKind, entry.ip, entry.method, entry.path, entry.origin ?? null, entry.onBehalfOf ?? null, entry.className ?? null, entry.operation, JSON.stringify(ids), entry.status];
    values.forEach((value, column) => this.columns[column]?.push(arrayElement(value)));
  }

  /** Puts an unwritten batch back in front, keeping at most `limit` records in all. */
  prepend(batch: Columns, limit: number): void {
    const room = Math.max(0, limit - this.size);
    batch.columns.forEach((values, column) => this.columns[column]?.unshift(...values.slice(0, room)));
  }

  /** The id column and INSERT_BATCH's columns after it, as array literals. */
  params(): string[] {
    return this.columns.map((values) => `{${values.join(',')}}`);
  }
}

const NOTHING: Condition = { type: 'or', conditions: [] };

/** Master-only reads; nobody writes it through the API, not even the master key (append-only). */
export function ledgerPlugin(): ClassPlugin {
  return { className: LEDGER_CLASS, operations: new Set(['find', 'get', 'count']), masterOnly: true, rowFilter: () => NOTHING };
}
