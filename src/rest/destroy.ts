import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { withTransaction } from '../storage/driver.ts';
import { compileDelete } from '../storage/sql/compile-write.ts';
import { assertClassServed } from './class-access.ts';
import { WriteTriggers } from '../cloud/write-triggers.ts';
import { observeWrite } from '../livequery/feed.ts';
import type { JsonRecord } from './encode.ts';
import { deleteOwnedRelations } from './relations.ts';
import { readStored } from './stored.ts';
import type { Caller } from './services.ts';

/** One DELETE whose WHERE carries the caller's write permission: forbidden and missing are both 101. */
export async function destroy(caller: Caller, className: string, objectId: string): Promise<void> {
  assertClassServed(caller, className, 'delete');
  const { schemas, driver, plugins } = caller.services;
  await schemas.loadIfMissing(className, driver);
  const schema = schemas.get(className);
  if (schema === undefined) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
  const writeFilter = caller.access.writeFilter(className, 'delete');
  const triggers = WriteTriggers.forDelete(caller, className);
  let stored: JsonRecord | undefined;
  if (triggers !== undefined) {
    stored = await readStored(caller, className, objectId, writeFilter);
    if (stored === undefined) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
    await triggers.beforeDelete(stored);
  }
  const statement = compileDelete(className, schema, objectId, writeFilter);
  const relationFields = [...schema.fields].filter(([, field]) => field.type === 'Relation').map(([name]) => name);
  await withTransaction(driver, (tx) =>
    observeWrite(caller.services.liveQuery, tx, className, objectId, 'delete', async () => {
      const { rows } = await tx.query(statement.text, statement.params);
      if (rows.length === 0) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
      await deleteOwnedRelations(tx, className, objectId, relationFields);
      await plugins.get(className)?.afterDelete?.(caller, tx, objectId);
    }),
  );
  if (triggers !== undefined && stored !== undefined) await triggers.afterWrite(stored, undefined);
}
