import type { FieldRef } from '../../query/tree.ts';
import type { ClassSchema, FieldType } from '../../schema/types.ts';
import { ident, type Params } from './params.ts';

/**
 * How a field reference reads in SQL, and what kind of value it holds:
 * - `scalar`: a typed column (text, number, boolean, timestamptz, or a pointer's objectId as text);
 * - `json`: a jsonb value (Object/Array/GeoPoint/File/Polygon columns, or a path inside an Object);
 * - `absent`: the field is not in the schema, so every row holds "no value" (SQL NULL).
 */
export type FieldExpression =
  | { readonly form: 'scalar'; readonly sql: string; readonly field: FieldType }
  | { readonly form: 'json'; readonly sql: string; readonly text: string; readonly field: FieldType; readonly nested: boolean }
  | { readonly form: 'absent' };

const BUILT_IN: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['objectId', { type: 'String' }],
  ['createdAt', { type: 'Date' }],
  ['updatedAt', { type: 'Date' }],
]);

export function fieldType(schema: ClassSchema | undefined, name: string): FieldType | undefined {
  return BUILT_IN.get(name) ?? schema?.fields.get(name);
}

export function resolveField(target: FieldRef, schema: ClassSchema | undefined, alias: string, params: Params): FieldExpression {
  const field = fieldType(schema, target.field);
  if (field === undefined || field.type === 'Relation' || field.type === 'ACL') return { form: 'absent' };
  const column = `${alias}.${ident(target.field)}`;
  if (target.path.length > 0) {
    if (field.type !== 'Object') return { form: 'absent' };
    const path = params.add(target.path, 'text[]');
    return { form: 'json', sql: `(${column} #> ${path})`, text: `(${column} #>> ${path})`, field, nested: true };
  }
  switch (field.type) {
    case 'Object':
    case 'Array':
    case 'GeoPoint':
    case 'File':
    case 'Polygon':
      return { form: 'json', sql: column, text: `(${column} #>> '{}')`, field, nested: false };
    default:
      return { form: 'scalar', sql: column, field };
  }
}
