import type { Condition } from '../../query/tree.ts';
import type { ClassSchema } from '../../schema/types.ts';
import type { Aliases, Params } from './params.ts';

/**
 * Who may read which class. The compiler asks it for every table a statement reads (the main class, and
 * every sub-query, relation owner and include), so no read path can skip the caller's permissions.
 * `undefined` means unrestricted (master).
 */
export interface ReadAccess {
  readFilter(className: string): Condition | undefined;
}

export interface CompileContext {
  readonly params: Params;
  readonly aliases: Aliases;
  readonly schemaOf: (className: string) => ClassSchema | undefined;
  readonly access: ReadAccess;
}
