/**
 * Runs a Cloud Code validator before a function or trigger, with Parse Server's semantics and messages
 * (`maybeRunValidator`, `builtInTriggerValidator` and `resolveError` in Parse Server's src/triggers.js):
 * every refusal is a ParseError, 142 VALIDATION_ERROR unless a thrown Parse error brings its own code.
 *
 * The object form checks, in Parse's order: the master key (skips everything unless `validateMasterKey`),
 * login, master key required, `fields` (defaults, constants, required, type, options), roles, then
 * `requireUserKeys`. The startup check for the object form is in validator-options.ts.
 */
import type { ErrorCodeValue } from '../errors/codes.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject, typeName, valueTypeName } from './validator-options.ts';
import type { FieldOptions, FieldSpecs, RoleNames, Validator, ValidatorOptions } from './validator-options.ts';

export { assertValidValidator, validatorProblems } from './validator-options.ts';
export type { FieldOptions, RateLimitOptions, RoleNames, Validator, ValidatorFunction, ValidatorOptions } from './validator-options.ts';

/** Something with attributes: the caller, or the object being saved. */
interface Attributes {
  get(key: string): unknown;
}

export interface ValidationSubject {
  /** Function params (functions) — defaults are written into this object, as Parse does. */
  readonly params: Record<string, unknown>;
  /**
   * For triggers: the object's attributes get/set and the original's, so `fields`/`default`/`constant` work on
   * objects. Added to the brief's shape: `className`, because Parse counts a new `_User` (sign-up) as the
   * caller when there is no session, for `requireUser`, the role checks and `requireUserKeys`. `has` is not
   * needed (Parse treats an absent attribute as undefined) and is not called.
   */
  readonly object?: {
    readonly className?: string;
    get(key: string): unknown;
    /** Called with `undefined` when a constant field had no value on the original. */
    set(key: string, value: unknown): unknown;
    has?(key: string): boolean;
    existed(): boolean;
  };
  readonly original?: { get(key: string): unknown };
  /** The caller: undefined when anonymous; `get` reads the user's fields (for requireUserKeys). */
  readonly user?: { readonly id: string; get(key: string): unknown };
  readonly master: boolean;
  /** Role names the user holds, already expanded through the role hierarchy. */
  readonly roles: readonly string[];
}

const refuse = (message: string): ParseError => new ParseError(ErrorCode.VALIDATION_ERROR, message);

export interface ValidatorOutcome {
  readonly skipHandler: boolean;
}

const PROCEED: ValidatorOutcome = Object.freeze({ skipHandler: false });
const SKIP: ValidatorOutcome = Object.freeze({ skipHandler: true });

/**
 * What Parse answers for a value a validator throws (`resolveError` with 142 / 'Validation failed.'): nothing
 * -> the default message; a string -> that message; a Parse error (duck-typed: an integer `code`, since the
 * SDK class may come from another copy of the SDK) keeps its code and message; an Error -> its message.
 */
export function validationError(thrown: unknown): ParseError {
  if (thrown instanceof ParseError) return thrown;
  if (!thrown) return refuse('Validation failed.');
  if (typeof thrown === 'string') return refuse(thrown);
  if (typeof thrown === 'object') {
    const { code, message } = thrown as { code?: unknown; message?: unknown };
    // Any integer: Parse passes custom codes through, so the ParseError's narrower type is widened here.
    if (typeof code === 'number' && Number.isInteger(code)) {
      return new ParseError(code as ErrorCodeValue, typeof message === 'string' ? message : '');
    }
    if (typeof message === 'string' && message !== '') return refuse(message);
    return refuse('Validation failed.');
  }
  // A number or boolean reads as itself; a function or symbol gives no message.
  if (typeof thrown === 'number' || typeof thrown === 'boolean' || typeof thrown === 'bigint') return refuse(String(thrown));
  return refuse('Validation failed.');
}

/**
 * Runs the validator; throws a ParseError when the call is refused. `skipHandler` is true when
 * `skipWithMasterKey` applies: the caller must then not run the handler (nor anything else of the trigger).
 * `null` is accepted like undefined, as Parse does. A refusal is always a rejected promise; an accepted call
 * is answered synchronously when no check had anything to wait for (a function validator, a default,
 * `options` or role list given as a function, the object forms of `fields`/`requireUserKeys`): under
 * Node 20's AsyncLocalStorage every promise runs a hook, and most calls check only `requireUser`/`fields`.
 */
