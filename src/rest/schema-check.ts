import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { fieldTypeOf } from '../query/values.ts';
import type { FieldOperation, ObjectWrite } from '../query/write-tree.ts';
import { describeType, sameType } from '../schema/schema-store.ts';
import type { ClassSchema, FieldType } from '../schema/types.ts';

/** The schema type an operation needs its field to have; undefined when any type will do. */
function requiredType(operation: FieldOperation): FieldType | undefined {
  switch (operation.op) {
    case 'set':
      return fieldTypeOf(operation.value);
    case 'delete':
      return undefined;
    case 'increment':
      return { type: 'Number' };
    case 'add':
    case 'addUnique':
    case 'remove':
      return { type: 'Array' };
    case 'relation':
      return { type: 'Relation', targetClass: operation.targetClass };
  }
}

function mismatch(className: string, field: string, expected: FieldType, got: FieldType): never {
  throw new ParseError(
    ErrorCode.INCORRECT_TYPE,
    `schema mismatch for ${className}.${field}; expected ${describeType(expected)} but got ${describeType(got)}`,
  );
}

/**
 * Checks a write against the class schema: a field keeps the type of its first write (111 otherwise).
 * Returns the fields the write adds, for the schema store to create.
 */
export function fieldsToAdd(className: string, schema: ClassSchema | undefined, write: ObjectWrite): Map<string, FieldType> {
  const additions = new Map<string, FieldType>();
  for (const { target, operation } of write.writes) {
    const needed = target.path.length > 0 ? ({ type: 'Object' } as const) : requiredType(operation);
    if (needed === undefined) continue;
    if (needed.type === 'Relation' && needed.targetClass === undefined) continue;
    const existing = schema?.fields.get(target.field) ?? additions.get(target.field);
    if (existing === undefined) {
      if (target.field === 'objectId' || target.field === 'createdAt' || target.field === 'updatedAt') continue;
      additions.set(target.field, needed);
    } else if (!sameType(existing, needed)) {
      mismatch(className, target.field, existing, needed);
    }
  }
  return additions;
}
