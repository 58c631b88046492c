import type { Comparison, Condition, FieldRef, SubQuery } from '../../query/tree.ts';
import { encodeValue, type ParseValue } from '../../query/values.ts';
import { joinTableName } from '../../schema/names.ts';
import type { ClassSchema } from '../../schema/types.ts';
import type { CompileContext } from './context.ts';
import { fieldType, resolveField, type FieldExpression } from './field-expression.ts';
import { compileGeoBox, compileGeoDistance, compileGeoPolygon, compilePolygonContains } from './compile-geo.ts';
import { compileText } from './compile-text.ts';
import { ident } from './params.ts';
import { scalarArrayCast, scalarParam } from './scalar-values.ts';

const TRUE = 'TRUE';
const FALSE = 'FALSE';

/** Where a condition is compiled: the class, its schema and the SQL alias its table has in the statement. */
export interface Scope {
  readonly className: string;
  readonly schema: ClassSchema | undefined;
  readonly alias: string;
}

const jsonText = (value: unknown): string => JSON.stringify(value);

function isJsonNull(sql: string): string {
  return `(${sql} IS NULL OR ${sql} = 'null'::jsonb)`;
}

function jsonTypeOf(value: ParseValue): string | undefined {
  switch (value.kind) {
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

function compareAbsent(operator: Comparison, value: ParseValue): string {
  if (operator === '=') return value.kind === 'null' ? TRUE : FALSE;
  if (operator === '<>') return value.kind === 'null' ? FALSE : TRUE;
  return FALSE;
}

function compareScalar(expr: FieldExpression & { form: 'scalar' }, operator: Comparison, value: ParseValue, ctx: CompileContext): string {
  if (value.kind === 'null') {
    if (operator === '=') return `${expr.sql} IS NULL`;
    if (operator === '<>') return `${expr.sql} IS NOT NULL`;
    return FALSE;
  }
  const param = scalarParam(expr.field, value);
  if (param === undefined) return operator === '<>' ? TRUE : FALSE;
  const placeholder = ctx.params.add(param.value, param.cast);
  if (operator === '<>') return `${expr.sql} IS DISTINCT FROM ${placeholder}`;
  if (expr.field.type === 'Pointer' && operator !== '=') return FALSE;
  return `${expr.sql} ${operator} ${placeholder}`;
}

/**
 * jsonb containment (`@>`, `<@`) compares scalars exactly but objects and arrays partially
 * (`[{"a":1,"b":2}] @> [{"a":1}]`), so it only serves for scalars; other values compare elements whole.
 */
function isScalar(value: ParseValue): boolean {
  return value.kind === 'string' || value.kind === 'number' || value.kind === 'boolean';
}

/** The elements of a jsonb array; none for any other value, so a non-array never raises an error. */
function elementsOf(sql: string): string {
  return `jsonb_array_elements(CASE WHEN jsonb_typeof(${sql}) = 'array' THEN ${sql} ELSE '[]'::jsonb END)`;
}

/** An array with an element equal to `element` as a whole value. */
function hasElement(array: string, element: string): string {
  return `EXISTS (SELECT 1 FROM ${elementsOf(array)} AS el(x) WHERE el.x = ${element})`;
}

/**
 * Equality on a jsonb value: the same JSON, or, for an array, an element equal to the value (MongoDB's
 * semantics, which the SDKs assume). An array value too matches an equal element (`[3]` matches
 * `[[1, 2], [3]]`), which Parse's own PostgreSQL adapter does not do.
 */
function jsonEquals(sql: string, value: ParseValue, ctx: CompileContext): string {
  const whole = ctx.params.add(jsonText(encodeValue(value)), 'jsonb');
  if (!isScalar(value)) return `(${sql} = ${whole} OR ${hasElement(sql, whole)})`;
  const element = ctx.params.add(jsonText([encodeValue(value)]), 'jsonb');
  return `(${sql} = ${whole} OR (jsonb_typeof(${sql}) = 'array' AND ${sql} @> ${element}))`;
}

function compareJson(expr: FieldExpression & { form: 'json' }, operator: Comparison, value: ParseValue, ctx: CompileContext): string {
  if (value.kind === 'null') {
    if (operator === '=') return isJsonNull(expr.sql);
    if (operator === '<>') return `NOT ${isJsonNull(expr.sql)}`;
    return FALSE;
  }
  if (operator === '=') return jsonEquals(expr.sql, value, ctx);
  if (operator === '<>') return `(${isJsonNull(expr.sql)} OR NOT ${jsonEquals(expr.sql, value, ctx)})`;
  if (value.kind === 'date') {
    const iso = ctx.params.add(value.value.toISOString(), 'text');
    return `(${expr.sql} ->> '__type' = 'Date' AND (${expr.sql} ->> 'iso') ${operator} ${iso})`;
  }
  const typeName = jsonTypeOf(value);
  if (typeName === undefined) return FALSE;
  const placeholder = ctx.params.add(jsonText(encodeValue(value)), 'jsonb');
  return `(jsonb_typeof(${expr.sql}) = '${typeName}' AND ${expr.sql} ${operator} ${placeholder})`;
}

/**
 * A Relation field compared with objects (`equalTo`, `notEqualTo`, `containedIn`, `notContainedIn` on the
 * field): as in Parse, the owners whose relation holds one of them, read from the join table. Undefined
 * when the field is not a Relation or no value is an object (the ordinary rules apply then).
 */
function relationHolds(target: FieldRef, values: readonly ParseValue[], scope: Scope, ctx: CompileContext): string | undefined {
  const field = fieldType(scope.schema, target.field);
  if (field?.type !== 'Relation' || target.path.length > 0) return undefined;
  const pointers = values.filter((v) => v.kind === 'pointer');
  if (pointers.length === 0) return undefined;
  const ids = pointers.filter((v) => v.className === field.targetClass).map((v) => v.objectId);
  if (ids.length === 0) return FALSE;
  const join = ctx.aliases.create();
  return (
    `EXISTS (SELECT 1 FROM ${ident(joinTableName(target.field, scope.className))} AS ${join} ` +
    `WHERE ${join}."owningId" = ${scope.alias}."objectId" AND ${join}."relatedId" = ANY(${ctx.params.add(ids, 'text[]')}))`
  );
}

function compileCompare(target: FieldRef, operator: Comparison, value: ParseValue, scope: Scope, ctx: CompileContext): string {
  if (operator === '=' || operator === '<>') {
    const holds = relationHolds(target, [value], scope, ctx);
    if (holds !== undefined) return operator === '=' ? holds : `NOT ${holds}`;
  }
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  switch (expr.form) {
    case 'absent':
      return compareAbsent(operator, value);
    case 'scalar':
      return compareScalar(expr, operator, value, ctx);
    case 'json':
      return compareJson(expr, operator, value, ctx);
  }
}

function compileIn(target: FieldRef, values: readonly ParseValue[], negate: boolean, scope: Scope, ctx: CompileContext): string {
  const holds = relationHolds(target, values, scope, ctx);
  if (holds !== undefined) return negate ? `NOT ${holds}` : holds;
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  const includesNull = values.some((v) => v.kind === 'null');
  const concrete = values.filter((v) => v.kind !== 'null');
  let matches: string;
  let isNull: string;
  switch (expr.form) {
    case 'absent':
      return (includesNull ? !negate : negate) ? TRUE : FALSE;
    case 'scalar': {
      const params = concrete.map((v) => scalarParam(expr.field, v)).filter((p) => p !== undefined);
      matches = params.length === 0 ? FALSE : `${expr.sql} = ANY(${ctx.params.add(params.map((p) => p.value), scalarArrayCast(expr.field))})`;
      isNull = `${expr.sql} IS NULL`;
      break;
    }
    case 'json': {
      // As equality: scalars also match an equal element (by containment); objects and arrays an equal
      // element as a whole.
      const scalars = concrete.filter(isScalar);
      const others = concrete.filter((v) => !isScalar(v));
      const parts: string[] = [];
      if (scalars.length > 0) {
        const list = ctx.params.add(jsonText(scalars.map(encodeValue)), 'jsonb');
        parts.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(${list}) AS v(x) WHERE ${expr.sql} = v.x OR (jsonb_typeof(${expr.sql}) = 'array' AND ${expr.sql} @> jsonb_build_array(v.x)))`);
      }
      if (others.length > 0) {
        const list = ctx.params.add(jsonText(others.map(encodeValue)), 'jsonb');
        parts.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(${list}) AS w(x) WHERE ${expr.sql} = w.x OR ${hasElement(expr.sql, 'w.x')})`);
      }
      matches = parts.length === 0 ? FALSE : `(${parts.join(' OR ')})`;
      isNull = isJsonNull(expr.sql);
      break;
    }
  }
  const positive = includesNull ? `(${matches} OR ${isNull})` : matches;
  if (!negate) return positive;
  // `$nin` also matches rows without the field, as in Parse; NOT over SQL NULL would drop them.
  return includesNull ? `NOT COALESCE(${positive}, FALSE)` : `(${isNull} OR NOT COALESCE(${matches}, FALSE))`;
}

