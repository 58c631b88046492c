import { hash, timingSafeEqual } from 'node:crypto';
import type { ParsecConfig } from '../config/types.ts';
import { unauthorized } from '../errors/parse-error.ts';
import { ANONYMOUS, MAINTENANCE, MASTER, READ_ONLY_MASTER, type AuthContext } from './context.ts';
import { createIpAllowList } from './ip-allow-list.ts';

/** Credentials as the client sent them (headers, or the JS SDK's body fields). */
export interface Credentials {
  readonly appId: string | undefined;
  readonly masterKey: string | undefined;
  readonly maintenanceKey: string | undefined;
  readonly javascriptKey: string | undefined;
  readonly restAPIKey: string | undefined;
  readonly clientKey: string | undefined;
  readonly dotNetKey: string | undefined;
  readonly sessionToken: string | undefined;
}

// One-shot hashing: about half the cost of a createHash object, on every request that sends a key.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * Compares against one configured secret in constant time: hashing first makes the lengths equal and
 * hides the secret's length. The secret's digest is computed once, so a request costs one hash per key
 * it supplies.
 */
export function secretMatcher(expected: string | undefined): (supplied: string | undefined) => boolean {
  if (expected === undefined) return () => false;
  const expectedDigest = digest(expected);
  return (supplied) => supplied !== undefined && timingSafeEqual(digest(supplied), expectedDigest);
}

/** One comparison, for a secret that is not known in advance. */
export function secretEquals(supplied: string | undefined, expected: string | undefined): boolean {
  return secretMatcher(expected)(supplied);
}

export type Authenticator = (credentials: Credentials, ip: string, path: string) => Promise<AuthContext>;

/** The session lookup the authenticator needs (the SessionStore). */
export interface SessionResolver {
  resolve(token: unknown): Promise<{ readonly sessionId: string; readonly userId: string }>;
}

/** The role lookup the authenticator needs (the RoleStore). */
export interface RoleResolver {
  rolesOf(userId: string): Promise<readonly string[]>;
}

export function createAuthenticator(config: ParsecConfig, sessions: SessionResolver, roles: RoleResolver): Authenticator {
  const masterAllowed = createIpAllowList(config.masterKeyIps);
  const clientKeys = Object.entries(config.clientKeys)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
    .map(([name, key]) => ({ name, matches: secretMatcher(key) }));
  const isAppId = secretMatcher(config.appId);
  const isMaintenanceKey = secretMatcher(config.maintenanceKey);
  const isMaster = secretMatcher(config.masterKey);
  const isReadOnly = secretMatcher(config.readOnlyMasterKey);
  return async (credentials, ip, path) => {
    if (!isAppId(credentials.appId)) throw unauthorized();
    if (credentials.maintenanceKey !== undefined && config.maintenanceKey !== undefined) {
      // A wrong maintenance key is refused rather than ignored: a script using it expects its rights.
      if (!isMaintenanceKey(credentials.maintenanceKey) || !masterAllowed(ip)) throw unauthorized();
      return MAINTENANCE;
    }
    const isMasterKey = credentials.masterKey !== undefined && isMaster(credentials.masterKey);
    const isReadOnlyKey = credentials.masterKey !== undefined && !isMasterKey && isReadOnly(credentials.masterKey);
    if (isMasterKey || isReadOnlyKey) {
      // A right key from the wrong place is refused outright, never silently downgraded.
      if (!masterAllowed(ip)) throw unauthorized();
      return isMasterKey ? MASTER : READ_ONLY_MASTER;
    }
    if (clientKeys.length > 0) {
      const supplied = credentials as unknown as Record<string, string | undefined>;
      const matches = clientKeys.some(({ name, matches: keyMatches }) => keyMatches(supplied[name]));
      if (!matches) throw unauthorized();
    }
    // A login request authenticates with the credentials in its body, not with a token (as Parse).
    if (credentials.sessionToken === undefined || credentials.sessionToken === '' || /^\/login\/?$/i.test(path)) return ANONYMOUS;
    return sessionAuth(credentials.sessionToken, sessions, roles);
  };
}

/** The user a session token names (209 unless it is a live session), with their roles. */
export async function sessionAuth(token: unknown, sessions: SessionResolver, roles: RoleResolver): Promise<AuthContext> {
  const session = await sessions.resolve(token);
  return Object.freeze({
    kind: 'user',
    userId: session.userId,
    roles: await roles.rolesOf(session.userId),
    sessionId: session.sessionId,
    sessionToken: token as string,
  });
}
