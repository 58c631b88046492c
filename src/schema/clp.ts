import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseAcl } from '../query/acl.ts';
import { isPlainObject } from '../query/values.ts';
import { PROTOTYPE_KEYS } from './names.ts';
import type { ClassLevelPermissions, FieldType } from './types.ts';

const OPERATIONS = ['find', 'count', 'get', 'create', 'update', 'delete', 'addField'] as const;
const USER_FIELD_LISTS = ['readUserFields', 'writeUserFields'] as const;
const PRINCIPAL = /^(\*|requiresAuthentication|authenticated|role:[A-Za-z0-9_ -]+|[A-Za-z0-9_-]{1,64})$/;
const PROTECTED_AUDIENCE = /^(\*|authenticated|role:[A-Za-z0-9_ -]+|userField:[A-Za-z][A-Za-z0-9_]*|[A-Za-z0-9_-]{1,64})$/;
const DEFAULT_FIELDS = new Set(['objectId', 'createdAt', 'updatedAt', 'ACL']);

/** Parse's CLP when none is stored: everything public. */
export const DEFAULT_CLP: ClassLevelPermissions = Object.freeze({
  find: { '*': true },
  count: { '*': true },
  get: { '*': true },
  create: { '*': true },
  update: { '*': true },
  delete: { '*': true },
  addField: { '*': true },
  protectedFields: { '*': [] },
});

function invalid(message: string): never {
  throw new ParseError(ErrorCode.INVALID_JSON, message);
}

function isPointerToUserOrArray(field: FieldType | undefined): boolean {
  return field !== undefined && ((field.type === 'Pointer' && field.targetClass === '_User') || field.type === 'Array');
}

function validateOperation(operation: string, value: unknown, fields: ReadonlyMap<string, FieldType>): Record<string, unknown> {
  if (!isPlainObject(value)) invalid(`'${String(value)}' is not a valid value for class level permissions ${operation}`);
  const result: Record<string, unknown> = {};
  for (const [principal, granted] of Object.entries(value)) {
    if (principal === 'pointerFields') {
      if (!Array.isArray(granted) || !granted.every((f) => typeof f === 'string' && isPointerToUserOrArray(fields.get(f)))) {
        invalid(`'${JSON.stringify(granted)}' is not a valid value for ${operation}.pointerFields`);
      }
      result[principal] = [...(granted as string[])];
      continue;
    }
    if (PROTOTYPE_KEYS.has(principal) || !PRINCIPAL.test(principal)) invalid(`'${principal}' is not a valid key for class level permissions`);
    if (granted !== true) invalid(`'${String(granted)}' is not a valid value for class level permissions ${operation}:${principal}:${String(granted)}`);
    result[principal] = true;
  }
  return result;
}

function validateProtectedFields(value: unknown, fields: ReadonlyMap<string, FieldType>): Record<string, string[]> {
  if (!isPlainObject(value)) invalid(`'${String(value)}' is not a valid value for class level permissions protectedFields`);
  const result: Record<string, string[]> = {};
  for (const [audience, list] of Object.entries(value)) {
    if (PROTOTYPE_KEYS.has(audience) || !PROTECTED_AUDIENCE.test(audience)) invalid(`'${audience}' is not a valid key for class level permissions`);
    if (!Array.isArray(list) || !list.every((f) => typeof f === 'string')) invalid(`'${String(list)}' is not a valid value for protectedFields[${audience}]`);
    for (const name of list) {
      if (DEFAULT_FIELDS.has(name)) invalid(`Default field '${name}' can not be protected`);
      if (!fields.has(name)) invalid(`Field '${name}' in protectedFields:${audience} does not exist`);
    }
    result[audience] = [...(list)];
  }
  return result;
}

/** Validates and normalises class-level permissions (stored here, enforced by the authorization layer). */
export function validateClp(raw: unknown, fields: ReadonlyMap<string, FieldType>): ClassLevelPermissions {
  if (raw === undefined || raw === null) return DEFAULT_CLP;
  if (!isPlainObject(raw)) invalid('Class level permissions must be an object');
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if ((OPERATIONS as readonly string[]).includes(key)) {
      result[key] = validateOperation(key, value, fields);
    } else if ((USER_FIELD_LISTS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || !value.every((f) => typeof f === 'string' && isPointerToUserOrArray(fields.get(f)))) {
        invalid(`'${JSON.stringify(value)}' is not a valid value for class level permissions ${key}`);
      }
      result[key] = [...(value as string[])];
    } else if (key === 'protectedFields') {
      result[key] = validateProtectedFields(value, fields);
    } else if (key === 'ACL') {
      parseAcl(value);
      result[key] = value;
    } else {
      invalid(`${key} is not a valid operation for class level permissions`);
    }
  }
  // Once permissions are set, an operation they do not name is granted to nobody but the master key.
  for (const operation of OPERATIONS) result[operation] ??= {};
  result.protectedFields ??= {};
  return result;
}
