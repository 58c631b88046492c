import type { AuthContext } from '../auth/context.ts';
import type { Condition } from '../query/tree.ts';
import type { ObjectWrite } from '../query/write-tree.ts';
import type { Driver } from '../storage/driver.ts';
import type { InternalValue } from '../storage/sql/compile-write.ts';
import type { Operation } from './class-access.ts';
import type { JsonRecord } from './encode.ts';
import type { Caller } from './services.ts';

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
  /** Only the master key (and read-only master key) may use those operations; everyone else gets 119. */
  readonly masterOnly?: boolean;
  /** Extra row restriction for a non-master caller, compiled into the same statement as the ACL check. */
  rowFilter?(auth: AuthContext, mode: 'read' | 'write'): Condition | undefined;
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
