import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';

/** What a push does to the installations' `badge` before sending (Parse: `"Increment"`, `{__op: "Increment"}`, a number). */
export type BadgeChange = { readonly kind: 'increment'; readonly amount: number } | { readonly kind: 'set'; readonly value: number };

/** A `POST /push` body after validation: nothing here has been recorded or sent yet. */
export interface PushRequest {
  /** The installations' `where` (from `where`, or `{channels: {$in: channels}}`), still in wire form. */
  readonly where: Record<string, unknown>;
  readonly data: Record<string, unknown>;
  readonly badge: BadgeChange | undefined;
  /** `push_time` as Parse records it (ISO; without the `Z` when the client gave a local time). */
  readonly pushTime: string | undefined;
  /** Epoch milliseconds: `expiration_time`, or now + `expiration_interval` for an immediate push. */
  readonly expirationTime: number | undefined;
  readonly expirationInterval: number | undefined;
  /** The body the adapter receives, with the times normalised as Parse normalises them. */
  readonly body: Record<string, unknown>;
}

const misconfigured = (message: string): ParseError => new ParseError(ErrorCode.PUSH_MISCONFIGURED, message);
const shown = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));

/** Parse's `{where}` xor `{channels}` rule; channels are the array of names installations subscribe to. */
function audience(body: Record<string, unknown>): Record<string, unknown> {
  const hasWhere = body.where !== undefined;
  const hasChannels = body.channels !== undefined;
  if (hasWhere && hasChannels) throw misconfigured('Channels and query can not be set at the same time.');
  if (hasChannels) {
    const { channels } = body;
    if (!Array.isArray(channels) || !channels.every((channel) => typeof channel === 'string')) {
      throw new ParseError(ErrorCode.INVALID_CHANNEL_NAME, 'channels must be an array of channel names.');
    }
    return { channels: { $in: channels } };
  }
  if (!hasWhere) throw misconfigured('Sending a push requires either "channels" or a "where" query.');
  if (!isPlainObject(body.where)) throw new ParseError(ErrorCode.INVALID_QUERY, 'where must be a JSON object.');
  return body.where;
}

/** A time as Parse reads push times: a number is seconds since the epoch, a string any date `Date` parses. */
function timeOf(body: Record<string, unknown>, key: 'push_time' | 'expiration_time'): Date | undefined {
  if (!Object.hasOwn(body, key)) return undefined;
  const value = body[key];
  let date: Date | undefined;
  if (typeof value === 'number') date = new Date(value * 1000);
  else if (typeof value === 'string') date = new Date(value);
  if (date === undefined || !Number.isFinite(date.valueOf())) throw misconfigured(`${shown(value)} is not valid time.`);
  return date;
}

/**
 * Parse keeps a push time given without a zone as local time (the ISO text without its `Z`); a number of
 * seconds counts as such too in Parse Server, so it is kept the same way.
 */
function formatPushTime(raw: unknown, date: Date): string {
  const iso = date.toISOString();
  const hasZone = typeof raw === 'string' && (raw.endsWith('Z') || /(.+)([+-])\d\d:\d\d$/.test(raw));
  return hasZone ? iso : iso.slice(0, iso.indexOf('Z'));
}

function expirationInterval(body: Record<string, unknown>): number | undefined {
  if (!Object.hasOwn(body, 'expiration_interval')) return undefined;
  const value = body.expiration_interval;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw misconfigured('expiration_interval must be a number greater than 0');
  return value;
}

/** Parse's badge rule, with its message; a refused badge refuses the push before anything is recorded. */
function badgeChange(data: Record<string, unknown>): BadgeChange | undefined {
  const { badge } = data;
  if (badge === undefined || badge === null || badge === 0 || badge === '' || badge === false) return undefined;
  if (typeof badge === 'string' && badge.toLowerCase() === 'increment') return { kind: 'increment', amount: 1 };
  if (isPlainObject(badge) && typeof badge.__op === 'string' && badge.__op.toLowerCase() === 'increment') {
    const amount = Number(badge.amount);
    if (Number.isFinite(amount) && amount !== 0) return { kind: 'increment', amount };
  }
  const value = typeof badge === 'number' || typeof badge === 'string' ? Number(badge) : Number.NaN;
  if (Number.isFinite(value) && value !== 0) return { kind: 'set', value };
  throw misconfigured("Invalid value for badge, expected number or 'Increment' or {increment: number}");
}

/**
 * Validates a `POST /push` body as Parse Server does, with its codes: 115 for a missing audience, bad times,
 * both expirations or a bad badge; 112 for channels that are not names; 102 for a `where` that is not an
 * object. Parse accepts a `data` that is not an object and then fails inside the adapter; Parsec refuses it (115).
 */
export function parsePushBody(raw: unknown, now: Date): PushRequest {
  if (!isPlainObject(raw)) throw misconfigured('The push body must be a JSON object.');
  const where = audience(raw);
  const data = raw.data === undefined ? {} : raw.data;
  if (!isPlainObject(data)) throw misconfigured('data must be a JSON object.');
  const expirationDate = timeOf(raw, 'expiration_time');
  const interval = expirationInterval(raw);
  if (expirationDate !== undefined && interval !== undefined) throw misconfigured('Both expiration_time and expiration_interval cannot be set');
  const pushDate = timeOf(raw, 'push_time');
  const pushTime = pushDate === undefined ? undefined : formatPushTime(raw.push_time, pushDate);
  // An immediate push with an interval expires that long from now; a scheduled one keeps the interval.
  let expirationTime = expirationDate?.valueOf();
  if (interval !== undefined && pushTime === undefined) expirationTime = now.valueOf() + interval * 1000;
  const badge = badgeChange(data);
  const body: Record<string, unknown> = { ...raw, data };
  if (expirationTime !== undefined) body.expiration_time = expirationTime;
  if (pushTime !== undefined) body.push_time = pushTime;
  return { where, data, badge, pushTime, expirationTime, expirationInterval: interval, body };
}
