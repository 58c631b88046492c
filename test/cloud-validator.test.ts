/**
 * Cloud Code validators (src/cloud/validator.ts) as a unit: every option of the object form with Parse
 * Server's messages and code 142, the master-key rules, defaults and constants, roles, validator functions
 * and what their thrown values become, and the startup check of the object form.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { ParseError } from '../src/errors/parse-error.ts';
import { assertValidValidator, runValidator, validatorProblems, type ValidationSubject, type Validator } from '../src/cloud/validator.ts';

const require = createRequire(import.meta.url);
const SdkError = require('parse/node').Error as new (code: number, message?: string) => Error & { code: number };

const VALIDATION_ERROR = 142;

/** A validator throwing `value` as is: cloud code throws strings and other non-Errors, as Parse's own docs do. */
const throws =
  (value: unknown) =>
  (): never => {
    throw value;
  };

/** An object with attributes, recording every `set`. */
class FakeObject {
  readonly sets: Array<[string, unknown]> = [];
  constructor(
    private readonly attrs: Record<string, unknown>,
    private readonly isExisting = false,
    readonly className = 'GameScore',
  ) {}
  get(key: string): unknown {
    return this.attrs[key];
  }
  set(key: string, value: unknown): this {
    this.sets.push([key, value]);
    this.attrs[key] = value;
    return this;
  }
  existed(): boolean {
    return this.isExisting;
  }
}

const userWith = (attrs: Record<string, unknown> = {}) => ({ id: 'u1', get: (key: string) => attrs[key] });

function subject(overrides: Partial<ValidationSubject> = {}): ValidationSubject {
  return { params: {}, master: false, roles: [], ...overrides };
}

const anonymous = (params: Record<string, unknown> = {}) => subject({ params });
const loggedIn = (params: Record<string, unknown> = {}, roles: string[] = []) => subject({ params, user: userWith(), roles });
const master = (params: Record<string, unknown> = {}) => subject({ params, master: true });

/** A refusal is always a rejected promise (an accepted call may be answered synchronously). */
async function refused(run: unknown, message: string, code = VALIDATION_ERROR): Promise<void> {
  assert.ok(run instanceof Promise, 'a refusal is a rejected promise, never a synchronous answer');
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.equal(error.code, code);
    return true;
  });
}

async function passes(validator: Validator, on: ValidationSubject, request: unknown = {}): Promise<void> {
  assert.deepEqual(await runValidator(validator, on, request), { skipHandler: false });
}

describe('validator functions', () => {
  test('no validator lets the call through', async () => {
    assert.deepEqual(await runValidator(undefined, anonymous(), {}), { skipHandler: false });
    assert.deepEqual(await runValidator(null, anonymous(), {}), { skipHandler: false });
  });

  test('receive the request, sync or async', async () => {
    const request = { params: { a: 1 } };
    let seen: unknown;
    await passes((r) => {
      seen = r;
    }, anonymous(), request);
    assert.equal(seen, request);
    await passes(async () => {
      await Promise.resolve();
      return false; // the result is ignored
    }, anonymous());
  });

  test('a thrown string or Error refuses with 142 and its message', async () => {
    await refused(runValidator(throws('you are not authorized'), anonymous(), {}), 'you are not authorized');
    await refused(runValidator(throws(new Error('nope')), anonymous(), {}), 'nope');
    await refused(runValidator(() => Promise.reject(new Error('async nope')), anonymous(), {}), 'async nope');
  });

  test('throwing nothing useful refuses with "Validation failed."', async () => {
    for (const thrown of [undefined, null, '', 0, false, {}, Symbol('s'), () => 1]) {
      await refused(runValidator(throws(thrown), anonymous(), {}), 'Validation failed.');
    }
    await refused(runValidator(throws(42), anonymous(), {}), '42');
  });

  test('a Parse error keeps its code and message, from any copy of the SDK', async () => {
    await refused(runValidator(throws(new SdkError(141, 'It should fail')), anonymous(), {}), 'It should fail', 141);
    await refused(runValidator(throws(new SdkError(141)), anonymous(), {}), '', 141);
    await refused(runValidator(throws({ code: 209, message: 'Invalid session token' }), anonymous(), {}), 'Invalid session token', 209);
    const own = new ParseError(101, 'Object not found.');
    await assert.rejects(Promise.resolve(runValidator(throws(own), anonymous(), {})), (error) => error === own);
  });

  test('a string code is not a Parse code: Node errors refuse with 142', async () => {
    const error = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    await refused(runValidator(throws(error), anonymous(), {}), 'ENOENT: no such file');
  });
});

