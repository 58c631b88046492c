import assert from 'node:assert/strict';
import type fc from 'fast-check';
import { ErrorCode, httpStatusForCode } from '../../src/errors/codes.ts';
import { APP_ID, MASTER_KEY, REST_KEY } from './server.ts';

/**
 * One seed for every property of a run. Set FUZZ_SEED to replay a failure (fast-check prints the seed and the
 * counterexample path); FUZZ_SCALE multiplies the number of runs (e.g. FUZZ_SCALE=10 for a long session).
 */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
const SCALE = process.env.FUZZ_SCALE !== undefined ? Number(process.env.FUZZ_SCALE) : 1;

/** Every request of a property is bounded; a hung request fails the property instead of the whole run. */
export const REQUEST_TIMEOUT_MS = 10_000;

export function fuzzParameters<T>(numRuns: number, overrides: Partial<fc.Parameters<T>> = {}): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * SCALE)),
    // One run (several requests) may not take longer than this; shrinking stops after the time limit.
    timeout: 3 * REQUEST_TIMEOUT_MS,
    interruptAfterTimeLimit: 5 * 60_000,
    includeErrorInReport: true,
    ...overrides,
  };
}

export const PARSE_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));

export interface FuzzResponse {
  readonly status: number;
  readonly text: string;
  readonly body: any;
  readonly json: boolean;
}

export interface FuzzRequest {
  readonly method?: string;
  /** Sent as is (already JSON text, or deliberately not). */
  readonly body?: string;
  readonly master?: boolean;
  readonly contentType?: string;
}

export async function send(baseUrl: string, path: string, request: FuzzRequest = {}): Promise<FuzzResponse> {
  const headers: Record<string, string> = { 'X-Parse-Application-Id': APP_ID, 'X-Parse-REST-API-Key': REST_KEY };
  if (request.master === true) headers['X-Parse-Master-Key'] = MASTER_KEY;
  if (request.body !== undefined) headers['Content-Type'] = request.contentType ?? 'application/json';
  const response = await fetch(baseUrl + path, {
    method: request.method ?? 'GET',
    headers,
    body: request.body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  try {
    return { status: response.status, text, body: JSON.parse(text), json: true };
  } catch {
    return { status: response.status, text, body: undefined, json: false };
  }
}

export function describeResponse(label: string, response: FuzzResponse): string {
  return `${label}\n→ ${response.status} ${response.text.slice(0, 600)}`;
}

/** A Parse error body: `{code, error}` with a code from the registry. */
export function assertErrorBody(body: any, shown: string): void {
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `error body is not an object: ${shown}`);
  assert.equal(typeof body.code, 'number', `error without a numeric code: ${shown}`);
  assert.ok(PARSE_CODES.has(body.code as number), `code ${String(body.code)} is not in Parse's registry: ${shown}`);
  assert.equal(typeof body.error, 'string', `error without a message: ${shown}`);
}

/**
 * What every answer must satisfy: no 5xx, a JSON body, and for errors Parse's `{code, error}` with the HTTP
 * status Parse uses for that code (413 for the transport's body limit).
 */
export function assertWellFormed(response: FuzzResponse, label: string): void {
  const shown = describeResponse(label, response);
  assert.ok(response.status < 500, `server error: ${shown}`);
  assert.ok(response.json, `not JSON: ${shown}`);
  if (response.status < 400) return;
  assertErrorBody(response.body, shown);
  const code = response.body.code as number;
  const expected = code === ErrorCode.OBJECT_TOO_LARGE && response.status === 413 ? 413 : httpStatusForCode(code);
  assert.equal(response.status, expected, `HTTP status does not match code ${code}: ${shown}`);
}

export async function assertAlive(baseUrl: string): Promise<void> {
  const health = await send(baseUrl, '/health');
  assert.deepEqual([health.status, health.body], [200, { status: 'ok' }], 'the server stopped answering');
  const find = await send(baseUrl, '/classes/FuzzAlive?limit=1');
  assert.equal(find.status, 200, describeResponse('a plain find after the property', find));
}
