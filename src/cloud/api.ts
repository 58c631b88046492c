import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertValidValidator } from './validator.ts';
import { LIVE_QUERY_CONNECT, OBJECT_TRIGGERS, USER_TRIGGERS, type CloudHandler, type CloudRegistry, type TriggerType } from './registry.ts';
import type { ParseSdk } from './sdk.ts';
import { FILE_CLASS } from './file-triggers.ts';

/** A mistake in cloud code found while loading it: the server refuses to start, naming where. */
export class CloudCodeError extends Error {}

// Parsec's own directory, not a path pattern: an app may keep its cloud code in a folder named src/cloud too.
const OWN_DIRECTORY = dirname(fileURLToPath(import.meta.url)) + sep;

/** The first stack frame outside Parsec, so an error can say which line of cloud code declared what. */
function callerLocation(): string | undefined {
  const frames = new Error().stack?.split('\n').slice(1) ?? [];
  const outside = frames.find((frame) => !frame.includes(OWN_DIRECTORY) && !frame.includes('node:internal'));
  return outside?.trim().replace(/^at\s+/, '');
}

function handlerOf(handler: unknown, what: string): CloudHandler {
  if (typeof handler !== 'function') throw new CloudCodeError(`${what}: the handler must be a function.`);
  return handler as CloudHandler;
}

/** `Parse.User`, `Parse.Session`, a subclass, or a class name: the class a trigger is for. */
function classNameOf(sdk: ParseSdk, target: unknown, what: string): string {
  if (typeof target === 'string' && target !== '') return target;
  // Parse's name for file triggers: `Parse.Cloud.beforeSave(Parse.File, …)` registers under `@File`.
  if (target === sdk.File) return FILE_CLASS;
  if (typeof target === 'function') {
    const className = (target as { className?: unknown }).className ?? (target.prototype as { className?: unknown } | undefined)?.className;
    if (typeof className === 'string' && className !== '') return className;
    if (target === sdk.User) return '_User';
  }
  throw new CloudCodeError(`${what}: the first argument must be a class name or a Parse.Object subclass.`);
}

function nameOf(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw new CloudCodeError(`${what}: the name must be a non-empty string.`);
  return name;
}

/**
 * Adds the server half of `Parse.Cloud` (define, job, triggers) to a server's private SDK; everything it
 * registers goes into that server's registry. Mistakes (a handler that is not a function, an invalid
 * validator) throw while the cloud code loads, so they stop the start instead of surfacing at call time.
 */
export function installCloudApi(sdk: ParseSdk, registry: CloudRegistry): void {
  const cloud = sdk.Cloud as Record<string, unknown>;
  cloud.define = (name: unknown, handler: unknown, validator?: unknown): void => {
    const where = `Parse.Cloud.define(${JSON.stringify(name)})`;
    const functionName = nameOf(name, where);
    assertValidValidator(validator, where);
    registry.functions.set(functionName, { name: functionName, handler: handlerOf(handler, where), validator: validator ?? undefined, declaredAt: callerLocation() });
  };
  cloud.job = (name: unknown, handler: unknown): void => {
    const where = `Parse.Cloud.job(${JSON.stringify(name)})`;
    const jobName = nameOf(name, where);
    registry.jobs.set(jobName, { name: jobName, handler: handlerOf(handler, where), declaredAt: callerLocation() });
  };
  const register = (type: TriggerType, className: string, handler: unknown, validator: unknown): void => {
    const where = `Parse.Cloud.${type}(${JSON.stringify(className)})`;
    assertValidValidator(validator, where);
    registry.addTrigger({ type, className, handler: handlerOf(handler, where), validator: validator ?? undefined, declaredAt: callerLocation() });
  };
  for (const type of OBJECT_TRIGGERS) {
    cloud[type] = (target: unknown, handler: unknown, validator?: unknown): void => {
      const className = classNameOf(sdk, target, `Parse.Cloud.${type}`);
      register(type, className, handler, validator);
    };
  }
  // LiveQuery: `beforeConnect(handler, validator)`; the other two take the class first, as object triggers do.
  cloud.beforeConnect = (handler: unknown, validator?: unknown): void => {
    register('beforeConnect', LIVE_QUERY_CONNECT, handler, validator);
  };
  for (const type of ['beforeSubscribe', 'afterLiveQueryEvent'] as const) {
    cloud[type] = (target: unknown, handler: unknown, validator?: unknown): void => {
      register(type, classNameOf(sdk, target, `Parse.Cloud.${type}`), handler, validator);
    };
  }
  for (const type of USER_TRIGGERS) {
    // Parse's forms: `Parse.Cloud.beforeLogin(handler, validator)`, also accepted with Parse.User first.
    cloud[type] = (...args: unknown[]): void => {
      const [handler, validator] = typeof args[0] === 'function' && args[0] !== sdk.User ? args : args.slice(1);
      register(type, '_User', handler, validator);
    };
  }
}
