import { ErrorCode, ParseError } from '../../errors/parse-error.ts';
import type { Accumulator, AggregateRequest, AggregateStage } from '../../query/parse-aggregate.ts';
import { and, type Condition, type FieldRef } from '../../query/tree.ts';
import type { ClassSchema, FieldType } from '../../schema/types.ts';
import { storedColumns } from './columns.ts';
import { compileCondition, type Scope } from './compile-condition.ts';
import type { CompileContext } from './context.ts';
import { resolveField } from './field-expression.ts';
import { Aliases, ident, Params } from './params.ts';

/**
 * Aggregation pipelines compiled to one SQL statement: the class's rows (with the caller's read
 * permission, as every read) are the innermost SELECT and each stage wraps the previous one. Stages see
 * only the columns the previous stage produced; a field they name that it did not produce is refused
 * before any SQL is built, so a pipeline can never reach the database as an invalid statement. A `$sort`
 * is carried through later stages (each re-applies it), since SQL does not promise to keep a sub-query's
 * order.
 */

export type FrameShape = 'object' | 'group' | 'count';

interface SortKey {
  readonly field: string;
  readonly descending: boolean;
}

export interface Frame {
  readonly sql: string;
  /** The fields rows of this frame have, typed; the compiler resolves names against it. */
  readonly schema: ClassSchema;
  readonly columns: ReadonlySet<string>;
  readonly shape: FrameShape;
  readonly order: readonly SortKey[];
  /** After a `$project`: the fields results show (objectId always). */
  readonly projected?: readonly string[];
}

export interface CompiledAggregate {
  readonly text: string;
  readonly params: readonly unknown[];
  readonly frame: Frame;
}

function invalid(message: string): never {
  throw new ParseError(ErrorCode.INVALID_QUERY, message);
}

function schemaWith(className: string, fields: Iterable<[string, FieldType]>): ClassSchema {
  return { className, fields: new Map(fields), classLevelPermissions: {}, indexes: {} };
}

/** Every column a condition reads on its own table (sub-queries read other tables, checked by their own compile). */
function fieldsRead(condition: Condition): string[] {
  switch (condition.type) {
    case 'and':
    case 'or':
    case 'nor':
      return condition.conditions.flatMap(fieldsRead);
    case 'true':
    case 'access':
      return [];
    case 'relatedTo':
      return ['objectId'];
    default:
      return [condition.target.field];
  }
}

function assertAvailable(frame: Frame, names: Iterable<string>, stage: string): void {
  for (const name of names) {
    const usable = frame.columns.has(name) && !(frame.shape === 'group' && name === 'objectId' && stage === '$match');
    if (!usable) invalid(`${stage} uses ${name}, which the previous stage does not produce${name === 'objectId' ? ' as a comparable field' : ''}.`);
  }
}

function orderSql(order: readonly SortKey[], scope: Scope, ctx: CompileContext): string {
  const keys = order.flatMap((key) => {
    const expr = resolveField({ field: key.field, path: [] }, scope.schema, scope.alias, ctx.params);
    if (expr.form === 'absent') return [];
    return [key.descending ? `${expr.sql} DESC NULLS LAST` : `${expr.sql} ASC NULLS FIRST`];
  });
  return keys.length === 0 ? '' : ` ORDER BY ${keys.join(', ')}`;
}

/** The previous frame as a sub-query, with a fresh alias. */
function wrap(frame: Frame, ctx: CompileContext): { scope: Scope; from: string } {
  const alias = ctx.aliases.create();
  return { scope: { className: frame.schema.className, schema: frame.schema, alias }, from: `(${frame.sql}) AS ${alias}` };
}

function baseFrame(request: AggregateRequest, schema: ClassSchema, ctx: CompileContext): Frame {
  const scope: Scope = { className: request.className, schema, alias: ctx.aliases.create() };
  const access = ctx.access.readFilter(request.className, 'find');
  const where = compileCondition(access === undefined ? request.where : and(request.where, access), scope, ctx);
  const columns = storedColumns(schema);
  const sql = `SELECT ${columns.map((c) => `${scope.alias}.${ident(c)}`).join(', ')} FROM ${ident(request.className)} AS ${scope.alias} WHERE ${where}`;
  return { sql, schema, columns: new Set(columns), shape: 'object', order: [] };
}

