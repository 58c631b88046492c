/**
 * `authData` as clients send it and as Parsec stores it. Parsing needs no database and no network, so a
 * request naming an unknown provider, or an id that is not a string, is refused before anything else runs.
 */
import { PROVIDER_NAME, unsupportedService, type AuthProviders } from '../auth-providers/adapter.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import { sqlState, type SqlExecutor } from '../storage/driver.ts';

/** What one request asks: providers to link (the client's data, credentials included) and providers to unlink. */
export interface AuthDataRequest {
  readonly link: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  readonly unlink: ReadonlySet<string>;
}

/** More providers than this in one request is not a real client; it would only multiply provider calls. */
const MAX_PROVIDERS = 8;

export const authAlreadyUsed = (): ParseError => new ParseError(ErrorCode.ACCOUNT_ALREADY_LINKED, 'this auth is already used');

/**
 * Reads a body's `authData`: undefined when there is none (absent, null or `{}`). Refused: anything but an
 * object (252), a provider that is not configured (252, Parse's GHSA-g4cf-xj29-wqqr), more than
 * MAX_PROVIDERS, and a provider's data without a non-empty string `id` (250): an operator object such as
 * `{"$ne": null}` can never become part of a lookup. `{"provider": null}` asks to unlink; any well-formed
 * name may be unlinked (a provider removed from the configuration included), since removing data is safe.
 */
export function readAuthData(value: unknown, providers: AuthProviders): AuthDataRequest | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw unsupportedService();
  const names = Object.keys(value);
  if (names.length === 0) return undefined;
  if (names.length > MAX_PROVIDERS) throw unsupportedService();
  const link = new Map<string, Readonly<Record<string, unknown>>>();
  const unlink = new Set<string>();
  for (const name of names) {
    const data = value[name];
    if (data === null) {
      if (!PROVIDER_NAME.test(name)) throw unsupportedService();
      unlink.add(name);
      continue;
    }
    if (!providers.has(name)) throw unsupportedService();
    if (!isPlainObject(data) || typeof data.id !== 'string' || data.id === '' || data.id.length > 512) {
      throw new ParseError(ErrorCode.LINKED_ID_MISSING, `authData.${name}.id must be a non-empty string.`);
    }
    link.set(name, data);
  }
  return { link, unlink };
}

/**
 * What is stored for a linked provider: its id only. Access tokens, ID tokens, codes and anything else the
 * client sent to prove the link are credentials, used once for the provider's check and never written
 * (Parse kept them, and an LDAP adapter once stored passwords: GHSA-4w46-w44m-3jq3).
 */
export function storedValue(data: Readonly<Record<string, unknown>>): { id: string } {
  return { id: data.id as string };
}

/** A SQL expression for a provider's id; the name is checked again here because it becomes SQL text. */
function idExpression(provider: string): string {
  if (!PROVIDER_NAME.test(provider)) throw new Error(`invalid provider name ${provider}`);
  return `("authData" -> '${provider}' ->> 'id')`;
}

export const authIndexName = (provider: string): string => `_User_authData_${provider}_id`;

/**
 * One unique index per configured provider on `authData.<provider>.id`: a log-in finds its user with an
 * index lookup, and two accounts can never hold the same provider id, even when two sign-ups or links race
 * (the second fails on the index and answers 208). Created at start, idempotent.
 */
export async function ensureAuthDataIndexes(db: SqlExecutor, providers: AuthProviders): Promise<void> {
  for (const provider of providers.keys()) {
    try {
      await db.query(`CREATE UNIQUE INDEX IF NOT EXISTS "${authIndexName(provider)}" ON "_User" (${idExpression(provider)})`);
    } catch (error) {
      // Data imported from elsewhere may link one provider id to two accounts; Parsec will not guess which is right.
      if (sqlState(error) === '23505') throw new Error(`two users hold the same authData.${provider}.id; resolve the duplicates before starting with the ${provider} provider`);
      throw error;
    }
  }
}

/** The users holding any of these provider ids (at most a few: more than one already means 208). */
export async function usersLinkedTo(db: SqlExecutor, ids: ReadonlyMap<string, string>): Promise<string[]> {
  const params: string[] = [];
  const terms: string[] = [];
  for (const [provider, id] of ids) {
    params.push(id);
    terms.push(`${idExpression(provider)} = $${params.length}::text`);
  }
  if (terms.length === 0) return [];
  const { rows } = await db.query<{ objectId: string }>(`SELECT "objectId" FROM "_User" WHERE ${terms.join(' OR ')} LIMIT 3`, params);
  return [...new Set(rows.map((row) => row.objectId))];
}

/** A user's stored authData (server read, by id), or an empty object. */
export async function storedAuthData(db: SqlExecutor, userId: string): Promise<Record<string, unknown>> {
  const { rows } = await db.query<{ authData: unknown }>('SELECT "authData" FROM "_User" WHERE "objectId" = $1::text', [userId]);
  const value = rows[0]?.authData;
  return isPlainObject(value) ? value : {};
}

/** The stored id of one provider in a stored authData object. */
export function storedId(authData: Readonly<Record<string, unknown>>, provider: string): string | undefined {
  const entry = Object.hasOwn(authData, provider) ? authData[provider] : undefined;
  const id = isPlainObject(entry) ? entry.id : undefined;
  return typeof id === 'string' ? id : undefined;
}
