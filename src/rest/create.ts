import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { PUBLIC_ACL } from '../query/acl.ts';
import { parseWrite } from '../query/parse-write.ts';
import { encodeValue, type ParseValue } from '../query/values.ts';
import type { FieldOperation, FieldWrite } from '../query/write-tree.ts';
import { sqlState, withTransaction } from '../storage/driver.ts';
import { compileInsert } from '../storage/sql/compile-write.ts';
import { assertClassServed, assertMayUseMissingClass } from './class-access.ts';
import { WriteTriggers } from '../cloud/write-triggers.ts';
import { observeWrite } from '../livequery/feed.ts';
import { newObjectId } from './object-id.ts';
import { readStored } from './stored.ts';
import { update } from './update.ts';
import { applyRelationWrites } from './relations.ts';
import { assertRequiredFields, fieldsToAdd, withDefaults } from './schema-check.ts';
import type { ClassPlugin } from './class-plugin.ts';
import type { JsonRecord } from './encode.ts';
import type { Caller } from './services.ts';

/** Marks a create that updated an existing object instead (a device registering again): 200, no Location. */
export const UPDATED_EXISTING: unique symbol = Symbol('updatedExisting');

export interface Created extends JsonRecord {
  readonly objectId: string;
  readonly createdAt: string;
  /** A symbol key, so the marker never reaches a response body. */
  readonly [UPDATED_EXISTING]?: true;
}

/** A unique index refused the row: the class may say which field (202 username, 203 email), else 137. */
export function translateUniqueViolation(error: unknown, plugin: ClassPlugin | undefined): unknown {
  if (sqlState(error) !== '23505') return error;
  const constraint = (error as { constraint?: unknown }).constraint;
  return (
    plugin?.uniqueViolation?.(typeof constraint === 'string' ? constraint : undefined) ??
    new ParseError(ErrorCode.DUPLICATE_VALUE, 'A duplicate value for a field with unique values was provided')
  );
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
  const { config, schemas, driver, plugins } = caller.services;
  const plugin = plugins.get(className);
  const instead = await plugin?.createInstead?.(caller, body);
  if (instead !== undefined) return instead;
  await schemas.loadIfMissing(className, driver);
  const current = schemas.get(className);
  // The class-level permission decides before the body is even read: a caller who may not create learns
  // nothing from validation or uniqueness errors (no account enumeration through sign-up).
  if (current === undefined) assertMayUseMissingClass(caller, className);
  else caller.access.assertCreate(className, false);
  const existing = current === undefined ? undefined : await plugin?.existingForCreate?.(caller, body);
  if (existing !== undefined) {
    const updated = await update(caller, className, existing.objectId, existing.body);
    return { ...updated, objectId: existing.objectId, createdAt: existing.createdAt, [UPDATED_EXISTING]: true };
  }
  const writeOptions = { isCreate: true, allowCustomObjectId: config.allowCustomObjectId };
  let parsed = withDefaults(current, parseWrite(body, writeOptions));
  const triggers = WriteTriggers.forSave(caller, className);
  if (triggers !== undefined) {
    // What beforeSave leaves is parsed and checked again: a trigger cannot write what a client could not.
    parsed = withDefaults(current, parseWrite(await triggers.beforeSave(body as Record<string, unknown>, undefined), writeOptions));
  }
  const objectId = parsed.objectId ?? newObjectId();
  const prepared = plugin?.prepareCreate === undefined ? { write: parsed, internal: [] } : await plugin.prepareCreate(caller, parsed, objectId);
  const { write } = prepared;
  assertRequiredFields(current, write, true);
  const additions = fieldsToAdd(className, current, write);
  if (current !== undefined && additions.size > 0) caller.access.assertCreate(className, true);
  const createdAt = new Date();
  const row = { objectId, createdAt, acl: write.acl ?? caller.access.defaultAcl(className) ?? PUBLIC_ACL, values: initialValues(write.writes), internal: prepared.internal };
  let extra: JsonRecord | undefined;
  try {
    // A LiveQuery class takes the transactional path: the created row's image is read in the same transaction.
    const simple = current !== undefined && additions.size === 0 && plugin?.afterCreate === undefined && caller.services.liveQuery?.watches(className) !== true;
    if (simple && !write.writes.some((w) => w.operation.op === 'relation')) {
      // The common case needs one statement and no transaction.
      const insert = compileInsert(className, current, row);
      await driver.query(insert.text, insert.params);
    } else {
      // New fields, the row and what the class adds (a session for a new user) commit together.
      await withTransaction(driver, async (db) => {
        const schema = await schemas.ensureFields(className, additions, db);
        await observeWrite(caller.services.liveQuery, db, className, objectId, 'create', async () => {
          const insert = compileInsert(className, schema, row);
          await db.query(insert.text, insert.params);
          await applyRelationWrites(db, className, objectId, write.writes);
          extra = await plugin?.afterCreate?.(caller, db, objectId, write);
        });
      });
    }
  } catch (error) {
    throw translateUniqueViolation(error, plugin);
  }
  if (triggers !== undefined) {
    const saved = await readStored(caller, className, objectId, undefined);
    if (saved !== undefined) {
      extra = { ...extra, ...triggers.changedFields(saved, caller.access.protectedFields(className).hiddenIn(saved)) };
      await triggers.afterWrite(saved, undefined);
    }
  }
  return { ...extra, objectId, createdAt: createdAt.toISOString() };
}
