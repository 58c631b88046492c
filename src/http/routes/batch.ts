import { ErrorCode, HttpError, ParseError } from '../../errors/parse-error.ts';
import { withTransaction } from '../../storage/driver.ts';
import { isPlainObject } from '../../query/values.ts';
import type { Caller } from '../../rest/services.ts';
import { ok, type ApiRequest, type ApiResponse, type Router } from '../router.ts';
import { toErrorBody } from '../errors.ts';

interface SubRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);

function fail(message: string): never {
  throw new ParseError(ErrorCode.INVALID_JSON, message);
}

/** Validates the whole batch before running any of it, so a malformed entry changes nothing. */
function parseBatch(body: unknown, mountPaths: readonly string[], limit: number): { requests: SubRequest[]; transaction: boolean } {
  if (!isPlainObject(body) || !Array.isArray(body.requests)) fail('requests must be an array');
  if (body.requests.length > limit) fail(`Batch request contains ${body.requests.length} sub-requests; the limit is ${limit} (batchRequestLimit).`);
  if (body.transaction !== undefined && typeof body.transaction !== 'boolean') fail('transaction must be a boolean');
  const requests = (body.requests as unknown[]).map((raw): SubRequest => {
    if (!isPlainObject(raw) || typeof raw.method !== 'string' || typeof raw.path !== 'string') fail('each batch request needs a method and a path');
    const method = raw.method.toUpperCase();
    if (!METHODS.has(method)) fail(`invalid batch method: ${raw.method}`);
    const mount = mountPaths.find((prefix) => raw.path === prefix || (raw.path as string).startsWith(`${prefix}/`));
    if (mount === undefined) fail(`cannot route batch path ${raw.path}`);
    const path = raw.path.slice(mount.length) || '/';
    if (path.includes('?')) fail(`cannot route batch path ${raw.path}`);
    if (/^\/batch\/?$/.test(path)) fail('batch requests cannot be nested');
    return { method, path, body: raw.body ?? {} };
  });
  return { requests, transaction: body.transaction === true };
}

export function registerBatchRoute(router: Router, mountPaths: readonly string[]): void {
  router.add('POST', '/batch', async (request) => {
    if (request.inBatch) fail('batch requests cannot be nested');
    const { config } = request.caller.services;
    const batch = parseBatch(request.body, mountPaths, config.batchRequestLimit);
    const logInternal = (error: unknown): void => request.caller.services.log.error({ err: error }, 'batch sub-request failed');
    const subRequest = (caller: Caller, sub: SubRequest): ApiRequest => ({
      method: sub.method,
      path: sub.path,
      query: {},
      body: sub.body,
      caller,
      inBatch: true,
      fromCloud: request.fromCloud,
      escalation: request.escalation,
    });
    if (!batch.transaction) {
      const results = await Promise.all(
        batch.requests.map(async (sub) => {
          try {
            return { success: (await router.dispatch(subRequest(request.caller, sub))).body };
          } catch (error) {
            return { error: toErrorBody(error, logInternal) };
          }
        }),
      );
      return ok(results);
    }
    // All or nothing: the sub-requests run in order in one transaction; the first failure rolls back all.
    let failure: { index: number; error: unknown } | undefined;
    let responses: ApiResponse[] = [];
    try {
      responses = await withTransaction(request.caller.services.driver, async (db) => {
        const caller: Caller = { ...request.caller, services: { ...request.caller.services, driver: db } };
        const done: ApiResponse[] = [];
        for (const [index, sub] of batch.requests.entries()) {
          try {
            done.push(await router.dispatch(subRequest(caller, sub)));
          } catch (error) {
            failure = { index, error };
            throw error;
          }
        }
        return done;
      });
    } catch (error) {
      if (failure === undefined) throw error;
      const { index, error: cause } = failure;
      const body = toErrorBody(cause, logInternal);
      const status = cause instanceof ParseError || cause instanceof HttpError ? cause.status : 500;
      return {
        status,
        body: batch.requests.map((_, i) => (i === index ? { error: body } : { error: { code: ErrorCode.OTHER_CAUSE, error: 'Not run: the transaction was rolled back.' } })),
      };
    }
    return ok(responses.map((response) => ({ success: response.body })));
  });
}
