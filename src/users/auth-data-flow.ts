/**
 * Signing up, logging in, linking and unlinking with `authData` (Parse's `POST /users` with authData,
 * `_linkWith`, `PUT /users/:id` with authData). The order is the security: shape (no database) → the
 * provider's validation (always, for every log-in) → only then the lookup that can answer 208, so neither
 * an unknown provider nor an unverified id ever causes a query, and 208 is never an oracle for strangers.
 */
import type { AuthProviders, AuthRequest } from '../auth-providers/adapter.ts';
import { invalidAuthData } from '../auth-providers/adapter.ts';
import { validateWithProvider } from '../auth-providers/validate.ts';
import { runUserTrigger } from '../cloud/user-triggers.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { FieldWrite, ObjectWrite } from '../query/write-tree.ts';
import { create, UPDATED_EXISTING, type Created } from '../rest/create.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Caller } from '../rest/services.ts';
import { sqlState } from '../storage/driver.ts';
import { authAlreadyUsed, readAuthData, storedAuthData, storedId, storedValue, usersLinkedTo, type AuthDataRequest } from './auth-data.ts';
import { readOwnUser } from './login.ts';
import type { SessionStore } from './session-store.ts';
import { USER_CLASS } from './system-classes.ts';
import type { UserCache } from './user-cache.ts';

/** A sign-up whose authData the provider confirmed, carried through the ordinary create by its caller object. */
interface PendingSignUp {
  readonly stored: Readonly<Record<string, { id: string }>>;
  readonly authProvider: string;
  generatedUsername?: string;
}

const authDataWrites = (write: ObjectWrite): FieldWrite[] => write.writes.filter((w) => w.target.field === 'authData');
const withoutAuthData = (write: ObjectWrite): FieldWrite[] => write.writes.filter((w) => w.target.field !== 'authData');

/** The authData object a write sets, or 252 for any other way of writing it (dotted paths, Delete, a non-object). */
function authDataValue(write: ObjectWrite): unknown {
  const writes = authDataWrites(write);
  if (writes.length === 0) return undefined;
  const [only] = writes;
  if (writes.length > 1 || only === undefined || only.target.path.length > 0 || only.operation.op !== 'set') throw new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
  const { value } = only.operation;
  if (value.kind === 'null') return undefined;
  if (value.kind !== 'object') throw new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
  return value.value;
}

function authRequest(caller: Caller, action: AuthRequest['action'], userId: string | undefined): AuthRequest {
  return Object.freeze({ action, ip: caller.client?.ip, userId, master: caller.auth.kind === 'master' });
}

/** A unique index on a provider id refused a row: another account got that id first (a race). */
export function isAuthDataConstraint(constraint: string | undefined): boolean {
  return constraint?.startsWith('_User_authData_') === true;
}

export class AuthDataFlow {
  private readonly pending = new WeakMap<Caller, PendingSignUp>();

  constructor(
    private readonly providers: AuthProviders,
    private readonly sessions: SessionStore,
    private readonly users: UserCache,
  ) {}

  private async validateAll(caller: Caller, links: AuthDataRequest['link'], request: AuthRequest): Promise<void> {
    await Promise.all([...links].map(([name, data]) => {
      const provider = this.providers.get(name);
      // readAuthData only lets configured providers through; this is the same 252 should that ever change.
      if (provider === undefined) throw new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
      return validateWithProvider(provider, data, request).catch((error: unknown) => {
        caller.services.log.info({ provider: name, ip: request.ip }, 'authData refused by its provider');
        throw error;
      });
    }));
  }

  /**
   * `POST /users` (or `/classes/_User`) with authData: log in the user linked to it, or sign up a new one.
   * Undefined when the body links no provider: the create goes on as an ordinary sign-up.
   */
  async createInstead(caller: Caller, body: unknown): Promise<Created | undefined> {
    // The read-only master key writes nothing, sessions included: its create is refused as usual (119).
    if (this.pending.has(caller) || !isPlainObject(body) || caller.auth.kind === 'readOnlyMaster') return undefined;
    const request = readAuthData(body.authData, this.providers);
    if (request === undefined || request.link.size === 0) return undefined;
    // Every log-in runs the provider's validation: there is no path that trusts a stored or claimed id.
    await this.validateAll(caller, request.link, authRequest(caller, 'login', undefined));
    const ids = new Map([...request.link].map(([name, data]) => [name, data.id as string]));
    const found = await usersLinkedTo(caller.services.driver, ids);
    if (found.length > 1) throw authAlreadyUsed();
    const authProvider = [...request.link.keys()].join(',');
    const stored = Object.fromEntries([...request.link].map(([name, data]) => [name, storedValue(data)]));
    if (found[0] !== undefined) return this.logIn(caller, found[0], stored, authProvider);
    // A fresh caller object carries the validated authData through the ordinary create (CLP, triggers,
    // schema, session): only this code holds it, so no other create can claim the validation.
    const signUp: Caller = { ...caller };
    this.pending.set(signUp, { stored, authProvider });
    try {
      return await create(signUp, USER_CLASS, { ...body, authData: stored });
    } finally {
      this.pending.delete(signUp);
    }
  }

