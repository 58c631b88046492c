/**
 * How the privilege ledger's records reach the database: their ids, and their encoding as the lines of one
 * COPY, written into byte buffers as each record is made.
 */
import { randomFillSync } from 'node:crypto';
import type { LedgerEntry } from './ledger.ts';

/** How many object ids one record keeps (a find of 1,000 rows is one record, not a copy of the result). */
const MAX_IDS = 20;

/** The ledger table's columns, in the order each line gives their values. */
export const LEDGER_COLUMNS = ['objectId', 'createdAt', 'updatedAt', '_rperm', '_wperm', 'keyKind', 'ip', 'method', 'path', 'origin', 'onBehalfOf', 'className', 'operation', 'objectIds', 'status'] as const;

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
 * Ids that grow with time append to the right edge of the primary key's index instead of landing on a random
 * leaf page, and sort in the order they were recorded. The random part keeps ids of one millisecond apart,
 * across nodes too (2^40 values). Not secret: only the master keys read the ledger.
 */
export function ledgerRecordId(timeMs: number): string {
  return Math.max(0, Math.floor(timeMs)).toString(36).padStart(9, '0') + randomSuffix();
}

/** What COPY's text format gives a meaning to inside a value; NUL cannot be stored in text at all. */
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIALS = /[\\\t\n\r\0]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\uFFFD' };

/** A text value as COPY reads it: NULL as `\N`, `\`, tab and line breaks escaped. */
function copyText(value: string | undefined): string {
  if (value === undefined) return '\\N';
  // Most values (kinds, addresses, routes, class names) hold none of these: no replace for them.
  return SPECIAL.test(value) ? value.replace(SPECIALS, (char) => ESCAPES[char] ?? '') : value;
}

/** The last millisecond formatted: a busy server records several times in each. */
let lastTime = { ms: Number.NaN, iso: '' };

function isoTime(timeMs: number): string {
  if (timeMs !== lastTime.ms) lastTime = { ms: timeMs, iso: new Date(timeMs).toISOString() };
  return lastTime.iso;
}

/** NUL and unpaired surrogates: JSON.stringify escapes them as `\u0000` / `\ud800`, which jsonb refuses. */
const UNSTORABLE_IN_JSONB = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ALL_UNSTORABLE_IN_JSONB = new RegExp(UNSTORABLE_IN_JSONB.source, 'g');

/**
 * An id as jsonb will take it. One refused value fails the whole COPY and its batch is dropped, so no
 * record may carry one: U+FFFD takes the place of what cannot be stored.
 */
function storableId(id: string): string {
  return UNSTORABLE_IN_JSONB.test(id) ? id.replace(ALL_UNSTORABLE_IN_JSONB, '\uFFFD') : id;
}

/** A record as one line of COPY's text format, in LEDGER_COLUMNS' order. */
function copyLine(entry: LedgerEntry, timeMs: number): string {
  const ids = (entry.objectIds.length > MAX_IDS ? entry.objectIds.slice(0, MAX_IDS) : entry.objectIds).map(storableId);
  const time = isoTime(timeMs);
  return (
    `${ledgerRecordId(timeMs)}\t${time}\t${time}\t{}\t{}\t${copyText(entry.keyKind)}\t${copyText(entry.ip)}\t${copyText(entry.method)}\t` +
    `${copyText(entry.path)}\t${copyText(entry.origin)}\t${copyText(entry.onBehalfOf)}\t${copyText(entry.className)}\t` +
    `${copyText(entry.operation)}\t${copyText(JSON.stringify(ids))}\t${Number.isFinite(entry.status) ? String(entry.status) : '\\N'}\n`
  );
}

/** Bytes per buffer: a few hundred records each. */
const CHUNK_BYTES = 64 * 1024;
/** The most bytes one UTF-16 code unit takes in UTF-8: what a line may need before it is measured. */
const MAX_BYTES_PER_UNIT = 3;

/**
 * Buffered records, already the bytes COPY reads: each record is encoded into a buffer when it is made (a
 * microsecond of its request's time), so a batch is neither thousands of small strings the garbage collector
 * keeps moving while they wait for the flush, nor a millisecond of encoding at the flush while requests wait.
 */
export class LedgerBatch {
  private readonly full: Buffer<ArrayBuffer>[] = [];
  private current: Buffer<ArrayBuffer> | undefined;
  private used = 0;
  private records = 0;

  get size(): number {
    return this.records;
  }

  /** Records `entry` as made at `timeMs`. */
  add(entry: LedgerEntry, timeMs: number = Date.now()): void {
    const line = copyLine(entry, timeMs);
    const worst = line.length * MAX_BYTES_PER_UNIT;
    if (this.current === undefined || this.used + worst > this.current.length) {
      this.seal();
      this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, worst));
    }
    this.used += this.current.write(line, this.used);
    this.records += 1;
  }

  /** The records as COPY's input: only bytes written (the buffers are not zeroed, nothing else is sent). */
  data(): Buffer<ArrayBuffer>[] {
    this.seal();
    return this.full;
  }

  /** Puts an unwritten batch back in front. */
  prepend(batch: LedgerBatch): void {
    this.full.unshift(...batch.data());
    this.records += batch.size;
  }

  private seal(): void {
    if (this.current !== undefined && this.used > 0) this.full.push(this.current.subarray(0, this.used));
    this.current = undefined;
    this.used = 0;
  }
}
