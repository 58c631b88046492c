import type { Condition } from '../../query/tree.ts';
import type { ClassSchema } from '../../schema/types.ts';
import type { Aliases, Params } from './params.ts';

/**
 * Who may read which class. The compiler asks it for every table a statement reads (the main class, and
 * every sub-query, relation owner and include), so no read path can skip the caller's permissions.
 * `undefined` means unrestricted (master). It throws the Parse error when the caller may not read the
 * class at all, so a sub-query on a forbidden class fails the statement instead of compiling.
 */
export interface ReadAccess {
  readFilter(className: string, operation?: 'find' | 'get' | 'count'): Condition | undefined;
}

export interface CompileContext {
  readonly params: Params;
  readonly aliases: Aliases;
  readonly schemaOf: (className: string) => ClassSchema | undefined;
  readonly access: ReadAccess;
  /** The operation of the statement's own class (sub-queries are always `find`). */
  readonly operation?: 'find' | 'get' | 'count';
}
