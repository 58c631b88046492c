/**
 * "Not an HTTP round trip in disguise": what one call of each cloud function costs the server, traced while
 * no load is applied. For every call, the HTTP requests Parsec's server received (the call itself: exactly
 * one), the HTTP requests its process sent (none), and the statements it sent to the database. A
 * `Parse.Query` that went out over HTTP would show up as a second request received (Parsec's `serverURL` is
 * its own address in the bench) and as one sent; one that ran in process sends the find's one statement and
 * nothing else. `cloudQuery` is probed anonymously (as it is measured: exactly the SQL of one find, the
 * REST find's very text, bound for 10 rows) and as a user (acting as the caller: the find binds that user's
 * principals). Any difference there fails the run; `ping` and `guarded` are reported, not judged.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ServerChild } from './child.ts';
import { callFunction } from './seed.ts';
import type { TracedStatement } from './session-plan.ts';
import { traced } from './sql-check.ts';
import { CLOUD_QUERY_LIMIT, FIND_GROUP, guardedParams, sqlParams, type BenchUser, type StatementName } from './workload.ts';

/** What `httpCountStart` … `httpCountStop` saw in Parsec's child: `METHOD url` per request. */
export interface HttpCount {
  readonly incoming: readonly string[];
  readonly outgoing: readonly string[];
}

export interface CallTrace {
  /** HTTP requests Parsec's server received during the call: the call itself, so 1. */
  readonly httpRequestsReceived: number;
  /** HTTP requests Parsec's process sent during the call (node:http or fetch): 0. */
  readonly httpRequestsSent: number;
  /** What they were, when there was anything besides the call. */
  readonly requests?: { readonly received: readonly string[]; readonly sent: readonly string[] };
  /** Statements sent to the database, by name (the database limit's, or `other: <text>`). */
  readonly sql: readonly string[];
}

export interface CloudQueryTrace extends CallTrace {
  /** Who called. */
  readonly as: string;
  /** The function's answer (the count of rows the query returned). */
  readonly result: unknown;
  /** What the find bound, and what a REST find of the same rows by the same caller binds. */
  readonly findParams: readonly unknown[] | null;
  readonly expectedFindParams: readonly unknown[];
}

export interface CloudRoundTrip {
  /**
   * Both `cloudQuery` probes: one HTTP request received, none sent, the find's own statement (same text as
   * the REST find's, the caller's principals bound) sent exactly once, and as anonymous nothing else.
   */
  readonly holds: boolean;
  readonly cloudQuery: CloudQueryTrace;
  readonly cloudQueryAsUser: CloudQueryTrace;
  readonly ping: CallTrace;
  readonly guarded: CallTrace;
  readonly problems?: string[];
}

interface Traced {
  readonly statements: TracedStatement[];
  readonly http: HttpCount;
}

/** One request, with everything the server did for it recorded (nothing else may be sent to it meanwhile). */
async function traceCall(child: ServerChild, call: () => Promise<unknown>): Promise<Traced> {
  await child.command('httpCountStart');
  const outcome = await traced(child, call).then(
    (statements) => ({ statements }),
    (error: unknown) => ({ error }),
  );
  // Stopped whether or not the call succeeded: the listeners must not stay on under load.
  const http = await child.command<HttpCount>('httpCountStop');
  if ('error' in outcome) throw outcome.error;
  return { statements: outcome.statements, http };
}

function callTrace(trace: Traced, sql: Readonly<Record<StatementName, string>>): CallTrace {
  const name = (statement: TracedStatement): string => {
    const known = Object.entries(sql).find(([, text]) => text === statement.text)?.[0];
    return known ?? `other: ${statement.text.length > 200 ? `${statement.text.slice(0, 200)}…` : statement.text}`;
  };
  const extra = trace.http.incoming.length !== 1 || trace.http.outgoing.length > 0;
  return {
    httpRequestsReceived: trace.http.incoming.length,
    httpRequestsSent: trace.http.outgoing.length,
    ...(extra ? { requests: { received: trace.http.incoming, sent: trace.http.outgoing } } : {}),
    sql: trace.statements.map(name),
  };
}

export interface CloudProbeInput {
  readonly origin: string;
  /** The database limit's statements as Parsec sent them in this run (`find`: the REST find's text). */
  readonly sql: Readonly<Record<StatementName, string>>;
  /** `guarded`'s caller (its session already cached). */
  readonly user: BenchUser;
  /** `cloudQuery`'s second caller: holds no role, so its principals are `*` and its id. */
  readonly plainUser: BenchUser;
}

/**
 * Traces one call of each function (each called once untraced first, so caches are as they are under
 * load) and checks `cloudQuery`'s two probes. Run with no load applied.
 */
export async function probeCloudRoundTrip(child: ServerChild, input: CloudProbeInput): Promise<CloudRoundTrip> {
  const problems: string[] = [];
  const warmTrace = async (call: () => Promise<unknown>): Promise<Traced> => {
    await call();
    return traceCall(child, call);
  };

  const ping = callTrace(await warmTrace(() => callFunction(input.origin, 'ping', {}, undefined, { pong: true })), input.sql);
  const guardedCall = (): Promise<unknown> => callFunction(input.origin, 'guarded', guardedParams(1), input.user, { ...guardedParams(1), user: input.user.objectId });
  const guarded = callTrace(await warmTrace(guardedCall), input.sql);

  const probeQuery = async (caller: BenchUser | undefined): Promise<CloudQueryTrace> => {
    const as = caller?.username ?? 'anonymous (REST key)';
    let result: unknown;
    const call = async (): Promise<void> => {
      const response = await callFunction(input.origin, 'cloudQuery', {}, caller, CLOUD_QUERY_LIMIT);
      result = (JSON.parse(response.body) as { result?: unknown }).result;
    };
    const trace = await warmTrace(call);
    const summary = callTrace(trace, input.sql);
    const expectedFindParams = caller === undefined ? sqlParams.find(CLOUD_QUERY_LIMIT) : [FIND_GROUP, ['*', caller.objectId], CLOUD_QUERY_LIMIT, 0];
    const finds = trace.statements.filter((statement) => statement.text === input.sql.find);
    const find = finds[0];
    const problem = (text: string): void => {
      problems.push(`cloudQuery as ${as}: ${text}`);
    };
    if (summary.httpRequestsReceived !== 1) problem(`Parsec received ${summary.httpRequestsReceived} HTTP requests for one call: ${JSON.stringify(trace.http.incoming)}`);
    if (summary.httpRequestsSent !== 0) problem(`Parsec sent ${summary.httpRequestsSent} HTTP request(s): ${JSON.stringify(trace.http.outgoing)}`);
    if (finds.length !== 1) problem(`the REST find's statement was sent ${finds.length} times, expected once: ${JSON.stringify(summary.sql)}`);
    if (caller === undefined && trace.statements.length !== 1) problem(`${trace.statements.length} statements, expected exactly the find's: ${JSON.stringify(summary.sql)}`);
    if (find !== undefined && !isDeepStrictEqual(find.params, expectedFindParams)) {
      problem(`the find bound ${JSON.stringify(find.params)}, a REST find by the same caller binds ${JSON.stringify(expectedFindParams)}`);
    }
    return { as, ...summary, result, findParams: find?.params ?? null, expectedFindParams };
  };
  const cloudQuery = await probeQuery(undefined);
  const cloudQueryAsUser = await probeQuery(input.plainUser);

  return { holds: problems.length === 0, cloudQuery, cloudQueryAsUser, ping, guarded, ...(problems.length > 0 ? { problems } : {}) };
}