function compileArrayContainment(
  kind: 'all' | 'containedBy',
  target: FieldRef,
  values: readonly ParseValue[],
  scope: Scope,
  ctx: CompileContext,
): string {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  if (expr.form !== 'json') return kind === 'containedBy' && expr.form === 'absent' ? TRUE : FALSE;
  if (kind === 'all' && values.length === 0) return FALSE;
  const list = ctx.params.add(jsonText(values.map(encodeValue)), 'jsonb');
  const isArray = `jsonb_typeof(${expr.sql}) = 'array'`;
  if (values.every(isScalar)) {
    return kind === 'all' ? `(${isArray} AND ${expr.sql} @> ${list})` : `(${isJsonNull(expr.sql)} OR (${isArray} AND ${expr.sql} <@ ${list}))`;
  }
  if (kind === 'all') return `(${isArray} AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${list}) AS w(x) WHERE NOT ${hasElement(expr.sql, 'w.x')}))`;
  const outside = `EXISTS (SELECT 1 FROM ${elementsOf(expr.sql)} AS el(x) WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${list}) AS w(y) WHERE w.y = el.x))`;
  return `(${isJsonNull(expr.sql)} OR (${isArray} AND NOT ${outside}))`;
}

function compileExists(target: FieldRef, exists: boolean, scope: Scope, ctx: CompileContext): string {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  if (expr.form === 'absent') return exists ? FALSE : TRUE;
  return exists ? `${expr.sql} IS NOT NULL` : `${expr.sql} IS NULL`;
}

