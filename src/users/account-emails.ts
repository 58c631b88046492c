import { MASTER } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import { callerAccess } from '../security/access.ts';
import { hasUserTrigger, runUserTrigger } from '../cloud/user-triggers.ts';
import { readStored } from '../rest/stored.ts';
import type { Caller, Services } from '../rest/services.ts';
import { update } from '../rest/update.ts';
import { withTransaction, type SqlExecutor } from '../storage/driver.ts';
import type { EmailAdapter } from './email.ts';
import { consumeToken, issueToken } from './one-time-tokens.ts';

/** How long the links in account emails work. */
export const RESET_TOKEN_SECONDS = 60 * 60;
export const VERIFY_TOKEN_SECONDS = 24 * 60 * 60;

function emailFrom(body: unknown): string {
  const email = isPlainObject(body) ? body.email : undefined;
  if (email === undefined || email === null || email === '') throw new ParseError(ErrorCode.EMAIL_MISSING, 'you must provide an email');
  if (typeof email !== 'string') throw new ParseError(ErrorCode.INVALID_EMAIL_ADDRESS, 'you must provide a valid email string');
  return email;
}

async function userByEmail(services: Services, email: string): Promise<{ objectId: string; email: string; emailVerified: boolean | null } | undefined> {
  const { rows } = await services.driver.query<{ objectId: string; email: string; emailVerified: boolean | null }>(
    'SELECT "objectId", "email", "emailVerified" FROM "_User" WHERE lower("email") = lower($1::text)',
    [email],
  );
  return rows.length === 1 ? rows[0] : undefined;
}

/** Sending happens after the answer is decided and is not awaited, so its timing reveals nothing. */
function sendInBackground(services: Services, mail: EmailAdapter, message: { to: string; subject: string; text: string }): void {
  mail.sendMail(message).catch((error: unknown) => services.log.error({ err: error }, 'sending an account email failed'));
}

function appLink(services: Services, page: string, token: string): string {
  const { serverURL, appId } = services.config;
  return `${serverURL}/apps/${encodeURIComponent(appId)}/${page}?token=${encodeURIComponent(token)}`;
}

/**
 * `POST /requestPasswordReset`: the same `{}` for unknown, verified and unverified addresses, so the
 * endpoint cannot be used to find out who has an account.
 */
export async function requestPasswordReset(caller: Caller, body: unknown, mail: EmailAdapter): Promise<Record<string, never>> {
  const email = emailFrom(body);
  const user = await userByEmail(caller.services, email);
  if (user !== undefined) {
    if (hasUserTrigger(caller, 'beforePasswordResetRequest')) {
      const stored = await readStored(caller, '_User', user.objectId, undefined);
      if (stored !== undefined) await runUserTrigger(caller, 'beforePasswordResetRequest', stored);
    }
    const validity = caller.services.config.passwordPolicy?.resetTokenValidityDuration ?? RESET_TOKEN_SECONDS;
    const token = await issueToken(caller.services.driver, 'passwordReset', user.objectId, validity);
    sendInBackground(caller.services, mail, {
      to: user.email,
      subject: 'Reset your password',
      text: `Someone asked to reset the password of your account. To choose a new one, use this link within ${Math.round(validity / 60)} minutes:\n${appLink(caller.services, 'request_password_reset', token)}\nIf it was not you, ignore this email.`,
    });
  }
  return {};
}

/** Issues a verification token in `db` (the caller's transaction) and mails the link in the background. */
export async function sendVerificationEmail(services: Services, db: SqlExecutor, user: { objectId: string; email: string }): Promise<void> {
  const token = await issueToken(db, 'emailVerification', user.objectId, VERIFY_TOKEN_SECONDS);
  sendInBackground(services, services.mail, {
    to: user.email,
    subject: 'Verify your email',
    text: `Confirm this address by opening:\n${appLink(services, 'verify_email', token)}`,
  });
}

/** `POST /verificationEmailRequest`: `{}` whatever the address; a link goes only to unverified accounts. */
export async function requestVerificationEmail(caller: Caller, body: unknown, mail: EmailAdapter): Promise<Record<string, never>> {
  const email = emailFrom(body);
  const user = await userByEmail(caller.services, email);
  if (user !== undefined && user.emailVerified !== true) {
    await sendVerificationEmail({ ...caller.services, mail }, caller.services.driver, user);
  }
  return {};
}

const invalidLink = (): ParseError => new ParseError(ErrorCode.OTHER_CAUSE, 'Failed to reset password: username / email / token is invalid');

/**
 * Uses a reset token: consuming it and setting the password happen in one transaction, so a password the
 * policy refuses leaves the token usable, and two concurrent uses of one token cannot both succeed. The new
 * password goes through the ordinary user update (hashing, policy, revocation of every session).
 */
export async function resetPassword(services: Services, body: unknown): Promise<Record<string, never>> {
  const input = isPlainObject(body) ? body : {};
  const password = input.new_password;
  if (typeof password !== 'string' || password === '') throw new ParseError(ErrorCode.PASSWORD_MISSING, 'password is required');
  await withTransaction(services.driver, async (db) => {
    const userId = await consumeToken(db, 'passwordReset', input.token);
    if (userId === undefined) throw invalidLink();
    const master: Caller = { auth: MASTER, access: callerAccess(MASTER, services), services: { ...services, driver: db } };
    await update(master, '_User', userId, { password });
  });
  return {};
}

/** Uses a verification token: marks the address verified, once. */
export async function verifyEmail(services: Services, token: unknown): Promise<Record<string, never>> {
  await withTransaction(services.driver, async (db) => {
    const userId = await consumeToken(db, 'emailVerification', token);
    if (userId === undefined) throw new ParseError(ErrorCode.OTHER_CAUSE, 'Invalid or expired verification link.');
    await db.query('UPDATE "_User" SET "emailVerified" = TRUE WHERE "objectId" = $1::text', [userId]);
    await services.users.forget(db, userId);
  });
  return {};
}