/** The SQL of one accumulator over the grouped rows, and the type of what it produces. */
function accumulatorSql(accumulator: Accumulator, scope: Scope, ctx: CompileContext): { sql: string; type: FieldType } {
  const number: FieldType = { type: 'Number' };
  if (accumulator.op === 'count') return { sql: 'count(*)::float8', type: number };
  if (accumulator.field === undefined) return { sql: `(count(*) * ${ctx.params.add(accumulator.constant ?? 0, 'float8')})::float8`, type: number };
  const expr = resolveField(accumulator.field, scope.schema, scope.alias, ctx.params);
  // Numbers only, as MongoDB: other values are skipped by $sum/$avg (so $sum of none is 0, $avg null).
  let numeric: string | undefined;
  if (expr.form === 'scalar' && expr.field.type === 'Number') numeric = expr.sql;
  if (expr.form === 'json') numeric = `CASE WHEN jsonb_typeof(${expr.sql}) = 'number' THEN (${expr.sql})::float8 END`;
  switch (accumulator.op) {
    case 'sum':
      return { sql: numeric === undefined ? '0::float8' : `COALESCE(sum(${numeric}), 0)::float8`, type: number };
    case 'avg':
      return { sql: numeric === undefined ? 'NULL::float8' : `avg(${numeric})::float8`, type: number };
    case 'min':
    case 'max': {
      if (expr.form === 'absent') return { sql: 'NULL::float8', type: number };
      if (expr.form === 'json') return { sql: `${accumulator.op}(${numeric ?? 'NULL::float8'})`, type: number };
      if (expr.field.type === 'Boolean') invalid(`$${accumulator.op} of a Boolean field is not supported.`);
      return { sql: `${accumulator.op}(${expr.sql})`, type: expr.field.type === 'Pointer' ? { type: 'String' } : expr.field };
    }
  }
}

function groupFrame(frame: Frame, stage: AggregateStage & { kind: 'group' }, ctx: CompileContext): Frame {
  const names = stage.accumulators.map((a) => a.name);
  if (stage.key !== undefined) assertAvailable(frame, [stage.key.field], '$group');
  for (const accumulator of stage.accumulators) if (accumulator.field !== undefined) assertAvailable(frame, [accumulator.field.field], '$group');
  if (new Set(names).size !== names.length || names.includes('objectId')) invalid('$group output fields must be distinct and not objectId.');
  const { scope, from } = wrap(frame, ctx);
  const key = stage.key === undefined ? undefined : resolveField(stage.key, scope.schema, scope.alias, ctx.params);
  const keySql = key === undefined || key.form === 'absent' ? 'NULL' : key.sql;
  const outputs = stage.accumulators.map((a) => ({ name: a.name, ...accumulatorSql(a, scope, ctx) }));
  const select = [`${keySql} AS ${ident('objectId')}`, ...outputs.map((o) => `${o.sql} AS ${ident(o.name)}`)].join(', ');
  // One group for `_id: null`, but none over no documents (as MongoDB), hence HAVING.
  const grouping = stage.key === undefined ? ' HAVING count(*) > 0' : ' GROUP BY 1';
  return {
    sql: `SELECT ${select} FROM ${from}${grouping}`,
    schema: schemaWith(frame.schema.className, outputs.map((o): [string, FieldType] => [o.name, o.type])),
    columns: new Set(['objectId', ...names]),
    shape: 'group',
    order: [],
  };
}

