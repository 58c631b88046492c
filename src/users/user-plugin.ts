import { hashPassword } from '../auth/password.ts';
import type { AuthContext } from '../auth/context.ts';
import type { ParsecConfig } from '../config/types.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseGetOptions } from '../query/parse-find.ts';
import type { FieldWrite, ObjectWrite, StoredAcl } from '../query/write-tree.ts';
import type { ClassPlugin, PreparedWrite } from '../rest/class-plugin.ts';
import type { JsonRecord } from '../rest/encode.ts';
import { get } from '../rest/find.ts';
import type { Caller } from '../rest/services.ts';
import { withReadFilter } from '../security/access.ts';
import type { InternalValue } from '../storage/sql/compile-write.ts';
import { unlockValues } from './lockout.ts';
import { checkNewPassword, historyValue, needsOwner, passwordOwner } from './password-policy.ts';
import { sendVerificationEmail } from './account-emails.ts';
import type { SessionStore } from './session-store.ts';
import type { UserCache } from './user-cache.ts';
import { USER_CLASS } from './system-classes.ts';
import { AuthDataFlow, isAuthDataConstraint } from './auth-data-flow.ts';
import { authAlreadyUsed } from './auth-data.ts';

// The shape Parse Server accepts; the real check of an address is the verification email.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): never {
  throw new ParseError(code, message);
}

function topLevel(write: ObjectWrite, field: string): FieldWrite | undefined {
  return write.writes.find((w) => w.target.field === field);
}

/** A value the client set on a user field, checked to be a plain `set` of a string. */
function stringSet(write: ObjectWrite, field: string, missingCode: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): string | undefined {
  const entry = topLevel(write, field);
  if (entry === undefined) return undefined;
  const { operation, target } = entry;
  if (target.path.length > 0 || operation.op !== 'set' || operation.value.kind !== 'string' || operation.value.value === '') {
    fail(missingCode, message);
  }
  return operation.value.value;
}

/** The address a write sets, if it sets one. */
function newEmail(write: ObjectWrite): string | undefined {
  const operation = topLevel(write, 'email')?.operation;
  return operation?.op === 'set' && operation.value.kind === 'string' ? operation.value.value : undefined;
}

/** A new address is unverified until its link is used (when verification is on); the server sets that, not the client. */
function markUnverified(write: ObjectWrite, verifyUserEmails: boolean): ObjectWrite {
  if (!verifyUserEmails || newEmail(write) === undefined) return write;
  const writes = write.writes.filter((w) => w.target.field !== 'emailVerified');
  return { ...write, writes: [...writes, { target: { field: 'emailVerified', path: [] }, operation: { op: 'set', value: { kind: 'boolean', value: false } } }] };
}

/** Who may set server-managed user fields (emailVerified) and any ACL on a user. */
const isMasterKind = (auth: AuthContext): boolean => auth.kind === 'master' || auth.kind === 'maintenance';

/** Checks shared by sign-up and update; returns the password to hash and the username set, if given. */
function checkUserFields(auth: AuthContext, write: ObjectWrite): { password: string | undefined; username: string | undefined } {
  // authData is handled by AuthDataFlow before this runs (validated, or removed).
  if (topLevel(write, 'sessionToken') !== undefined) fail(ErrorCode.INVALID_KEY_NAME, 'sessionToken is an invalid field name.');
  if (topLevel(write, 'emailVerified') !== undefined && !isMasterKind(auth)) {
    fail(ErrorCode.OPERATION_FORBIDDEN, "Clients aren't allowed to manually update email verification.");
  }
  const username = stringSet(write, 'username', ErrorCode.USERNAME_MISSING, 'bad or missing username');
  const email = topLevel(write, 'email');
  if (email !== undefined) {
    const { operation } = email;
    const clears = operation.op === 'delete' || (operation.op === 'set' && operation.value.kind === 'null');
    if (!clears && (operation.op !== 'set' || operation.value.kind !== 'string' || !EMAIL.test(operation.value.value))) {
      fail(ErrorCode.INVALID_EMAIL_ADDRESS, 'Email address format is invalid.');
    }
  }
  return { password: stringSet(write, 'password', ErrorCode.PASSWORD_MISSING, 'password is required'), username };
}

