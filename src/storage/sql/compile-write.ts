import type { Condition } from '../../query/tree.ts';
import { encodeValue, type ParseValue } from '../../query/values.ts';
import type { FieldOperation, FieldWrite, StoredAcl } from '../../query/write-tree.ts';
import type { ClassSchema, FieldType } from '../../schema/types.ts';
import { compileCondition } from './compile-condition.ts';
import type { CompiledStatement } from './compile-find.ts';
import type { CompileContext, ReadAccess } from './context.ts';
import { Aliases, ident, Params } from './params.ts';

const ALIAS = 't0';

/** The column value of a Parse value in a column of the given type (the schema check has run before). */
export function columnParam(field: FieldType, value: ParseValue, params: Params): string {
  if (value.kind === 'null') return 'NULL';
  switch (field.type) {
    case 'String':
      return params.add(value.kind === 'string' ? value.value : null, 'text');
    case 'Bytes':
      return params.add(value.kind === 'bytes' ? value.base64 : null, 'text');
    case 'Number':
      return params.add(value.kind === 'number' ? value.value : null, 'float8');
    case 'Boolean':
      return params.add(value.kind === 'boolean' ? value.value : null, 'boolean');
    case 'Date':
      return params.add(value.kind === 'date' ? value.value.toISOString() : null, 'timestamptz');
    case 'Pointer':
      return params.add(value.kind === 'pointer' ? value.objectId : null, 'text');
    default:
      return params.add(JSON.stringify(encodeValue(value)), 'jsonb');
  }
}

/** A server-owned column (e.g. `_hashed_password`): never in the schema, never selected for clients. */
export interface InternalValue {
  readonly column: string;
  readonly value: unknown;
  readonly cast: 'text' | 'timestamptz' | 'int4' | 'float8' | 'jsonb' | 'boolean';
  /**
   * Updates only: the new value computed by the database from the row's current one, under the row lock,
   * so concurrent updates cannot lose each other's changes. Gets the bound `value` parameter and a function
   * naming the row's columns; returns server-written SQL (never client text).
   */
  readonly expression?: (value: string, column: (name: string) => string) => string;
}

const INTERNAL_COLUMN = /^_[a-z][a-z_]*$/;

function internalColumn(name: string): string {
  // Internal column names are server constants; the check keeps a programming error from reaching SQL.
  if (!INTERNAL_COLUMN.test(name)) throw new Error(`invalid internal column name: ${name}`);
  return ident(name);
}

export interface InsertRow {
  readonly objectId: string;
  readonly createdAt: Date;
  readonly acl: StoredAcl;
  /** Top-level values only: creates resolve operations (Increment → value, Add → array) before this. */
  readonly values: ReadonlyMap<string, ParseValue>;
  readonly internal?: readonly InternalValue[];
}

export function compileInsert(className: string, schema: ClassSchema, row: InsertRow): CompiledStatement {
  const params = new Params();
  const columns = ['"objectId"', '"createdAt"', '"updatedAt"', '"_rperm"', '"_wperm"'];
  const created = params.add(row.createdAt.toISOString(), 'timestamptz');
  const values = [
    params.add(row.objectId, 'text'),
    created,
    created,
    params.add([...row.acl.read], 'text[]'),
    params.add([...row.acl.write], 'text[]'),
  ];
  for (const [name, value] of row.values) {
    const field = schema.fields.get(name);
    if (field === undefined || value.kind === 'null') continue;
    columns.push(ident(name));
    values.push(columnParam(field, value, params));
  }
  for (const internal of row.internal ?? []) {
    if (internal.expression !== undefined) throw new Error(`internal column ${internal.column}: an expression needs an existing row`);
    columns.push(internalColumn(internal.column));
    values.push(params.add(internal.value, internal.cast));
  }
  return { text: `INSERT INTO ${ident(className)} (${columns.join(', ')}) VALUES (${values.join(', ')})`, params: params.values };
}

const EMPTY_ARRAY = "'[]'::jsonb";

function arrayExpression(column: string, operation: FieldOperation & { op: 'add' | 'addUnique' | 'remove' }, params: Params): string {
  const current = `COALESCE(${column}, ${EMPTY_ARRAY})`;
  const objects = params.add(JSON.stringify(operation.objects.map(encodeValue)), 'jsonb');
  switch (operation.op) {
    case 'add':
      return `${current} || ${objects}`;
    case 'addUnique':
      // Append each new element that is neither already present nor repeated earlier in the same list.
      return (
        `${current} || COALESCE((SELECT jsonb_agg(n.x ORDER BY n.i) FROM jsonb_array_elements(${objects}) WITH ORDINALITY AS n(x, i) ` +
        `WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${current}) AS c(x) WHERE c.x = n.x) ` +
        `AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${objects}) WITH ORDINALITY AS p(x, i) WHERE p.x = n.x AND p.i < n.i)), ${EMPTY_ARRAY})`
      );
    case 'remove':
      return (
        `COALESCE((SELECT jsonb_agg(c.x ORDER BY c.i) FROM jsonb_array_elements(${current}) WITH ORDINALITY AS c(x, i) ` +
        `WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${objects}) AS r(x) WHERE r.x = c.x)), ${EMPTY_ARRAY})`
      );
  }
}