describe('requireUser, requireMaster and the master key', () => {
  test('requireUser', async () => {
    await refused(runValidator({ requireUser: true }, anonymous(), {}), 'Validation failed. Please login to continue.');
    await passes({ requireUser: true }, loggedIn());
    await passes({ requireUser: false }, anonymous());
  });

  test('a _User being created counts as the caller (sign-up), an existing one does not', async () => {
    const signUp = new FakeObject({ username: 'a', name: 'A' }, false, '_User');
    await passes({ requireUser: true, requireUserKeys: ['name'] }, subject({ object: signUp }));
    const existing = new FakeObject({ username: 'a' }, true, '_User');
    await refused(runValidator({ requireUser: true }, subject({ object: existing }), {}), 'Validation failed. Please login to continue.');
    const other = new FakeObject({}, false, 'GameScore');
    await refused(runValidator({ requireUser: true }, subject({ object: other }), {}), 'Validation failed. Please login to continue.');
  });

  test('requireMaster', async () => {
    const message = 'Validation failed. Master key is required to complete this request.';
    await refused(runValidator({ requireMaster: true }, anonymous(), {}), message);
    await refused(runValidator({ requireMaster: true }, loggedIn(), {}), message);
    await passes({ requireMaster: true }, master());
    await passes({ requireMaster: true, validateMasterKey: true }, master());
  });

  test('login is checked before the master key', async () => {
    await refused(runValidator({ requireMaster: true, requireUser: true }, anonymous(), {}), 'Validation failed. Please login to continue.');
  });

  test('with the master key the checks are skipped unless validateMasterKey', async () => {
    const options = { requireUser: true, fields: ['a'], requireAnyUserRoles: ['Admin'] };
    await passes(options, master());
    await refused(runValidator({ ...options, validateMasterKey: true }, master(), {}), 'Validation failed. Please login to continue.');
    await refused(runValidator({ fields: ['a'], validateMasterKey: true }, master(), {}), 'Validation failed. Please specify data for a.');
    await passes({ fields: ['a'], validateMasterKey: false }, master({ a: 1 }));
  });

  test('skipped checks write no defaults', async () => {
    const params: Record<string, unknown> = {};
    await passes({ fields: { a: { default: 'x' } } }, master(params));
    assert.deepEqual(params, {});
  });

  test('skipWithMasterKey asks the caller to skip the handler, only with the master key', async () => {
    assert.deepEqual(await runValidator({ skipWithMasterKey: true }, master(), {}), { skipHandler: true });
    assert.deepEqual(await runValidator({ skipWithMasterKey: true, requireUser: true }, master(), {}), { skipHandler: true });
    assert.deepEqual(await runValidator({ skipWithMasterKey: true }, loggedIn(), {}), { skipHandler: false });
    assert.deepEqual(await runValidator({ skipWithMasterKey: false }, master(), {}), { skipHandler: false });
    await refused(runValidator({ skipWithMasterKey: true, requireUser: true }, anonymous(), {}), 'Validation failed. Please login to continue.');
  });

  test('skipWithMasterKey with validateMasterKey: the checks run first, then the handler is skipped', async () => {
    const options = { fields: ['foo'], validateMasterKey: true, skipWithMasterKey: true };
    await refused(runValidator(options, master(), {}), 'Validation failed. Please specify data for foo.');
    assert.deepEqual(await runValidator(options, master({ foo: 'bar' }), {}), { skipHandler: true });
  });

  test('a validator function runs with the master key too, and skipWithMasterKey is an object option', async () => {
    await refused(runValidator(throws('no'), master(), {}), 'no');
  });

  test("Parsec's public and internal keys are accepted and not enforced here", async () => {
    await passes({ public: true }, anonymous());
    await passes({ internal: true }, anonymous());
  });
});

