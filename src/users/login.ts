import { burnEquivalentWork, hashPassword, verifyPassword } from '../auth/password.ts';
import type { AuthContext } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseGetOptions } from '../query/parse-find.ts';
import { isPlainObject } from '../query/values.ts';
import { accessPlanFor } from '../security/access.ts';
import type { JsonRecord } from '../rest/encode.ts';
import { get } from '../rest/find.ts';
import type { Caller } from '../rest/services.ts';
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
export function callerAsUser(caller: Caller, userId: string, session?: { sessionId: string; token: string }): Caller {
  const auth: AuthContext = Object.freeze({
    kind: 'user',
    userId,
    roles: Object.freeze([]),
    sessionId: session?.sessionId ?? '',
    sessionToken: session?.token ?? '',
  });
  return { auth, access: accessPlanFor(auth, caller.services.plugins), services: caller.services };
}

/**
 * Checks a username (or email) and password. Unknown users cost the same hashing work as a wrong password
 * and get the same answer, so neither timing nor message reveals which accounts exist. A user whose own
 * ACL hides them from themself cannot log in (the read below fails with the same 101).
 */
export async function verifyCredentials(caller: Caller, input: LoginInput): Promise<{ userId: string; user: JsonRecord }> {
  const { driver } = caller.services;
  const byUsername = input.username !== undefined;
  const { rows } = await driver.query<{ objectId: string; _hashed_password: string | null }>(
    byUsername
      ? 'SELECT "objectId", "_hashed_password" FROM "_User" WHERE "username" = $1::text'
      : 'SELECT "objectId", "_hashed_password" FROM "_User" WHERE lower("email") = lower($1::text)',
    [byUsername ? input.username : input.email],
  );
  const row = rows.length === 1 ? rows[0] : undefined;
  if (row === undefined) {
    await burnEquivalentWork(input.password);
    throw invalidCredentials();
  }
  const verification = await verifyPassword(input.password, row._hashed_password);
  if (!verification.ok) throw invalidCredentials();
  if (verification.needsRehash) {
    await driver.query('UPDATE "_User" SET "_hashed_password" = $1::text WHERE "objectId" = $2::text', [await hashPassword(input.password), row.objectId]);
  }
  try {
    const user = await get(callerAsUser(caller, row.objectId), parseGetOptions(USER_CLASS, row.objectId, {}));
    return { userId: row.objectId, user };
  } catch (error) {
    if (error instanceof ParseError && error.code === ErrorCode.OBJECT_NOT_FOUND) throw invalidCredentials();
    throw error;
  }
}