/**
 * The password never becomes a field: it leaves the write here and is stored only as a hash. `alongside`
 * are further server-owned columns a password change sets (history, unlock).
 */
async function withoutPassword(write: ObjectWrite, password: string | undefined, alongside: readonly InternalValue[] = []): Promise<PreparedWrite> {
  const writes = write.writes.filter((w) => w.target.field !== 'password');
  const internal: InternalValue[] = [];
  if (password !== undefined) {
    // An UPDATE's expressions all see the row as it was, so the history takes the hash being replaced.
    internal.push(...alongside);
    internal.push({ column: '_hashed_password', value: await hashPassword(password), cast: 'text' });
    internal.push({ column: '_password_changed_at', value: new Date().toISOString(), cast: 'timestamptz' });
  }
  return { write: { ...write, writes }, internal };
}

/**
 * Fails with the update's own 101 unless the caller may write this user. The policy's checks of a change
 * read the stored user (its username, its earlier hashes) and cost a hash verification each: only a caller
 * allowed to change the password may cause that work or learn its verdict, or the history check would be a
 * password oracle for anyone. The UPDATE itself still carries the permission, as for every write.
 */
async function assertMayWrite(caller: Caller, objectId: string): Promise<void> {
  const { access } = caller;
  const asWriter: Caller = { ...caller, access: withReadFilter(access, (name) => access.writeFilter(name, 'update')) };
  await get(asWriter, parseGetOptions(USER_CLASS, objectId, { keys: 'objectId' }), { cloudTriggers: false });
}

/** A user can always read and write themself; a client-chosen ACL cannot lock them out (as in Parse). */
function userAcl(objectId: string, requested: StoredAcl | undefined, enforcePrivateUsers: boolean, master: boolean): StoredAcl {
  if (requested === undefined) return { read: enforcePrivateUsers ? [objectId] : ['*', objectId], write: [objectId] };
  if (master) return requested;
  return {
    read: requested.read.includes(objectId) ? requested.read : [...requested.read, objectId],
    write: requested.write.includes(objectId) ? requested.write : [...requested.write, objectId],
  };
}

/**
 * `_User`: sign-up through `POST /users` (or `/classes/_User`), reads and updates through the shared
 * pipeline, with the password hashed, session creation on sign-up, other users' private fields hidden and
 * sessions revoked when a password changes or a user is deleted.
 */
