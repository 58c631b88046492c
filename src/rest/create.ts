import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { PUBLIC_ACL } from '../query/acl.ts';
import { parseWrite } from '../query/parse-write.ts';
import { encodeValue, type ParseValue } from '../query/values.ts';
import type { FieldOperation, FieldWrite } from '../query/write-tree.ts';
import { sqlState, withTransaction } from '../storage/driver.ts';
import { compileInsert } from '../storage/sql/compile-write.ts';
import { assertClassServed, assertMayUseMissingClass } from './class-access.ts';
import { newObjectId } from './object-id.ts';
import { applyRelationWrites } from './relations.ts';
import { assertRequiredFields, fieldsToAdd, withDefaults } from './schema-check.ts';
import type { Caller } from './services.ts';

export interface Created {
  readonly objectId: string;
  readonly createdAt: string;
}

/** What an operation yields on an object that has no previous value. */
function initialJson(operation: FieldOperation): { value: unknown } | undefined {
  switch (operation.op) {
    case 'set':
      return { value: encodeValue(operation.value) };
    case 'increment':
      return { value: operation.amount };
    case 'add':
      return { value: operation.objects.map(encodeValue) };
    case 'addUnique': {
      const seen = new Set<string>();
      const unique = operation.objects.map(encodeValue).filter((item) => {
        const key = JSON.stringify(item);
        return seen.has(key) ? false : (seen.add(key), true);
      });
      return { value: unique };
    }
    case 'remove':
      return { value: [] };
    case 'delete':
    case 'relation':
      return undefined;
  }
}

function initialValue(operation: FieldOperation): ParseValue | undefined {
  if (operation.op === 'set') return operation.value;
  const initial = initialJson(operation);
  if (initial === undefined) return undefined;
  return Array.isArray(initial.value) ? { kind: 'array', value: initial.value } : { kind: 'number', value: initial.value as number };
}

/** Builds top-level values from a create body, folding dotted writes (`a.b: 1`) into fresh objects. */
function initialValues(writes: readonly FieldWrite[]): Map<string, ParseValue> {
  const values = new Map<string, ParseValue>();
  const documents = new Map<string, Record<string, unknown>>();
  for (const { target, operation } of writes) {
    if (target.path.length === 0) {
      const value = initialValue(operation);
      if (value !== undefined) values.set(target.field, value);
      continue;
    }
    const initial = initialJson(operation);
    if (initial === undefined) continue;
    const root = documents.get(target.field) ?? Object.create(null) as Record<string, unknown>;
    documents.set(target.field, root);
    let node = root;
    for (const segment of target.path.slice(0, -1)) {
      const child = node[segment];
      node = typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : (node[segment] = Object.create(null) as Record<string, unknown>);
    }
    node[target.path[target.path.length - 1] as string] = initial.value;
  }
  for (const [field, document] of documents) values.set(field, { kind: 'object', value: document });
  return values;
}

export async function create(caller: Caller, className: string, body: unknown): Promise<Created> {
  assertClassServed(caller, className, 'create');
  const { config, schemas, driver } = caller.services;
  const current = schemas.get(className);
  if (current === undefined) assertMayUseMissingClass(caller, className);
  const write = withDefaults(current, parseWrite(body, { isCreate: true, allowCustomObjectId: config.allowCustomObjectId }));
  assertRequiredFields(current, write, true);
  const additions = fieldsToAdd(className, current, write);
  const objectId = write.objectId ?? newObjectId();
  const createdAt = new Date();
  const values = initialValues(write.writes);
  const row = { objectId, createdAt, acl: write.acl ?? PUBLIC_ACL, values };
  try {
    if (current !== undefined && additions.size === 0 && !write.writes.some((w) => w.operation.op === 'relation')) {
      // The common case needs one statement and no transaction.
      const insert = compileInsert(className, current, row);
      await driver.query(insert.text, insert.params);
    } else {
      // New fields and the row are committed together: a failed insert leaves the schema unchanged.
      await withTransaction(driver, async (db) => {
        const schema = await schemas.ensureFields(className, additions, db);
        const insert = compileInsert(className, schema, row);
        await db.query(insert.text, insert.params);
        await applyRelationWrites(db, className, objectId, write.writes);
      });
    }
  } catch (error) {
    if (sqlState(error) === '23505') {
      throw new ParseError(ErrorCode.DUPLICATE_VALUE, 'A duplicate value for a field with unique values was provided');
    }
    throw error;
  }
  return { objectId, createdAt: createdAt.toISOString() };
}