describe('fields', () => {
  test('as an array: each must be present and not null', async () => {
    await refused(runValidator({ fields: ['a'] }, anonymous(), {}), 'Validation failed. Please specify data for a.');
    await refused(runValidator({ fields: ['a', 'b'] }, anonymous({ a: 1, b: null }), {}), 'Validation failed. Please specify data for b.');
    await passes({ fields: ['a'] }, anonymous({ a: 'yolo' }));
    await passes({ fields: ['a'] }, anonymous({ a: false }));
    await passes({ fields: ['a'] }, anonymous({ a: 0 }));
  });

  test('names of Object.prototype members are not params', async () => {
    await refused(runValidator({ fields: ['toString'] }, anonymous(), {}), 'Validation failed. Please specify data for toString.');
  });

  test('required', async () => {
    const options = { fields: { foo: { required: true }, bar: { required: true } } };
    await refused(runValidator(options, anonymous({ foo: 'bar' }), {}), 'Validation failed. Please specify data for bar.');
    await refused(runValidator(options, anonymous({ foo: 'bar', bar: null }), {}), 'Validation failed. Please specify data for bar.');
    await passes(options, anonymous({ foo: 1, bar: 2 }));
  });

  test('type, compared like Parse: the constructor name against typeof, arrays apart', async () => {
    await refused(runValidator({ fields: { data: { type: String } } }, anonymous({ data: [] }), {}), 'Validation failed. Invalid type for data. Expected: string');
    await refused(runValidator({ fields: { data: { type: Array } } }, anonymous({ data: '' }), {}), 'Validation failed. Invalid type for data. Expected: array');
    await refused(runValidator({ fields: { n: { type: Number } } }, anonymous({ n: '1' }), {}), 'Validation failed. Invalid type for n. Expected: number');
    await refused(runValidator({ fields: { b: { type: Boolean } } }, anonymous({ b: 'true' }), {}), 'Validation failed. Invalid type for b. Expected: boolean');
    await refused(runValidator({ fields: { o: { type: Object } } }, anonymous({ o: [] }), {}), 'Validation failed. Invalid type for o. Expected: object');
    await passes({ fields: { s: { type: String }, n: { type: Number }, b: { type: Boolean }, a: { type: Array }, o: { type: Object } } }, anonymous({ s: 'x', n: 1, b: false, a: [], o: {} }));
  });

  test('type quirks kept from Parse: null is an object, and no value is a date', async () => {
    await passes({ fields: { o: { type: Object } } }, anonymous({ o: null }));
    await refused(runValidator({ fields: { s: { type: String } } }, anonymous({ s: null }), {}), 'Validation failed. Invalid type for s. Expected: string');
    await refused(runValidator({ fields: { when: { type: Date } } }, anonymous({ when: new Date() }), {}), 'Validation failed. Invalid type for when. Expected: date');
  });

  test('an absent optional field is not type- or option-checked', async () => {
    let called = false;
    const options = { fields: { data: { type: String, options: () => { called = true; return false; } } } };
    await passes(options, anonymous());
    assert.equal(called, false);
  });

  test('default: written into params when absent or null, never over a value', async () => {
    const params: Record<string, unknown> = { kept: 'mine', nulled: null };
    await passes({ fields: { data: { type: String, default: 'yolo' }, kept: { default: 'x' }, nulled: { default: 3 } } }, anonymous(params));
    assert.deepEqual(params, { data: 'yolo', kept: 'mine', nulled: 3 });
  });

  test('default as a function is called, sync or async, only when needed', async () => {
    let calls = 0;
    const params: Record<string, unknown> = { given: 1 };
    const validator = {
      fields: {
        data: { default: () => { calls++; return ['a']; }, type: Array },
        later: { default: async () => { await Promise.resolve(); return 'soon'; } },
        given: { default: () => { calls++; return 2; } },
        nothing: { default: () => undefined },
      },
    };
    await passes(validator, anonymous(params));
    assert.deepEqual(params, { data: ['a'], later: 'soon', given: 1 });
    assert.equal(calls, 1);
  });

  test('the default satisfies required and is type-checked', async () => {
    await passes({ fields: { data: { required: true, default: 'x' } } }, anonymous());
    await refused(runValidator({ fields: { data: { type: Number, default: 'x' } } }, anonymous(), {}), 'Validation failed. Invalid type for data. Expected: number');
  });

  test('options as an array, or a single value', async () => {
    await refused(runValidator({ fields: { data: { options: ['a', 'b'] } } }, anonymous({ data: 'f' }), {}), 'Validation failed. Invalid option for data. Expected: a, b');
    await refused(runValidator({ fields: { data: { options: 'a' } } }, anonymous({ data: 'f' }), {}), 'Validation failed. Invalid option for data. Expected: a');
    await refused(runValidator({ fields: { data: { options: [1, 2], error: 'Pick 1 or 2.' } } }, anonymous({ data: 3 }), {}), 'Pick 1 or 2.');
    await passes({ fields: { data: { options: ['a', 'b'] } } }, anonymous({ data: 'b' }));
    await passes({ fields: { data: { options: true } } }, anonymous({ data: true }));
  });

  test('options as a function: false refuses, true and nothing pass', async () => {
    const between = (error?: string) => ({ fields: { data: { type: Number, required: true, options: (v: unknown) => (v as number) > 1 && (v as number) < 5, error } } });
    await refused(runValidator(between('Validation failed. Expected data to be between 1 and 5.'), anonymous({ data: 7 }), {}), 'Validation failed. Expected data to be between 1 and 5.');
    await refused(runValidator(between(), anonymous({ data: 7 }), {}), 'Validation failed. Invalid value for data.');
    await passes(between(), anonymous({ data: 3 }));
    await passes({ fields: { data: { options: () => undefined } } }, anonymous({ data: 3 }));
    await refused(runValidator({ fields: { data: { options: () => 0 } } }, anonymous({ data: 3 }), {}), 'Validation failed. Invalid value for data.');
  });

  test('options functions may be async and receive null when null was sent', async () => {
    const validator = { fields: { data: { options: async (v: unknown) => { await Promise.resolve(); return v === 'f'; }, error: 'Validation failed.' } } };
    await refused(runValidator(validator, anonymous({ data: 'd' }), {}), 'Validation failed.');
    await passes(validator, anonymous({ data: 'f' }));
    const seen: unknown[] = [];
    await passes({ fields: { data: { options: (v: unknown) => { seen.push(v); return true; } } } }, anonymous({ data: null }));
    assert.deepEqual(seen, [null]);
  });

  test('what an options function throws', async () => {
    const throwing = (thrown: unknown, error?: string) => ({ fields: { data: { options: () => { throw thrown; }, error } } });
    await refused(runValidator(throwing('validation failed.'), anonymous({ data: 'a' }), {}), 'validation failed.');
    await refused(runValidator(throwing(null), anonymous({ data: 'a' }), {}), 'Validation failed. Invalid value for data.');
    await refused(runValidator(throwing(new Error('bad value')), anonymous({ data: 'a' }), {}), 'bad value');
    await refused(runValidator(throwing(new SdkError(141, 'script')), anonymous({ data: 'a' }), {}), 'script');
    await refused(runValidator(throwing(new SdkError(141)), anonymous({ data: 'a' }), {}), '', 141);
    await refused(runValidator(throwing('ignored', 'Mine.'), anonymous({ data: 'a' }), {}), 'Mine.');
  });

  test('a type failure comes before any option check', async () => {
    let called = false;
    const validator = { fields: { a: { options: () => { called = true; return true; } }, b: { type: String } } };
    await refused(runValidator(validator, anonymous({ a: 1, b: 2 }), {}), 'Validation failed. Invalid type for b. Expected: string');
    assert.equal(called, false);
  });
});

