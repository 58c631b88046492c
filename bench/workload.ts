/**
 * The benchmarked workload, in both its HTTP form (for Parsec and the bare server) and its SQL form (for the
 * database limit). The SQL is Parsec's own text for a non-master caller, copied verbatim — same column
 * list, same casts, the `_rperm && ['*']` read check as a bound parameter, no ORDER BY, LIMIT/OFFSET bound —
 * so the database limit prices exactly the statements Parsec sends. The bench checks these texts against
 * the ones Parsec actually sent in the same run (see `sqlCheck` in the report).
 */
import { randomInt } from 'node:crypto';
import { APP_ID, MASTER_KEY, REST_KEY } from '../test/helpers/server.ts';

export const CLASS_NAME = 'BenchItem';
export const GROUPS = 10;
/** The group the find asks for; GROUPS × findLimit ≤ seed rows keeps it returning a full page. */
export const FIND_GROUP = 3;

export const CLIENT_HEADERS: Readonly<Record<string, string>> = {
  'x-parse-application-id': APP_ID,
  'x-parse-rest-api-key': REST_KEY,
};
export const MASTER_HEADERS: Readonly<Record<string, string>> = { ...CLIENT_HEADERS, 'x-parse-master-key': MASTER_KEY };

/** Declared up front so every create takes Parsec's one-statement path (no schema change, no transaction). */
export const SCHEMA = {
  className: CLASS_NAME,
  fields: { name: { type: 'String' }, score: { type: 'Number' }, group: { type: 'Number' } },
};

export interface Item {
  readonly name: string;
  readonly score: number;
  readonly group: number;
}

export function item(n: number): Item {
  return { name: `item-${n}`, score: n, group: n % GROUPS };
}

export const paths = {
  create: `/parse/classes/${CLASS_NAME}`,
  get: (objectId: string) => `/parse/classes/${CLASS_NAME}/${objectId}`,
  find: (limit: number) => `/parse/classes/${CLASS_NAME}?where=${encodeURIComponent(JSON.stringify({ group: FIND_GROUP }))}&limit=${limit}`,
  batch: '/parse/batch',
  schema: `/parse/schemas/${CLASS_NAME}`,
  signUp: '/parse/users',
  login: '/parse/login',
  me: '/parse/users/me',
};

/** A user signed up during seeding: credentials for the logins, the sign-up's token for `/users/me`. */
export interface BenchUser {
  readonly username: string;
  readonly password: string;
  readonly objectId: string;
  readonly sessionToken: string;
}

export const credentials = (n: number): { username: string; password: string } => ({ username: `bench-user-${n}`, password: `bench-password-${n}` });

/**
 * The two failing logins of the enumeration check: an existing user with a wrong password, and a username
 * that does not exist (same length as the real ones, same password), so only the account's existence differs.
 */
export const knownWrongLogin = (user: BenchUser): { username: string; password: string } => ({ username: user.username, password: 'wrong-password-0' });
export const unknownLogin = (n: number): { username: string; password: string } => ({ username: `bench-gone-${n}`, password: 'wrong-password-0' });

const COLUMNS = 't0."objectId", t0."createdAt", t0."updatedAt", t0."_rperm", t0."_wperm", t0."name", t0."score", t0."group"';
const USER_COLUMNS = 't0."objectId", t0."createdAt", t0."updatedAt", t0."_rperm", t0."_wperm", t0."username", t0."email", t0."emailVerified", t0."authData"';
const PUBLIC = ['*'];

export const sql = {
  get: `SELECT ${COLUMNS} FROM "BenchItem" AS t0 WHERE (t0."objectId" = $1::text) AND (t0."_rperm" && $2::text[]) LIMIT $3::int8 OFFSET $4::int8`,
  find: `SELECT ${COLUMNS} FROM "BenchItem" AS t0 WHERE (t0."group" = $1::float8) AND (t0."_rperm" && $2::text[]) LIMIT $3::int8 OFFSET $4::int8`,
  insert:
    'INSERT INTO "BenchItem" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "name", "score", "group") ' +
    'VALUES ($2::text, $1::timestamptz, $1::timestamptz, $3::text[], $4::text[], $5::text, $6::float8, $7::float8)',
  /** `/users/me` (and login) read the user as that user: `_rperm && ['*', userId]`. */
  userGet: `SELECT ${USER_COLUMNS} FROM "_User" AS t0 WHERE (t0."objectId" = $1::text) AND (t0."_rperm" && $2::text[]) LIMIT $3::int8 OFFSET $4::int8`,
  /** A cold session token: the one lookup by token hash (a warm one costs none). Not load-tested; used to classify statements. */
  sessionLookup: 'SELECT "objectId", "user", "expiresAt", "restricted" FROM "_Session" WHERE "_session_token_hash" = $1::text',
} as const;

export const sqlParams = {
  get: (objectId: string): unknown[] => [objectId, PUBLIC, 1, 0],
  find: (limit: number): unknown[] => [FIND_GROUP, PUBLIC, limit, 0],
  insert: (n: number): unknown[] => {
    const { name, score, group } = item(n);
    return [new Date().toISOString(), objectId(), PUBLIC, PUBLIC, name, score, group];
  },
  userGet: (userId: string): unknown[] => [userId, ['*', userId], 1, 0],
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Same shape and generator as Parsec's ids (10 chars, CSPRNG), so inserts cost the same. */
export function objectId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export function randomOf<T>(values: readonly T[]): T {
  const value = values[Math.floor(Math.random() * values.length)];
  if (value === undefined) throw new Error('randomOf: empty list');
  return value;
}
