import { and, TEXT_SCORE, topLevelConditions, type Condition, type FindQuery } from '../../query/tree.ts';
import type { ClassSchema } from '../../schema/types.ts';
import { compileCondition, type Scope } from './compile-condition.ts';
import { geoDistanceOrder } from './compile-geo.ts';
import { textScore } from './compile-text.ts';
import type { CompileContext } from './context.ts';
import { resolveField } from './field-expression.ts';
import { Aliases, ident, Params } from './params.ts';
import { storedColumns } from './columns.ts';

export interface CompiledStatement {
  readonly text: string;
  readonly params: readonly unknown[];
}

function newContext(base: Omit<CompileContext, 'params' | 'aliases'>): CompileContext {
  return { ...base, params: new Params(), aliases: new Aliases() };
}

/** The WHERE clause of a read of `className`: the caller's condition and their read permission, together. */
function readWhere(where: Condition, scope: Scope, ctx: CompileContext): string {
  const access = ctx.access.readFilter(scope.className, ctx.operation);
  return compileCondition(access === undefined ? where : and(where, access), scope, ctx);
}

function selectList(schema: ClassSchema, keys: ReadonlySet<string> | undefined, excludeKeys: ReadonlySet<string>, alias: string): string {
  const always = new Set(['objectId', 'createdAt', 'updatedAt', '_rperm', '_wperm']);
  const columns = storedColumns(schema).filter(
    (column) => always.has(column) || ((keys === undefined || keys.has(column)) && !excludeKeys.has(column)),
  );
  return columns
    .map((column) => {
      const sql = `${alias}.${ident(column)}`;
      // Dates leave the database already in Parse's wire form: formatting them in SQL is far cheaper than
      // parsing them into JavaScript Dates and back (the largest cost of a 100-row find in the profile).
      return isDateColumn(schema, column) ? `to_char(${sql} AT TIME ZONE 'UTC', '${ISO_FORMAT}') AS ${ident(column)}` : sql;
    })
    .join(', ');
}

const ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

function isDateColumn(schema: ClassSchema, column: string): boolean {
  return column === 'createdAt' || column === 'updatedAt' || schema.fields.get(column)?.type === 'Date';
}

/**
 * ORDER BY: the client's keys (`$score` is the text search's relevance, most relevant first whatever the
 * direction, as in Parse); with none, a top-level `$nearSphere` orders by distance, nearest first.
 */
function orderBy(query: FindQuery, scope: Scope, ctx: CompileContext): string[] {
  const top = topLevelConditions(query.where);
  const order: string[] = [];
  for (const key of query.order) {
    if (key.target.field === TEXT_SCORE) {
      const text = top.find((c) => c.type === 'text');
      if (text !== undefined) order.push(`${textScore(text.target, text.search, scope, ctx)} DESC`);
      continue;
    }
    const expr = resolveField(key.target, scope.schema, scope.alias, ctx.params);
    if (expr.form === 'absent') continue;
    // Parse (MongoDB) sorts missing values first in ascending order.
    order.push(key.descending ? `${expr.sql} DESC NULLS LAST` : `${expr.sql} ASC NULLS FIRST`);
  }
  if (query.order.length > 0) return order;
  const near = top.find((c) => c.type === 'geoDistance' && c.sorted);
  const distance = near?.type === 'geoDistance' ? geoDistanceOrder(near.target, near.center, scope, ctx) : undefined;
  return distance === undefined ? [] : [`${distance} ASC`];
}

export function compileFind(query: FindQuery, schema: ClassSchema, base: Omit<CompileContext, 'params' | 'aliases'>): CompiledStatement {
  const ctx = newContext(base);
  const scope: Scope = { className: query.className, schema, alias: ctx.aliases.create() };
  const where = readWhere(query.where, scope, ctx);
  const order = orderBy(query, scope, ctx);
  let columns = selectList(schema, query.keys, query.excludeKeys, scope.alias);
  const search = topLevelConditions(query.where).find((c) => c.type === 'text');
  if (search !== undefined && query.keys?.has(TEXT_SCORE) === true) {
    columns += `, ${textScore(search.target, search.search, scope, ctx)} AS ${ident(TEXT_SCORE)}`;
  }
  let text = `SELECT ${columns} FROM ${ident(query.className)} AS ${scope.alias} WHERE ${where}`;
  if (order.length > 0) text += ` ORDER BY ${order.join(', ')}`;
  text += ` LIMIT ${ctx.params.add(query.limit, 'int8')} OFFSET ${ctx.params.add(query.skip, 'int8')}`;
  return ctx.params.bind(text);
}

export function compileCount(className: string, where: Condition, schema: ClassSchema, base: Omit<CompileContext, 'params' | 'aliases'>): CompiledStatement {
  const ctx = newContext(base);
  const scope: Scope = { className, schema, alias: ctx.aliases.create() };
  const text = `SELECT count(*)::int8 AS count FROM ${ident(className)} AS ${scope.alias} WHERE ${readWhere(where, scope, ctx)}`;
  return ctx.params.bind(text);
}
