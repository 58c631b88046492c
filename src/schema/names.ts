import { ErrorCode, ParseError } from '../errors/parse-error.ts';

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const CLASS_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Classes with server-defined semantics. Each becomes usable through /classes once its plugin exists. */
export const SYSTEM_CLASSES = new Set([
  '_User',
  '_Installation',
  '_Role',
  '_Session',
  '_Product',
  '_PushStatus',
  '_JobStatus',
  '_JobSchedule',
  '_Audience',
  '_Idempotency',
  '_Hooks',
  '_GlobalConfig',
  '_GraphQLConfig',
  // Parsec's own: the privilege ledger (master-only, append-only).
  '_PrivilegeLedger',
]);

/** Field names Parse reserves on every class. */
const RESERVED_FIELDS = new Set(['className', 'length']);

/** Names that must never become keys of a plain object (prototype pollution). */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isValidFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && !RESERVED_FIELDS.has(name) && !PROTOTYPE_KEYS.has(name);
}

export function assertFieldName(name: string): void {
  if (!isValidFieldName(name)) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Invalid field name: ${name}.`);
}

export function isValidClassName(name: string): boolean {
  return (CLASS_NAME.test(name) && !PROTOTYPE_KEYS.has(name)) || SYSTEM_CLASSES.has(name);
}

export function assertClassName(name: string): void {
  if (!isValidClassName(name)) {
    throw new ParseError(
      ErrorCode.INVALID_CLASS_NAME,
      `Invalid class name: ${name}. Class names must start with a letter and contain only letters, digits and _.`,
    );
  }
}

/** Join table of a relation field: `_Join:<field>:<owningClass>`. */
export function joinTableName(field: string, owningClass: string): string {
  return `_Join:${field}:${owningClass}`;
}