/**
 * Parse's regex options mapped onto PostgreSQL's embedded options: Mongo's default (`.` excludes newline,
 * `^$` anchor the whole string) is PostgreSQL's `p`; `m` makes `^$` line anchors (`n`); `s` lets `.` match
 * newline (`s`, or `w` together with `m`).
 */
function regexFlags(options: string): string {
  const multiline = options.includes('m');
  const dotAll = options.includes('s');
  let flags = multiline ? (dotAll ? 'w' : 'n') : dotAll ? 's' : 'p';
  if (options.includes('i')) flags += 'i';
  if (options.includes('x')) flags += 'x';
  return flags;
}

function compileRegex(target: FieldRef, pattern: string, options: string, scope: Scope, ctx: CompileContext): string {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  const regex = ctx.params.add(`(?${regexFlags(options)})${pattern}`, 'text');
  switch (expr.form) {
    case 'absent':
      return FALSE;
    case 'scalar':
      return expr.field.type === 'String' ? `${expr.sql} ~ ${regex}` : FALSE;
    case 'json':
      if (expr.field.type === 'Array' || expr.nested) {
        const elements = `jsonb_array_elements_text(CASE WHEN jsonb_typeof(${expr.sql}) = 'array' THEN ${expr.sql} ELSE '[]'::jsonb END)`;
        return `((jsonb_typeof(${expr.sql}) = 'string' AND ${expr.text} ~ ${regex}) OR EXISTS (SELECT 1 FROM ${elements} AS e(x) WHERE e.x ~ ${regex}))`;
      }
      return FALSE;
  }
}

/** The scope of a sub-query's table, with the caller's read permission on it already applied. */
function subScope(query: SubQuery, ctx: CompileContext): { scope: Scope; filter: string } | undefined {
  const schema = ctx.schemaOf(query.className);
  if (schema === undefined) return undefined;
  const scope: Scope = { className: query.className, schema, alias: ctx.aliases.create() };
  const access = ctx.access.readFilter(query.className);
  const where = compileCondition(query.where, scope, ctx);
  const filter = access === undefined ? where : `(${where}) AND (${compileCondition(access, scope, ctx)})`;
  return { scope, filter };
}

function compileInQuery(target: FieldRef, query: SubQuery, negate: boolean, scope: Scope, ctx: CompileContext): string {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  const sub = subScope(query, ctx);
  if (sub === undefined || expr.form === 'absent') return negate ? TRUE : FALSE;
  const inner = `${sub.scope.alias}."objectId"`;
  let link: string;
  if (expr.form === 'scalar') {
    if (expr.field.type !== 'Pointer' || expr.field.targetClass !== query.className) return negate ? TRUE : FALSE;
    link = `${inner} = ${expr.sql}`;
  } else {
    const className = ctx.params.add(query.className, 'text');
    link = `${expr.sql} @> jsonb_build_array(jsonb_build_object('__type', 'Pointer', 'className', ${className}, 'objectId', ${inner}))`;
  }
  const exists = `EXISTS (SELECT 1 FROM ${ident(query.className)} AS ${sub.scope.alias} WHERE ${link} AND ${sub.filter})`;
  return negate ? `NOT ${exists}` : exists;
}