function projectFrame(frame: Frame, fields: readonly string[], ctx: CompileContext): Frame {
  const kept = fields.filter((field) => frame.columns.has(field));
  const { scope, from } = wrap(frame, ctx);
  // The carried order's columns are selected too (results show only the projected fields).
  const columns = [...new Set([...(frame.columns.has('objectId') ? ['objectId'] : []), ...kept, ...frame.order.map((k) => k.field)])];
  const select = columns.length === 0 ? 'NULL AS "_none"' : columns.map((c) => `${scope.alias}.${ident(c)}`).join(', ');
  const schema = schemaWith(frame.schema.className, [...frame.schema.fields].filter(([name]) => columns.includes(name)));
  return {
    sql: `SELECT ${select} FROM ${from}${orderSql(frame.order, scope, ctx)}`,
    schema,
    columns: new Set(columns),
    shape: frame.shape,
    order: frame.order,
    projected: kept,
  };
}

/**
 * `$unwind` as a lateral join over the Array field's elements (`WITH ORDINALITY` gives the position, and
 * keeps the array's order after any carried sort). A field of another type is one value, as in MongoDB: the
 * document passes when the value is there. Missing, null or empty: dropped, or kept without the field
 * (and a null index) when `preserveEmpty`. The element's type varies, so the field becomes an Object
 * (jsonb) field for later stages.
 */
function unwindFrame(frame: Frame, stage: AggregateStage & { kind: 'unwind' }, ctx: CompileContext): Frame {
  const { scope, from } = wrap(frame, ctx);
  const kept = [...frame.columns].filter((c) => c !== stage.field && c !== stage.indexField);
  const expr = frame.columns.has(stage.field) ? resolveField({ field: stage.field, path: [] }, scope.schema, scope.alias, ctx.params) : ({ form: 'absent' } as const);
  const select = kept.map((c) => `${scope.alias}.${ident(c)}`);
  let join = '';
  let where = '';
  let element = 'NULL::jsonb';
  let index = 'NULL::float8';
  let order = orderSql(frame.order, scope, ctx);
  let elementType: FieldType | undefined;
  if (expr.form === 'json' && expr.field.type === 'Array') {
    const elements = `jsonb_array_elements(CASE WHEN jsonb_typeof(${expr.sql}) = 'array' THEN ${expr.sql} ELSE '[]'::jsonb END) WITH ORDINALITY AS el(v, i)`;
    join = stage.preserveEmpty ? ` LEFT JOIN LATERAL ${elements} ON TRUE` : ` CROSS JOIN LATERAL ${elements}`;
    element = 'el.v';
    index = '(el.i - 1)::float8';
    order = order === '' ? '' : `${order}, el.i`;
    elementType = { type: 'Object' };
  } else if (expr.form !== 'absent') {
    element = expr.sql;
    index = `CASE WHEN ${expr.sql} IS NULL THEN NULL ELSE 0::float8 END`;
    if (!stage.preserveEmpty) where = ` WHERE ${expr.sql} IS NOT NULL`;
    elementType = expr.field;
  } else if (!stage.preserveEmpty) {
    where = ' WHERE FALSE';
  }
  const fields = [...frame.schema.fields].filter(([name]) => name !== stage.field && name !== stage.indexField);
  const columns = new Set(kept);
  if (elementType !== undefined) {
    select.push(`${element} AS ${ident(stage.field)}`);
    fields.push([stage.field, elementType]);
    columns.add(stage.field);
  }
  if (stage.indexField !== undefined) {
    select.push(`${index} AS ${ident(stage.indexField)}`);
    fields.push([stage.indexField, { type: 'Number' }]);
    columns.add(stage.indexField);
  }
  return {
    sql: `SELECT ${select.length === 0 ? 'NULL AS "_none"' : select.join(', ')} FROM ${from}${join}${where}${order}`,
    schema: schemaWith(frame.schema.className, fields),
    columns,
    shape: frame.shape,
    order: frame.order.filter((key) => key.field !== stage.field && key.field !== stage.indexField),
    projected: frame.projected === undefined ? undefined : [...frame.projected.filter((name) => columns.has(name) && name !== stage.indexField), ...(stage.indexField === undefined ? [] : [stage.indexField])],
  };
}

