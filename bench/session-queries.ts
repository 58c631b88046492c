/**
 * The claim "a session-authenticated request costs at most one indexed lookup when the cache is cold and
 * none when warm", checked on the running Parsec while no load is applied: every statement Parsec sends for
 * one `GET /users/me` with a token it has never seen (cold), then for the same request again (warm), and
 * the plan of the cold lookup.
 */
import type { ServerChild } from './child.ts';
import { freshToken, usersMe } from './seed.ts';
import { TRANSACTION_MARK, type SessionLookupPlan } from './session-plan.ts';
import { sql, type BenchUser } from './workload.ts';

export const SESSION_INDEX = '_Session_token_key';

export interface SessionQueries {
  /** Statements for one `/users/me` with a never-used token: the session lookup and the user's get. */
  readonly cold: number;
  /** Statements for the same request repeated: the session comes from Parsec's cache, only the get remains. */
  readonly warm: number;
  /** Of those, lookups of the session by token hash. */
  readonly coldSessionLookups: number;
  readonly warmSessionLookups: number;
  /** The statements, named after bench/workload.ts's `sql` entries where they match one, else verbatim. */
  readonly coldSql: string[];
  readonly warmSql: string[];
  /** EXPLAIN of the cold lookup (statistics refreshed first), as the table is and at a realistic size. */
  readonly lookupPlan: SessionLookupPlan;
  /** cold lookups ≤ 1, warm lookups = 0, and at a realistic size the lookup reads `_Session_token_key`. */
  readonly claimHolds: boolean;
}

const NAMES = new Map<string, string>(Object.entries(sql).map(([name, text]) => [text, name]));

const named = (statements: readonly string[]): string[] =>
  statements.map((text) => (text === TRANSACTION_MARK ? 'transaction (BEGIN … COMMIT)' : (NAMES.get(text) ?? text)));

async function traced(child: ServerChild, request: () => Promise<unknown>): Promise<string[]> {
  await child.command('traceStart');
  const failure = await request().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  // Stopped whether or not the request succeeded: the driver must not stay wrapped.
  const statements = await child.command<string[]>('traceStop');
  if (failure !== undefined) throw failure;
  return statements;
}

export async function probeSessionQueries(child: ServerChild, origin: string, user: BenchUser): Promise<SessionQueries> {
  // A login creates the session without caching it, so this token's first use is a cold lookup.
  const token = await freshToken(origin, user);
  const cold = await traced(child, () => usersMe(origin, token));
  const warm = await traced(child, () => usersMe(origin, token));
  const lookupPlan = await child.command<SessionLookupPlan>('explainSessionLookup', { token });
  const lookups = (statements: readonly string[]): number => statements.filter((text) => text === sql.sessionLookup).length;
  const coldSessionLookups = lookups(cold);
  const warmSessionLookups = lookups(warm);
  return {
    cold: cold.length,
    warm: warm.length,
    coldSessionLookups,
    warmSessionLookups,
    coldSql: named(cold),
    warmSql: named(warm),
    lookupPlan,
    claimHolds: coldSessionLookups <= 1 && warmSessionLookups === 0 && lookupPlan.atScale.indexName === SESSION_INDEX,
  };
}
