import { isDeepStrictEqual } from 'node:util';
import { capture, type CapturedResponse, type CapturedResponses } from './responses.ts';
import {
  CLIENT_HEADERS,
  CLOUD_QUERY_LIMIT,
  FIND_GROUP,
  GROUPS,
  MASTER_HEADERS,
  MEMBERS_ROLE,
  READERS_ROLE,
  SCHEMA,
  SECURED_SCHEMA,
  credentials,
  guardedParams,
  item,
  paths,
  randomOf,
  readableByRole,
  securedItem,
  type BenchUser,
  type CloudFunction,
} from './workload.ts';

const BATCH_SIZE = 50;
/** Batches in flight while seeding: enough to overlap round trips, few enough not to swamp PGlite. */
const SEED_CONCURRENCY = 4;
/** A hung server must fail the bench, not stall it. */
const REQUEST_TIMEOUT_MS = 60_000;

export function timeout(): AbortSignal {
  return AbortSignal.timeout(REQUEST_TIMEOUT_MS);
}

export async function post(origin: string, path: string, body: unknown, headers: Readonly<Record<string, string>>): Promise<Response> {
  return fetch(origin + path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: timeout(),
  });
}

export async function expectStatus(response: Response, expected: number, what: string): Promise<Response> {
  if (response.status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${response.status}: ${await response.text()}`);
  return response;
}

async function seedBatch(origin: string, path: string, bodies: readonly unknown[], headers: Readonly<Record<string, string>>): Promise<string[]> {
  const requests = bodies.map((body) => ({ method: 'POST', path, body }));
  const response = await expectStatus(await post(origin, paths.batch, { requests }, headers), 200, 'seed batch');
  const results = (await response.json()) as { success?: { objectId: string }; error?: unknown }[];
  return results.map((result) => {
    if (result.success === undefined) throw new Error(`seed batch: a create failed: ${JSON.stringify(result.error)}`);
    return result.success.objectId;
  });
}

/** Creates `rows` objects `bodyFor(0…rows-1)` through `/batch`, a few batches in flight; `ids[n]` is row n's. */
async function seedRows(
  origin: string,
  path: string,
  rows: number,
  bodyFor: (n: number) => unknown,
  headers: Readonly<Record<string, string>>,
): Promise<string[]> {
  const ids = new Array<string>(rows);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows) {
      const first = next;
      const count = Math.min(BATCH_SIZE, rows - first);
      next += count;
      const created = await seedBatch(origin, path, Array.from({ length: count }, (_, i) => bodyFor(first + i)), headers);
      created.forEach((id, i) => (ids[first + i] = id));
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  return ids;
}

/** Creates the class and `rows` objects through Parsec's own write path; returns their ids. */
export async function seed(origin: string, rows: number): Promise<string[]> {
  await expectStatus(await post(origin, paths.schema, SCHEMA, MASTER_HEADERS), 200, 'create schema');
  return seedRows(origin, paths.create, rows, item, CLIENT_HEADERS);
}

/** The secured rows' ids, `ids[n]` for row n (readable through the role iff `readableByRole(n)`). */
export interface SecuredRows {
  readonly ids: readonly string[];
}

const userPointer = (user: BenchUser): unknown => ({ __type: 'Pointer', className: '_User', objectId: user.objectId });

async function createRole(origin: string, body: Record<string, unknown>): Promise<string> {
  const response = await expectStatus(await post(origin, paths.role, { ACL: { '*': { read: true } }, ...body }, MASTER_HEADERS), 201, `create role ${String(body.name)}`);
  const { objectId } = (await response.json()) as { objectId?: unknown };
  if (typeof objectId !== 'string') throw new Error(`create role ${String(body.name)}: no objectId`);
  return objectId;
}

/**
 * The roles (`reader` in `Members`, `Members` in `Readers.roles`), the secured class, and `rows` rows of it
 * (with the master key: only their ACLs differ from BenchItem's), half readable through `role:Readers`, half
 * only by `other`.
 */
export async function seedSecured(origin: string, rows: number, reader: BenchUser, other: BenchUser): Promise<SecuredRows> {
  const members = await createRole(origin, { name: MEMBERS_ROLE, users: { __op: 'AddRelation', objects: [userPointer(reader)] } });
  await createRole(origin, {
    name: READERS_ROLE,
    roles: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: '_Role', objectId: members }] },
  });
  await expectStatus(await post(origin, paths.securedSchema, SECURED_SCHEMA, MASTER_HEADERS), 200, 'create secured schema');
  return { ids: await seedRows(origin, paths.securedCreate, rows, (n) => securedItem(n, other.objectId), MASTER_HEADERS) };
}

/** What the secured find's correctness guard saw (it throws instead of returning when anything is wrong). */
export interface SecuredCheck {
  /** The measured find as the reader: `findLimit` rows, every one readable through the role. */
  readonly userRows: number;
  /** The same find as the master: `findLimit` rows, of both kinds. */
  readonly masterRows: number;
  /** The whole group as the reader: exactly the group's role-readable rows, no other. */
  readonly userGroupRows: number;
  readonly expectedGroupRows: number;
  /** The same find with the REST key and no session: no row is public, so none. */
  readonly anonymousRows: number;
}

async function securedIds(origin: string, limit: number, headers: Readonly<Record<string, string>>, who: string): Promise<string[]> {
  const response = await expectStatus(await fetch(origin + paths.securedFind(limit), { headers, signal: timeout() }), 200, `secured find as ${who}`);
  const { results } = (await response.json()) as { results: { objectId: string }[] };
  return results.map((result) => result.objectId);
}

/**
 * The correctness guard of the secured find, run once before it is measured: the reader's find returns a
 * full page of rows it may read and none it may not, the whole group as the reader is exactly its readable
 * half, the master's find a full page, and a caller without a session nothing. Throws (failing the run) on
 * any difference: a fast find that leaks rows, or finds too few, measures nothing worth having.
 */
export async function checkSecured(origin: string, rows: SecuredRows, reader: BenchUser, findLimit: number): Promise<SecuredCheck> {
  const inGroup = rows.ids.filter((_, n) => n % GROUPS === FIND_GROUP);
  const readable = new Set(rows.ids.filter((_, n) => readableByRole(n)));
  const expectedGroup = inGroup.filter((id) => readable.has(id));
  const asReader = { ...CLIENT_HEADERS, 'x-parse-session-token': reader.sessionToken };
  const hint = `(is role inheritance working? ${reader.username} is in ${MEMBERS_ROLE}, ${READERS_ROLE}.roles holds ${MEMBERS_ROLE})`;

  const page = await securedIds(origin, findLimit, asReader, reader.username);
  const leaked = page.filter((id) => !readable.has(id));
  if (leaked.length > 0) throw new Error(`secured find as ${reader.username} returned ${leaked.length} row(s) it may not read: ${leaked.slice(0, 5).join(', ')}`);
  if (page.length !== findLimit) throw new Error(`secured find as ${reader.username} returned ${page.length} rows, expected ${findLimit} ${hint}`);

  const group = await securedIds(origin, inGroup.length, asReader, reader.username);
  const groupLeaked = group.filter((id) => !readable.has(id));
  if (groupLeaked.length > 0) throw new Error(`secured group find as ${reader.username} returned ${groupLeaked.length} row(s) it may not read`);
  const seen = new Set(group);
  const missing = expectedGroup.filter((id) => !seen.has(id));
  if (missing.length > 0 || group.length !== expectedGroup.length) {
    throw new Error(`secured group find as ${reader.username} returned ${group.length} rows (${missing.length} readable ones missing), expected ${expectedGroup.length} ${hint}`);
  }

  const master = await securedIds(origin, findLimit, MASTER_HEADERS, 'master');
  if (master.length !== findLimit) throw new Error(`secured find as master returned ${master.length} rows, expected ${findLimit}`);
  const anonymous = await securedIds(origin, findLimit, CLIENT_HEADERS, 'anonymous');
  if (anonymous.length > 0) throw new Error(`secured find without a session returned ${anonymous.length} row(s); none is public`);
  return { userRows: page.length, masterRows: master.length, userGroupRows: group.length, expectedGroupRows: expectedGroup.length, anonymousRows: anonymous.length };
}

/**
 * Sign-ups hash a password (scrypt, ~100 ms of CPU on libuv's 4-thread pool): more in flight would only
 * queue on the pool, so a few at a time.
 */
const SIGN_UP_CONCURRENCY = 4;

/** Signs up `count` users through `POST /users`; their sign-up session tokens are still unused. */
export async function seedUsers(origin: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const { username, password } = credentials(n);
      const response = await expectStatus(await post(origin, paths.signUp, { username, password }, CLIENT_HEADERS), 201, 'sign-up');
      const body = (await response.json()) as { objectId?: unknown; sessionToken?: unknown };
      if (typeof body.objectId !== 'string' || typeof body.sessionToken !== 'string') throw new Error(`sign-up: unexpected body ${JSON.stringify(body)}`);
      users[n] = { username, password, objectId: body.objectId, sessionToken: body.sessionToken };
    }
  };
  await Promise.all(Array.from({ length: SIGN_UP_CONCURRENCY }, worker));
  return users;
}

/** `POST /login`; resolves to the response, whatever its status. */
export function logIn(origin: string, username: string, password: string): Promise<Response> {
  return post(origin, paths.login, { username, password }, CLIENT_HEADERS);
}

/** `GET /users/me` with `token`, expected to answer 200. */
export async function usersMe(origin: string, token: string): Promise<Response> {
  const response = await fetch(origin + paths.me, { headers: { ...CLIENT_HEADERS, 'x-parse-session-token': token }, signal: timeout() });
  return expectStatus(response, 200, 'users/me');
}

/** A fresh session token for `user` (never used, so its first use is a cold lookup). */
export async function freshToken(origin: string, user: BenchUser): Promise<string> {
  const response = await expectStatus(await logIn(origin, user.username, user.password), 200, 'login');
  const body = (await response.json()) as { sessionToken?: unknown };
  if (typeof body.sessionToken !== 'string') throw new Error(`login: no sessionToken in ${JSON.stringify(body)}`);
  return body.sessionToken;
}

/** One real response per benchmarked route, checked for shape, for the bare server to replay. */
export async function captureResponses(origin: string, ids: readonly string[], findLimit: number, user: BenchUser): Promise<CapturedResponses> {
  const get = await capture(await expectStatus(await fetch(origin + paths.get(randomOf(ids)), { headers: CLIENT_HEADERS, signal: timeout() }), 200, 'get'));
  const find = await capture(await expectStatus(await fetch(origin + paths.find(findLimit), { headers: CLIENT_HEADERS, signal: timeout() }), 200, 'find'));
  const returned = (JSON.parse(find.body) as { results: unknown[] }).results.length;
  if (returned !== findLimit) throw new Error(`find returned ${returned} rows, the bench needs ${findLimit}`);
  const create = await capture(await expectStatus(await post(origin, paths.create, item(-1), CLIENT_HEADERS), 201, 'create'));
  const me = await capture(await usersMe(origin, user.sessionToken));
  const who = (JSON.parse(me.body) as { objectId?: unknown }).objectId;
  if (who !== user.objectId) throw new Error(`users/me answered for ${JSON.stringify(who)}, expected ${user.objectId}`);
  const ping = await callFunction(origin, 'ping', {}, undefined, { pong: true });
  const guarded = await callFunction(origin, 'guarded', guardedParams(0), user, { ...guardedParams(0), user: user.objectId });
  const cloudQuery = await callFunction(origin, 'cloudQuery', {}, undefined, CLOUD_QUERY_LIMIT);
  return { get, find, create, me, ping, guarded, cloudQuery };
}

/** `POST /functions/<name>` (as `user` when given), which must answer 200 `{"result": expected}`; captured. */
export async function callFunction(origin: string, name: CloudFunction, params: unknown, user: BenchUser | undefined, expected: unknown): Promise<CapturedResponse> {
  const headers = user === undefined ? CLIENT_HEADERS : { ...CLIENT_HEADERS, 'x-parse-session-token': user.sessionToken };
  const response = await capture(await expectStatus(await post(origin, paths.cloudFunction(name), params, headers), 200, `function ${name}`));
  const { result } = JSON.parse(response.body) as { result?: unknown };
  if (!isDeepStrictEqual(result, expected)) throw new Error(`function ${name} answered ${response.body}, expected {"result":${JSON.stringify(expected)}}`);
  return response;
}
