import type { AuthAdapter } from './adapter.ts';
import type { AuthFetch } from './fetch.ts';
import type { JwksCache } from './jwks.ts';

/** What a built-in adapter is made from: its provider's name and options, and the shared network access. */
export interface BuiltInContext {
  readonly provider: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly fetch: AuthFetch;
  readonly jwks: JwksCache;
}

/** Builds one provider's adapter, checking its options (throws AuthOptionError naming the bad one). */
export type BuiltInFactory = (context: BuiltInContext) => AuthAdapter;

/** The id a client claims, already checked by the core to be a non-empty string. */
export const claimedId = (authData: Record<string, unknown>): string => authData.id as string;