export function userPlugin(config: ParsecConfig, sessions: SessionStore, users: UserCache, authFlow: AuthDataFlow = new AuthDataFlow(new Map(), sessions, users)): ClassPlugin {
  return {
    className: USER_CLASS,
    operations: new Set(['find', 'get', 'count', 'create', 'update', 'delete']),
    // Provider ids say which accounts a person has elsewhere, and an anonymous id is a credential: no one
    // else may read them or test them in a query (a $regex on authData.anonymous.id would read it out).
    ownerOnlyFields: ['authData'],

    createInstead: (caller, body) => authFlow.createInstead(caller, body),

    async prepareCreate(caller, write, objectId) {
      if (write.objectId !== undefined && write.objectId.startsWith('role:')) fail(ErrorCode.OPERATION_FORBIDDEN, 'Invalid object ID.');
      const signUp = authFlow.prepareSignUp(caller, write, topLevel(write, 'username') !== undefined);
      write = signUp.write;
      // Without a username nothing else matters: `{"authData":{}}` alone must not create an account.
      if (topLevel(write, 'username') === undefined) fail(ErrorCode.USERNAME_MISSING, 'bad or missing username');
      const { password, username } = checkUserFields(caller.auth, write);
      if (password === undefined && signUp.needsPassword) fail(ErrorCode.PASSWORD_MISSING, 'password is required');
      if (password !== undefined) await checkNewPassword(config.passwordPolicy, password, username, undefined);
      const prepared = await withoutPassword(markUnverified(write, config.verifyUserEmails), password);
      const acl = userAcl(objectId, write.acl, config.enforcePrivateUsers, isMasterKind(caller.auth));
      return { ...prepared, write: { ...prepared.write, acl } };
    },

    async afterCreate(caller, db, objectId, write) {
      const email = newEmail(write);
      if (config.verifyUserEmails && email !== undefined) await sendVerificationEmail(caller.services, db, { objectId, email });
      const { authProvider, extra } = authFlow.signUpDetails(caller);
      // An account that may not log in before verifying gets no session from signing up either; one made by a
      // provider without an email has nothing to verify, so its session is issued.
      if (config.verifyUserEmails && config.preventLoginWithUnverifiedEmail && (email !== undefined || authProvider === 'password')) return undefined;
      const session = await sessions.create(db, {
        userId: objectId,
        createdWith: { action: 'signup', authProvider },
        installationId: caller.client?.installationId,
        restricted: false,
      });
      return { ...extra, sessionToken: session.token };
    },

    async prepareUpdate(caller, objectId, write) {
      let mayWrite: Promise<void> | undefined;
      const assertWriter = (): Promise<void> => (mayWrite ??= assertMayWrite(caller, objectId));
      write = await authFlow.prepareLinks(caller, objectId, write, topLevel(write, 'password') !== undefined, assertWriter);
      const { password, username } = checkUserFields(caller.auth, write);
      if (topLevel(write, 'username')?.operation.op === 'delete') fail(ErrorCode.USERNAME_MISSING, 'bad or missing username');
      const policy = config.passwordPolicy;
      if (password !== undefined && policy !== undefined) {
        await assertWriter();
        const owner = needsOwner(policy) ? await passwordOwner(caller.services.driver, objectId) : undefined;
        await checkNewPassword(policy, password, username, owner);
      }
      const prepared = await withoutPassword(markUnverified(write, config.verifyUserEmails), password, [...historyValue(policy), ...unlockValues(config.accountLockout)]);
      if (write.acl === undefined) return prepared;
      return { ...prepared, write: { ...prepared.write, acl: userAcl(objectId, write.acl, config.enforcePrivateUsers, isMasterKind(caller.auth)) } };
    },

    async afterUpdate(caller, db, objectId, write) {
      await users.forget(db, objectId);
      const email = newEmail(write);
      if (config.verifyUserEmails && email !== undefined) await sendVerificationEmail(caller.services, db, { objectId, email });
      if (!config.revokeSessionOnPasswordReset || topLevel(write, 'password') === undefined) return;
      // The session that changed the password stays; every other one of this user ends now.
      const keep = caller.auth.kind === 'user' && caller.auth.userId === objectId ? caller.auth.sessionId : undefined;
      await sessions.deleteForUser(db, objectId, keep);
    },

    async afterDelete(_caller, db, objectId) {
      await users.forget(db, objectId);
      await sessions.deleteForUser(db, objectId);
    },

    filterRead(caller, object: JsonRecord) {
      // Every provider unlinked (an anonymous user who signed up) leaves `{}`: Parse leaves the field out.
      const { authData } = object;
      if (typeof authData === 'object' && authData !== null && Object.keys(authData).length === 0) delete object.authData;
      const self = caller.auth.kind === 'user' && caller.auth.userId === object.objectId;
      if (caller.auth.kind !== 'anonymous' && caller.auth.kind !== 'user') return;
      if (self) return;
      // The email is a protected field (server option `protectedFields`); authData is never anyone else's business.
      delete object.authData;
    },

    uniqueViolation(constraint) {
      if (constraint === '_User_username_key') return new ParseError(ErrorCode.USERNAME_TAKEN, 'Account already exists for this username.');
      if (constraint === '_User_email_key') return new ParseError(ErrorCode.EMAIL_TAKEN, 'Account already exists for this email address.');
      if (isAuthDataConstraint(constraint)) return authAlreadyUsed();
      return undefined;
    },
  };
}
