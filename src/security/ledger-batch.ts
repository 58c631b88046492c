/**
 * How the privilege ledger's records reach the database: their ids, their encoding as the columns of one
 * batch, and the one INSERT statement that writes a batch.
 */
import { newObjectId } from '../rest/object-id.ts';
import { ident } from '../storage/sql/params.ts';
import type { LedgerEntry } from './ledger.ts';

/** How many object ids one record keeps (a find of 1,000 rows is one record, not a copy of the result). */
const MAX_IDS = 20;

/**
 * A record's id: the time it was recorded, in milliseconds as 9 base-36 digits (lower case: digits and
 * letters sort alike in every collation and in JavaScript, until the year 5138), then 8 random characters.
 * Ids that grow with time append to the right edge of the primary key's index instead of landing on a random
 * leaf page (the cheaper insert the ledger's cost budget needs), and sort in the order they were recorded.
 * The random part keeps ids of one millisecond apart (62^8 values).
 */
function ledgerRecordId(timeMs: number): string {
  return Math.max(0, Math.floor(timeMs)).toString(36).padStart(9, '0') + newObjectId(8);
}

/**
 * A batch of records in one statement whose text never changes: each column travels as one array and
 * `unnest` makes the rows. (A VALUES list was a different statement for every batch size, up to 200 texts,
 * each prepared on every pooled PostgreSQL connection where it crowded out the hot statements, with 15
 * parameters a row to bind.) The columns are the ledger class's fields; the batch shares one timestamp.
 */
export function insertBatchStatement(table: string): string {
  return (
    `INSERT INTO ${ident(table)} ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "keyKind", "ip", "method", "path", "origin", "onBehalfOf", "className", "operation", "objectIds", "status") ` +
    `SELECT r."objectId", $1::timestamptz, $1::timestamptz, '{}'::text[], '{}'::text[], r."keyKind", r."ip", r."method", r."path", r."origin", r."onBehalfOf", r."className", r."operation", r."objectIds"::jsonb, r."status" ` +
    'FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::float8[]) ' +
    'AS r("objectId", "keyKind", "ip", "method", "path", "origin", "onBehalfOf", "className", "operation", "objectIds", "status")'
  );
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
 * Buffered records as the statement's columns (insertBatchStatement's order, id first), each value already encoded
 * as an element of the array literal the statement receives. Encoding a record when it is made costs its
 * request a microsecond or two; encoding a thousand at the flush blocked the event loop for about a
 * millisecond, and the requests that arrived meanwhile waited (p50 0.61 → 0.92 ms, p99 1.9 → 4.8 ms, at a
 * quarter of capacity). Plain strings in arrays are also what the garbage collector moves cheapest.
 */
export class LedgerBatch {
  // The id, then the ten columns the statement unnests after it.
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
  prepend(batch: LedgerBatch, limit: number): void {
    const room = Math.max(0, limit - this.size);
    batch.columns.forEach((values, column) => this.columns[column]?.unshift(...values.slice(0, room)));
  }

  /** The statement's parameters: the batch's time, then the id column and the others as array literals. */
  params(time: Date): string[] {
    return [time.toISOString(), ...this.columns.map((values) => `{${values.join(',')}}`)];
  }
}
