import { MASTER } from '../auth/context.ts';
import { and, type Condition } from '../query/tree.ts';
import { callerAccess } from '../security/access.ts';
import type { JsonRecord } from './encode.ts';
import { find } from './find.ts';
import type { Caller } from './services.ts';

/**
 * An object as stored, every field included, for server code (triggers) to see — but only when `condition`
 * (the caller's write permission) holds for it, checked in the same statement. Undefined otherwise, which
 * the caller answers like a missing object.
 */
export async function readStored(caller: Caller, className: string, objectId: string, condition: Condition | undefined): Promise<JsonRecord | undefined> {
  const byId: Condition = { type: 'compare', target: { field: 'objectId', path: [] }, operator: '=', value: { kind: 'string', value: objectId } };
  const master: Caller = { ...caller, auth: MASTER, access: callerAccess(MASTER, caller.services) };
  const { results } = await find(master, {
    className,
    where: condition === undefined ? byId : and(byId, condition),
    order: [],
    limit: 1,
    skip: 0,
    keys: undefined,
    excludeKeys: new Set(),
    include: [],
    count: false,
  }, 'find', { cloudTriggers: false });
  return results[0];
}
