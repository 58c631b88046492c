/**
 * Who is calling, decided once per request from verified credentials and never changed afterwards.
 * There is deliberately no "unknown" kind: code that has no AuthContext cannot call the pipeline at all.
 */
export type AuthContext =
  | { readonly kind: 'master' }
  | { readonly kind: 'readOnlyMaster' }
  /** The maintenance key: objects without ACL/CLP checks and server-set fields, but not a master. */
  | { readonly kind: 'maintenance' }
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly userId: string;
      /** Role names, expanded through the role hierarchy (filled by the authorization work). */
      readonly roles: readonly string[];
      readonly sessionId: string;
      /** The caller's own token, so `/sessions/me` and `/users/me` can hand it back; never logged. */
      readonly sessionToken: string;
    };

export const MASTER: AuthContext = Object.freeze({ kind: 'master' });
export const READ_ONLY_MASTER: AuthContext = Object.freeze({ kind: 'readOnlyMaster' });
export const MAINTENANCE: AuthContext = Object.freeze({ kind: 'maintenance' });
export const ANONYMOUS: AuthContext = Object.freeze({ kind: 'anonymous' });

export function isMaster(auth: AuthContext): boolean {
  return auth.kind === 'master' || auth.kind === 'readOnlyMaster';
}

/** The ACL entries a caller matches: `*`, their user id and every role they hold. Undefined when unrestricted. */
export function principals(auth: AuthContext): readonly string[] | undefined {
  switch (auth.kind) {
    case 'master':
    case 'readOnlyMaster':
    case 'maintenance':
      return undefined;
    case 'anonymous':
      return ['*'];
    case 'user':
      return ['*', auth.userId, ...auth.roles.map((role) => `role:${role}`)];
  }
}
