import { verify } from 'node:crypto';
import type { JwksCache } from './jwks.ts';
import { publicKeyFromJwk } from './jwks.ts';

/** The algorithms Parsec verifies. One is pinned per provider; the token's header never chooses. */
export type JwtAlgorithm = 'RS256' | 'ES256';

export interface JwtRules {
  readonly algorithm: JwtAlgorithm;
  readonly jwksUrl: string;
  /** `iss` must equal one of these. */
  readonly issuers: readonly string[];
  /** `aud` (a string or a list) must contain one of these: the app's own client ids. */
  readonly audiences: readonly string[];
  /** The claim that must equal `authData.id` (`sub` for OpenID Connect). */
  readonly subjectClaim: string;
}

/** Clock difference tolerated between Parsec and the provider for `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW_SECONDS = 60;
const MAX_TOKEN_LENGTH = 16 * 1024;

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a JWK may carry this algorithm: the key type must match, and a key that names its algorithm must name this one. */
function keyFits(jwk: Record<string, unknown>, algorithm: JwtAlgorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== algorithm) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  return algorithm === 'RS256' ? jwk.kty === 'RSA' : jwk.kty === 'EC' && jwk.crv === 'P-256';
}

function audienceMatches(aud: unknown, audiences: readonly string[]): boolean {
  const given = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return given.some((value) => typeof value === 'string' && audiences.includes(value));
}

/**
 * Verifies a signed token and returns its claims, or undefined for anything wrong with it: shape, an
 * algorithm other than the pinned one (`none` and HMAC included, so a public key can never serve as an HMAC
 * secret), an unknown key id, a bad signature, another issuer or audience, an expired or not yet valid
 * token, or a subject other than `expectedSubject`. The key set is the configured one: `jku`/`x5u`/`jwk`
 * headers are ignored, so a token cannot say where its key comes from.
 */
export async function verifyJwt(token: unknown, expectedSubject: string, rules: JwtRules, keys: JwksCache, nowMs: number = Date.now()): Promise<Record<string, unknown> | undefined> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodePart(headerPart);
  const claims = decodePart(payloadPart);
  if (header === undefined || claims === undefined || !/^[A-Za-z0-9_-]+$/.test(signaturePart)) return undefined;
  if (header.alg !== rules.algorithm || typeof header.kid !== 'string') return undefined;
  const jwk = await keys.jwk(rules.jwksUrl, header.kid);
  if (jwk === undefined || !keyFits(jwk, rules.algorithm)) return undefined;
  const key = publicKeyFromJwk(jwk);
  if (key === undefined) return undefined;
  const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'utf8');
  const signature = Buffer.from(signaturePart, 'base64url');
  let valid: boolean;
  try {
    valid = rules.algorithm === 'RS256' ? verify('sha256', signed, key, signature) : verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return undefined;
  }
  if (!valid) return undefined;
  const now = nowMs / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS < now) return undefined;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - CLOCK_SKEW_SECONDS > now)) return undefined;
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat - CLOCK_SKEW_SECONDS > now)) return undefined;
  if (typeof claims.iss !== 'string' || !rules.issuers.includes(claims.iss)) return undefined;
  if (!audienceMatches(claims.aud, rules.audiences)) return undefined;
  const subject = claims[rules.subjectClaim];
  if (typeof subject !== 'string' && typeof subject !== 'number') return undefined;
  if (String(subject) !== expectedSubject) return undefined;
  return claims;
}
