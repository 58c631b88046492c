/**
 * How the privilege ledger's records reach the database: their ids, and their encoding as the elements of
 * one JSON array per batch (a single row), written into byte buffers as each record is made.
 */
import { randomFillSync } from 'node:crypto';
import type { LedgerEntry } from './ledger.ts';

/** How many object ids one record keeps (a find of 1,000 rows is one record, not a copy of the result). */
const MAX_IDS = 20;

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuv';
/** Random bytes drawn a few kilobytes at a time: one CSPRNG call per 512 ids rather than eight per id. */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

/** 8 random characters of a 32-letter alphabet (40 bits). */
function randomSuffix(): string {
  if (randomOffset + 8 > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix += ID_ALPHABET[(randomPool[randomOffset + i] ?? 0) & 31];
  randomOffset += 8;
  return suffix;
}

/**
 * A record's id: the time it was recorded, in milliseconds as 9 base-36 digits (lower case: digits and
 * letters sort alike in every collation and in JavaScript, until the year 5138), then 8 random characters.
 * Ids sort in the order they were recorded, and tell a read which batches can hold them (ledger-bounds.ts).
 * The random part keeps ids of one millisecond apart, across nodes too (2^40 values). Not secret: only the
 * master keys read the ledger.
 */
export function ledgerRecordId(timeMs: number): string {
  return timeOf(timeMs).idPrefix + randomSuffix();
}

/** The shape of a ledgerRecordId (ledger-storage.ts matches it in SQL too). */
export const RECORD_ID = /^[0-9a-z]{9}[0-9a-v]{8}$/;

/** The time a ledger record id starts with; undefined for another shape of id. */
export function recordIdTime(id: string): number | undefined {
  return RECORD_ID.test(id) ? Number.parseInt(id.slice(0, 9), 36) : undefined;
}

/** The fields of a record, in the order its JSON array holds them (the ledger's view reads them by position). */
export const RECORD_FIELDS = ['objectId', 'createdAt', 'keyKind', 'ip', 'method', 'path', 'origin', 'onBehalfOf', 'className', 'operation', 'objectIds', 'status'] as const;

/** The last millisecond formatted: a busy server records several times in each. */
let lastTime = { ms: Number.NaN, iso: '', idPrefix: '' };

function timeOf(timeMs: number): { readonly iso: string; readonly idPrefix: string } {
  if (timeMs !== lastTime.ms) {
    lastTime = { ms: timeMs, iso: new Date(timeMs).toISOString(), idPrefix: Math.max(0, Math.floor(timeMs)).toString(36).padStart(9, '0') };
  }
  return lastTime;
}

/**
 * NUL and unpaired surrogates: JSON.stringify escapes them as `\u0000` / `\ud800`, which PostgreSQL refuses
 * to turn into text when the view reads the record: one such value would make every read of its batch fail.
 */
const ALL_UNREADABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** NUL or any surrogate: a cheap first test that almost every value (routes, addresses, ids) passes. */
const SUSPECT = /[\0\uD800-\uDFFF]/;

/** A quoted value as the database can read it back: U+FFFD takes the place of what it could not. */
function readable(value: string): string {
  return SUSPECT.test(value) ? value.replace(ALL_UNREADABLE, '\uFFFD') : value;
}

/** What JSON must escape or the database could not read back: values holding none are quoted as they are. */
// eslint-disable-next-line no-control-regex -- JSON must escape every control character.
const NEEDS_CARE = /["\\\0-\x1f\uD800-\uDFFF]/;

/** A string as a JSON value; almost every value (kinds, addresses, routes, ids) takes the first branch. */
function quoted(value: string | undefined): string {
  if (value === undefined) return 'null';
  return NEEDS_CARE.test(value) ? JSON.stringify(readable(value)) : `"${value}"`;
}

/** A record as the JSON array RECORD_FIELDS describes (by hand: JSON.stringify of the array costs twice as much). */
function recordJson(entry: LedgerEntry, timeMs: number): string {
  const ids = entry.objectIds.length > MAX_IDS ? entry.objectIds.slice(0, MAX_IDS) : entry.objectIds;
  return (
    `["${ledgerRecordId(timeMs)}","${timeOf(timeMs).iso}",${quoted(entry.keyKind)},${quoted(entry.ip)},${quoted(entry.method)},${quoted(entry.path)},` +
    `${quoted(entry.origin)},${quoted(entry.onBehalfOf)},${quoted(entry.className)},${quoted(entry.operation)},[${ids.map(quoted).join(',')}],` +
    `${Number.isFinite(entry.status) ? String(entry.status) : 'null'}]`
  );
}

/** Bytes per buffer: a few hundred records each. */
const CHUNK_BYTES = 64 * 1024;
/** The most bytes one UTF-16 code unit takes in UTF-8: what a line may need before it is measured. */
const MAX_BYTES_PER_UNIT = 3;

/**
 * Buffered records, already the bytes of their JSON: each record is encoded into a buffer when it is made (a
 * microsecond of its request's time), so a batch is neither thousands of small strings the garbage collector
 * keeps moving while they wait for the flush, nor a millisecond of encoding at the flush while requests wait.
 * Every record is written after a comma; `json()` drops the first.
 */
export class LedgerBatch {
  private readonly full: Buffer<ArrayBuffer>[] = [];
  private current: Buffer<ArrayBuffer> | undefined;
  private used = 0;
  private records = 0;
  private earliest = Number.POSITIVE_INFINITY;
  private latest = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.records;
  }

  /** The times of its earliest and latest record (the clock may step back between two). */
  get span(): { readonly first: Date; readonly last: Date } {
    return { first: new Date(this.earliest), last: new Date(this.latest) };
  }

  /** Records `entry` as made at `timeMs`. */
  add(entry: LedgerEntry, timeMs: number = Date.now()): void {
    const element = `,${recordJson(entry, timeMs)}`;
    const worst = element.length * MAX_BYTES_PER_UNIT;
    if (this.current === undefined || this.used + worst > this.current.length) {
      this.seal();
      this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, worst));
    }
    this.used += this.current.write(element, this.used);
    this.records += 1;
    this.earliest = Math.min(this.earliest, timeMs);
    this.latest = Math.max(this.latest, timeMs);
  }

  /** The records as one JSON array (only bytes written are read: the buffers are not zeroed). */
  json(): string {
    this.seal();
    return `[${Buffer.concat(this.full).toString('utf8', 1)}]`;
  }

  /** Puts an unwritten batch back in front. */
  prepend(batch: LedgerBatch): void {
    batch.seal();
    this.full.unshift(...batch.full);
    this.records += batch.records;
    this.earliest = Math.min(this.earliest, batch.earliest);
    this.latest = Math.max(this.latest, batch.latest);
  }

  private seal(): void {
    if (this.current !== undefined && this.used > 0) this.full.push(this.current.subarray(0, this.used));
    this.current = undefined;
    this.used = 0;
  }
}
