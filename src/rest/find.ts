import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { and, INCLUDE_ALL, TEXT_SCORE, type Condition, type FindQuery } from '../query/tree.ts';
import type { ClassSchema } from '../schema/types.ts';
import { compileCount, compileFind } from '../storage/sql/compile-find.ts';
import { assertClassServed, assertMayUseMissingClass } from './class-access.ts';
import { encodeRow, type JsonRecord } from './encode.ts';
import { applyIncludes } from './include.ts';
import { keepNestedKeys, project } from './projection.ts';
import type { Caller } from './services.ts';
import { assertQueryable } from '../security/query-fields.ts';
import { FindTriggers } from '../cloud/find-triggers.ts';
import { clientReads } from './read-source.ts';

export interface FindResult {
  results: JsonRecord[];
  count?: number;
  /** The class the results are of, when a `redirectClassNameForKey` query ran on a relation's target. */
  className?: string;
}

export function fileBaseUrl(caller: Caller): string {
  const { serverURL, appId } = caller.services.config;
  return `${serverURL}/files/${encodeURIComponent(appId)}`;
}

/**
 * A find: the class-level permissions decide first (119 before anything else), a query naming a protected
 * field is refused, then one SELECT carrying the caller's row permissions, one COUNT when asked, and one
 * query per include; protected fields are removed from what comes back.
 */
export interface FindOptions {
  /**
   * false for the server's own reads (the stored object a trigger is shown, a user's own record at login):
   * an app's beforeFind/afterFind shape what clients read, not what the server checks.
   */
  readonly cloudTriggers?: boolean;
  /**
   * true for a client's read (the find and get routes): it may be served by the read replica
   * (`readReplicaURI`), with its count and includes. The server's own reads never set it: they read the primary.
   */
  readonly replica?: boolean;
}

export async function find(caller: Caller, requested: FindQuery, operation: 'find' | 'get' = 'find', options: FindOptions = {}): Promise<FindResult> {
  if (requested.redirectClassNameForKey !== undefined) {
    const { redirectClassNameForKey: key, ...rest } = requested;
    const target = await relationTarget(caller, requested.className, key);
    if (target === undefined) return find(caller, rest, operation, options);
    // As Parse: each result names its class too (the SDK's `first`/`get` read it there).
    const result = await find(caller, { ...rest, className: target }, operation, options);
    for (const object of result.results) object.className = target;
    return { ...result, className: target };
  }
  let query = requested;
  assertClassServed(caller, query.className, query.count ? 'count' : operation);
  const { schemas, driver } = caller.services;
  await schemas.loadIfMissing(query.className, driver);
  const schema = schemas.get(query.className);
  if (schema === undefined) {
    assertMayUseMissingClass(caller, query.className);
    return query.count ? { results: [], count: 0 } : { results: [] };
  }
  const { access } = caller;
  const wantsRows = !query.count || query.limit > 0;
  if (wantsRows) access.readFilter(query.className, operation);
  if (query.count) access.readFilter(query.className, 'count');
  // The client's query is checked; what a beforeFind trigger makes of it is trusted server code's.
  assertQueryable(access, query);
  const triggers = options.cloudTriggers === false ? undefined : FindTriggers.for(caller, query.className);
  if (triggers !== undefined) query = await triggers.beforeFind(query, operation);
  const plugin = caller.services.plugins.get(query.className);
  const withImplied = (where: Condition): FindQuery => {
    const implied = plugin?.impliedWhere?.(where);
    return { ...query, where: implied === undefined ? where : and(where, implied) };
  };
  const base = { schemaOf: (name: string) => schemas.get(name), access };
  if (requested.explain === true) return { results: await explain(caller, compileFind(withImplied(query.where), schema, { ...base, operation })) };
  const reads = options.replica === true ? clientReads(caller) : driver;
  const select = async (where: Condition): Promise<Row[]> => (await reads.query<Row>(...statement(compileFind(withImplied(where), schema, { ...base, operation })))).rows;
  const rows = query.limit === 0 ? [] : await readPage(query, select, plugin?.readWindows?.(query, reads));
  let results = rows.map((row) => withScore(encodeRow(schema, row, fileBaseUrl(caller)), row));
  hideProtected(caller, query.className, results);
  if (triggers !== undefined) {
    results = await triggers.afterFind(query, results);
    // afterFind is cloud code; what it hands back still passes the caller's protected-field filter.
    hideProtected(caller, query.className, results);
  }
  if (query.keys !== undefined || query.excludeKeys.size > 0) project(results, query);
  await applyIncludes(caller, results, expandIncludeAll(query.include, schema), { replica: options.replica });
  if (query.nestedKeys !== undefined) keepNestedKeys(results, query.nestedKeys);
  if (!query.count) return { results };
  const unconditional = query.where.type === 'true' && access.readFilter(query.className, 'count') === undefined;
  if (unconditional && plugin?.countAll !== undefined) return { results, count: await plugin.countAll(reads) };
  const counted = await reads.query<{ count: string | number }>(...statement(compileCount(query.className, withImplied(query.where).where, schema, { ...base, operation: 'count' })));
  return { results, count: Number(counted.rows[0]?.count ?? 0) };
}

