import { principals, type AuthContext } from '../auth/context.ts';
import { and, type Condition } from '../query/tree.ts';
import type { ClassPlugins } from '../rest/class-plugin.ts';
import type { ReadAccess } from '../storage/sql/context.ts';

/**
 * The row-level permission predicates of one caller. They become part of the SQL of the very statement that
 * reads or writes, so checking and touching a row is one atomic step.
 */
export interface AccessPlan extends ReadAccess {
  writeFilter(className: string): Condition | undefined;
}

/**
 * The caller's ACL predicate, combined with the row restriction a server-managed class adds (e.g. a user
 * sees only their own `_Session` rows). Master (and read-only master) reads and writes unrestricted.
 */
export function accessPlanFor(auth: AuthContext, plugins: ClassPlugins): AccessPlan {
  const entries = principals(auth);
  if (entries === undefined) return { readFilter: () => undefined, writeFilter: () => undefined };
  const read: Condition = { type: 'access', column: '_rperm', principals: entries };
  const write: Condition = { type: 'access', column: '_wperm', principals: entries };
  const withPlugin = (className: string, acl: Condition, mode: 'read' | 'write'): Condition => {
    const extra = plugins.get(className)?.rowFilter?.(auth, mode);
    return extra === undefined ? acl : and(acl, extra);
  };
  return { readFilter: (className) => withPlugin(className, read, 'read'), writeFilter: (className) => withPlugin(className, write, 'write') };
}
