/**
 * The claim "a session-authenticated request costs at most one indexed lookup when the cache is cold and
 * none when warm — and the lookup brings the user's roles with it", checked on the running Parsec while no
 * load is applied: every statement Parsec sends for one `GET /users/me` with a token it has never seen
 * (cold), then for the same request again (warm), and the plan of the cold lookup exactly as Parsec sent it.
 */
import type { ServerChild } from './child.ts';
import { freshToken, usersMe } from './seed.ts';
import { readsRoles, readsSessions, TRANSACTION_MARK, type SessionLookupPlan, type TracedStatement } from './session-plan.ts';
import { traced } from './sql-check.ts';
import type { BenchUser, StatementName } from './workload.ts';

export const SESSION_INDEX = '_Session_token_key';

export interface SessionQueries {
  /** Statements for one `/users/me` with a never-used token: the session lookup (with the roles) and the user's get. */
  readonly cold: number;
  /** Statements for the same request repeated: the session comes from Parsec's cache, only the get remains. */
  readonly warm: number;
  /** Of those, statements reading `_Session` (the lookup by token hash): exactly 1 cold, 0 warm. */
  readonly coldSessionLookups: number;
  readonly warmSessionLookups: number;
  /** The cold lookup also expands the user's roles (it reads `_Role`): one round trip for both. */
  readonly rolesInLookup: boolean;
  /** Statements other than the lookup reading `_Role` (a separate role expansion), cold and warm: expected 0. */
  readonly separateRoleQueries: { readonly cold: number; readonly warm: number };
  /** The principals the cold request's user get bound (the user holds Members, and Readers through it). */
  readonly coldPrincipals: unknown;
  /** The statements, named after the database limit's statements where they are one, else verbatim. */
  readonly coldSql: string[];
  readonly warmSql: string[];
  /** The cold lookup's text, as Parsec sent it: what `lookupPlan` explains (with the parameters it bound). */
  readonly lookupSql: string;
  /**
   * EXPLAIN ANALYZE of that statement (statistics refreshed first), as the table is and at a realistic size:
   * how `_Session` is read (`sessionScan`, `indexName`) and what the role expansion costs (`roles`).
   */
  readonly lookupPlan: SessionLookupPlan;
  /**
   * Exactly one lookup cold and it expands the roles, no separate role expansion, none warm, and at a
   * realistic size the lookup reads `_Session_token_key`.
   */
  readonly claimHolds: boolean;
}

function namer(workloadSql: Readonly<Record<StatementName, string>>): (statements: readonly TracedStatement[]) => string[] {
  const names = new Map<string, string>(Object.entries(workloadSql).map(([name, text]) => [text, name]));
  return (statements) =>
    statements.map(({ text }) => {
      if (text === TRANSACTION_MARK) return 'transaction (BEGIN … COMMIT)';
      if (readsSessions(text)) return readsRoles(text) ? 'sessionLookup (with the roles)' : 'sessionLookup';
      return names.get(text) ?? text;
    });
}

/** `user` should hold roles, so the lookup's role expansion has work to do. */
export async function probeSessionQueries(
  child: ServerChild,
  origin: string,
  user: BenchUser,
  workloadSql: Readonly<Record<StatementName, string>>,
): Promise<SessionQueries> {
  // A login creates the session without caching it, so this token's first use is a cold lookup.
  const token = await freshToken(origin, user);
  const cold = await traced(child, () => usersMe(origin, token));
  const warm = await traced(child, () => usersMe(origin, token));
  const lookups = cold.filter((statement) => readsSessions(statement.text));
  const lookup = lookups[0];
  if (lookup === undefined) throw new Error(`session queries: a cold /users/me sent no statement reading _Session: ${JSON.stringify(cold.map((s) => s.text))}`);
  const lookupPlan = await child.command<SessionLookupPlan>('explainSessionLookup', lookup);
  const separateRoles = (statements: readonly TracedStatement[]): number =>
    statements.filter((statement) => readsRoles(statement.text) && !readsSessions(statement.text)).length;
  const coldSessionLookups = lookups.length;
  const warmSessionLookups = warm.filter((statement) => readsSessions(statement.text)).length;
  const rolesInLookup = readsRoles(lookup.text);
  const separateRoleQueries = { cold: separateRoles(cold), warm: separateRoles(warm) };
  const named = namer(workloadSql);
  return {
    cold: cold.length,
    warm: warm.length,
    coldSessionLookups,
    warmSessionLookups,
    rolesInLookup,
    separateRoleQueries,
    coldPrincipals: cold.find((statement) => statement.text === workloadSql.userGet)?.params[1] ?? null,
    coldSql: named(cold),
    warmSql: named(warm),
    lookupSql: lookup.text,
    lookupPlan,
    claimHolds:
      coldSessionLookups === 1 &&
      rolesInLookup &&
      separateRoleQueries.cold === 0 &&
      warmSessionLookups === 0 &&
      separateRoleQueries.warm === 0 &&
      lookupPlan.atScale.indexName === SESSION_INDEX,
  };
}
