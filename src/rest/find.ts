import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { FindQuery } from '../query/tree.ts';
import { compileCount, compileFind } from '../storage/sql/compile-find.ts';
import { assertClassServed, assertMayUseMissingClass } from './class-access.ts';
import { encodeRow, type JsonRecord } from './encode.ts';
import { applyIncludes } from './include.ts';
import type { Caller } from './services.ts';

export interface FindResult {
  results: JsonRecord[];
  count?: number;
}

export function fileBaseUrl(caller: Caller): string {
  const { serverURL, appId } = caller.services.config;
  return `${serverURL}/files/${encodeURIComponent(appId)}`;
}

/** A find: one SELECT carrying the caller's read permission, one COUNT when asked, one query per include. */
export async function find(caller: Caller, query: FindQuery, operation: 'find' | 'get' = 'find'): Promise<FindResult> {
  assertClassServed(caller, query.className, query.count ? 'count' : operation);
  const { schemas, driver } = caller.services;
  const schema = schemas.get(query.className);
  if (schema === undefined) {
    assertMayUseMissingClass(caller, query.className);
    return query.count ? { results: [], count: 0 } : { results: [] };
  }
  const base = { schemaOf: (name: string) => schemas.get(name), access: caller.access };
  const rows = query.limit === 0 ? [] : (await driver.query(...statement(compileFind(query, schema, base)))).rows;
  const results = rows.map((row) => encodeRow(schema, row, fileBaseUrl(caller)));
  const plugin = caller.services.plugins.get(query.className);
  if (plugin?.filterRead !== undefined) for (const result of results) plugin.filterRead(caller, result);
  if (query.keys !== undefined || query.excludeKeys.size > 0) project(results, query);
  await applyIncludes(caller, results, query.include);
  if (!query.count) return { results };
  const counted = await driver.query<{ count: string | number }>(...statement(compileCount(query.className, query.where, schema, base)));
  return { results, count: Number(counted.rows[0]?.count ?? 0) };
}

/** Relation markers are not columns, so projection removes them here. */
function project(results: JsonRecord[], query: FindQuery): void {
  const always = new Set(['objectId', 'createdAt', 'updatedAt', 'ACL']);
  for (const result of results) {
    for (const key of Object.keys(result)) {
      if (always.has(key)) continue;
      if ((query.keys !== undefined && !query.keys.has(key)) || query.excludeKeys.has(key)) delete result[key];
    }
  }
}

function statement(compiled: { text: string; params: readonly unknown[] }): [string, readonly unknown[]] {
  return [compiled.text, compiled.params];
}

/** `GET /classes/X/:id`: missing and unreadable objects are the same 101, so existence is not revealed. */
export async function get(caller: Caller, query: FindQuery): Promise<JsonRecord> {
  const { results } = await find(caller, query, 'get');
  const object = results[0];
  if (object === undefined) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
  return object;
}