describe('fields on objects (triggers)', () => {
  test('values are read from the object, and params are left alone', async () => {
    const params: Record<string, unknown> = {};
    const object = new FakeObject({ foo: 'bar' });
    await refused(runValidator({ fields: ['foo', 'bar'] }, subject({ params, object }), {}), 'Validation failed. Please specify data for bar.');
    await passes({ fields: { foo: { type: String, required: true, options: ['bar'] } } }, subject({ params, object }));
    assert.deepEqual(params, {});
  });

  test('a default is set on the object', async () => {
    const object = new FakeObject({});
    await passes({ fields: { foo: { default: 'bar' } } }, subject({ object }));
    assert.deepEqual(object.sets, [['foo', 'bar']]);
    const withValue = new FakeObject({ foo: 'yolo' }, true);
    await passes({ fields: { foo: { default: 'bar' } } }, subject({ object: withValue, original: new FakeObject({ foo: 'old' }) }));
    assert.deepEqual(withValue.sets, []);
  });

  test('constant: a change to an existing object is reverted to the original', async () => {
    const object = new FakeObject({ foo: 'yolo' }, true);
    const original = new FakeObject({ foo: 'bar' }, true);
    await passes({ fields: { foo: { constant: true, default: 'bar' } } }, subject({ object, original }));
    assert.equal(object.get('foo'), 'bar');
    const noDefault = new FakeObject({ foo: 'yolo' }, true);
    await passes({ fields: { foo: { constant: true } } }, subject({ object: noDefault, original }));
    assert.equal(noDefault.get('foo'), 'bar');
  });

  test('constant: an attribute the original lacked is set back to undefined', async () => {
    const object = new FakeObject({ foo: 'new' }, true);
    await passes({ fields: { foo: { constant: true } } }, subject({ object, original: new FakeObject({}) }));
    assert.deepEqual(object.sets, [['foo', undefined]]);
  });

  test('constant: a new object gets the default, or keeps what was sent when there is none', async () => {
    const object = new FakeObject({ foo: 'far' });
    await passes({ fields: { foo: { constant: true, default: 'bar' } } }, subject({ object }));
    assert.equal(object.get('foo'), 'bar');
    const computed = new FakeObject({ foo: 'far' });
    await passes({ fields: { foo: { constant: true, default: () => 'fn' } } }, subject({ object: computed }));
    assert.equal(computed.get('foo'), 'fn');
    const free = new FakeObject({ foo: 'far' });
    await passes({ fields: { foo: { constant: true } } }, subject({ object: free }));
    assert.equal(free.get('foo'), 'far');
  });

  test('constant: as in Parse, the checks see the value sent, not the reverted one', async () => {
    const object = new FakeObject({ foo: 5 }, true);
    const original = new FakeObject({ foo: 'bar' }, true);
    await refused(runValidator({ fields: { foo: { constant: true, type: String } } }, subject({ object, original }), {}), 'Validation failed. Invalid type for foo. Expected: string');
    assert.equal(object.get('foo'), 'bar');
  });

  test('constant is ignored for functions (no object)', async () => {
    const params: Record<string, unknown> = { foo: 'mine' };
    await passes({ fields: { foo: { constant: true, default: 'x' } } }, anonymous(params));
    assert.deepEqual(params, { foo: 'mine' });
  });
});

