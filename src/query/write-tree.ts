import type { FieldRef } from './tree.ts';
import type { ParseValue } from './values.ts';

/** One field operation of a create or update body, decoded from `{__op: …}` or a plain value. */
export type FieldOperation =
  | { readonly op: 'set'; readonly value: ParseValue }
  | { readonly op: 'delete' }
  | { readonly op: 'increment'; readonly amount: number }
  | { readonly op: 'add' | 'addUnique' | 'remove'; readonly objects: readonly ParseValue[] }
  | {
      readonly op: 'relation';
      readonly targetClass: string | undefined;
      readonly add: readonly string[];
      readonly remove: readonly string[];
    };

export interface FieldWrite {
  readonly target: FieldRef;
  readonly operation: FieldOperation;
}

/** Permission arrays as stored: `_rperm`/`_wperm`. */
export interface StoredAcl {
  readonly read: readonly string[];
  readonly write: readonly string[];
}

export interface ObjectWrite {
  readonly writes: readonly FieldWrite[];
  /** Present when the body set `ACL`. */
  readonly acl: StoredAcl | undefined;
  /** A client-chosen objectId (only with `allowCustomObjectId`). */
  readonly objectId: string | undefined;
}
