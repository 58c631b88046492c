import { verifyPassword } from '../auth/password.ts';
import type { PasswordPolicy } from '../config/types.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import type { InternalValue } from '../storage/sql/compile-write.ts';

/**
 * Parse's `passwordPolicy`: rules a new password must meet at sign-up and at every change (whoever makes
 * it, the master key included, as in Parse), a history of earlier hashes, and a maximum age checked at login.
 */

export const DEFAULT_VALIDATION_ERROR = 'Password does not meet the Password Policy requirements.';
const CONTAINS_USERNAME = 'Password cannot contain your username.';
const EXPIRED = 'Your password has expired. Please reset your password.';
const DAY_MS = 86_400_000;

const refuse = (message: string): ParseError => new ParseError(ErrorCode.VALIDATION_ERROR, message);

/** The stored state of the user whose password changes; absent at sign-up. */
export interface PasswordOwner {
  readonly username: string | null;
  readonly hashedPassword: string | null;
  readonly history: unknown;
}

/** Reads what the checks of a password change need. */
export async function passwordOwner(db: SqlExecutor, userId: string): Promise<PasswordOwner | undefined> {
  const { rows } = await db.query<{ username: string | null; _hashed_password: string | null; _password_history: unknown }>(
    'SELECT "username", "_hashed_password", "_password_history" FROM "_User" WHERE "objectId" = $1::text',
    [userId],
  );
  const row = rows[0];
  return row === undefined ? undefined : { username: row.username, hashedPassword: row._hashed_password, history: row._password_history };
}

/** Whether a policy needs the stored user to check a change (so the caller's right to it must be known first). */
export function needsOwner(policy: PasswordPolicy | undefined): boolean {
  return policy !== undefined && (policy.doNotAllowUsername === true || (policy.maxPasswordHistory ?? 0) > 0);
}

async function meetsRules(policy: PasswordPolicy, password: string): Promise<boolean> {
  const pattern = policy.validatorPattern;
  if (pattern !== undefined) {
    // A g or y flag would make test() continue from the previous match's position on a shared RegExp.
    const fresh = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
    if (!fresh.test(password)) return false;
  }
  // A callback that throws fails the request (code 1, logged); the password is not accepted either way.
  if (policy.validatorCallback !== undefined && (await policy.validatorCallback(password)) !== true) return false;
  return true;
}

/** The hashes a new password must not match: the current one and the newest earlier ones, `max` in all. */
function recentHashes(owner: PasswordOwner, max: number): string[] {
  const history = Array.isArray(owner.history) ? owner.history.filter((entry): entry is string => typeof entry === 'string') : [];
  const earlier = max > 1 ? history.slice(-(max - 1)) : [];
  const hashes = [...(owner.hashedPassword === null ? [] : [owner.hashedPassword]), ...earlier.reverse()];
  return [...new Set(hashes)].slice(0, max);
}

/**
 * Checks a new password; 142 when the policy refuses it. `username` is the one the same write sets, if any;
 * `owner` the stored user for a change (undefined at sign-up).
 */
export async function checkNewPassword(policy: PasswordPolicy | undefined, password: string, username: string | undefined, owner: PasswordOwner | undefined): Promise<void> {
  if (policy === undefined) return;
  if (!(await meetsRules(policy, password))) throw refuse(policy.validationError ?? DEFAULT_VALIDATION_ERROR);
  const name = username ?? owner?.username ?? undefined;
  if (policy.doNotAllowUsername === true && name !== undefined && name !== null && name !== '' && password.includes(name)) throw refuse(CONTAINS_USERNAME);
  const max = policy.maxPasswordHistory ?? 0;
  if (max > 0 && owner !== undefined) {
    // One full verification per stored hash: slow by design, and only for a caller allowed to change this user.
    const results = await Promise.all(recentHashes(owner, max).map((hash) => verifyPassword(password, hash)));
    if (results.some((result) => result.ok)) throw refuse(`New password should not be the same as last ${max} passwords.`);
  }
}

/**
 * Written with a changed password when a history is kept: the hash being replaced joins `_password_history`
 * (oldest first, the newest `maxPasswordHistory - 1` kept, as Parse stores it). The database computes it from
 * the row being updated, so two concurrent changes cannot drop each other's entry.
 */
export function historyValue(policy: PasswordPolicy | undefined): InternalValue[] {
  const max = policy?.maxPasswordHistory ?? 0;
  if (max <= 0) return [];
  return [
    {
      column: '_password_history',
      value: max - 1,
      cast: 'int4',
      expression: (keep, column) => {
        const history = column('_password_history');
        const current = column('_hashed_password');
        const entries =
          `(CASE WHEN jsonb_typeof(${history}) = 'array' THEN ${history} ELSE '[]'::jsonb END || ` +
          `CASE WHEN ${current} IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(${current}) END)`;
        return (
          `(SELECT COALESCE(jsonb_agg(kept.e ORDER BY kept.i), '[]'::jsonb) FROM ` +
          `(SELECT e, i FROM jsonb_array_elements(${entries}) WITH ORDINALITY AS entry(e, i) ORDER BY i DESC LIMIT ${keep}) AS kept)`
        );
      },
    },
  ];
}

/**
 * `maxPasswordAge` at login, after the password was verified: 101 once it is older. A password set before
 * the policy existed has no date; as in Parse, its age starts counting now.
 */
export async function assertPasswordNotExpired(db: SqlExecutor, policy: PasswordPolicy | undefined, userId: string, changedAt: Date | null): Promise<void> {
  const maxAge = policy?.maxPasswordAge;
  if (maxAge === undefined || !(maxAge > 0)) return;
  if (changedAt === null) {
    await db.query('UPDATE "_User" SET "_password_changed_at" = now() WHERE "objectId" = $1::text AND "_password_changed_at" IS NULL', [userId]);
    return;
  }
  if (changedAt.getTime() + maxAge * DAY_MS < Date.now()) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, EXPIRED);
}
