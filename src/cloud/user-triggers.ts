import type { JsonRecord } from '../rest/encode.ts';
import type { Caller } from '../rest/services.ts';
import type { UserTrigger } from './registry.ts';
import { TriggerSession } from './triggers.ts';

const AFTER: ReadonlySet<UserTrigger> = new Set(['afterLogin', 'afterLogout']);

/**
 * `beforeLogin`, `afterLogin`, `afterLogout` and `beforePasswordResetRequest`: the object is the user (the
 * session for `afterLogout`). A before-trigger that throws refuses the operation with its error; an
 * after-trigger's failure is logged only.
 */
export async function runUserTrigger(caller: Caller, type: UserTrigger, object: JsonRecord, className: '_User' | '_Session' = '_User'): Promise<void> {
  const { registry, sdk } = caller.services.cloud;
  const trigger = registry.trigger(type, '_User');
  if (trigger === undefined || sdk === undefined) return;
  const session = new TriggerSession(caller, sdk);
  const fields = { object: session.toObject(className, object) };
  if (AFTER.has(type)) await session.runAfter(trigger, fields);
  else await session.run(trigger, fields);
}

export function hasUserTrigger(caller: Caller, type: UserTrigger): boolean {
  return caller.services.cloud.registry.trigger(type, '_User') !== undefined;
}
