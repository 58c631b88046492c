import type { IdempotencyOptions } from '../config/idempotency-option.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { ApiRequest, DispatchGuard } from '../http/router.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Driver } from '../storage/driver.ts';

/** Parse's idempotent routes: object writes on classes, users and installations, and function and job calls. */
const IDEMPOTENT_ROUTES: Readonly<Record<string, RegExp>> = {
  POST: /^\/(classes\/[^/]+|users|installations|functions\/[^/]+|jobs\/[^/]+)\/?$/,
  PUT: /^\/(classes\/[^/]+\/[^/]+|users\/[^/]+|installations\/[^/]+)\/?$/,
};

/** A UUID is 36 characters; anything much longer is not a request id an SDK made. */
const MAX_REQUEST_ID_LENGTH = 256;

export async function ensureIdempotencyTable(driver: Driver): Promise<void> {
  // Parse's columns (objectId, reqId, expire), so a table migrated from Parse serves as it is.
  await driver.query('CREATE TABLE IF NOT EXISTS "_Idempotency" ("objectId" text PRIMARY KEY, "reqId" text NOT NULL, "expire" timestamptz NOT NULL)');
  await driver.query('CREATE UNIQUE INDEX IF NOT EXISTS "_Idempotency_reqId_key" ON "_Idempotency" ("reqId")');
  await driver.query('CREATE INDEX IF NOT EXISTS "_Idempotency_expire" ON "_Idempotency" ("expire")');
}

function requestIdOf(request: ApiRequest): string | undefined {
  const value = request.caller.client?.headers['x-parse-request-id'];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > MAX_REQUEST_ID_LENGTH) throw new ParseError(ErrorCode.INVALID_JSON, 'Invalid X-Parse-Request-Id.');
  return value;
}

/**
 * `idempotencyOptions`: a request on a configured path that carries `X-Parse-Request-Id` first records the id
 * in `_Idempotency`; an id already recorded and not expired answers 159 "Duplicate request" and the request
 * does not run. The database decides in one statement (a unique index on the id; an expired record is
 * taken over in the same upsert, so correctness never waits for pruning): of any number of concurrent
 * duplicates exactly one runs, on any node. As in Parse, the id is recorded before the request runs and
 * kept whatever its outcome, so a retry of a request that failed half-way never runs it twice.
 * Only what a client sends counts: batch sub-requests (which share their batch's headers) and cloud
 * code's own calls are not checked.
 */
export function idempotencyGuard(options: IdempotencyOptions | undefined, driver: Driver): DispatchGuard | undefined {
  if (options === undefined || options.paths.length === 0) return undefined;
  return async (request) => {
    if (request.inBatch || request.fromCloud === true) return;
    if (IDEMPOTENT_ROUTES[request.method]?.test(request.path) !== true) return;
    const path = request.path.replace(/^\/+|\/+$/g, '');
    if (!options.paths.some((pattern) => pattern.test(path))) return;
    const requestId = requestIdOf(request);
    if (requestId === undefined) return;
    const { rows } = await driver.query(
      'INSERT INTO "_Idempotency" ("objectId", "reqId", "expire") VALUES ($1::text, $2::text, now() + make_interval(secs => $3::int)) ' +
        'ON CONFLICT ("reqId") DO UPDATE SET "expire" = EXCLUDED."expire" WHERE "_Idempotency"."expire" <= now() RETURNING 1 AS "recorded"',
      [newObjectId(), requestId, options.ttl],
    );
    if (rows.length === 0) throw new ParseError(ErrorCode.DUPLICATE_REQUEST, 'Duplicate request');
  };
}

/** Expired ids only take space (the upsert ignores them): deleted every few minutes. */
export function scheduleIdempotencyPruning(driver: Driver, onError: (error: unknown) => void): NodeJS.Timeout {
  const prune = (): void => {
    driver.query('DELETE FROM "_Idempotency" WHERE "expire" <= now()').catch(onError);
  };
  const timer = setInterval(prune, PRUNE_INTERVAL_MS);
  timer.unref();
  return timer;
}

const PRUNE_INTERVAL_MS = 5 * 60 * 1000;

/** Runs each guard in turn (rate limits before idempotency: a request refused for its rate records no id). */
export function allGuards(...guards: (DispatchGuard | undefined)[]): DispatchGuard | undefined {
  const present = guards.filter((guard): guard is DispatchGuard => guard !== undefined);
  if (present.length <= 1) return present[0];
  return async (request) => {
    for (const guard of present) await guard(request);
  };
}
