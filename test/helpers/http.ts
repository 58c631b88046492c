import assert from 'node:assert/strict';
import { APP_ID, MASTER_KEY, REST_KEY } from './server.ts';

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  master?: boolean;
  /** Send no Parse headers at all. */
  bare?: boolean;
}

/** A raw REST call, as curl or a mobile SDK would make it. */
export async function call(baseUrl: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = options.bare
    ? {}
    : { 'X-Parse-Application-Id': APP_ID, 'X-Parse-REST-API-Key': REST_KEY, ...(options.master ? { 'X-Parse-Master-Key': MASTER_KEY } : {}) };
  Object.assign(headers, options.headers);
  let body: string | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(baseUrl + path, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep the raw text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export function query(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  return `?${search.toString()}`;
}

/** A Parse error answer: the status Parse uses for the code, exactly `{code, error}` (no results, no count). */
export function assertRefused(result: HttpResult, code: number, message: string | RegExp | undefined, label: string): void {
  const shown = `${label}: ${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, code === 101 ? 404 : 400, shown);
  assert.ok(typeof result.body === 'object' && result.body !== null && !Array.isArray(result.body), shown);
  assert.deepEqual(Object.keys(result.body as object).sort(), ['code', 'error'], shown);
  assert.equal(result.body.code, code, shown);
  assert.equal(typeof result.body.error, 'string', shown);
  if (typeof message === 'string') assert.equal(result.body.error, message, shown);
  else if (message !== undefined) assert.match(result.body.error, message, shown);
}

/** The body of a successful answer, failing with the whole response otherwise. */
export function assertOk(result: HttpResult, label: string, status = 200): any {
  assert.equal(result.status, status, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}
