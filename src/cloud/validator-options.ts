/**
 * The object form of a Cloud Code validator (third argument of `Parse.Cloud.define` and of the triggers) and
 * its startup check. Parse Server checks the same keys when code registers (`validateValidator` in
 * src/cloud-code/Parse.Cloud.js) but stops at the first problem and lets some mistakes through (a `type` given
 * as a string, a field spec that is not an object) that then refuse every call; Parsec names every problem at
 * once, with a did-you-mean, and refuses those too.
 */
import { closest } from '../config/suggest.ts';

/** Role names, or a function (no arguments, may be async) returning them when a call is checked. */
export type RoleNames = readonly string[] | (() => readonly string[] | Promise<readonly string[]>);

/** One entry of `fields` / `requireUserKeys` in object form. */
export interface FieldOptions {
  /** String, Number, Boolean, Array, Object or Date, compared with the value as Parse does (see `typeName`). */
  readonly type?: (...args: never[]) => unknown;
  /** Used when the value is null or absent; a function is called (no arguments, may be async) for it. */
  readonly default?: unknown;
  /** Allowed values: an array, a single value, or a function returning false to refuse (may be async). */
  readonly options?: unknown;
  readonly required?: boolean;
  /** Triggers only: a change to an existing object is reverted; a new object gets `default`, if any. */
  readonly constant?: boolean;
  /** Replaces the default message when `options` refuses the value. */
  readonly error?: string;
}

export type FieldSpecs = readonly string[] | Readonly<Record<string, FieldOptions>>;

export const RATE_LIMIT_ZONES = ['ip', 'user', 'session', 'global'] as const;

/** Only the shape is checked here; the limiter lives elsewhere. */
export interface RateLimitOptions {
  readonly requestTimeWindow: number;
  readonly requestCount: number;
  readonly errorResponseMessage?: string;
  readonly zone?: (typeof RATE_LIMIT_ZONES)[number];
  readonly includeMasterKey?: boolean;
  readonly includeInternalRequests?: boolean;
}

export interface ValidatorOptions {
  readonly requireUser?: boolean;
  readonly requireMaster?: boolean;
  /** With the master key the checks below are skipped unless this is true. */
  readonly validateMasterKey?: boolean;
  /** With the master key the handler is not run at all (checks still run if validateMasterKey). */
  readonly skipWithMasterKey?: boolean;
  readonly fields?: FieldSpecs;
  /** Checked against the caller's attributes; in object form Parse only applies `options` (and `error`). */
  readonly requireUserKeys?: FieldSpecs;
  readonly requireAnyUserRoles?: RoleNames;
  readonly requireAllUserRoles?: RoleNames;
  readonly rateLimit?: RateLimitOptions;
  /** Parsec's access keys: accepted and checked here, enforced by the caller. */
  readonly public?: boolean;
  readonly internal?: boolean;
}

export type ValidatorFunction = (request: unknown) => unknown;
export type Validator = ValidatorFunction | ValidatorOptions;

/** A plain object, also when it comes from another realm (cloud code may run in its own VM context). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]';
}

/**
 * The type name Parse compares with: for a constructor declared as `function Name`, its lowercased name
 * (String -> 'string', Date -> 'date'); '' for anything else (classes, arrow functions), which no value has.
 * Read from the source text like Parse, so a String from another realm still reads 'string'.
 */
export function typeName(type: unknown): string {
  if (typeof type !== 'function') return '';
  const match = /^\s*function (\w+)/.exec(Function.prototype.toString.call(type));
  return match?.[1]?.toLowerCase() ?? '';
}

/** The value's type as Parse compares it: 'array' for arrays, otherwise `typeof` (so null is 'object'). */
export const valueTypeName = (value: unknown): string => (Array.isArray(value) ? 'array' : typeof value);

const FIELD_TYPES = ['string', 'number', 'boolean', 'array', 'object', 'date'];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}

type Check = (value: unknown, path: string, problems: string[]) => void;

/** A check that only needs a predicate and the words for what was expected. */
const checkThat =
  (ok: (value: unknown) => boolean, expected: string): Check =>
  (value, path, problems) => {
    if (!ok(value)) problems.push(`validator key '${path}' must be ${expected}, got ${describe(value)}.`);
  };

