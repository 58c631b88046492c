import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Parse Server's push adapter shape, so adapters published for Parse Server (`@parse/push-adapter` for APNs
 * and FCM, OneSignal, Expo…) plug into Parsec unchanged. `send` receives the push body (`data`, times), the
 * installations of one delivery (all of one `deviceType`) and the `_PushStatus` id; it resolves to one
 * result per device (`{device: {deviceType, deviceToken}, transmitted: boolean, …}`, nested arrays allowed).
 */
export interface PushAdapter {
  send(body: Record<string, unknown>, installations: readonly Record<string, unknown>[], pushStatusId: string): unknown;
  /** The `deviceType`s this adapter can deliver to (`ios`, `android`, …). */
  getValidPushTypes(): readonly string[];
}

/** A push adapter as a config file names it: a module (package or path) and the options it is built with. */
export interface PushAdapterOption {
  readonly module: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Parse's `push` option as Parsec reads it: `{adapter}` plus Parsec's time limit for one `send`. */
export interface PushOption {
  readonly adapter: PushAdapterOption | PushAdapter;
  /** How long one `adapter.send` may take before its devices count as failed (Parsec's; default 60 s). */
  readonly sendTimeoutMs?: number;
}

export function isPushAdapter(value: unknown): value is PushAdapter {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.send === 'function' && typeof candidate.getValidPushTypes === 'function';
}

/** Parse's loadAdapter: a class is constructed with the options, a factory called with them, an object used as is. */
function instantiate(exported: unknown, options: Readonly<Record<string, unknown>>): unknown {
  if (typeof exported !== 'function') return exported;
  if (/^class[\s{]/.test(Function.prototype.toString.call(exported))) return new (exported as new (o: unknown) => unknown)(options);
  try {
    return (exported as (o: unknown) => unknown)(options);
  } catch (error) {
    // A constructor function that refuses to be called without `new` (Parse's loadAdapter does the same).
    if (error instanceof TypeError) return new (exported as new (o: unknown) => unknown)(options);
    throw error;
  }
}

/**
 * The adapter a server sends pushes through, loaded once at start: an object given in code is used as is; a
 * module is imported (relative paths against the working directory) and built with its options. Anything that
 * is not a complete adapter stops the start. No `push` option: no adapter, and `POST /push` answers 115.
 */
export async function openPushAdapter(option: PushOption | undefined, cwd: string): Promise<PushAdapter | undefined> {
  if (option === undefined) return undefined;
  const { adapter } = option;
  if (isPushAdapter(adapter)) return adapter;
  const { module, options } = adapter;
  const specifier = module.startsWith('.') || path.isAbsolute(module) ? pathToFileURL(path.resolve(cwd, module)).href : module;
  const loaded = (await import(specifier)) as { default?: unknown };
  const built: unknown = await instantiate(loaded.default ?? loaded, options);
  if (!isPushAdapter(built)) throw new Error(`push.adapter ${module} has no send and getValidPushTypes functions`);
  return built;
}
