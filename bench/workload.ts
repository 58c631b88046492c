/**
 * The benchmarked workload, in both its HTTP form (for Parsec and the bare server) and its SQL form (for the
 * database limit). The SQL *text* is not written here: the bench traces the very statements Parsec sends
 * for one request of each kind in the same run (see `sql-check.ts`) and the database limit sends those
 * texts. What is written here is what Parsec binds to them for a given request (`sqlParams`), so the direct
 * loops can vary it like the HTTP load does (a random id, a new row, another user); the same run checks it
 * against the parameters Parsec actually bound (`sqlCheck` in the report).
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { APP_ID, MASTER_KEY, REST_KEY } from '../test/helpers/server.ts';

export const CLASS_NAME = 'BenchItem';
export const GROUPS = 10;
/** The group the find asks for; GROUPS × findLimit ≤ seed rows keeps it returning a full page. */
export const FIND_GROUP = 3;

/**
 * The cloud functions of bench/cloud/main.js: `ping` (public, a constant answer), `guarded` (`requireUser`
 * and `fields: ['n']`, answers the param and the caller's id) and `cloudQuery` (public; one `Parse.Query`
 * on BenchItem — the find's group, `CLOUD_QUERY_LIMIT` rows — as the caller, answers the count).
 */
export const CLOUD_FUNCTIONS = ['ping', 'guarded', 'cloudQuery'] as const;
export type CloudFunction = (typeof CLOUD_FUNCTIONS)[number];
export const CLOUD_CODE_FILE = fileURLToPath(new URL('./cloud/main.js', import.meta.url));
/** The page `cloudQuery` asks for (the group, hence the rows it matches, is `FIND_GROUP`). */
export const CLOUD_QUERY_LIMIT = 10;
/** The params of the n-th `guarded` call (`fields: ['n']` requires `n`). */
export const guardedParams = (n: number): { n: number } => ({ n });
/** What the cloud code reads from its environment (it is an app's plain CommonJS: it imports nothing of the bench). */
export const CLOUD_ENV: Readonly<Record<string, string>> = { BENCH_FIND_GROUP: String(FIND_GROUP), BENCH_QUERY_LIMIT: String(CLOUD_QUERY_LIMIT) };

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

/**
 * The secured find's class: the same fields as BenchItem, every row with an ACL and none public. Half the
 * rows are readable through the role `Readers` only — which the reader holds by inheritance: they are in
 * `Members`, and `Readers.roles` holds `Members` — and the other half only by another user. Readability
 * alternates in runs of GROUPS rows, so it is independent of `group`: every group is half readable.
 */
export const SECURED_CLASS = 'Secured';
export const READERS_ROLE = 'Readers';
export const MEMBERS_ROLE = 'Members';
export const SECURED_SCHEMA = { ...SCHEMA, className: SECURED_CLASS };

export const readableByRole = (n: number): boolean => Math.floor(n / GROUPS) % 2 === 0;

export type Acl = Record<string, { read?: boolean; write?: boolean }>;

export function securedItem(n: number, otherUserId: string): Item & { ACL: Acl } {
  return { ...item(n), ACL: readableByRole(n) ? { [`role:${READERS_ROLE}`]: { read: true } } : { [otherUserId]: { read: true } } };
}

export const paths = {
  create: `/parse/classes/${CLASS_NAME}`,
  get: (objectId: string) => `/parse/classes/${CLASS_NAME}/${objectId}`,
  find: (limit: number) => `/parse/classes/${CLASS_NAME}?where=${encodeURIComponent(JSON.stringify({ group: FIND_GROUP }))}&limit=${limit}`,
  /** The same find (same where, same limit) on the secured class: the user's and the master's. */
  securedFind: (limit: number) => `/parse/classes/${SECURED_CLASS}?where=${encodeURIComponent(JSON.stringify({ group: FIND_GROUP }))}&limit=${limit}`,
  securedCreate: `/parse/classes/${SECURED_CLASS}`,
  securedSchema: `/parse/schemas/${SECURED_CLASS}`,
  role: '/parse/classes/_Role',
  batch: '/parse/batch',
  schema: `/parse/schemas/${CLASS_NAME}`,
  signUp: '/parse/users',
  login: '/parse/login',
  me: '/parse/users/me',
  /** `POST` a cloud function: `{"result": …}`. */
  cloudFunction: (name: CloudFunction) => `/parse/functions/${name}`,
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

/** The statements the database limit sends, one per measured request kind (create ↔ insert, me ↔ userGet). */
export const STATEMENTS = ['get', 'find', 'insert', 'userGet'] as const;
export type StatementName = (typeof STATEMENTS)[number];

/** The table each statement must read or write: how the bench recognizes it in a trace. */
export const STATEMENT_TABLE: Readonly<Record<StatementName, RegExp>> = {
  get: /^SELECT .* FROM "BenchItem"/s,
  find: /^SELECT .* FROM "BenchItem"/s,
  insert: /^INSERT INTO "BenchItem"/,
  userGet: /^SELECT .* FROM "_User"/s,
};

const PUBLIC = ['*'];

/** The roles a bench user holds, expanded as Parsec expands them (sorted names): the reader's two, else none. */
export function rolesOf(user: BenchUser, reader: BenchUser): string[] {
  return user.objectId === reader.objectId ? [MEMBERS_ROLE, READERS_ROLE].sort() : [];
}

/**
 * The parameters Parsec binds, for a non-master caller with the REST key: the `_rperm && …` read check is
 * a bound parameter (`['*']` anonymous, the user's principals — `*`, their id, their roles — for their own
 * row), LIMIT/OFFSET are bound, an insert binds its timestamp once for both dates.
 */
export const sqlParams = {
  get: (objectId: string): unknown[] => [objectId, PUBLIC, 1, 0],
  find: (limit: number): unknown[] => [FIND_GROUP, PUBLIC, limit, 0],
  insert: (n: number, created: { objectId: string; createdAt: string } = { objectId: objectId(), createdAt: new Date().toISOString() }): unknown[] => {
    const { name, score, group } = item(n);
    return [created.createdAt, created.objectId, PUBLIC, PUBLIC, name, score, group];
  },
  /** `/users/me` (and login) read the user's own row as that user: `_rperm && ['*', userId, 'role:…'…]`. */
  userGet: (userId: string, roles: readonly string[]): unknown[] => [userId, ['*', userId, ...roles.map((role) => `role:${role}`)], 1, 0],
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
