import type { ParseValue } from '../../query/values.ts';
import type { FieldType } from '../../schema/types.ts';

export interface ScalarParam {
  readonly value: string | number | boolean;
  readonly cast: 'text' | 'float8' | 'boolean' | 'timestamptz';
}

/**
 * The column value a Parse value compares as, for a typed column. `undefined` means the types differ, so
 * the value can never equal anything in that column (Parse/Mongo semantics: no implicit conversion).
 */
export function scalarParam(field: FieldType, value: ParseValue): ScalarParam | undefined {
  switch (field.type) {
    case 'String':
      return value.kind === 'string' ? { value: value.value, cast: 'text' } : undefined;
    case 'Bytes':
      return value.kind === 'bytes' ? { value: value.base64, cast: 'text' } : undefined;
    case 'Number':
      return value.kind === 'number' ? { value: value.value, cast: 'float8' } : undefined;
    case 'Boolean':
      return value.kind === 'boolean' ? { value: value.value, cast: 'boolean' } : undefined;
    case 'Date':
      return value.kind === 'date' ? { value: value.value.toISOString(), cast: 'timestamptz' } : undefined;
    case 'Pointer':
      return value.kind === 'pointer' && value.className === field.targetClass
        ? { value: value.objectId, cast: 'text' }
        : undefined;
    default:
      return undefined;
  }
}

/** The SQL array cast matching a scalar field's column type. */
export function scalarArrayCast(field: FieldType): string {
  switch (field.type) {
    case 'Number':
      return 'float8[]';
    case 'Boolean':
      return 'boolean[]';
    case 'Date':
      return 'timestamptz[]';
    default:
      return 'text[]';
  }
}
