import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsecConfig } from '../config/types.ts';
import type { Router } from '../http/router.ts';
import type { Services } from '../rest/services.ts';
import { CloudCodeError, installCloudApi } from './api.ts';
import { inProcessController } from './controller.ts';
import { installFileController } from './file-triggers.ts';
import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit.ts';
import { CloudRegistry } from './registry.ts';
import type { CloudRuntime } from './runtime.ts';
import { installGlobalParse, loadPrivateSdk, withLoadingSdk, type ParseSdk } from './sdk.ts';
import type { Validator } from './validator.ts';

const require = createRequire(import.meta.url);
let loads = 0;

/** The runtime before the cloud code loads: its own SDK with `Parse.Cloud.define` and friends installed. */
export function prepareCloud(config: ParsecConfig, rateLimits: RateLimitStore = new MemoryRateLimitStore()): CloudRuntime {
  const registry = new CloudRegistry();
  if (config.cloud === undefined) return { registry, sdk: undefined, rateLimits };
  const sdk = loadPrivateSdk();
  (sdk.initialize as (appId: string, jsKey?: string, masterKey?: string) => void)(config.appId, config.clientKeys.javascriptKey, config.masterKey);
  sdk.serverURL = config.serverURL;
  // Each object cloud code holds is its own: no state shared between concurrent requests through the SDK.
  (sdk.Object as { disableSingleInstance(): void }).disableSingleInstance();
  installCloudApi(sdk, registry);
  return { registry, sdk, rateLimits };
}

/**
 * Imports the cloud code file with this server's SDK as the global `Parse`, then checks what it declared.
 * CommonJS (and TypeScript, through tsx) is loaded with `require` after clearing the app's own modules
 * from the cache, so a second server in the same process runs the file's registrations again; ES modules
 * are imported with a query that makes the entry module fresh.
 */
export async function loadCloudCode(runtime: CloudRuntime, router: Router, services: Services): Promise<void> {
  const { sdk } = runtime;
  const file = services.config.cloud;
  if (sdk === undefined || file === undefined) return;
  (sdk.CoreManager as { setRESTController(controller: unknown): void }).setRESTController(inProcessController(sdk, router, services));
  installFileController(sdk);
  installGlobalParse();
  await withLoadingSdk(sdk, () => importFresh(file));
  assertFunctionAccess(runtime, services.config);
}

async function importFresh(file: string): Promise<void> {
  const appDirectory = dirname(file) + sep;
  for (const path of Object.keys(require.cache)) {
    if (path.startsWith(appDirectory) && !path.includes(`${sep}node_modules${sep}`)) delete require.cache[path];
  }
  try {
    require(file);
  } catch (error) {
    // An ES module (or, where Node can require ES modules, one with top-level await) loads with import().
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    loads += 1;
    await import(`${pathToFileURL(file).href}?parsec-load=${loads}`);
  }
}

/** True when a function says who may call it; what the audit and `requireFunctionAccess` look for. */
export function declaresAccess(validator: Validator | undefined): boolean {
  if (typeof validator === 'function') return true;
  if (validator === undefined) return false;
  const roles = (value: unknown): boolean => typeof value === 'function' || (Array.isArray(value) && value.length > 0);
  return (
    validator.requireUser === true ||
    validator.requireMaster === true ||
    validator.public === true ||
    validator.internal === true ||
    roles(validator.requireAnyUserRoles) ||
    roles(validator.requireAllUserRoles)
  );
}

function assertFunctionAccess(runtime: CloudRuntime, config: ParsecConfig): void {
  if (!config.requireFunctionAccess) return;
  const undeclared = [...runtime.registry.functions.values()].filter((fn) => !declaresAccess(fn.validator));
  if (undeclared.length === 0) return;
  const list = undeclared.map((fn) => `  - ${fn.name}${fn.declaredAt === undefined ? '' : ` (${fn.declaredAt})`}`).join('\n');
  throw new CloudCodeError(
    `these cloud functions do not say who may call them:\n${list}\n` +
      'Give each a validator: { requireUser: true }, { requireMaster: true }, { requireAnyUserRoles: [...] }, a validator function, ' +
      '{ public: true } (anyone with the app keys) or { internal: true } (cloud code and the master key only). ' +
      'requireFunctionAccess: false allows undeclared functions to anyone, as Parse Server does.',
  );
}

export type { ParseSdk };
