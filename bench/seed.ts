import { capture, type CapturedResponses } from './responses.ts';
import { CLIENT_HEADERS, MASTER_HEADERS, SCHEMA, item, paths, randomOf } from './workload.ts';

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

/** One real response per benchmarked route, checked for shape, for the bare server to replay. */
export async function captureResponses(origin: string, ids: readonly string[], findLimit: number): Promise<CapturedResponses> {
  const get = await capture(await expectStatus(await fetch(origin + paths.get(randomOf(ids)), { headers: CLIENT_HEADERS, signal: timeout() }), 200, 'get'));
  const find = await capture(await expectStatus(await fetch(origin + paths.find(findLimit), { headers: CLIENT_HEADERS, signal: timeout() }), 200, 'find'));
  const returned = (JSON.parse(find.body) as { results: unknown[] }).results.length;
  if (returned !== findLimit) throw new Error(`find returned ${returned} rows, the bench needs ${findLimit}`);
  const create = await capture(await expectStatus(await post(origin, paths.create, item(-1), CLIENT_HEADERS), 201, 'create'));
  return { get, find, create };
}
