import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { Caller } from '../rest/services.ts';

const require = createRequire(import.meta.url);

/** The official Parse JS SDK as cloud code sees it (typed loosely: the package ships no usable types for node). */
export type ParseSdk = Record<string, unknown>;

/**
 * A private copy of `parse/node` for one server. The SDK keeps its configuration (server URL, keys, the REST
 * controller) in a module-level CoreManager, so a copy shared with anything else in the process (an app's
 * own client, a second server in the same process) would send one server's cloud calls to the other.
 * Loading the package's files afresh gives this server its own CoreManager; the process's shared copy is
 * left exactly as it was.
 */
export function loadPrivateSdk(): ParseSdk {
  const isSdkFile = (path: string): boolean => /[\\/]node_modules[\\/]parse[\\/]/.test(path);
  const shared = new Map(Object.entries(require.cache).filter(([path]) => isSdkFile(path)));
  for (const path of shared.keys()) delete require.cache[path];
  try {
    return require('parse/node') as ParseSdk;
  } finally {
    for (const path of Object.keys(require.cache)) if (isSdkFile(path)) delete require.cache[path];
    for (const [path, module] of shared) require.cache[path] = module;
  }
}

/**
 * The cloud code running now: which server's SDK it uses, and on whose behalf (the caller of the function or
 * trigger, so its `Parse.Query` acts as that caller by default). Handlers and everything they await run
 * inside it.
 */
export interface CloudScope {
  readonly sdk: ParseSdk;
  readonly caller: Caller | undefined;
  /** What is running: `function:<name>`, `<trigger>:<class>`, `job:<name>` or `load` (the ledger names it). */
  readonly origin: string;
}

export const activeScope = new AsyncLocalStorage<CloudScope>();
/** For code that runs outside any server's context (an event from a shared module): the last server loaded. */
let lastLoaded: ParseSdk | undefined;

/**
 * Cloud code uses the global `Parse`, as in Parse Server. With several servers in one process (tests, or an
 * app embedding two), the global resolves to the SDK of the server whose code is running, so a handler of
 * one server can never act through another's.
 */
export function installGlobalParse(): void {
  if ((globalThis as { __parsecGlobalParse?: boolean }).__parsecGlobalParse === true) return;
  const current = (): ParseSdk => {
    const sdk = activeScope.getStore()?.sdk ?? lastLoaded;
    if (sdk === undefined) throw new Error('Parse is only available inside cloud code run by Parsec.');
    return sdk;
  };
  const proxy = new Proxy(Object.create(null) as ParseSdk, {
    get: (_target, key) => Reflect.get(current(), key) as unknown,
    set: (_target, key, value) => Reflect.set(current(), key, value),
    has: (_target, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
  Object.defineProperty(globalThis, 'Parse', { value: proxy, configurable: true, writable: false });
  Object.defineProperty(globalThis, '__parsecGlobalParse', { value: true });
}

/** Runs `load` (the import of the cloud code) with `sdk` as the global `Parse` for its top-level code. */
export async function withLoadingSdk<T>(sdk: ParseSdk, load: () => Promise<T>): Promise<T> {
  lastLoaded = sdk;
  return activeScope.run({ sdk, caller: undefined, origin: 'load' }, load);
}
