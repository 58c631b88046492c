/**
 * A subscription as the server keeps it: the client's query parsed and checked exactly as a REST find of
 * the same caller would be (class served, class-level `find`, `requestComplexity`, regex guard, no protected
 * field named anywhere), plus the `keys` it wants back and the fields it `watch`es.
 */
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseFindOptions } from '../query/parse-find.ts';
import { parseFieldRef } from '../query/parse-where.ts';
import type { Condition, FindQuery } from '../query/tree.ts';
import { assertClassServed, assertMayUseMissingClass } from '../rest/class-access.ts';
import type { Caller } from '../rest/services.ts';
import { findLimitsFor } from '../security/find-limits.ts';
import { assertQueryable } from '../security/query-fields.ts';
import type { WireSubscriptionQuery } from './protocol.ts';
import { assertRegexesCompile } from './regex-check.ts';
import { compileCondition } from '../storage/sql/compile-condition.ts';
import { Aliases, Params } from '../storage/sql/params.ts';

export interface Subscription {
  readonly requestId: number;
  readonly className: string;
  /** The parsed where and the query it belongs to (for re-checking protected fields at each event). */
  readonly query: FindQuery;
  /** The where as the client sent it, serialised: subscriptions with equal keys share one evaluation. */
  readonly whereKey: string;
  /** A `$inQuery`/`$select`/`$relatedTo` reads other tables with the caller's permissions, so it is evaluated per caller. */
  readonly readsOtherRows: boolean;
  readonly keys: ReadonlySet<string> | undefined;
  readonly watch: readonly string[] | undefined;
  /** The subscription's own session token (the SDK may send one per subscription); else the connection's. */
  readonly sessionToken: string | undefined;
  /** The wire query, as `beforeSubscribe` and the trigger requests see it. */
  readonly wire: WireSubscriptionQuery;
}

function readsOtherRows(condition: Condition): boolean {
  switch (condition.type) {
    case 'and':
    case 'or':
    case 'nor':
      return condition.conditions.some(readsOtherRows);
    case 'inQuery':
    case 'select':
    case 'relatedTo':
      return true;
    default:
      return false;
  }
}

/**
 * Checks a subscription for `caller` and returns it, or throws the Parse error a find would answer
 * (119 class not served or find denied, 101 requiresAuthentication, 102 malformed where, 119 protected field).
 */
export async function prepareSubscription(caller: Caller, requestId: number, wire: WireSubscriptionQuery, sessionToken: string | undefined): Promise<Subscription> {
  const { className } = wire;
  const enabled = caller.services.config.liveQuery?.classNames ?? [];
  if (!enabled.includes(className)) throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `LiveQuery is not enabled for class ${className}.`);
  assertClassServed(caller, className, 'find');
  const { schemas, driver } = caller.services;
  await schemas.loadIfMissing(className, driver);
  if (schemas.get(className) === undefined) assertMayUseMissingClass(caller, className);
  const options: Record<string, unknown> = { where: wire.where };
  if (wire.keys !== undefined) options.keys = [...wire.keys];
  const query = parseFindOptions(className, options, findLimitsFor(caller));
  // The same decisions as a find, in the same order: class-level permission, then protected fields.
  caller.access.readFilter(className, 'find');
  assertQueryable(caller.access, query);
  const schema = schemas.get(className);
  if (schema !== undefined) {
    // Compiled once now, as a find compiles it: a sub-query on a class the caller may not find is refused here (119).
    compileCondition(query.where, { className, schema, alias: 't0' }, { params: new Params(), aliases: new Aliases(1), schemaOf: (name) => schemas.get(name), access: caller.access });
  }
  await assertRegexesCompile(driver, query.where);
  const watch = wire.watch?.map((key) => parseFieldRef(key).field);
  const unqueryable = caller.access.protectedFields(className).unqueryable;
  for (const field of watch ?? []) {
    // Watching a field tells its holder when it changes: as much an oracle as querying it.
    if (unqueryable.has(field)) throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `This user is not allowed to watch ${field} on class ${className}.`);
  }
  return {
    requestId,
    className,
    query,
    whereKey: JSON.stringify(wire.where),
    readsOtherRows: readsOtherRows(query.where),
    keys: query.keys,
    watch,
    sessionToken,
    wire,
  };
}
