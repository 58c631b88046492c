/** Cloud functions, triggers and jobs as the audit reports them: who may call, with what, and whether the code escalates. */
import type { CloudRegistry } from '../cloud/registry.ts';
import { typeName, type FieldSpecs, type RateLimitOptions, type RoleNames, type Validator } from '../cloud/validator-options.ts';
import { escalationOf } from './escalation.ts';
import { paramsReadBy, type ParamsRead } from './params-read.ts';
import { fileOfLocation, indexModule, parseFunctionObject, shortLocation, type ModuleIndex } from './parse-source.ts';
import type { Audience, FunctionSurface, JobSurface, ParamSurface, TriggerSurface } from './types.ts';

/** A function's surface plus what the findings need and the report does not show. */
export interface AuditedFunction extends FunctionSurface {
  readonly paramsRead: ParamsRead;
  /** A validator object (not a function), so `fields` is the complete list of declared params. */
  readonly declaresParams: boolean;
  readonly declaresAccess: boolean;
}

export interface CloudSurface {
  readonly functions: readonly AuditedFunction[];
  readonly triggers: readonly TriggerSurface[];
  readonly jobs: readonly JobSurface[];
}

export function describeCloud(registry: CloudRegistry, cwd: string): CloudSurface {
  const modules = new Map<string, ModuleIndex | undefined>();
  const moduleOf = (location: string | undefined): ModuleIndex | undefined => {
    const file = fileOfLocation(location);
    if (file === undefined) return undefined;
    if (!modules.has(file)) modules.set(file, indexModule(file));
    return modules.get(file);
  };
  const functions = [...registry.functions.values()].map((fn) => {
    const node = parseFunctionObject(fn.handler);
    const facts = escalationOf(node, moduleOf(fn.declaredAt), `function ${fn.name}`);
    const access = audienceOf(fn.validator);
    return {
      name: fn.name,
      ...access,
      params: declaredParams(fn.validator),
      rateLimit: rateLimitText(fn.validator),
      escalation: facts.escalation,
      escalationNotes: facts.notes,
      location: shortLocation(fn.declaredAt, cwd),
      paramsRead: paramsReadBy(node),
      declaresParams: fn.validator !== undefined && typeof fn.validator !== 'function',
    };
  });
  const triggers = registry.allTriggers().map((trigger) => {
    const facts = escalationOf(parseFunctionObject(trigger.handler), moduleOf(trigger.declaredAt), `${trigger.type} ${trigger.className}`);
    return { type: trigger.type, className: trigger.className, escalation: facts.escalation, location: shortLocation(trigger.declaredAt, cwd) };
  });
  const jobs = [...registry.jobs.values()].map((job) => {
    const facts = escalationOf(parseFunctionObject(job.handler), moduleOf(job.declaredAt), `job ${job.name}`);
    return { name: job.name, escalation: facts.escalation, location: shortLocation(job.declaredAt, cwd) };
  });
  const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
  return { functions: functions.sort(byName), triggers, jobs: jobs.sort(byName) };
}

function roleText(names: RoleNames | undefined): string | undefined {
  if (names === undefined) return undefined;
  if (typeof names === 'function') return 'roles decided when called';
  return names.length === 0 ? undefined : names.join(', ');
}

function audienceOf(validator: Validator | undefined): { audience: Audience; callableBy: string; declaresAccess: boolean } {
  if (validator === undefined) return { audience: 'anyone', callableBy: 'anyone with the app keys (no access declared)', declaresAccess: false };
  if (typeof validator === 'function') return { audience: 'custom', callableBy: 'callers its validator function accepts (the audit cannot read its rules)', declaresAccess: true };
  if (validator.internal === true) return { audience: 'internal', callableBy: 'cloud code and the master key only', declaresAccess: true };
  if (validator.requireMaster === true) return { audience: 'master', callableBy: 'the master key only', declaresAccess: true };
  const anyRole = roleText(validator.requireAnyUserRoles);
  const allRoles = roleText(validator.requireAllUserRoles);
  if (anyRole !== undefined || allRoles !== undefined) {
    const parts = [anyRole === undefined ? undefined : `any of roles ${anyRole}`, allRoles === undefined ? undefined : `all of roles ${allRoles}`];
    return { audience: 'roles', callableBy: `logged-in users with ${parts.filter(Boolean).join(' and ')}`, declaresAccess: true };
  }
  if (validator.requireUser === true) return { audience: 'users', callableBy: 'logged-in users', declaresAccess: true };
  if (validator.public === true) return { audience: 'anyone', callableBy: 'anyone with the app keys (declared public)', declaresAccess: true };
  return { audience: 'anyone', callableBy: 'anyone with the app keys (no access declared)', declaresAccess: false };
}

/** `fields` as name/type/required; a bare list of names means required, of any type (Parse's semantics). */
function declaredParams(validator: Validator | undefined): ParamSurface[] | undefined {
  if (typeof validator === 'function') return undefined;
  const fields: FieldSpecs | undefined = validator?.fields;
  if (fields === undefined) return [];
  if (Array.isArray(fields)) return (fields as readonly string[]).map((name) => ({ name, type: 'any', required: true }));
  return Object.entries(fields as Record<string, { type?: unknown; required?: boolean }>).map(([name, options]) => {
    const type = typeName(options.type);
    return { name, type: type === '' ? 'any' : type[0]?.toUpperCase() + type.slice(1), required: options.required === true };
  });
}

function rateLimitText(validator: Validator | undefined): string | undefined {
  if (validator === undefined || typeof validator === 'function') return undefined;
  const limit: RateLimitOptions | undefined = validator.rateLimit;
  if (limit === undefined) return undefined;
  return `${limit.requestCount} per ${limit.requestTimeWindow / 1000}s per ${limit.zone ?? 'ip'}`;
}