  private async logIn(caller: Caller, userId: string, stored: Readonly<Record<string, { id: string }>>, authProvider: string): Promise<Created> {
    const { driver } = caller.services;
    // Presenting a second, not yet linked provider alongside a linked one links it (the provider vouched for both).
    const current = await storedAuthData(driver, userId);
    const additions = Object.entries(stored).filter(([name, value]) => storedId(current, name) !== value.id);
    if (additions.length > 0) {
      try {
        await driver.query(
          `UPDATE "_User" SET "authData" = COALESCE("authData", '{}'::jsonb) || $2::jsonb, "updatedAt" = $3::timestamptz WHERE "objectId" = $1::text`,
          [userId, JSON.stringify(Object.fromEntries(additions)), new Date().toISOString()],
        );
      } catch (error) {
        if (sqlState(error) === '23505') throw authAlreadyUsed();
        throw error;
      }
      await this.users.forget(driver, userId);
    }
    let user;
    try {
      user = await readOwnUser(caller, userId);
    } catch (error) {
      // A user whose own ACL shuts them out cannot log in, as with a password.
      if (error instanceof ParseError && error.code === ErrorCode.OBJECT_NOT_FOUND) throw invalidAuthData(authProvider);
      throw error;
    }
    // As for a password log-in: an account with an address still to verify waits for the link (checked after the provider).
    const { verifyUserEmails, preventLoginWithUnverifiedEmail } = caller.services.config;
    if (verifyUserEmails && preventLoginWithUnverifiedEmail && typeof user.email === 'string' && user.emailVerified !== true) {
      throw new ParseError(ErrorCode.EMAIL_NOT_FOUND, 'User email is not verified.');
    }
    await runUserTrigger(caller, 'beforeLogin', user);
    const session = await this.sessions.create(driver, { userId, createdWith: { action: 'login', authProvider }, installationId: caller.client?.installationId, restricted: false });
    await runUserTrigger(caller, 'afterLogin', user);
    return { ...user, objectId: userId, createdAt: String(user.createdAt), sessionToken: session.token, [UPDATED_EXISTING]: true };
  }

  /**
   * A sign-up's write: with validated authData, that authData (ids only; whatever a beforeSave trigger did to
   * the field is replaced) and a random username when none was given; without, authData may only be empty.
   */
  prepareSignUp(caller: Caller, write: ObjectWrite, hasUsername: boolean): { write: ObjectWrite; needsPassword: boolean } {
    const signUp = this.pending.get(caller);
    const value = authDataValue(write);
    if (signUp === undefined) {
      // Only `{}` or unlink entries (nothing to link) get here without validation; anything else was not validated.
      if (value !== undefined && Object.values(value as Record<string, unknown>).some((entry) => entry !== null)) {
        throw new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
      }
      return { write: { ...write, writes: withoutAuthData(write) }, needsPassword: true };
    }
    const writes = withoutAuthData(write);
    writes.push({ target: { field: 'authData', path: [] }, operation: { op: 'set', value: { kind: 'object', value: signUp.stored } } });
    if (!hasUsername) {
      // Parse's convention for accounts made by a provider: a random username the user may change later.
      signUp.generatedUsername = newObjectId(25);
      writes.push({ target: { field: 'username', path: [] }, operation: { op: 'set', value: { kind: 'string', value: signUp.generatedUsername } } });
    }
    return { write: { ...write, writes }, needsPassword: false };
  }

  /** How the sign-up's session records its origin, and what the response adds (a generated username). */
  signUpDetails(caller: Caller): { authProvider: string; extra: Record<string, string> } {
    const signUp = this.pending.get(caller);
    if (signUp === undefined) return { authProvider: 'password', extra: {} };
    return { authProvider: signUp.authProvider, extra: signUp.generatedUsername === undefined ? {} : { username: signUp.generatedUsername } };
  }

  /**
   * An update's authData (`_linkWith`, `_unlinkFrom`): `null` unlinks; an id already linked to this user is
   * left as it is (the SDK sends back what it has); a new or changed id is validated with the provider and
   * then must not belong to another user (208). Only a caller allowed to write the user gets as far as the
   * provider or the lookup (`assertMayWrite`, the update's own 101 otherwise). Setting a password ends
   * anonymity: the anonymous link goes, as the SDK's sign-up of an anonymous user does. A new anonymous id
   * cannot be linked to an existing account (252).
   */
  async prepareLinks(caller: Caller, objectId: string, write: ObjectWrite, passwordSet: boolean, assertMayWrite: () => Promise<void>): Promise<ObjectWrite> {
    const request = readAuthData(authDataValue(write), this.providers);
    if (request === undefined && !passwordSet) return { ...write, writes: withoutAuthData(write) };
    const writes = withoutAuthData(write);
    const { driver } = caller.services;
    if (request !== undefined) {
      await assertMayWrite();
      const current = await storedAuthData(driver, objectId);
      const changed = new Map([...request.link].filter(([name, data]) => storedId(current, name) !== data.id));
      // An anonymous id is a credential the client made up: added to an existing account it would be a second
      // password that skips the password policy and lockout. Anonymous links are made only by signing up.
      if (changed.has('anonymous')) throw new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
      await this.validateAll(caller, changed, authRequest(caller, 'link', objectId));
      const owners = await usersLinkedTo(driver, new Map([...changed].map(([name, data]) => [name, data.id as string])));
      if (owners.some((owner) => owner !== objectId)) throw authAlreadyUsed();
      for (const [name, data] of changed) {
        writes.push({ target: { field: 'authData', path: [name] }, operation: { op: 'set', value: { kind: 'object', value: storedValue(data) } } });
      }
      for (const name of request.unlink) writes.push({ target: { field: 'authData', path: [name] }, operation: { op: 'delete' } });
    }
    if (passwordSet && !(request?.unlink.has('anonymous') ?? false) && !(request?.link.has('anonymous') ?? false)) {
      const current = await storedAuthData(driver, objectId);
      if (storedId(current, 'anonymous') !== undefined) writes.push({ target: { field: 'authData', path: ['anonymous'] }, operation: { op: 'delete' } });
    }
    return { ...write, writes };
  }
}
