/**
 * Parse's `push` option: `{adapter}` where the adapter is a module name or path, `{module, options}`, or (in
 * code) an adapter object; or Parse's built-in form (`{ios: {...}, android: {...}}`), which Parse hands to its
 * bundled `@parse/push-adapter` and Parsec loads the same module for (install it to use that form).
 * `sendTimeoutMs` is Parsec's: how long one delivery may take. The value may hold APNs/FCM credentials, so
 * problems never echo it.
 */
import type { PushAdapterOption, PushOption } from '../push/adapter.ts';
import { jsonOption, type Parsed, type ValueType } from './value-types.ts';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parse's bundled APNs/FCM adapter, used for the `{ios, android, …}` form as Parse uses it. */
export const DEFAULT_PUSH_MODULE = '@parse/push-adapter';
export const DEFAULT_PUSH_SEND_TIMEOUT_MS = 60_000;

function readAdapter(value: unknown): PushAdapterOption | string {
  if (typeof value === 'string') return value === '' ? 'adapter must be a non-empty module name or path' : { module: value, options: {} };
  if (!isRecord(value)) return 'adapter must be a module name, a path, or {"module": "...", "options": {...}}';
  for (const key of Object.keys(value)) if (key !== 'module' && key !== 'options') return `${key} is not an adapter key (module, options)`;
  if (typeof value.module !== 'string' || value.module === '') return 'adapter.module must be a non-empty string';
  if (value.options !== undefined && !isRecord(value.options)) return 'adapter.options must be an object';
  return { module: value.module, options: Object.freeze({ ...value.options }) };
}

function readPush(value: unknown): Parsed<PushOption> {
  if (!isRecord(value)) return { ok: false, reason: 'must be an object like {"adapter": {"module": "...", "options": {...}}}' };
  const { adapter, sendTimeoutMs, ...rest } = value;
  if (sendTimeoutMs !== undefined && (typeof sendTimeoutMs !== 'number' || !Number.isInteger(sendTimeoutMs) || sendTimeoutMs < 1 || sendTimeoutMs > 2_147_483_647)) {
    return { ok: false, reason: 'is invalid: sendTimeoutMs must be a whole number of milliseconds from 1 to 2147483647' };
  }
  const timeout = sendTimeoutMs ?? DEFAULT_PUSH_SEND_TIMEOUT_MS;
  if (adapter === undefined) {
    if (Object.keys(rest).length === 0) return { ok: false, reason: 'is invalid: name an adapter ({"adapter": ...}) or give Parse\'s {"ios": ..., "android": ...} form' };
    return { ok: true, value: Object.freeze({ adapter: { module: DEFAULT_PUSH_MODULE, options: Object.freeze({ ...rest }) }, sendTimeoutMs: timeout }) };
  }
  const read = readAdapter(adapter);
  if (typeof read === 'string') return { ok: false, reason: `is invalid: ${read}` };
  return { ok: true, value: Object.freeze({ adapter: read, sendTimeoutMs: timeout }) };
}

// Secret: APNs keys and FCM service accounts live in the adapter options.
export const push: ValueType<PushOption> = jsonOption('{"adapter": module | {"module","options"}, "sendTimeoutMs"?}', true, readPush, '{"adapter": "./push-adapter.js"}');
