import { hash, randomBytes } from 'node:crypto';

/** `r:` + 128 random bits as hex, the shape Parse SDKs expect of a revocable session token. */
export function newSessionToken(): string {
  return `r:${randomBytes(16).toString('hex')}`;
}

/**
 * Session and one-time tokens are stored and looked up by this hash only: a copy of the database holds no usable token.
 * The token carries 128 bits of entropy, so a fast hash is enough (no salt or stretching needed).
 */
export function hashToken(token: string): string {
  // One-shot: every request with a session token hashes it.
  return hash('sha256', token, 'hex');
}