function nextFrame(frame: Frame, stage: AggregateStage, ctx: CompileContext): Frame {
  switch (stage.kind) {
    case 'group':
      return groupFrame(frame, stage, ctx);
    case 'project':
      return projectFrame(frame, stage.fields, ctx);
    case 'unwind':
      return unwindFrame(frame, stage, ctx);
    case 'count': {
      const { from } = wrap(frame, ctx);
      const schema = schemaWith(frame.schema.className, [[stage.name, { type: 'Number' }]]);
      return { sql: `SELECT count(*)::float8 AS ${ident(stage.name)} FROM ${from} HAVING count(*) > 0`, schema, columns: new Set([stage.name]), shape: 'count', order: [] };
    }
    case 'match': {
      assertAvailable(frame, fieldsRead(stage.where), '$match');
      const { scope, from } = wrap(frame, ctx);
      return { ...frame, sql: `SELECT * FROM ${from} WHERE ${compileCondition(stage.where, scope, ctx)}${orderSql(frame.order, scope, ctx)}` };
    }
    case 'sort': {
      assertAvailable(frame, stage.keys.map((k) => k.field), '$sort');
      const { scope, from } = wrap(frame, ctx);
      return { ...frame, sql: `SELECT * FROM ${from}${orderSql(stage.keys, scope, ctx)}`, order: stage.keys };
    }
    case 'limit':
    case 'skip': {
      const { scope, from } = wrap(frame, ctx);
      const clause = stage.kind === 'limit' ? 'LIMIT' : 'OFFSET';
      return { ...frame, sql: `SELECT * FROM ${from}${orderSql(frame.order, scope, ctx)} ${clause} ${ctx.params.add(stage.count, 'int8')}` };
    }
  }
}

type BaseContext = Omit<CompileContext, 'params' | 'aliases'>;

export function compileAggregate(request: AggregateRequest & { kind: 'pipeline' }, schema: ClassSchema, base: BaseContext): CompiledAggregate {
  const ctx: CompileContext = { ...base, params: new Params(), aliases: new Aliases() };
  let frame = baseFrame(request, schema, ctx);
  for (const stage of request.stages) frame = nextFrame(frame, stage, ctx);
  const bound = ctx.params.bind(frame.sql);
  return { text: bound.text, params: bound.params, frame };
}

/**
 * `distinct=<field>`: the different values of a field over the readable rows (the elements, for an Array
 * field, as MongoDB), missing values left out, in the database's order of the values.
 */
export function compileDistinct(request: AggregateRequest & { kind: 'distinct' }, schema: ClassSchema, base: BaseContext): { text: string; params: readonly unknown[]; field: FieldType | undefined } {
  const ctx: CompileContext = { ...base, params: new Params(), aliases: new Aliases() };
  const scope: Scope = { className: request.className, schema, alias: ctx.aliases.create() };
  const access = ctx.access.readFilter(request.className, 'find');
  const where = compileCondition(access === undefined ? request.where : and(request.where, access), scope, ctx);
  const field: FieldRef = request.field;
  const expr = resolveField(field, schema, scope.alias, ctx.params);
  const table = `${ident(request.className)} AS ${scope.alias}`;
  let text: string;
  if (expr.form === 'absent') {
    text = `SELECT NULL AS v WHERE FALSE`;
  } else if (expr.form === 'scalar') {
    text = `SELECT DISTINCT ${expr.sql} AS v FROM ${table} WHERE ${where} AND ${expr.sql} IS NOT NULL ORDER BY 1`;
  } else if (expr.field.type === 'Array' && !expr.nested) {
    const elements = `jsonb_array_elements(CASE WHEN jsonb_typeof(${expr.sql}) = 'array' THEN ${expr.sql} ELSE '[]'::jsonb END)`;
    text = `SELECT DISTINCT el.v FROM ${table} CROSS JOIN LATERAL ${elements} AS el(v) WHERE ${where} ORDER BY 1`;
  } else {
    text = `SELECT DISTINCT ${expr.sql} AS v FROM ${table} WHERE ${where} AND ${expr.sql} IS NOT NULL AND ${expr.sql} <> 'null'::jsonb ORDER BY 1`;
  }
  const bound = ctx.params.bind(text);
  return { text: bound.text, params: bound.params, field: expr.form === 'scalar' ? expr.field : undefined };
}
