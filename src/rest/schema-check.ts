import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { decodeValue, fieldTypeOf } from '../query/values.ts';
import type { FieldOperation, FieldWrite, ObjectWrite } from '../query/write-tree.ts';
import { assertClassName } from '../schema/names.ts';
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
      // A new Pointer/Relation field names its target class in the schema, as `/schemas` would (103 otherwise).
      if (needed.targetClass !== undefined) assertClassName(needed.targetClass);
      additions.set(target.field, needed);
    } else if (!sameType(existing, needed)) {
      mismatch(className, target.field, existing, needed);
    }
  }
  return additions;
}

/** Adds the schema's default values for fields a create does not set (Parse's `defaultValue`). */
export function withDefaults(schema: ClassSchema | undefined, write: ObjectWrite): ObjectWrite {
  if (schema === undefined) return write;
  const written = new Set(write.writes.map((w) => w.target.field));
  const defaults: FieldWrite[] = [];
  for (const [name, field] of schema.fields) {
    if (field.defaultValue === undefined || written.has(name)) continue;
    defaults.push({ target: { field: name, path: [] }, operation: { op: 'set', value: decodeValue(field.defaultValue) } });
  }
  return defaults.length === 0 ? write : { ...write, writes: [...write.writes, ...defaults] };
}

/** Required fields must have a value after a create, and an update may not clear them (142). */
export function assertRequiredFields(schema: ClassSchema | undefined, write: ObjectWrite, isCreate: boolean): void {
  if (schema === undefined) return;
  const byField = new Map(write.writes.filter((w) => w.target.path.length === 0).map((w) => [w.target.field, w.operation]));
  for (const [name, field] of schema.fields) {
    if (field.required !== true) continue;
    const operation = byField.get(name);
    const clears = operation?.op === 'delete' || (operation?.op === 'set' && operation.value.kind === 'null');
    if (clears || (isCreate && operation === undefined)) {
      throw new ParseError(ErrorCode.VALIDATION_ERROR, `${name} is required`);
    }
  }
}
