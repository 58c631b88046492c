import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { Caller } from '../rest/services.ts';
import { readOwnUser } from '../users/login.ts';
import { requestUser } from './request-user.ts';
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
export function encodeResult(sdk: ParseSdk, value: unknown): unknown {
  const state = { opaque: false };
  const encoded = encodeValue(sdk, value, [], state);
  // Plain values were checked on the way; what the SDK encoded (a Parse object's attributes) may still hold
  // something JSON refuses, so only then is the whole result serialised once to find out.
  if (state.opaque) {
    try {
      JSON.stringify(encoded);
    } catch (error) {
      throw notEncodable(error instanceof Error ? error.message : 'unknown value');
    }
  }
  return encoded;
}

function encodeValue(sdk: ParseSdk, value: unknown, path: readonly object[], state: { opaque: boolean }): unknown {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') throw notEncodable('it contains a BigInt');
  // JSON would silently drop these; a function returning one has a bug its caller should hear about.
  if (typeof value === 'function' || typeof value === 'symbol') throw notEncodable(`it contains a ${typeof value}`);
  if (path.includes(value)) throw notEncodable('it contains a cycle');
  const ParseObject = sdk.Object as abstract new (...args: never[]) => { _toFullJSON(seen: unknown[]): unknown };
  if (value instanceof ParseObject) {
    state.opaque = true;
    return value._toFullJSON([]);
  }
  const inner = [...path, value];
  if (Array.isArray(value)) return value.map((item: unknown) => encodeValue(sdk, item, inner, state));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeValue(sdk, item, inner, state)]));
  state.opaque = true;
  return (sdk._encode as (v: unknown) => unknown)(value);
}

/**
 * `request.user`: the caller's own user record as a `Parse.User` of this server's SDK, with its session.
 * Synchronous when the record is cached (the usual case: no promise, see runInScope).
 */
export function userObject(sdk: ParseSdk, caller: Caller): object | undefined | Promise<object | undefined> {
  const { auth } = caller;
  if (auth.kind !== 'user') return undefined;
  const { users } = caller.services;
  const cached = users.cached(auth.userId);
  if (cached !== undefined) return requestUser(sdk, cached, auth.sessionToken);
  return users.get(auth.userId, () => readOwnUser(caller, auth.userId)).then((json) => requestUser(sdk, json, auth.sessionToken));
}
