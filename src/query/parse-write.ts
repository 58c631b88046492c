import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseAcl } from './acl.ts';
import { parseFieldRef } from './parse-where.ts';
import type { FieldOperation, FieldWrite, ObjectWrite } from './write-tree.ts';
import { decodePointer, decodeValue, isPlainObject, type JsonObject, type ParseValue } from './values.ts';

/** Keys the server owns: a client may send them (SDKs echo them back) but they never become data. */
const SERVER_FIELDS = new Set(['createdAt', 'updatedAt']);

function fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): never {
  throw new ParseError(code, message);
}

/** Keys inside stored objects may not contain `$` or `.`: they would be ambiguous with operators and paths. */
function assertNestedKeys(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (Array.isArray(current)) {
      pending.push(...(current as unknown[]));
    } else if (isPlainObject(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('$') || key.includes('.')) {
          fail(ErrorCode.INVALID_NESTED_KEY, "Nested keys should not contain the '$' or '.' characters");
        }
        pending.push(child);
      }
    }
  }
}

function decodeStoredValue(raw: unknown): ParseValue {
  const value = decodeValue(raw);
  if (value.kind === 'object' || value.kind === 'array') assertNestedKeys(value.value);
  return value;
}

function objectsOf(op: JsonObject): ParseValue[] {
  if (!Array.isArray(op.objects)) fail(ErrorCode.INVALID_JSON, 'objects to add must be an array');
  return op.objects.map(decodeStoredValue);
}

function relationOf(op: JsonObject, into: { targetClass: string | undefined; add: string[]; remove: string[] }, kind: 'add' | 'remove'): void {
  if (!Array.isArray(op.objects)) fail(ErrorCode.INVALID_JSON, 'objects to add must be an array');
  for (const raw of op.objects as unknown[]) {
    if (!isPlainObject(raw)) fail(ErrorCode.INVALID_POINTER, 'Relation objects must be pointers.');
    const pointer = decodePointer(raw);
    if (into.targetClass !== undefined && into.targetClass !== pointer.className) {
      fail(ErrorCode.INCORRECT_TYPE, 'All objects in a relation must be of the same class.');
    }
    into.targetClass = pointer.className;
    into[kind].push(pointer.objectId);
  }
}

function parseOperation(op: JsonObject): FieldOperation {
  switch (op.__op) {
    case 'Increment': {
      const amount = op.amount;
      if (typeof amount !== 'number' || !Number.isFinite(amount)) fail(ErrorCode.INVALID_JSON, 'Increment amount must be a number.');
      return { op: 'increment', amount };
    }
    case 'Add':
      return { op: 'add', objects: objectsOf(op) };
    case 'AddUnique':
      return { op: 'addUnique', objects: objectsOf(op) };
    case 'Remove':
      return { op: 'remove', objects: objectsOf(op) };
    case 'Delete':
      return { op: 'delete' };
    case 'AddRelation':
    case 'RemoveRelation':
    case 'Batch': {
      const relation = { targetClass: undefined as string | undefined, add: [] as string[], remove: [] as string[] };
      const ops = op.__op === 'Batch' ? op.ops : [op];
      if (!Array.isArray(ops) || ops.length === 0) fail(ErrorCode.INVALID_JSON, 'Batch ops must be a non-empty array.');
      for (const inner of ops as unknown[]) {
        if (!isPlainObject(inner) || (inner.__op !== 'AddRelation' && inner.__op !== 'RemoveRelation')) {
          fail(ErrorCode.COMMAND_UNAVAILABLE, 'Batch only combines AddRelation and RemoveRelation.');
        }
        relationOf(inner, relation, inner.__op === 'AddRelation' ? 'add' : 'remove');
      }
      return { op: 'relation', ...relation };
    }
    default:
      return fail(ErrorCode.COMMAND_UNAVAILABLE, `The ${String(op.__op)} operator is not supported yet.`);
  }
}

export interface WriteOptions {
  readonly isCreate: boolean;
  readonly allowCustomObjectId: boolean;
}

/** Decodes a create/update body into typed field writes. Nothing here touches the schema or storage. */
export function parseWrite(body: unknown, options: WriteOptions): ObjectWrite {
  if (!isPlainObject(body)) fail(ErrorCode.INVALID_JSON, 'The request body must be a JSON object.');
  const writes: FieldWrite[] = [];
  let acl: ObjectWrite['acl'];
  let objectId: string | undefined;
  for (const [key, raw] of Object.entries(body)) {
    if (SERVER_FIELDS.has(key)) continue;
    if (key === 'objectId') {
      if (!options.isCreate || !options.allowCustomObjectId) {
        if (!options.isCreate && raw === undefined) continue;
        fail(ErrorCode.INVALID_KEY_NAME, 'objectId is an invalid field name.');
      }
      if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw)) fail(ErrorCode.MISSING_OBJECT_ID, 'objectId must not be empty, null or undefined.');
      objectId = raw;
      continue;
    }
    if (key === 'ACL') {
      acl = parseAcl(raw);
      continue;
    }
    const target = parseFieldRef(key);
    const operation: FieldOperation =
      isPlainObject(raw) && '__op' in raw ? parseOperation(raw) : { op: 'set', value: decodeStoredValue(raw) };
    writes.push({ target, operation });
  }
  assertNoConflicts(writes);
  return { writes, acl, objectId };
}

/** `a` and `a.b` in one body would make the result depend on evaluation order. */
function assertNoConflicts(writes: readonly FieldWrite[]): void {
  const whole = new Set<string>();
  const nested = new Set<string>();
  const paths = new Set<string>();
  for (const { target } of writes) {
    const key = [target.field, ...target.path].join('.');
    if (paths.has(key)) fail(ErrorCode.INVALID_JSON, `Conflicting operations on ${key}.`);
    paths.add(key);
    (target.path.length === 0 ? whole : nested).add(target.field);
  }
  for (const field of nested) {
    if (whole.has(field)) fail(ErrorCode.INVALID_JSON, `Conflicting operations on ${field}.`);
  }
}
