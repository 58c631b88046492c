import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseWrite } from '../query/parse-write.ts';
import { withTransaction } from '../storage/driver.ts';
import { compileUpdate } from '../storage/sql/compile-write.ts';
import { assertClassServed } from './class-access.ts';
import { translateUniqueViolation } from './create.ts';
import { encodeRow, type JsonRecord } from './encode.ts';
import { fileBaseUrl } from './find.ts';
import { WriteTriggers } from '../cloud/write-triggers.ts';
import { observeWrite } from '../livequery/feed.ts';
import { applyRelationWrites } from './relations.ts';
import { readStored } from './stored.ts';
import { assertRequiredFields, fieldsToAdd } from './schema-check.ts';
import type { Caller } from './services.ts';

function notFound(): never {
  throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
}

/**
 * One UPDATE whose WHERE carries the caller's write permission; operations (Increment, Add, …) are computed
 * by the database from the current value, so concurrent updates never lose each other's changes.
 */
export async function update(caller: Caller, className: string, objectId: string, body: unknown): Promise<JsonRecord> {
  assertClassServed(caller, className, 'update');
  const { schemas, driver, plugins } = caller.services;
  const plugin = plugins.get(className);
  await schemas.loadIfMissing(className, driver);
  const current = schemas.get(className);
  if (current === undefined) notFound();
  // Class-level permission first, before the body is read.
  const mayWrite = caller.access.writeFilter(className, 'update');
  const writeOptions = { isCreate: false, allowCustomObjectId: false };
  let parsed = parseWrite(body, writeOptions);
  const triggers = WriteTriggers.forSave(caller, className);
  let original: JsonRecord | undefined;
  if (triggers !== undefined) {
    // Triggers run only for a caller allowed to write this object, and see it as stored.
    original = await readStored(caller, className, objectId, mayWrite);
    if (original === undefined) notFound();
    parsed = parseWrite(await triggers.beforeSave(body as Record<string, unknown>, original), writeOptions);
  }
  const prepared = plugin?.prepareUpdate === undefined ? { write: parsed, internal: [] } : await plugin.prepareUpdate(caller, objectId, parsed);
  const { write } = prepared;
  assertRequiredFields(current, write, false);
  const additions = fieldsToAdd(className, current, write);
  const updatedAt = new Date();
  const writeFilter = caller.access.writeFilter(className, 'update', additions.size > 0);
  // New fields, the row and its relations change together or not at all.
  const { schema, row, returned } = await withTransaction(driver, async (db) => {
    const schema = additions.size === 0 ? current : await schemas.ensureFields(className, additions, db);
    const statement = compileUpdate(className, schema, objectId, write.writes, write.acl, updatedAt, writeFilter, prepared.internal);
    const row = await observeWrite(caller.services.liveQuery, db, className, objectId, 'update', async () => {
      const { rows } = await db.query(statement.text, statement.params);
      const row = rows[0];
      if (row === undefined) notFound();
      await applyRelationWrites(db, className, objectId, write.writes);
      await plugin?.afterUpdate?.(caller, db, objectId, parsed);
      return row;
    });
    return { schema, row, returned: statement.returned };
  }).catch((error: unknown) => {
    throw translateUniqueViolation(error, plugin);
  });
  let response: JsonRecord = { updatedAt: updatedAt.toISOString() };
  if (triggers !== undefined) {
    const saved = await readStored(caller, className, objectId, undefined);
    if (saved !== undefined) {
      response = { ...triggers.changedFields(saved, caller.access.protectedFields(className).hiddenIn(saved)), ...response };
      await triggers.afterWrite(saved, original);
    }
  }
  if (returned.length > 0) {
    const encoded = encodeRow(schema, row, fileBaseUrl(caller));
    // An Increment of 0 on a protected field would otherwise read it back to a caller who may not see it.
    const hidden = caller.access.protectedFields(className).hiddenIn(encoded);
    for (const name of returned) if (!hidden.has(name)) response[name] = encoded[name] ?? null;
  }
  return response;
}
