import { ErrorCode, ParseError } from '../errors/parse-error.ts';

/**
 * What Parsec tells an adapter about the request it validates (a subset of Parse's trigger-style request:
 * no credentials, no master key, no session token).
 */
export interface AuthRequest {
  /** `login` (sign-up or log-in with authData) or `link` (an existing user adds or changes a provider). */
  readonly action: 'login' | 'link';
  readonly ip: string | undefined;
  /** The user being linked (link only). */
  readonly userId: string | undefined;
  readonly master: boolean;
}

/**
 * Parse Server's auth adapter shape, so a published adapter plugs in unchanged: `validateAuthData` rejects
 * (or throws) unless the provider confirms the credentials belong to `authData.id`; `validateAppId`, when
 * present, rejects unless they were issued for this app (`appIds` is the provider's `appIds` option).
 */
export interface AuthAdapter {
  validateAuthData(authData: Record<string, unknown>, options: Record<string, unknown>, request?: unknown): unknown;
  validateAppId?(appIds: unknown, authData: Record<string, unknown>, options: Record<string, unknown>, request?: unknown): unknown;
}

/** One configured provider: its adapter instance (one per provider, never shared) and that provider's options. */
export interface AuthProvider {
  readonly name: string;
  readonly adapter: AuthAdapter;
  readonly options: Readonly<Record<string, unknown>>;
  /** Built in: the adapter's errors are Parsec's own. Custom: their messages are passed on only as Parse errors. */
  readonly builtIn: boolean;
}

/** The configured providers by name; a name not here answers 252 before anything else happens. */
export type AuthProviders = ReadonlyMap<string, AuthProvider>;

export function isAuthAdapter(value: unknown): value is AuthAdapter {
  return typeof value === 'object' && value !== null && typeof (value as { validateAuthData?: unknown }).validateAuthData === 'function';
}

/** Provider names become part of index names and JSON paths: letters, digits and `_`, as field names. */
export const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** The answer for credentials a provider did not confirm (Parse's adapters use 101 with this wording). */
export function invalidAuthData(provider: string): ParseError {
  return new ParseError(ErrorCode.OBJECT_NOT_FOUND, `${provider} auth is invalid for this user.`);
}

export const unsupportedService = (): ParseError => new ParseError(ErrorCode.UNSUPPORTED_SERVICE, 'This authentication method is unsupported.');
