import { ErrorCode, ParseError, masterKeyRequired } from '../errors/parse-error.ts';
import { decodeValue, fieldTypeOf, isPlainObject, type JsonObject } from '../query/values.ts';
import { validateClp } from '../schema/clp.ts';
import { assertClassName, assertFieldName, isValidClassName } from '../schema/names.ts';
import { describeType, sameType, type SchemaChange } from '../schema/schema-store.ts';
import { FIELD_TYPES, type ClassSchema, type FieldType } from '../schema/types.ts';
import type { Caller } from './services.ts';

function fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): never {
  throw new ParseError(code, message);
}

/** `/schemas` is the master key's: reads for read-only master too, changes for the full master key only. */
export function assertSchemaAccess(caller: Caller, write: boolean): void {
  if (caller.auth.kind === 'master') return;
  if (caller.auth.kind === 'readOnlyMaster') {
    if (write) fail(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to update a schema.");
    return;
  }
  throw masterKeyRequired();
}

export function schemaToJson(schema: ClassSchema): JsonObject {
  const fields: JsonObject = {};
  for (const [name, field] of schema.fields) fields[name] = { ...field };
  return {
    className: schema.className,
    fields,
    classLevelPermissions: schema.classLevelPermissions,
    indexes: { _id_: { _id: 1 }, ...schema.indexes },
  };
}

function parseFieldType(name: string, raw: unknown): FieldType {
  assertFieldName(name);
  if (!isPlainObject(raw) || typeof raw.type !== 'string') fail(ErrorCode.INVALID_JSON, `invalid field type for ${name}`);
  const type = raw.type;
  if (!(FIELD_TYPES as readonly string[]).includes(type) || type === 'ACL') fail(ErrorCode.INCORRECT_TYPE, `invalid field type: ${type}`);
  const field: { type: FieldType['type']; targetClass?: string; required?: boolean; defaultValue?: unknown } = { type: type as FieldType['type'] };
  if (type === 'Pointer' || type === 'Relation') {
    if (typeof raw.targetClass !== 'string') fail(ErrorCode.MISSING_REQUIRED_FIELD_ERROR, `type ${type} needs a class name`);
    if (!isValidClassName(raw.targetClass)) fail(ErrorCode.INVALID_CLASS_NAME, `Invalid class name: ${raw.targetClass}`);
    field.targetClass = raw.targetClass;
  }
  if (raw.required !== undefined) {
    if (typeof raw.required !== 'boolean') fail(ErrorCode.INCORRECT_TYPE, `required of ${name} must be a boolean`);
    field.required = raw.required;
  }
  if (raw.defaultValue !== undefined) {
    const value = decodeValue(raw.defaultValue);
    const valueType = fieldTypeOf(value);
    if (valueType === undefined || !sameType(valueType, field)) {
      fail(ErrorCode.INCORRECT_TYPE, `schema mismatch for ${name} default value; expected ${describeType(field)}`);
    }
    field.defaultValue = raw.defaultValue;
  }
  return field;
}

function isDeleteOp(value: unknown): boolean {
  return isPlainObject(value) && value.__op === 'Delete';
}

function parseIndexSpec(name: string, raw: unknown): Record<string, number> {
  assertFieldName(name);
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) fail(ErrorCode.INVALID_QUERY, `Index ${name} must name at least one field.`);
  const spec: Record<string, number> = {};
  for (const [field, direction] of Object.entries(raw)) {
    assertFieldName(field);
    if (direction !== 1 && direction !== -1) fail(ErrorCode.INVALID_QUERY, `Index ${name}: direction of ${field} must be 1 or -1.`);
    spec[field] = direction;
  }
  return spec;
}

/** Parses a `/schemas` POST or PUT body into one change, validated before anything is written. */
export function parseSchemaChange(body: unknown, existingFields: ReadonlyMap<string, FieldType>, allowDeletes: boolean): SchemaChange {
  if (!isPlainObject(body)) fail(ErrorCode.INVALID_JSON, 'The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!['className', 'fields', 'classLevelPermissions', 'indexes'].includes(key)) fail(ErrorCode.INVALID_JSON, `Invalid schema key: ${key}`);
  }
  const addFields = new Map<string, FieldType>();
  const deleteFields: string[] = [];
  if (body.fields !== undefined) {
    if (!isPlainObject(body.fields)) fail(ErrorCode.INVALID_JSON, 'fields must be an object');
    for (const [name, raw] of Object.entries(body.fields)) {
      if (allowDeletes && isDeleteOp(raw)) deleteFields.push(name);
      else addFields.set(name, parseFieldType(name, raw));
    }
  }
  const fieldsAfter = new Map(existingFields);
  for (const name of deleteFields) fieldsAfter.delete(name);
  for (const [name, field] of addFields) fieldsAfter.set(name, field);
  const addIndexes: Record<string, Record<string, number>> = {};
  const deleteIndexes: string[] = [];
  if (body.indexes !== undefined) {
    if (!isPlainObject(body.indexes)) fail(ErrorCode.INVALID_JSON, 'indexes must be an object');
    for (const [name, raw] of Object.entries(body.indexes)) {
      if (allowDeletes && isDeleteOp(raw)) deleteIndexes.push(name);
      else addIndexes[name] = parseIndexSpec(name, raw);
    }
  }
  return {
    addFields,
    deleteFields,
    addIndexes,
    deleteIndexes,
    classLevelPermissions: body.classLevelPermissions === undefined ? undefined : validateClp(body.classLevelPermissions, fieldsAfter),
  };
}

/** Schemas of server-managed classes change with their plugins, not through `/schemas`. */
export function assertSchemaClass(className: string): void {
  assertClassName(className);
  if (className.startsWith('_')) fail(ErrorCode.OPERATION_FORBIDDEN, `The schema of ${className} is managed by the server.`);
}

export function classNameFromBody(urlClassName: string | undefined, body: unknown): string {
  const bodyClassName = isPlainObject(body) ? body.className : undefined;
  if (bodyClassName !== undefined && typeof bodyClassName !== 'string') fail(ErrorCode.INVALID_CLASS_NAME, 'className must be a string');
  if (urlClassName !== undefined && bodyClassName !== undefined && urlClassName !== bodyClassName) {
    fail(ErrorCode.INVALID_CLASS_NAME, `Class name mismatch between ${bodyClassName} and ${urlClassName}.`);
  }
  const className = urlClassName ?? bodyClassName;
  if (className === undefined) fail(ErrorCode.MISSING_OBJECT_ID, 'POST /schemas needs a class name.');
  return className;
}
