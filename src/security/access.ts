import { principals, type AuthContext } from '../auth/context.ts';
import type { Condition } from '../query/tree.ts';
import type { ReadAccess } from '../storage/sql/context.ts';

/**
 * The row-level permission predicates of one caller. They become part of the SQL of the very statement that
 * reads or writes, so checking and touching a row is one atomic step.
 */
export interface AccessPlan extends ReadAccess {
  writeFilter(className: string): Condition | undefined;
}

export function accessPlanFor(auth: AuthContext): AccessPlan {
  const entries = principals(auth);
  if (entries === undefined) return { readFilter: () => undefined, writeFilter: () => undefined };
  const read: Condition = { type: 'access', column: '_rperm', principals: entries };
  const write: Condition = { type: 'access', column: '_wperm', principals: entries };
  return { readFilter: () => read, writeFilter: () => write };
}
