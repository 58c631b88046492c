import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { assertSafeJson } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';
import type { ConfigChange } from './config-store.ts';

/** A name a client SDK can read back as a config key; long enough for any real name. */
const MAX_NAME_LENGTH = 256;

const invalid = (message: string): ParseError => new ParseError(ErrorCode.INVALID_JSON, message);

/** `{"__op": "Delete"}` (what the SDKs send for `unset`) or null removes a param. */
function isDelete(value: unknown): boolean {
  return value === null || (isPlainObject(value) && value.__op === 'Delete' && Object.keys(value).length === 1);
}

/**
 * Reads a `PUT /config` body, `{"params": {...}, "masterKeyOnly": {"name": true}}`, as Parse does: each param
 * in `params` is set (or deleted), and its master-only flag becomes what `masterKeyOnly` says for it (false
 * when absent); flags for params not in `params` are ignored. The body is checked like any request JSON
 * (no prototype keys, bounded nesting) also when it comes from cloud code rather than over HTTP.
 */
export function readConfigChange(body: unknown): ConfigChange {
  assertSafeJson(body);
  if (!isPlainObject(body)) throw invalid('The config update must be a JSON object.');
  const params = body.params ?? {};
  const flags = body.masterKeyOnly ?? {};
  if (!isPlainObject(params)) throw invalid('params must be an object.');
  if (!isPlainObject(flags)) throw invalid('masterKeyOnly must be an object.');
  for (const [name, flag] of Object.entries(flags)) {
    if (typeof flag !== 'boolean') throw invalid(`masterKeyOnly.${name} must be true or false.`);
  }
  const set: Record<string, unknown> = {};
  const masterKeyOnly: string[] = [];
  const unflagged: string[] = [];
  const deleted: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (name === '' || name.length > MAX_NAME_LENGTH) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Invalid config parameter name: ${name.slice(0, 40)}`);
    if (isDelete(value)) {
      deleted.push(name);
      unflagged.push(name);
      continue;
    }
    if (isPlainObject(value) && typeof value.__op === 'string') throw invalid(`Unsupported operation ${value.__op} on config parameter ${name}.`);
    set[name] = value;
    if (Object.hasOwn(flags, name) && flags[name] === true) masterKeyOnly.push(name);
    else unflagged.push(name);
  }
  return { set, masterKeyOnly, unflagged, deleted };
}
