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
  const decoded: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) decoded[key] = decodeParams(sdk, item);
  return decoded;
}

/** A function's result as Parse encodes it: Parse objects in full (`__type: "Object"`), at any depth. */
export function encodeResult(sdk: ParseSdk, value: unknown): unknown {
  const ParseObject = sdk.Object as abstract new (...args: never[]) => { _toFullJSON(seen: unknown[]): unknown };
  if (value instanceof ParseObject) return value._toFullJSON([]);
  if (Array.isArray(value)) return value.map((item) => encodeResult(sdk, item));
  if (isPlainObject(value)) {
    const encoded: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) encoded[key] = encodeResult(sdk, item);
    return encoded;
  }
  return (sdk._encode as (v: unknown) => unknown)(value);
}

/** `request.user`: the caller's own user record as a `Parse.User` of this server's SDK, with its session. */
export async function userObject(sdk: ParseSdk, caller: Caller): Promise<unknown> {
  const { auth } = caller;
  if (auth.kind !== 'user') return undefined;
  const json = await readOwnUser(caller, auth.userId);
  return (sdk.Object as { fromJSON(json: unknown): unknown }).fromJSON({ ...json, className: '_User', sessionToken: auth.sessionToken });
}
