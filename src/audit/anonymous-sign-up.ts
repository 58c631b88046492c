import type { ParsecConfig } from '../config/types.ts';

/**
 * Whether anyone can become a logged-in user without a credential: POST /users with
 * `authData: {anonymous: {id}}` answers a session token. True unless `enableAnonymousUsers` is false or
 * `auth.anonymous` is switched off (Parse's defaults leave it on).
 */
export function anonymousSignUpOpen(config: ParsecConfig): boolean {
  if (config.enableAnonymousUsers === false) return false;
  const entry = config.auth?.anonymous;
  if (entry === false) return false;
  return !(typeof entry === 'object' && entry !== null && (entry as { enabled?: unknown }).enabled === false);
}