export function runValidator(
  validator: Validator | null | undefined,
  subject: ValidationSubject,
  request: unknown,
): ValidatorOutcome | Promise<ValidatorOutcome> {
  if (validator === undefined || validator === null) return PROCEED;
  if (typeof validator === 'function') return runValidatorFunction(validator, request);
  const outcome: ValidatorOutcome = subject.master && Boolean(validator.skipWithMasterKey) ? SKIP : PROCEED;
  if ((subject.master && !validator.validateMasterKey) || !hasChecks(validator)) return outcome;
  let checking: Promise<void> | undefined;
  try {
    checking = checkOptions(validator, subject);
  } catch (thrown) {
    return Promise.reject(validationError(thrown));
  }
  if (checking === undefined) return outcome;
  return checking.then(
    () => outcome,
    (thrown: unknown) => {
      throw validationError(thrown);
    },
  );
}

async function runValidatorFunction(validator: (request: unknown) => unknown, request: unknown): Promise<ValidatorOutcome> {
  try {
    await validator(request);
    return PROCEED;
  } catch (thrown) {
    throw validationError(thrown);
  }
}

/** Whether any option checks the call (`public`, `internal` and `rateLimit` are enforced elsewhere). */
function hasChecks(options: ValidatorOptions): boolean {
  return (
    options.requireUser === true ||
    options.requireMaster === true ||
    options.fields !== undefined ||
    options.requireUserKeys !== undefined ||
    options.requireAnyUserRoles !== undefined ||
    options.requireAllUserRoles !== undefined
  );
}

/** The object form's checks, in Parse's order; a promise only when a step has something to wait for. */
function checkOptions(options: ValidatorOptions, subject: ValidationSubject): Promise<void> | undefined {
  const caller = callerOf(subject);
  if ((options.requireUser || options.requireAnyUserRoles || options.requireAllUserRoles) && caller === undefined) {
    throw refuse('Validation failed. Please login to continue.');
  }
  if (options.requireMaster && !subject.master) {
    throw refuse('Validation failed. Master key is required to complete this request.');
  }
  const fields = checkFields(options.fields, subject);
  // No promise (nor closure) unless a step is asynchronous.
  return fields === undefined ? checkAccount(options, subject, caller) : fields.then(() => checkAccount(options, subject, caller));
}

/** After `fields`: the roles, then `requireUserKeys`. */
function checkAccount(options: ValidatorOptions, subject: ValidationSubject, caller: Attributes | undefined): Promise<void> | undefined {
  const roles = checkRoles(options, subject.roles);
  return roles === undefined ? checkUserKeys(options.requireUserKeys, caller) : roles.then(() => checkUserKeys(options.requireUserKeys, caller));
}

/** The session's user, or else a `_User` being created (sign-up), as Parse does. */
function callerOf({ user, object }: ValidationSubject): Attributes | undefined {
  if (user !== undefined) return user;
  if (object !== undefined && object.className === '_User' && !object.existed()) return object;
  return undefined;
}

const isList = (specs: FieldSpecs): specs is readonly string[] => Array.isArray(specs);

function requirePresent(key: string, value: unknown): void {
  if (value == null) throw refuse(`Validation failed. Please specify data for ${key}.`);
}

/** A field's value: the object's attribute (triggers) or the param (functions). */
function readField({ object, params }: ValidationSubject, key: string): unknown {
  // Own properties only: a param named like an Object.prototype member is absent, not a function.
  return object ? object.get(key) : Object.hasOwn(params, key) ? params[key] : undefined;
}

/** `fields`: the list form is checked synchronously; the object form may wait for defaults and options. */
function checkFields(fields: FieldSpecs | undefined, subject: ValidationSubject): Promise<void> | undefined {
  if (!fields) return undefined;
  if (!isList(fields)) return checkFieldOptions(fields, subject);
  for (const key of fields) requirePresent(key, readField(subject, key));
  return undefined;
}

async function checkFieldOptions(fields: Exclude<FieldSpecs, readonly string[]>, subject: ValidationSubject): Promise<void> {
  const { object, original, params } = subject;
  const read = (key: string): unknown => readField(subject, key);
  const optionChecks: Array<() => Promise<void>> = [];
  for (const [key, spec] of Object.entries(fields) as Array<[string, unknown]>) {
    // Parse reads a string here as the name of a required field (the startup check refuses it).
    if (typeof spec === 'string') requirePresent(spec, read(spec));
    if (!isPlainObject(spec)) continue;
    const field = spec as FieldOptions;
    const fallback = defaultOf(field);
    let value = read(key);
    const filled = field.default != null && value == null ? await fallback() : undefined;
    if (filled != null) {
      value = filled;
      if (object) object.set(key, value);
      else params[key] = value;
    }
    if (field.constant && object) {
      if (original) object.set(key, original.get(key));
      else if (field.default != null) object.set(key, await fallback());
    }
    // As in Parse, the checks below see the value sent (or defaulted), not the reverted constant.
    if (field.required) requirePresent(key, value);
    if (!field.required && value === undefined) continue;
    if (field.type) {
      const expected = typeName(field.type);
      if (valueTypeName(value) !== expected) throw refuse(`Validation failed. Invalid type for ${key}. Expected: ${expected}`);
    }
    const checked = value;
    if (field.options) optionChecks.push(() => checkOption(field, key, checked));
  }
  await Promise.all(optionChecks.map((check) => check()));
}

