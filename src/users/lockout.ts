import type { AccountLockoutPolicy } from '../config/types.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import type { InternalValue } from '../storage/sql/compile-write.ts';

/**
 * Account lockout (Parse's `accountLockout`). The failed-login count and the lock live in two server-owned
 * `_User` columns and change only through the single statements below: each decides on the row as it is
 * when the statement runs (under its row lock), so concurrent wrong guesses are counted one by one and the
 * count never passes the threshold without the account being locked. Times are the database's clock.
 */

/** SQL true while the account is locked. */
export const LOCKED_SQL = 'COALESCE("_account_lockout_expires_at" > now(), false)';

/** The count after one more failure: a lock that has run out starts a fresh series. */
const NEXT_COUNT = 'CASE WHEN "_account_lockout_expires_at" <= now() THEN 1 ELSE COALESCE("_failed_login_count", 0) + 1 END';

/**
 * Counts a wrong password for an existing user. The row is left alone while it is locked (a locked account
 * stays locked for `duration` from the failure that locked it, as in Parse). Returns whether this failure
 * locked the account.
 */
export async function recordFailedLogin(db: SqlExecutor, policy: AccountLockoutPolicy, userId: string): Promise<{ lockedNow: boolean }> {
  const { rows } = await db.query<{ locked: boolean }>(
    `UPDATE "_User" SET "_failed_login_count" = ${NEXT_COUNT}, ` +
      `"_account_lockout_expires_at" = CASE WHEN ${NEXT_COUNT} >= $2::int4 THEN now() + make_interval(secs => $3::float8) ELSE NULL END ` +
      `WHERE "objectId" = $1::text AND NOT ${LOCKED_SQL} ` +
      'RETURNING "_account_lockout_expires_at" IS NOT NULL AS locked',
    [userId, policy.threshold, policy.duration * 60],
  );
  return { lockedNow: rows[0]?.locked === true };
}

/**
 * A right password: clears the count, unless the account got locked while the password was being checked
 * (concurrent wrong guesses), in which case the login must fail like any other while locked. Returns
 * whether the login may go on.
 */
export async function recordSuccessfulLogin(db: SqlExecutor, userId: string): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE "_User" SET "_failed_login_count" = 0, "_account_lockout_expires_at" = NULL WHERE "objectId" = $1::text AND NOT ${LOCKED_SQL} RETURNING "objectId"`,
    [userId],
  );
  return rows.length === 1;
}

/** Written with a new password when `unlockOnPasswordReset` is set: the account is unlocked and its count cleared. */
export function unlockValues(policy: AccountLockoutPolicy | undefined): InternalValue[] {
  if (policy?.unlockOnPasswordReset !== true) return [];
  return [
    { column: '_failed_login_count', value: 0, cast: 'int4' },
    { column: '_account_lockout_expires_at', value: null, cast: 'timestamptz' },
  ];
}