describe('roles', () => {
  test('requireAnyUserRoles: one of them', async () => {
    const validator = { requireAnyUserRoles: ['Admin', 'Moderator'] };
    await refused(runValidator(validator, loggedIn({}, ['Writer']), {}), 'Validation failed. User does not match the required roles.');
    await passes(validator, loggedIn({}, ['Writer', 'Moderator']));
  });

  test('requireAllUserRoles: every one', async () => {
    const validator = { requireUser: true, requireAllUserRoles: ['Admin', 'Admin2'] };
    await refused(runValidator(validator, loggedIn({}, ['Admin']), {}), 'Validation failed. User does not match all the required roles.');
    await passes(validator, loggedIn({}, ['Admin2', 'Admin', 'Other']));
  });

  test('both: any is checked first', async () => {
    const validator = { requireAnyUserRoles: ['A'], requireAllUserRoles: ['B'] };
    await refused(runValidator(validator, loggedIn({}, []), {}), 'Validation failed. User does not match the required roles.');
    await refused(runValidator(validator, loggedIn({}, ['A']), {}), 'Validation failed. User does not match all the required roles.');
    await passes(validator, loggedIn({}, ['A', 'B']));
  });

  test('a role check needs a logged-in user', async () => {
    await refused(runValidator({ requireAnyUserRoles: ['Admin'] }, anonymous(), {}), 'Validation failed. Please login to continue.');
    await refused(runValidator({ requireAllUserRoles: ['Admin'] }, anonymous(), {}), 'Validation failed. Please login to continue.');
  });

  test('empty lists, as in Parse: any of none refuses, all of none passes', async () => {
    await refused(runValidator({ requireAnyUserRoles: [] }, loggedIn({}, ['Admin']), {}), 'Validation failed. User does not match the required roles.');
    await passes({ requireAllUserRoles: [] }, loggedIn());
  });

  test('role lists from functions, sync or async, called with no arguments', async () => {
    const args: unknown[][] = [];
    const validator = {
      requireAnyUserRoles: (...a: unknown[]) => { args.push(a); return ['Admin Func']; },
      requireAllUserRoles: async () => { await Promise.resolve(); return ['AdminA', 'AdminB']; },
    };
    await refused(runValidator(validator, loggedIn({}, ['AdminA', 'AdminB']), {}), 'Validation failed. User does not match the required roles.');
    await refused(runValidator(validator, loggedIn({}, ['Admin Func', 'AdminA']), {}), 'Validation failed. User does not match all the required roles.');
    await passes(validator, loggedIn({}, ['Admin Func', 'AdminA', 'AdminB']));
    assert.deepEqual(args, [[], [], []]);
  });

  test('a role function that gives no array refuses, naming the option', async () => {
    const bad = (() => 'Admin') as unknown as () => string[];
    await refused(runValidator({ requireAnyUserRoles: bad }, loggedIn({}, ['Admin']), {}), 'Validation failed. requireAnyUserRoles did not give an array of role names.');
    await refused(runValidator({ requireAllUserRoles: async () => { await Promise.resolve(); throw new Error('roles down'); } }, loggedIn(), {}), 'roles down');
  });
});

