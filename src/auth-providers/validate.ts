import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { invalidAuthData, type AuthProvider, type AuthRequest } from './adapter.ts';

/** Longest a provider (its adapter and every network call it makes) may take before the request gives up. */
const VALIDATION_TIMEOUT_MS = 15_000;

const CLIENT_CODES = new Set<number>(Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR));

/**
 * What the client hears when an adapter refuses: a ParseError as is; a Parse.Error-like `{code, message}` from
 * a custom adapter (Parse adapters throw `Parse.Error`) with its code when it is a client code; anything
 * else (a crash, a network error text) the generic 101, so an adapter's internals never reach the client.
 */
function refusal(provider: AuthProvider, error: unknown): ParseError {
  if (error instanceof ParseError) return error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'number' && CLIENT_CODES.has(code) && typeof message === 'string') return new ParseError(code as ParseError['code'], message);
  }
  return invalidAuthData(provider.name);
}

/**
 * Asks the provider's adapter whether `authData` (the client's credentials, id already checked to be a
 * non-empty string) is valid, then, if the adapter has one, whether it was issued for this app
 * (`validateAppId` with the provider's `appIds`). Resolves only when both agree; never answers slower
 * than VALIDATION_TIMEOUT_MS.
 */
export async function validateWithProvider(provider: AuthProvider, authData: Readonly<Record<string, unknown>>, request: AuthRequest): Promise<void> {
  const { adapter, options } = provider;
  // Adapters get their own copies: one may not change what another, or the core, sees.
  const copy = (): Record<string, unknown> => structuredClone(authData);
  const run = async (): Promise<void> => {
    await adapter.validateAuthData(copy(), { ...options }, request);
    if (typeof adapter.validateAppId === 'function') await adapter.validateAppId(options.appIds ?? [], copy(), { ...options }, request);
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ParseError(ErrorCode.TIMEOUT, `${provider.name} auth could not be validated in time.`)), VALIDATION_TIMEOUT_MS);
  });
  try {
    await Promise.race([run(), timeout]);
  } catch (error) {
    throw error instanceof ParseError && error.code === ErrorCode.TIMEOUT ? error : refusal(provider, error);
  } finally {
    clearTimeout(timer);
  }
}