type Row = Record<string, unknown>;

/** A page of rows: from the first of a plugin's narrower windows that fills it, or from the query itself. */
async function readPage(query: FindQuery, select: (where: Condition) => Promise<Row[]>, windows: AsyncIterable<Condition> | undefined): Promise<Row[]> {
  for await (const window of windows ?? []) {
    const page = await select(and(query.where, window));
    if (page.length >= query.limit) return page;
  }
  return select(query.where);
}

/**
 * The target class of `className`'s Relation field `key`, or undefined when the field is not a relation
 * (Parse then queries the class itself). The parent class must be one the caller may query.
 */
async function relationTarget(caller: Caller, className: string, key: string): Promise<string | undefined> {
  assertClassServed(caller, className, 'find');
  const { schemas, driver } = caller.services;
  await schemas.loadIfMissing(className, driver);
  const field = schemas.get(className)?.fields.get(key);
  return field?.type === 'Relation' ? field.targetClass : undefined;
}

/** `include=*`: every Pointer and Array field of the class (Parse includes both), besides the explicit paths. */
function expandIncludeAll(paths: readonly (readonly string[])[], schema: ClassSchema): (readonly string[])[] {
  if (!paths.some((path) => path[0] === INCLUDE_ALL)) return [...paths];
  const fields = [...schema.fields].filter(([, field]) => field.type === 'Pointer' || field.type === 'Array').map(([name]): readonly string[] => [name]);
  const explicit = paths.filter((path) => path[0] !== INCLUDE_ALL);
  const named = new Set(explicit.map((path) => path.join('.')));
  return [...explicit, ...fields.filter((path) => !named.has(path.join('.')))];
}

/** Removes what this caller may not see: the class's protected fields, and what its plugin hides. */
export function hideProtected(caller: Caller, className: string, results: JsonRecord[]): void {
  const hidden = caller.access.protectedFields(className);
  const plugin = caller.services.plugins.get(className);
  for (const result of results) {
    for (const field of hidden.hiddenIn(result)) delete result[field];
    plugin?.filterRead?.(caller, result);
  }
}

/** `keys=$score`: the text search's relevance comes back as `score`, as in Parse. */
function withScore(result: JsonRecord, row: Readonly<Record<string, unknown>>): JsonRecord {
  if (row[TEXT_SCORE] !== undefined) result.score = Number(row[TEXT_SCORE]);
  return result;
}

/** Relation markers are not columns, so projection removes them here. */
/**
 * The database's plan for the statement the find would run (permissions included), not its rows: what a
 * master-key `explain` asks for. Not `ANALYZE`: the statement is planned, never executed.
 */
async function explain(caller: Caller, compiled: { text: string; params: readonly unknown[] }): Promise<JsonRecord[]> {
  const { rows } = await caller.services.driver.query<JsonRecord>(`EXPLAIN (FORMAT JSON) ${compiled.text}`, compiled.params);
  return rows;
}

function statement(compiled: { text: string; params: readonly unknown[] }): [string, readonly unknown[]] {
  return [compiled.text, compiled.params];
}

/** `GET /classes/X/:id`: missing and unreadable objects are the same 101, so existence is not revealed. */
export async function get(caller: Caller, query: FindQuery, options: FindOptions = {}): Promise<JsonRecord> {
  const { results } = await find(caller, query, 'get', options);
  const object = results[0];
  if (object === undefined) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
  return object;
}