/** The field's default, computed once: a function default is called (Parsec extension, see FieldOptions). */
function defaultOf(field: FieldOptions): () => Promise<unknown> {
  let computed: Promise<unknown> | undefined;
  return () => {
    const spec = field.default;
    computed ??= typeof spec === 'function' ? Promise.resolve((spec as () => unknown)()) : Promise.resolve(spec);
    return computed;
  };
}

/** `options`: a function refusing with a falsy non-null result or by throwing, or the allowed values. */
async function checkOption(field: FieldOptions, key: string, value: unknown): Promise<void> {
  const { options, error } = field;
  if (typeof options === 'function') {
    let verdict: unknown;
    try {
      verdict = await (options as (value: unknown) => unknown)(value);
    } catch (thrown) {
      if (!thrown || error) throw refuse(error || `Validation failed. Invalid value for ${key}.`);
      const message = typeof thrown === 'object' ? (thrown as { message?: unknown }).message : undefined;
      // A thrown error's message becomes a 142 (Parse keeps the code only when there is no message).
      throw typeof message === 'string' && message !== '' ? refuse(message) : validationError(thrown);
    }
    if (!verdict && verdict != null) throw refuse(error || `Validation failed. Invalid value for ${key}.`);
    return;
  }
  const allowed: readonly unknown[] = Array.isArray(options) ? options : [options];
  if (!allowed.includes(value)) {
    throw refuse(error || `Validation failed. Invalid option for ${key}. Expected: ${allowed.join(', ')}`);
  }
}

function checkRoles(options: ValidatorOptions, held: readonly string[]): Promise<void> | undefined {
  if (!options.requireAnyUserRoles && !options.requireAllUserRoles) return undefined;
  return checkRoleLists(options, held);
}

async function checkRoleLists(options: ValidatorOptions, held: readonly string[]): Promise<void> {
  const [anyOf, allOf] = await Promise.all([
    roleList(options.requireAnyUserRoles, 'requireAnyUserRoles'),
    roleList(options.requireAllUserRoles, 'requireAllUserRoles'),
  ]);
  if (anyOf && !anyOf.some((role) => held.includes(role as string))) {
    throw refuse('Validation failed. User does not match the required roles.');
  }
  if (allOf && !allOf.every((role) => held.includes(role as string))) {
    throw refuse('Validation failed. User does not match all the required roles.');
  }
}

/** The role names to check; a function is called with no arguments, as Parse does. */
async function roleList(spec: RoleNames | undefined, key: string): Promise<readonly unknown[] | undefined> {
  if (!spec) return undefined;
  const names: unknown = typeof spec === 'function' ? await spec() : spec;
  // Parse fails here with a TypeError's message; the cause is named instead.
  if (!Array.isArray(names)) throw refuse(`Validation failed. ${key} did not give an array of role names.`);
  return names as readonly unknown[];
}

/** `requireUserKeys`: the list form is checked synchronously; the object form may wait for its options. */
function checkUserKeys(keys: FieldSpecs | undefined, caller: Attributes | undefined): Promise<void> | undefined {
  if (!keys) return undefined;
  if (!isList(keys)) return checkUserKeyOptions(keys, caller);
  for (const key of keys) {
    if (caller === undefined) throw refuse('Please login to make this request.');
    if (caller.get(key) == null) throw refuse(`Validation failed. Please set data for ${key} on your account.`);
  }
  return undefined;
}

async function checkUserKeyOptions(keys: Exclude<FieldSpecs, readonly string[]>, caller: Attributes | undefined): Promise<void> {
  // Object form: Parse applies only `options` (with `error`) to the caller's attributes.
  const optionChecks: Array<() => Promise<void>> = [];
  for (const [key, spec] of Object.entries(keys) as Array<[string, unknown]>) {
    if (!isPlainObject(spec) || !spec.options) continue;
    // Parse fails here with a TypeError's message; the array form's message is used instead.
    if (caller === undefined) throw refuse('Please login to make this request.');
    const value = caller.get(key);
    optionChecks.push(() => checkOption(spec, key, value));
  }
  await Promise.all(optionChecks.map((check) => check()));
}
