import type { Validator } from './validator.ts';

export type CloudHandler = (request: Record<string, unknown>) => unknown;

export const OBJECT_TRIGGERS = ['beforeSave', 'afterSave', 'beforeDelete', 'afterDelete', 'beforeFind', 'afterFind'] as const;
export const USER_TRIGGERS = ['beforeLogin', 'afterLogin', 'afterLogout', 'beforePasswordResetRequest'] as const;
/** LiveQuery's: `beforeSubscribe` and `afterLiveQueryEvent` per class; `beforeConnect` under LIVE_QUERY_CONNECT. */
export const LIVE_QUERY_TRIGGERS = ['beforeConnect', 'beforeSubscribe', 'afterLiveQueryEvent'] as const;
/** The class name `beforeConnect` is registered under (it belongs to no class; `@` is never a class name). */
export const LIVE_QUERY_CONNECT = '@Connect';
export type ObjectTrigger = (typeof OBJECT_TRIGGERS)[number];
export type UserTrigger = (typeof USER_TRIGGERS)[number];
export type LiveQueryTrigger = (typeof LIVE_QUERY_TRIGGERS)[number];
export type TriggerType = ObjectTrigger | UserTrigger | LiveQueryTrigger;

export interface CloudFunction {
  readonly name: string;
  readonly handler: CloudHandler;
  readonly validator: Validator | undefined;
  /** Where it was declared (file:line), for startup errors and the audit. */
  readonly declaredAt: string | undefined;
}

export interface CloudTrigger {
  readonly type: TriggerType;
  readonly className: string;
  readonly handler: CloudHandler;
  readonly validator: Validator | undefined;
  readonly declaredAt: string | undefined;
}

export interface CloudJob {
  readonly name: string;
  readonly handler: CloudHandler;
  readonly declaredAt: string | undefined;
}

/**
 * Everything cloud code registered. Names live in `Map`s, so only names that were registered dispatch:
 * `constructor`, `__proto__` or `toString` are just absent keys, never inherited properties (reference §7.1).
 */
export class CloudRegistry {
  readonly functions = new Map<string, CloudFunction>();
  readonly jobs = new Map<string, CloudJob>();
  private readonly triggers = new Map<string, CloudTrigger>();

  addTrigger(trigger: CloudTrigger): void {
    this.triggers.set(`${trigger.type}\u0000${trigger.className}`, trigger);
  }

  /** Every trigger, for the audit. */
  allTriggers(): CloudTrigger[] {
    return [...this.triggers.values()];
  }

  trigger(type: TriggerType, className: string): CloudTrigger | undefined {
    return this.triggers.get(`${type}\u0000${className}`);
  }
}