const boolean = checkThat((v) => typeof v === 'boolean', 'a boolean');
const string = checkThat((v) => typeof v === 'string', 'a string');
const anything: Check = () => undefined;
const positiveNumber = checkThat((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number');
const fieldType = checkThat(
  (v) => FIELD_TYPES.includes(typeName(v)),
  'one of the constructors String, Number, Boolean, Array, Object or Date',
);

/** Unknown keys get a did-you-mean; then each known key's check runs. */
function checkKeys(object: Record<string, unknown>, checks: Readonly<Record<string, Check>>, prefix: string, problems: string[]): void {
  const known = Object.keys(checks);
  for (const [key, value] of Object.entries(object)) {
    const path = `${prefix}${key}`;
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (check === undefined) {
      const match = closest(key, known);
      problems.push(`validator key '${path}' is not valid.${match === undefined ? '' : ` Did you mean '${prefix}${match}'?`}`);
    } else {
      check(value, path, problems);
    }
  }
}

const FIELD_CHECKS: Readonly<Record<string, Check>> = {
  type: fieldType,
  default: anything,
  options: anything,
  required: boolean,
  constant: boolean,
  error: string,
};

const fieldSpecs: Check = (value, path, problems) => {
  if (Array.isArray(value)) {
    value.forEach((name, i) => {
      if (typeof name !== 'string') problems.push(`validator key '${path}[${i}]' must be a field name (a string), got ${describe(name)}.`);
    });
  } else if (isPlainObject(value)) {
    for (const [field, spec] of Object.entries(value)) {
      if (isPlainObject(spec)) checkKeys(spec, FIELD_CHECKS, `${path}.${field}.`, problems);
      else problems.push(`validator key '${path}.${field}' must be an object of field options, got ${describe(spec)}.`);
    }
  } else {
    problems.push(`validator key '${path}' must be an array of field names or an object of field options, got ${describe(value)}.`);
  }
};

const roleNames: Check = (value, path, problems) => {
  if (typeof value === 'function') return;
  if (!Array.isArray(value)) {
    problems.push(`validator key '${path}' must be an array of role names or a function returning one, got ${describe(value)}.`);
    return;
  }
  value.forEach((name, i) => {
    if (typeof name !== 'string') problems.push(`validator key '${path}[${i}]' must be a role name (a string), got ${describe(name)}.`);
  });
};

const RATE_LIMIT_CHECKS: Readonly<Record<string, Check>> = {
  requestTimeWindow: positiveNumber,
  requestCount: positiveNumber,
  errorResponseMessage: string,
  zone: checkThat((v) => (RATE_LIMIT_ZONES as readonly unknown[]).includes(v), `one of ${RATE_LIMIT_ZONES.map((z) => `'${z}'`).join(', ')}`),
  includeMasterKey: boolean,
  includeInternalRequests: boolean,
};

const rateLimit: Check = (value, path, problems) => {
  if (!isPlainObject(value)) {
    problems.push(`validator key '${path}' must be an object, got ${describe(value)}.`);
    return;
  }
  checkKeys(value, RATE_LIMIT_CHECKS, `${path}.`, problems);
  for (const required of ['requestTimeWindow', 'requestCount']) {
    if (value[required] === undefined) problems.push(`validator key '${path}.${required}' is required.`);
  }
};

const VALIDATOR_CHECKS: Readonly<Record<keyof ValidatorOptions, Check>> = {
  requireUser: boolean,
  requireMaster: boolean,
  validateMasterKey: boolean,
  skipWithMasterKey: boolean,
  fields: fieldSpecs,
  requireUserKeys: fieldSpecs,
  requireAnyUserRoles: roleNames,
  requireAllUserRoles: roleNames,
  rateLimit,
  public: boolean,
  internal: boolean,
};

/** Every problem with a validator, one sentence each; empty when it is fine (or absent). */
export function validatorProblems(validator: unknown): string[] {
  // null: Parse treats it like no validator at all.
  if (validator === undefined || validator === null || typeof validator === 'function') return [];
  if (!isPlainObject(validator)) return [`the validator must be a function or an object, got ${describe(validator)}.`];
  const problems: string[] = [];
  checkKeys(validator, VALIDATOR_CHECKS, '', problems);
  return problems;
}

/**
 * Startup check: throws an Error naming every problem, one per line, each prefixed by `where`, e.g.
 * "Parse.Cloud.define('x'): validator key 'requireUsr' is not valid. Did you mean 'requireUser'?".
 * `null` also passes, as in Parse (it means no validator), though the asserted type leaves it out: store
 * `validator ?? undefined`.
 */
export function assertValidValidator(validator: unknown, where: string): asserts validator is Validator | undefined {
  const problems = validatorProblems(validator);
  if (problems.length > 0) throw new Error(problems.map((problem) => `${where}: ${problem}`).join('\n'));
}
