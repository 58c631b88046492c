import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { assertSafeJson } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';

/** What a request says about its client, beyond identity: handed to cloud code as Parse does. */
export interface ClientInfo {
  readonly ip: string;
  /** The request headers without any credential (master, maintenance, session, Basic auth). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly installationId: string | undefined;
  /** `X-Parse-Cloud-Context` or the SDK's `_context` body field, checked like any request JSON. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** Headers that carry a secret; cloud code that logs or forwards `request.headers` must never see them. */
const SECRET_HEADERS = new Set(['x-parse-master-key', 'x-parse-maintenance-key', 'x-parse-session-token', 'authorization', 'cookie']);

/**
 * A plain object rather than a null-prototype one: V8 keeps a null-prototype object with such keys in its
 * slow dictionary mode, and every cloud call copies these headers for its `request.headers` (about twenty
 * times slower). A header named `__proto__` is defined as an own property, never taken as the prototype.
 */
export function scrubHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const kept: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(headers)) {
    if (SECRET_HEADERS.has(name.toLowerCase())) continue;
    const value = headers[name];
    if (name === '__proto__') Object.defineProperty(kept, name, { value, enumerable: true, writable: true, configurable: true });
    else kept[name] = value;
  }
  return kept;
}

/** A context as a fresh null-prototype-free plain object; anything but a JSON object is refused (107). */
export function parseCloudContext(header: string | undefined, bodyField: unknown): Record<string, unknown> {
  let value: unknown = bodyField;
  if (header !== undefined) {
    try {
      value = JSON.parse(header);
    } catch {
      throw new ParseError(ErrorCode.INVALID_JSON, 'Invalid object for context.');
    }
  }
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ParseError(ErrorCode.INVALID_JSON, 'Invalid object for context.');
  assertSafeJson(value);
  return { ...value };
}

export const NO_CLIENT: ClientInfo = Object.freeze({ ip: '127.0.0.1', headers: Object.freeze({}), installationId: undefined, context: Object.freeze({}) });
