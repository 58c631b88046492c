import { burnEquivalentWork, hashPassword, verifyPassword } from '../auth/password.ts';
import { principals, type AuthContext } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseGetOptions } from '../query/parse-find.ts';
import { isPlainObject } from '../query/values.ts';
import { callerAccess, withReadFilter } from '../security/access.ts';
import type { JsonRecord } from '../rest/encode.ts';
import { get } from '../rest/find.ts';
import type { Caller } from '../rest/services.ts';
import { LOCKED_SQL, recordFailedLogin, recordSuccessfulLogin } from './lockout.ts';
import { assertPasswordNotExpired } from './password-policy.ts';
import { USER_CLASS } from './system-classes.ts';

export interface LoginInput {
  readonly username: string | undefined;
  readonly email: string | undefined;
  readonly password: string;
}

const invalidCredentials = (): ParseError => new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Invalid username/password.');

/**
 * Reads `username`/`email`/`password` from a login body (or query string). Anything but strings is
 * refused outright, so operator objects never reach a query.
 */
export function loginInput(source: unknown): LoginInput {
  const input = isPlainObject(source) ? source : {};
  const { username, email, password } = input;
  if (username === undefined && email === undefined) throw new ParseError(ErrorCode.USERNAME_MISSING, 'username/email is required.');
  if (password === undefined) throw new ParseError(ErrorCode.PASSWORD_MISSING, 'password is required.');
  const text = (value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw invalidCredentials();
    return value;
  };
  const checkedPassword = text(password);
  if (checkedPassword === undefined) throw invalidCredentials();
  return { username: text(username), email: text(email), password: checkedPassword };
}

/** The caller as the given user, for reading their own record with their own permissions. */
export async function callerAsUser(caller: Caller, userId: string, session?: { sessionId: string; token: string }): Promise<Caller> {
  const auth: AuthContext = Object.freeze({
    kind: 'user',
    userId,
    roles: await caller.services.roles.rolesOf(userId),
    sessionId: session?.sessionId ?? '',
    sessionToken: session?.token ?? '',
  });
  return { auth, access: callerAccess(auth, caller.services), services: caller.services };
}

/**
 * A user's own record as they see it, for login, `/users/me` and `/loginAs`. The row's ACL still applies
 * (a user whose ACL shuts them out cannot log in, as in Parse) but the class-level permissions of `_User`
 * do not: they govern reading users, and restricting `get` must not stop anyone from logging in.
 */
export async function readOwnUser(caller: Caller, userId: string, session?: { sessionId: string; token: string }): Promise<JsonRecord> {
  const asUser = await callerAsUser(caller, userId, session);
  const { access } = asUser;
  const ownRow: Caller = {
    ...asUser,
    access: withReadFilter(access, () => ({ type: 'access', column: '_rperm', principals: principals(asUser.auth) ?? [] })),
  };
  return get(ownRow, parseGetOptions(USER_CLASS, userId, {}), { cloudTriggers: false });
}

interface LoginRow {
  readonly objectId: string;
  readonly _hashed_password: string | null;
  readonly _password_changed_at: Date | null;
  readonly locked: boolean;
}

/**
 * Checks a username (or email) and password. Unknown users cost the same hashing work as a wrong password
 * and get the same answer, so neither timing nor message reveals which accounts exist. A user whose own
 * ACL hides them from themself cannot log in (the read below fails with the same 101).
 *
 * Account lockout: a locked account answers exactly like a wrong password (Parse answers "Your account is
 * locked…"), without its password being checked but after the same hashing work. Only existing accounts can
 * be locked, so a distinct answer would tell anyone who tries `threshold + 1` passwords which usernames
 * exist; the lock is reported in the server log instead.
 */
export async function verifyCredentials(caller: Caller, input: LoginInput): Promise<{ userId: string; user: JsonRecord }> {
  const { driver, config, log } = caller.services;
  const lockout = config.accountLockout;
  const byUsername = input.username !== undefined;
  const columns = `"objectId", "_hashed_password", "_password_changed_at", ${LOCKED_SQL} AS "locked"`;
  const { rows } = await driver.query<LoginRow>(
    byUsername
      ? `SELECT ${columns} FROM "_User" WHERE "username" = $1::text`
      : `SELECT ${columns} FROM "_User" WHERE lower("email") = lower($1::text)`,
    [byUsername ? input.username : input.email],
  );
  const row = rows.length === 1 ? rows[0] : undefined;
  if (row === undefined || (lockout !== undefined && row.locked)) {
    await burnEquivalentWork(input.password);
    throw invalidCredentials();
  }
  const verification = await verifyPassword(input.password, row._hashed_password);
  if (!verification.ok) {
    if (lockout !== undefined) {
      const { lockedNow } = await recordFailedLogin(driver, lockout, row.objectId);
      if (lockedNow) log.warn({ userId: row.objectId, minutes: lockout.duration }, `account locked after ${lockout.threshold} failed logins`);
    }
    throw invalidCredentials();
  }
  // Wrong guesses running at the same time may have locked the account while this one was being checked.
  if (lockout !== undefined && !(await recordSuccessfulLogin(driver, row.objectId))) throw invalidCredentials();
  if (verification.needsRehash) {
    await driver.query('UPDATE "_User" SET "_hashed_password" = $1::text WHERE "objectId" = $2::text', [await hashPassword(input.password), row.objectId]);
  }
  await assertPasswordNotExpired(driver, config.passwordPolicy, row.objectId, row._password_changed_at);
  let user: JsonRecord;
  try {
    user = await readOwnUser(caller, row.objectId);
  } catch (error) {
    if (error instanceof ParseError && error.code === ErrorCode.OBJECT_NOT_FOUND) throw invalidCredentials();
    throw error;
  }
  // Checked only after the right password, so it reveals nothing to someone who does not know it.
  const { verifyUserEmails, preventLoginWithUnverifiedEmail } = caller.services.config;
  if (verifyUserEmails && preventLoginWithUnverifiedEmail && user.emailVerified !== true) {
    throw new ParseError(ErrorCode.EMAIL_NOT_FOUND, 'User email is not verified.');
  }
  return { userId: row.objectId, user };
}
