import { NO_CLIENT } from '../http/client-info.ts';
import type { JsonRecord } from '../rest/encode.ts';
import type { Caller } from '../rest/services.ts';
import { userObject } from './objects.ts';
import type { CloudTrigger } from './registry.ts';
import { logSafely, runInScope, toParseError } from './run-handler.ts';
import { enforceRateLimit } from './rate-limit.ts';
import { activeScope, type ParseSdk } from './sdk.ts';
import { runValidator } from './validator.ts';

/** What a Parse object looks like to this module: the SDK's ParseObject methods it uses. */
export interface SdkObject {
  readonly id: string | undefined;
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
  setACL(acl: unknown): unknown;
  existed(): boolean;
  _getSaveJSON(): Record<string, unknown>;
  _toFullJSON(seen: unknown[]): Record<string, unknown>;
}

/**
 * One write's (or find's) trigger session: the caller's `request.user` is built once and the `context`
 * object is shared by the before and after triggers, as in Parse.
 */
export class TriggerSession {
  private user: Promise<unknown> | undefined;
  readonly context: Record<string, unknown>;

  constructor(
    readonly caller: Caller,
    readonly sdk: ParseSdk,
  ) {
    this.context = { ...(caller.client ?? NO_CLIENT).context };
  }

  toObject(className: string, json: JsonRecord): SdkObject {
    return (this.sdk.Object as { fromJSON(json: unknown): SdkObject }).fromJSON({ ...json, className });
  }

  private async baseRequest(trigger: CloudTrigger): Promise<Record<string, unknown>> {
    const { caller } = this;
    const client = caller.client ?? NO_CLIENT;
    this.user ??= Promise.resolve(userObject(this.sdk, caller));
    return {
      triggerName: trigger.type,
      user: await this.user,
      master: caller.auth.kind === 'master' || caller.auth.kind === 'readOnlyMaster',
      installationId: client.installationId,
      ip: client.ip,
      headers: { ...client.headers },
      context: this.context,
      log: caller.services.log,
    };
  }

  /**
   * Runs a trigger with its validator. `fields` lets the request carry object/original/query/objects.
   * Returns the request (the handler may have changed `request.object` or `request.query`) and what the
   * handler returned; `skipped` when `skipWithMasterKey` applied.
   */
  async run(trigger: CloudTrigger, fields: Record<string, unknown>): Promise<{ request: Record<string, unknown>; result: unknown; skipped: boolean }> {
    const { caller, sdk } = this;
    if (typeof trigger.validator === 'object') {
      // A write made by cloud code runs inside that code's scope: that is what makes it an internal request.
      const internal = activeScope.getStore() !== undefined;
      await enforceRateLimit(caller, caller.services.cloud.rateLimits, `${trigger.type}:${trigger.className}`, trigger.validator.rateLimit, internal);
    }
    const request = { ...(await this.baseRequest(trigger)), ...fields };
    const roles = caller.auth.kind === 'user' ? caller.auth.roles : [];
    const outcome = await runInScope(sdk, caller, `${trigger.type}:${trigger.className}`, caller.services.config.cloudTimeoutMs, async () => {
      const checked = await runValidator(
        trigger.validator,
        {
          params: {},
          object: request.object as SdkObject | undefined,
          original: request.original as SdkObject | undefined,
          user: request.user as never,
          master: request.master as boolean,
          roles,
        },
        request,
      );
      if (checked.skipHandler) return { result: undefined, skipped: true };
      return { result: await trigger.handler(request), skipped: false };
    }).catch((thrown: unknown) => {
      throw toParseError(thrown);
    });
    return { request, ...outcome };
  }

  /** An after-trigger: its failure is logged, never returned (the write already happened). */
  async runAfter(trigger: CloudTrigger, fields: Record<string, unknown>): Promise<void> {
    try {
      await this.run(trigger, fields);
    } catch (error) {
      logSafely(this.caller.services.log, 'error', { err: error, trigger: trigger.type, className: trigger.className }, `${trigger.type} trigger failed`);
    }
  }
}
