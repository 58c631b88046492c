import { ErrorCode, masterKeyRequired, ParseError } from '../errors/parse-error.ts';
import { joinTableName, assertClassName } from '../schema/names.ts';
import { withTransaction, type Driver } from '../storage/driver.ts';
import { ident } from '../storage/sql/params.ts';
import type { Caller } from './services.ts';

/**
 * Server classes that may be purged: each is emptied with its caches. Every other `_` class is the
 * server's own record (the privilege ledger above all, which must stay append-only even for the master
 * key; job statuses; idempotency ids) and is refused, where Parse would purge anything.
 */
const PURGEABLE_SERVER_CLASSES = new Set(['_User', '_Session', '_Role', '_Installation']);

/**
 * `DELETE /purge/:className`: deletes every object of a class and keeps its schema (Parse's
 * `Parse.Schema#purge`). The master key only (read-only master: 119). Runs no triggers, as in Parse. The
 * rows, the join rows they own and what depends on them (a user's sessions and role memberships) go in one
 * transaction, and every cache that may hold them is told before and after it commits.
 */
export async function purge(caller: Caller, className: string): Promise<void> {
  const { auth, services } = caller;
  if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to purge a schema.");
  if (auth.kind !== 'master') throw masterKeyRequired();
  if (className.startsWith('_') && !PURGEABLE_SERVER_CLASSES.has(className)) {
    throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `The ${className} collection cannot be purged.`);
  }
  assertClassName(className);
  await services.schemas.loadIfMissing(className, services.driver);
  const schema = services.schemas.get(className);
  // Parse answers {} for a class that does not exist.
  if (schema === undefined) return;
  const relationFields = [...schema.fields].filter(([, field]) => field.type === 'Relation').map(([name]) => name);
  await withTransaction(services.driver, async (db) => {
    for (const field of relationFields) await db.query(`DELETE FROM ${ident(joinTableName(field, className))}`);
    if (className === '_User') await purgeUsers(caller, db);
    else if (className === '_Session') await purgeSessions(caller, db);
    else await db.query(`DELETE FROM ${ident(className)}`);
    if (className === '_Role' || className === '_User') await services.roles.invalidate(db);
  });
}

/** Sessions are cached by token on every node: all of them are forgotten, here and on the other nodes, with one message. */
async function purgeSessions(caller: Caller, db: Driver): Promise<void> {
  await db.query(`DELETE FROM ${ident('_Session')}`);
  await caller.services.sessions.forgetAll(db);
}

/** Users without sessions that would outlive them, and without role memberships a reused id could inherit. */
async function purgeUsers(caller: Caller, db: Driver): Promise<void> {
  const { users } = caller.services;
  await purgeSessions(caller, db);
  await db.query(`DELETE FROM ${ident(joinTableName('users', '_Role'))}`);
  await db.query(`DELETE FROM ${ident('_User')}`);
  await users.forget(db, undefined);
}
