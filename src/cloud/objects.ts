import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { Caller } from '../rest/services.ts';
import { readOwnUser } from '../users/login.ts';
import type { ParseSdk } from './sdk.ts';

/**
 * Function params as Parse Server hands them to cloud code: dates and files become SDK objects, everything
 * else (pointers included) stays the JSON the client sent. Built on null-free plain objects, so a param
 * named `__proto__` is refused at the edge and `constructor` is just a key.
 */
export function decodeParams(sdk: ParseSdk, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => decodeParams(sdk, item));
  if (!isPlainObject(value)) return value;
  if (value.__type === 'Date' && typeof value.iso === 'string') return new Date(value.iso);
  if (value.__type === 'File') return (sdk.File as { fromJSON(json: unknown): unknown }).fromJSON(value);
  // fromEntries defines own properties: a key named `__proto__` stays a key, never a prototype.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decodeParams(sdk, item)]));
}

function notEncodable(why: string): ParseError {
  return new ParseError(ErrorCode.SCRIPT_FAILED, `The function's result cannot be sent as JSON: ${why}.`);
}

/**
 * A function's result as Parse encodes it: Parse objects in full (`__type: "Object"`), at any depth. What
 * JSON cannot carry (a cycle, a BigInt) is the function's error (141), found here rather than when the
 * response is written, where it would have been a 500.
 */
export function encodeResult(sdk: ParseSdk, value: unknown, path: readonly object[] = []): unknown {
  const ParseObject = sdk.Object as abstract new (...args: never[]) => { _toFullJSON(seen: unknown[]): unknown };
  if (typeof value === 'bigint') throw notEncodable('it contains a BigInt');
  // JSON would silently drop these; a function returning one has a bug its caller should hear about.
  if (typeof value === 'function' || typeof value === 'symbol') throw notEncodable(`it contains a ${typeof value}`);
  if (typeof value === 'object' && value !== null && path.includes(value)) throw notEncodable('it contains a cycle');
  let encoded: unknown;
  if (value instanceof ParseObject) encoded = value._toFullJSON([]);
  else if (Array.isArray(value)) encoded = value.map((item: unknown) => encodeResult(sdk, item, [...path, value]));
  else if (isPlainObject(value)) {
    encoded = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeResult(sdk, item, [...path, value])]));
  } else encoded = (sdk._encode as (v: unknown) => unknown)(value);
  if (path.length === 0) {
    try {
      JSON.stringify(encoded);
    } catch (error) {
      throw notEncodable(error instanceof Error ? error.message : 'unknown value');
    }
  }
  return encoded;
}

/** `request.user`: the caller's own user record as a `Parse.User` of this server's SDK, with its session. */
export async function userObject(sdk: ParseSdk, caller: Caller): Promise<unknown> {
  const { auth } = caller;
  if (auth.kind !== 'user') return undefined;
  const json = await caller.services.users.get(auth.userId, () => readOwnUser(caller, auth.userId));
  return (sdk.Object as { fromJSON(json: unknown): unknown }).fromJSON({ ...json, className: '_User', sessionToken: auth.sessionToken });
}