describe('requireUserKeys', () => {
  test('as an array: each must be set on the user', async () => {
    await refused(runValidator({ requireUserKeys: ['name'] }, anonymous(), {}), 'Please login to make this request.');
    await refused(runValidator({ requireUserKeys: ['name'] }, subject({ user: userWith({ name: null }) }), {}), 'Validation failed. Please set data for name on your account.');
    await passes({ requireUser: true, requireUserKeys: ['name'] }, subject({ user: userWith({ name: 'foo' }) }));
  });

  test('as an object: options against the user attribute, with error', async () => {
    const admin = { requireUserKeys: { admin: { options: true, error: 'Unauthorized.' } } };
    await refused(runValidator(admin, subject({ user: userWith({ admin: false }) }), {}), 'Unauthorized.');
    await passes(admin, subject({ user: userWith({ admin: true }) }));
    const accType = { requireUserKeys: { accType: { options: async (v: unknown) => { await Promise.resolve(); return ['admin', 'admin2'].includes(v as string); } } } };
    await refused(runValidator(accType, subject({ user: userWith({ accType: 'normal' }) }), {}), 'Validation failed. Invalid value for accType.');
    await passes(accType, subject({ user: userWith({ accType: 'admin2' }) }));
    await refused(runValidator({ requireUserKeys: { plan: { options: ['pro'] } } }, subject({ user: userWith({}) }), {}), 'Validation failed. Invalid option for plan. Expected: pro');
  });

  test('as an object without a user', async () => {
    await refused(runValidator({ requireUserKeys: { admin: { options: true } } }, anonymous(), {}), 'Please login to make this request.');
  });

  test('as in Parse, the object form applies only options (required, type, default are not checked)', async () => {
    await passes({ requireUserKeys: { name: { required: true, type: String, default: 'x' } } }, subject({ user: userWith({}) }));
    await passes({ requireUserKeys: { name: { required: true } } }, anonymous());
  });

  test('the checks run in order: login, master, fields, roles, user keys', async () => {
    const all = { requireUser: true, fields: ['a'], requireAnyUserRoles: ['R'], requireUserKeys: ['k'] };
    await refused(runValidator(all, loggedIn(), {}), 'Validation failed. Please specify data for a.');
    await refused(runValidator(all, loggedIn({ a: 1 }), {}), 'Validation failed. User does not match the required roles.');
    await refused(runValidator(all, loggedIn({ a: 1 }, ['R']), {}), 'Validation failed. Please set data for k on your account.');
  });
});