function compileSelect(target: FieldRef, query: SubQuery, key: string, negate: boolean, scope: Scope, ctx: CompileContext): string {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  const sub = subScope(query, ctx);
  if (sub === undefined || expr.form === 'absent') return negate ? TRUE : FALSE;
  const selected = resolveField({ field: key, path: [] }, sub.scope.schema, sub.scope.alias, ctx.params);
  if (selected.form === 'absent') return negate ? TRUE : FALSE;
  // Compare as text when the two columns are stored differently (e.g. a pointer against a string key).
  const sameForm = selected.form === expr.form && selected.field.type === expr.field.type;
  const link = sameForm ? `${selected.sql} = ${expr.sql}` : `${selected.sql}::text = ${expr.sql}::text`;
  const exists = `EXISTS (SELECT 1 FROM ${ident(query.className)} AS ${sub.scope.alias} WHERE ${link} AND ${sub.filter})`;
  return negate ? `NOT ${exists}` : exists;
}

function compileRelatedTo(owner: { className: string; objectId: string }, key: string, scope: Scope, ctx: CompileContext): string {
  const ownerSchema = ctx.schemaOf(owner.className);
  const relation = fieldType(ownerSchema, key);
  if (ownerSchema === undefined || relation?.type !== 'Relation' || relation.targetClass !== scope.className) return FALSE;
  const ownerId = ctx.params.add(owner.objectId, 'text');
  const join = ctx.aliases.create();
  const ownerAlias = ctx.aliases.create();
  const ownerScope: Scope = { className: owner.className, schema: ownerSchema, alias: ownerAlias };
  // The owning object must itself be readable: a relation of an object you cannot see lists nothing.
  const access = ctx.access.readFilter(owner.className, 'get');
  const ownerReadable = access === undefined ? TRUE : compileCondition(access, ownerScope, ctx);
  return (
    `EXISTS (SELECT 1 FROM ${ident(joinTableName(key, owner.className))} AS ${join} ` +
    `JOIN ${ident(owner.className)} AS ${ownerAlias} ON ${ownerAlias}."objectId" = ${join}."owningId" ` +
    `WHERE ${join}."owningId" = ${ownerId} AND ${join}."relatedId" = ${scope.alias}."objectId" AND ${ownerReadable})`
  );
}

/** Compiles a condition tree into a SQL boolean expression over `scope.alias`, with every value bound. */
export function compileCondition(condition: Condition, scope: Scope, ctx: CompileContext): string {
  switch (condition.type) {
    case 'true':
      return TRUE;
    case 'and':
    case 'or': {
      const parts = condition.conditions.map((c) => `(${compileCondition(c, scope, ctx)})`);
      if (parts.length === 0) return condition.type === 'and' ? TRUE : FALSE;
      return parts.join(condition.type === 'and' ? ' AND ' : ' OR ');
    }
    case 'nor':
      return `NOT COALESCE((${condition.conditions.map((c) => `(${compileCondition(c, scope, ctx)})`).join(' OR ')}), FALSE)`;
    case 'compare':
      return compileCompare(condition.target, condition.operator, condition.value, scope, ctx);
    case 'in':
      return compileIn(condition.target, condition.values, condition.negate, scope, ctx);
    case 'all':
    case 'containedBy':
      return compileArrayContainment(condition.type, condition.target, condition.values, scope, ctx);
    case 'exists':
      return compileExists(condition.target, condition.exists, scope, ctx);
    case 'regex':
      return compileRegex(condition.target, condition.pattern, condition.options, scope, ctx);
    case 'inQuery':
      return compileInQuery(condition.target, condition.query, condition.negate, scope, ctx);
    case 'select':
      return compileSelect(condition.target, condition.query, condition.key, condition.negate, scope, ctx);
    case 'relatedTo':
      return compileRelatedTo(condition.owner, condition.key, scope, ctx);
    case 'geoDistance':
      return compileGeoDistance(condition.target, condition.center, condition.maxRadians, scope, ctx);
    case 'geoBox':
      return compileGeoBox(condition.target, condition.southwest, condition.northeast, scope, ctx);
    case 'geoPolygon':
      return compileGeoPolygon(condition.target, condition.vertices, scope, ctx);
    case 'polygonContains':
      return compilePolygonContains(condition.target, condition.point, scope, ctx);
    case 'text':
      return compileText(condition.target, condition.search, scope, ctx);
    case 'access':
      return `${scope.alias}.${ident(condition.column)} && ${ctx.params.add([...condition.principals], 'text[]')}`;
  }
}