/** The new value of one column after the operation, in SQL, computed from its current value atomically. */
function topLevelExpression(column: string, field: FieldType, operation: FieldOperation, params: Params): string {
  switch (operation.op) {
    case 'set':
      return columnParam(field, operation.value, params);
    case 'delete':
      return 'NULL';
    case 'increment':
      return `COALESCE(${column}, 0) + ${params.add(operation.amount, 'float8')}`;
    case 'add':
    case 'addUnique':
    case 'remove':
      return arrayExpression(column, operation, params);
    case 'relation':
      return column;
  }
}

/** Applies dotted writes (`a.b.c`) to a jsonb document, creating missing intermediate objects. */
function nestedExpression(column: string, writes: readonly FieldWrite[], params: Params): string {
  let document = `COALESCE(${column}, '{}'::jsonb)`;
  for (const { target, operation } of writes) {
    for (let depth = 1; depth < target.path.length; depth++) {
      const prefix = params.add(target.path.slice(0, depth), 'text[]');
      document = `jsonb_set(${document}, ${prefix}, COALESCE(${document} #> ${prefix}, '{}'::jsonb), true)`;
    }
    const path = params.add(target.path, 'text[]');
    const current = `(${document} #> ${path})`;
    switch (operation.op) {
      case 'set':
        document = `jsonb_set(${document}, ${path}, ${params.add(JSON.stringify(encodeValue(operation.value)), 'jsonb')}, true)`;
        break;
      case 'delete':
        document = `(${document} #- ${path})`;
        break;
      case 'increment': {
        const number = `COALESCE(CASE WHEN jsonb_typeof(${current}) = 'number' THEN (${document} #>> ${path})::float8 END, 0)`;
        document = `jsonb_set(${document}, ${path}, to_jsonb(${number} + ${params.add(operation.amount, 'float8')}), true)`;
        break;
      }
      case 'add':
      case 'addUnique':
      case 'remove': {
        const array = `CASE WHEN jsonb_typeof(${current}) = 'array' THEN ${current} END`;
        document = `jsonb_set(${document}, ${path}, ${arrayExpression(array, operation, params)}, true)`;
        break;
      }
      case 'relation':
        break;
    }
  }
  return document;
}

export interface UpdateStatement extends CompiledStatement {
  /** Columns whose new value the response reports (values computed by the server). */
  readonly returned: readonly string[];
}

export function compileUpdate(
  className: string,
  schema: ClassSchema,
  objectId: string,
  writes: readonly FieldWrite[],
  acl: StoredAcl | undefined,
  updatedAt: Date,
  writeFilter: Condition | undefined,
  internal: readonly InternalValue[] = [],
): UpdateStatement {
  const params = new Params();
  const assignments = [`"updatedAt" = ${params.add(updatedAt.toISOString(), 'timestamptz')}`];
  const rowColumn = (name: string): string => `${ALIAS}.${internalColumn(name)}`;
  for (const value of internal) {
    const param = params.add(value.value, value.cast);
    assignments.push(`${internalColumn(value.column)} = ${value.expression === undefined ? param : value.expression(param, rowColumn)}`);
  }
  if (acl !== undefined) {
    assignments.push(`"_rperm" = ${params.add([...acl.read], 'text[]')}`, `"_wperm" = ${params.add([...acl.write], 'text[]')}`);
  }
  const byColumn = new Map<string, FieldWrite[]>();
  for (const write of writes) {
    if (write.operation.op === 'relation') continue;
    const list = byColumn.get(write.target.field) ?? [];
    list.push(write);
    byColumn.set(write.target.field, list);
  }
  const returned: string[] = [];
  for (const [name, columnWrites] of byColumn) {
    const field = schema.fields.get(name);
    if (field === undefined) continue;
    const column = `${ALIAS}.${ident(name)}`;
    const first = columnWrites[0];
    const nested = first !== undefined && first.target.path.length > 0;
    const expression = nested || first === undefined
      ? nestedExpression(column, columnWrites, params)
      : topLevelExpression(column, field, first.operation, params);
    assignments.push(`${ident(name)} = ${expression}`);
    if (nested || (first !== undefined && first.operation.op !== 'set' && first.operation.op !== 'delete')) returned.push(name);
  }
  const condition = writeFilter === undefined ? 'TRUE' : compileCondition(writeFilter, { className, schema, alias: ALIAS }, writeContext(params, schema));
  const returning = ['"objectId"', ...returned.map(ident)].join(', ');
  const text =
    `UPDATE ${ident(className)} AS ${ALIAS} SET ${assignments.join(', ')} ` +
    `WHERE ${ALIAS}."objectId" = ${params.add(objectId, 'text')} AND (${condition}) RETURNING ${returning}`;
  return { text, params: params.values, returned };
}

export function compileDelete(className: string, schema: ClassSchema, objectId: string, writeFilter: Condition | undefined): CompiledStatement {
  const params = new Params();
  const condition = writeFilter === undefined ? 'TRUE' : compileCondition(writeFilter, { className, schema, alias: ALIAS }, writeContext(params, schema));
  return {
    text: `DELETE FROM ${ident(className)} AS ${ALIAS} WHERE ${ALIAS}."objectId" = ${params.add(objectId, 'text')} AND (${condition}) RETURNING ${ALIAS}."objectId"`,
    params: params.values,
  };
}

/** Write predicates are plain permission checks on the row itself: they read no other class. */
const NO_OTHER_READS: ReadAccess = { readFilter: () => ({ type: 'or', conditions: [] }) };

function writeContext(params: Params, schema: ClassSchema): CompileContext {
  return { params, aliases: new Aliases(1), schemaOf: (name: string) => (name === schema.className ? schema : undefined), access: NO_OTHER_READS };
}
