import { capture, type CapturedResponses } from './responses.ts';
import { CLIENT_HEADERS, MASTER_HEADERS, SCHEMA, credentials, item, paths, randomOf, type BenchUser } from './workload.ts';

const BATCH_SIZE = 50;
/** Batches in flight while seeding: enough to overlap round trips, few enough not to swamp PGlite. */
const SEED_CONCURRENCY = 4;
/** A hung server must fail the bench, not stall it. */
const REQUEST_TIMEOUT_MS = 60_000;

function timeout(): AbortSignal {
  return AbortSignal.timeout(REQUEST_TIMEOUT_MS);
}

async function post(origin: string, path: string, body: unknown, headers: Readonly<Record<string, string>>): Promise<Response> {
  return fetch(origin + path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: timeout(),
  });
}

async function expectStatus(response: Response, expected: number, what: string): Promise<Response> {
  if (response.status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${response.status}: ${await response.text()}`);
  return response;
}

async function seedBatch(origin: string, first: number, count: number): Promise<string[]> {
  const requests = Array.from({ length: count }, (_, i) => ({ method: 'POST', path: paths.create, body: item(first + i) }));
  const response = await expectStatus(await post(origin, paths.batch, { requests }, CLIENT_HEADERS), 200, 'seed batch');
  const results = (await response.json()) as { success?: { objectId: string }; error?: unknown }[];
  return results.map((result) => {
    if (result.success === undefined) throw new Error(`seed batch: a create failed: ${JSON.stringify(result.error)}`);
    return result.success.objectId;
  });
}

/** Creates the class and `rows` objects through Parsec's own write path; returns their ids. */
export async function seed(origin: string, rows: number): Promise<string[]> {
  await expectStatus(await post(origin, paths.schema, SCHEMA, MASTER_HEADERS), 200, 'create schema');
  const ids: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows) {
      const first = next;
      const count = Math.min(BATCH_SIZE, rows - first);
      next += count;
      ids.push(...(await seedBatch(origin, first, count)));
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  return ids;
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
  return { get, find, create, me };
}
