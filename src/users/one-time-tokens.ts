import { randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../storage/driver.ts';
import { hashToken } from './tokens.ts';

/** The two single-use token kinds a user row carries, each in its own server-owned columns. */
const KINDS = {
  passwordReset: { token: '_perishable_token', expires: '_perishable_token_expires_at' },
  emailVerification: { token: '_email_verify_token', expires: '_email_verify_token_expires_at' },
} as const;

export type OneTimeTokenKind = keyof typeof KINDS;

/**
 * Issues a token for a user: only its hash is stored, a new one replaces any earlier one, and it expires.
 * Returns the token (the only copy, for the email link).
 */
export async function issueToken(db: SqlExecutor, kind: OneTimeTokenKind, userId: string, validitySeconds: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  const columns = KINDS[kind];
  await db.query(
    `UPDATE "_User" SET "${columns.token}" = $1::text, "${columns.expires}" = now() + make_interval(secs => $2::float8) WHERE "objectId" = $3::text`,
    [hashToken(token), validitySeconds, userId],
  );
  return token;
}

/**
 * Consumes a token atomically: one UPDATE clears it only if it matches and has not expired, so two
 * concurrent uses of the same token can never both succeed. Returns the user it belonged to.
 */
export async function consumeToken(db: SqlExecutor, kind: OneTimeTokenKind, token: unknown): Promise<string | undefined> {
  if (typeof token !== 'string' || token.length < 16 || token.length > 128) return undefined;
  const columns = KINDS[kind];
  const { rows } = await db.query<{ objectId: string }>(
    `UPDATE "_User" SET "${columns.token}" = NULL, "${columns.expires}" = NULL ` +
      `WHERE "${columns.token}" = $1::text AND "${columns.expires}" > now() RETURNING "objectId"`,
    [hashToken(token)],
  );
  return rows[0]?.objectId;
}

export const ONE_TIME_TOKEN_DDL = [
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_perishable_token" text',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_perishable_token_expires_at" timestamptz',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_email_verify_token" text',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_email_verify_token_expires_at" timestamptz',
  'CREATE INDEX IF NOT EXISTS "_User_perishable_token" ON "_User" ("_perishable_token")',
  'CREATE INDEX IF NOT EXISTS "_User_email_verify_token" ON "_User" ("_email_verify_token")',
];
