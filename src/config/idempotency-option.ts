/**
 * Parse's `idempotencyOptions`: `{"paths": ["functions/.*", "classes/.*"], "ttl": 300}`. Off unless set, as in
 * Parse. Each path is a regular expression matched against the request path without the mount path and
 * anchored at its start; every one is compiled here, so a broken pattern stops the start instead of being
 * silently ignored (Parse compiles them per request).
 */
import { didYouMean } from './suggest.ts';
import { jsonOption, type Parsed, type ValueType } from './value-types.ts';

export interface IdempotencyOptions {
  /** The configured patterns, anchored at the start (`^` added when missing, as Parse does). */
  readonly paths: readonly RegExp[];
  /** Seconds a request id is remembered. */
  readonly ttl: number;
}

const FIELDS = ['paths', 'ttl'];
/** Parse's default: five minutes. */
const DEFAULT_TTL = 300;
/** A week: a longer memory would only grow the table; clients retry within seconds. */
const MAX_TTL = 7 * 24 * 3600;
const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

function read(value: unknown): Parsed<IdempotencyOptions | false> {
  if (value === false || value === null) return { ok: true, value: false };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `must be an object like {"paths": ["functions/.*"], "ttl": 300}, or false; got ${shown(value)}` };
  }
  const record = value as Record<string, unknown>;
  const problems = Object.keys(record)
    .filter((key) => !FIELDS.includes(key))
    .map((key) => `${JSON.stringify(key)} is not one of its fields.${didYouMean(key, FIELDS)}`);
  const paths: RegExp[] = [];
  const rawPaths = record.paths ?? [];
  if (!Array.isArray(rawPaths)) problems.push(`paths must be an array of regular expressions written as strings, got ${shown(rawPaths)}`);
  else {
    for (const path of rawPaths as unknown[]) {
      if (typeof path !== 'string' || path === '') {
        problems.push(`paths entries must be non-empty strings, got ${shown(path)}`);
        continue;
      }
      try {
        paths.push(new RegExp(path.startsWith('^') ? path : `^${path}`));
      } catch (error) {
        problems.push(`paths entry ${shown(path)} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`);
      }
    }
  }
  const ttl = record.ttl ?? DEFAULT_TTL;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL) {
    problems.push(`ttl must be a whole number of seconds from 1 to ${MAX_TTL}, got ${shown(ttl)}`);
  }
  if (problems.length > 0) return { ok: false, reason: `is invalid: ${problems.join('; ')}` };
  return { ok: true, value: Object.freeze({ paths: Object.freeze(paths), ttl: ttl as number }) };
}

export const idempotencyOptions: ValueType<IdempotencyOptions | false> = jsonOption('{"paths": [regular expressions], "ttl": seconds} or false', false, read, '{"paths": ["functions/.*"], "ttl": 300}, or false');