describe('startup check', () => {
  const where = "Parse.Cloud.define('x')";
  const problemFor = (validator: unknown): string => {
    try {
      assertValidValidator(validator, where);
    } catch (error) {
      return (error as Error).message;
    }
    return assert.fail('expected the validator to be refused');
  };

  test('accepts no validator, functions, and every option with its right type', () => {
    for (const ok of [undefined, null, () => undefined, () => Promise.resolve(), {}]) assertValidValidator(ok, where);
    assertValidValidator(
      {
        requireUser: true,
        requireMaster: false,
        validateMasterKey: false,
        skipWithMasterKey: true,
        public: true,
        internal: false,
        requireAnyUserRoles: ['Admin'],
        requireAllUserRoles: () => Promise.resolve(['A']),
        requireUserKeys: { Acc: { constant: true, options: ['A', 'B'], required: true, default: 'f', error: 'a', type: String } },
        fields: { Acc: { constant: true, options: (v: unknown) => v === 'A', required: true, default: () => 'f', error: 'a', type: Date } },
        rateLimit: { requestTimeWindow: 1000, requestCount: 3, errorResponseMessage: 'Slow down', zone: 'user', includeMasterKey: false, includeInternalRequests: true },
      },
      where,
    );
    assertValidValidator({ fields: ['a', 'b'], requireUserKeys: ['name'], requireAnyUserRoles: () => ['x'] }, where);
    for (const type of [String, Number, Boolean, Array, Object, Date]) assertValidValidator({ fields: { a: { type } } }, where);
  });

  test('a misspelt key names the option it probably meant', () => {
    assert.equal(problemFor({ requireUsr: true }), "Parse.Cloud.define('x'): validator key 'requireUsr' is not valid. Did you mean 'requireUser'?");
    assert.equal(problemFor({ requiredUser: true }), "Parse.Cloud.define('x'): validator key 'requiredUser' is not valid. Did you mean 'requireUser'?");
    assert.equal(problemFor({ requireUserRoles: ['A'] }), "Parse.Cloud.define('x'): validator key 'requireUserRoles' is not valid. Did you mean 'requireAnyUserRoles'?");
    assert.equal(problemFor({ otherKey: true }), "Parse.Cloud.define('x'): validator key 'otherKey' is not valid.");
    assert.equal(
      problemFor({ fields: { name: { requird: true } } }),
      "Parse.Cloud.define('x'): validator key 'fields.name.requird' is not valid. Did you mean 'fields.name.required'?",
    );
    assert.equal(
      problemFor({ rateLimit: { requestTimeWindow: 1, requestCount: 1, zoen: 'ip' } }),
      "Parse.Cloud.define('x'): validator key 'rateLimit.zoen' is not valid. Did you mean 'rateLimit.zone'?",
    );
  });

  test('wrong value types', () => {
    const cases: Array<[unknown, string]> = [
      [{ requireUser: [] }, "validator key 'requireUser' must be a boolean, got an array."],
      [{ requireMaster: 'yes' }, `validator key 'requireMaster' must be a boolean, got the string "yes".`],
      [{ validateMasterKey: 1 }, "validator key 'validateMasterKey' must be a boolean, got number 1."],
      [{ skipWithMasterKey: null }, "validator key 'skipWithMasterKey' must be a boolean, got null."],
      [{ public: 'true' }, `validator key 'public' must be a boolean, got the string "true".`],
      [{ internal: {} }, "validator key 'internal' must be a boolean, got an object."],
      [{ requireAllUserRoles: true }, "validator key 'requireAllUserRoles' must be an array of role names or a function returning one, got boolean true."],
      [{ requireAnyUserRoles: 'Admin' }, `validator key 'requireAnyUserRoles' must be an array of role names or a function returning one, got the string "Admin".`],
      [{ requireAnyUserRoles: ['Admin', 3] }, "validator key 'requireAnyUserRoles[1]' must be a role name (a string), got number 3."],
      [{ fields: true }, "validator key 'fields' must be an array of field names or an object of field options, got boolean true."],
      [{ requireUserKeys: 'name' }, `validator key 'requireUserKeys' must be an array of field names or an object of field options, got the string "name".`],
      [{ fields: ['a', {}] }, "validator key 'fields[1]' must be a field name (a string), got an object."],
      [{ fields: { a: 'b' } }, `validator key 'fields.a' must be an object of field options, got the string "b".`],
      [{ fields: { a: { constant: [] } } }, "validator key 'fields.a.constant' must be a boolean, got an array."],
      [{ requireUserKeys: { a: { required: 'yes' } } }, `validator key 'requireUserKeys.a.required' must be a boolean, got the string "yes".`],
      [{ fields: { a: { error: [] } } }, "validator key 'fields.a.error' must be a string, got an array."],
      [{ fields: { a: { type: 'String' } } }, `validator key 'fields.a.type' must be one of the constructors String, Number, Boolean, Array, Object or Date, got the string "String".`],
      [{ fields: { a: { type: () => 'x' } } }, "validator key 'fields.a.type' must be one of the constructors String, Number, Boolean, Array, Object or Date, got a function."],
      [{ fields: { a: { type: class Thing {} } } }, "validator key 'fields.a.type' must be one of the constructors String, Number, Boolean, Array, Object or Date, got a function."],
      [{ rateLimit: true }, "validator key 'rateLimit' must be an object, got boolean true."],
      [{ rateLimit: { requestTimeWindow: '1s', requestCount: 3 } }, `validator key 'rateLimit.requestTimeWindow' must be a positive number, got the string "1s".`],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 0 } }, "validator key 'rateLimit.requestCount' must be a positive number, got number 0."],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 3, errorResponseMessage: 5 } }, "validator key 'rateLimit.errorResponseMessage' must be a string, got number 5."],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 3, zone: 'abc' } }, `validator key 'rateLimit.zone' must be one of 'ip', 'user', 'session', 'global', got the string "abc".`],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 3, includeMasterKey: 'no' } }, `validator key 'rateLimit.includeMasterKey' must be a boolean, got the string "no".`],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 3, includeInternalRequests: [] } }, "validator key 'rateLimit.includeInternalRequests' must be a boolean, got an array."],
      [{ rateLimit: { requestCount: 3 } }, "validator key 'rateLimit.requestTimeWindow' is required."],
      [{ rateLimit: { requestTimeWindow: 1000, requestCount: 3, requestPath: '/x' } }, "validator key 'rateLimit.requestPath' is not valid."],
      ['requireUser', `the validator must be a function or an object, got the string "requireUser".`],
      [[{ requireUser: true }], 'the validator must be a function or an object, got an array.'],
      [true, 'the validator must be a function or an object, got boolean true.'],
    ];
    for (const [validator, problem] of cases) assert.equal(problemFor(validator), `${where}: ${problem}`, JSON.stringify(validator));
  });

  test('every problem is named at once, one per line', () => {
    const message = problemFor({ requireUsr: true, requireMaster: 'no', fields: { a: { requird: true, type: 'x' } }, rateLimit: {} });
    assert.deepEqual(message.split('\n'), [
      `${where}: validator key 'requireUsr' is not valid. Did you mean 'requireUser'?`,
      `${where}: validator key 'requireMaster' must be a boolean, got the string "no".`,
      `${where}: validator key 'fields.a.requird' is not valid. Did you mean 'fields.a.required'?`,
      `${where}: validator key 'fields.a.type' must be one of the constructors String, Number, Boolean, Array, Object or Date, got the string "x".`,
      `${where}: validator key 'rateLimit.requestTimeWindow' is required.`,
      `${where}: validator key 'rateLimit.requestCount' is required.`,
    ]);
    assert.equal(validatorProblems({ requireUsr: true, requireMaster: 'no' }).length, 2);
  });

  test('constructors from another realm are recognised', async () => {
    const { runInNewContext } = await import('node:vm');
    const foreign = runInNewContext('({ fields: { a: { type: String }, b: { type: Array } } })') as Validator;
    assertValidValidator(foreign, where);
    await passes(foreign, anonymous({ a: 'x', b: [] }));
  });
});
