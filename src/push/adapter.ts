import { loadAdapterModule } from '../adapters/load-module.ts';

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
  const built: unknown = await loadAdapterModule(module, options, cwd);
  if (!isPushAdapter(built)) throw new Error(`push.adapter ${module} has no send and getValidPushTypes functions`);
  return built;
}
