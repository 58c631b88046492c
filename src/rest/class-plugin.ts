import type { AuthContext } from '../auth/context.ts';
import type { Condition, FindQuery } from '../query/tree.ts';
import type { ObjectWrite } from '../query/write-tree.ts';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import type { InternalValue } from '../storage/sql/compile-write.ts';
import type { Operation } from './class-access.ts';
import type { JsonRecord } from './encode.ts';
import type { Caller } from './services.ts';

/** The object a create turns out to name, and the body to update it with. */
export interface ExistingObject {
  readonly objectId: string;
  readonly createdAt: string;
  readonly body: unknown;
}

/** A write after a plugin prepared it: the public fields, and server-owned columns clients never name. */
export interface PreparedWrite {
  readonly write: ObjectWrite;
  readonly internal: readonly InternalValue[];
}

/**
 * What a server-managed class (`_User`, `_Session`, …) adds to the shared pipeline. Plugins hook into the
 * named steps of create/update/delete/read; they never replace the pipeline, so the caller's permissions
 * (in the SQL) and the schema checks apply to them exactly as to any class.
 */
export interface ClassPlugin {
  readonly className: string;
  /** The operations clients may use on this class through the generic routes; anything else is 119. */
  readonly operations: ReadonlySet<Operation>;
  /** Fields only the row's own user (and the master keys) may see or name in a query (`_User`: `authData`). */
  readonly ownerOnlyFields?: readonly string[];
  /** Only the master key (and read-only master key) may use those operations; everyone else gets 119. */
  readonly masterOnly?: boolean;
  /** Operations only the master key may use although clients may use the others (`_Installation`: find, count, delete). */
  readonly masterOnlyOperations?: ReadonlySet<Operation>;
  /**
   * Extra row restriction for a non-master caller, compiled into the same statement as the ACL check. A
   * read says which operation it serves (a sub-query is a `find`), so a class can allow reads by id only.
   */
  rowFilter?(auth: AuthContext, mode: 'read' | 'write', operation?: 'find' | 'get' | 'count'): Condition | undefined;
  /**
   * Conditions a read's own `where` implies that the database cannot derive, added to every find, get and
   * count of the class (the privilege ledger's batch spans). They must never exclude a row `where` matches.
   */
  impliedWhere?(where: Condition): Condition;
  /**
   * Narrower versions of a find to try before the find itself (the ledger's time windows, newest first):
   * the first whose page comes back full answers it. Each must leave out only rows that sort after every
   * row it returns.
   */
  readWindows?(query: FindQuery, db: SqlExecutor): AsyncIterable<Condition>;
  /** The number of rows, known without reading them (the ledger's, from its batches' sizes): for a count with no condition at all. */
  countAll?(db: SqlExecutor): Promise<number>;
  /**
   * A create that names an object already stored (a device registering again) becomes an update of that
   * object, with the caller's write permission; undefined creates as usual. Runs before any trigger.
   */
  existingForCreate?(caller: Caller, body: unknown): Promise<ExistingObject | undefined>;
  /**
   * Answers a create itself, before its class-level permission is decided: `_User` with `authData` is a
   * log-in when the provider's account is already linked (Parse's `POST /users`), which needs no `create`
   * permission, as `/login` needs none. Undefined lets the create run as usual.
   */
  createInstead?(caller: Caller, body: unknown): Promise<(JsonRecord & { readonly objectId: string; readonly createdAt: string }) | undefined>;
  prepareCreate?(caller: Caller, write: ObjectWrite, objectId: string): Promise<PreparedWrite>;
  /** Runs in the create's transaction; what it returns is added to the create response. */
  afterCreate?(caller: Caller, db: Driver, objectId: string, write: ObjectWrite): Promise<JsonRecord | undefined>;
  prepareUpdate?(caller: Caller, objectId: string, write: ObjectWrite): Promise<PreparedWrite>;
  /** Runs in the update's transaction, after the row was updated (so the caller was allowed to); gets the write as the client sent it. */
  afterUpdate?(caller: Caller, db: Driver, objectId: string, write: ObjectWrite): Promise<void>;
  /** Runs in the delete's transaction, after the row was deleted. */
  afterDelete?(caller: Caller, db: Driver, objectId: string): Promise<void>;
  /** Removes what this caller may not see from an object about to be returned. */
  filterRead?(caller: Caller, object: JsonRecord): void;
  /** Maps a unique-index violation (by constraint name) to the Parse error the class answers with. */
  uniqueViolation?(constraint: string | undefined): Error | undefined;
}

export type ClassPlugins = ReadonlyMap<string, ClassPlugin>;
