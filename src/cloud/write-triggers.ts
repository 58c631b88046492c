import { assertSafeJson } from '../query/safe-json.ts';
import type { JsonRecord } from '../rest/encode.ts';
import type { Caller } from '../rest/services.ts';
import type { CloudTrigger } from './registry.ts';
import { TriggerSession, type SdkObject } from './triggers.ts';

/**
 * The triggers of one create or update (`beforeSave`/`afterSave`) or delete (`beforeDelete`/`afterDelete`)
 * of one class. Absent when the class has none, so a write without triggers costs nothing extra.
 */
export class WriteTriggers {
  private changed: string[] = [];

  private constructor(
    private readonly session: TriggerSession,
    private readonly className: string,
    private readonly before: CloudTrigger | undefined,
    private readonly after: CloudTrigger | undefined,
  ) {}

  static forSave(caller: Caller, className: string): WriteTriggers | undefined {
    return WriteTriggers.create(caller, className, 'beforeSave', 'afterSave');
  }

  static forDelete(caller: Caller, className: string): WriteTriggers | undefined {
    return WriteTriggers.create(caller, className, 'beforeDelete', 'afterDelete');
  }

  private static create(caller: Caller, className: string, beforeType: 'beforeSave' | 'beforeDelete', afterType: 'afterSave' | 'afterDelete'): WriteTriggers | undefined {
    const { registry, sdk } = caller.services.cloud;
    if (sdk === undefined) return undefined;
    const before = registry.trigger(beforeType, className);
    const after = registry.trigger(afterType, className);
    if (before === undefined && after === undefined) return undefined;
    return new WriteTriggers(new TriggerSession(caller, sdk), className, before, after);
  }

  /**
   * `beforeSave`: the trigger sees the object as it will be (the stored one with the client's changes
   * applied, or a new one) and may change it; what it leaves pending is the write that goes ahead, and the
   * caller parses and checks it again like any client body. Throwing refuses the save.
   */
  async beforeSave(body: Readonly<Record<string, unknown>>, original: JsonRecord | undefined): Promise<Record<string, unknown>> {
    if (this.before === undefined) return { ...body };
    const { session, className } = this;
    const object = session.toObject(className, original ?? {});
    const decode = session.sdk._decode as (key: string | undefined, value: unknown) => unknown;
    for (const [key, value] of Object.entries(body)) {
      if (key === 'objectId') continue;
      if (key === 'ACL') object.setACL(new (session.sdk.ACL as new (json: unknown) => unknown)(value));
      else object.set(key, decode(key, value));
    }
    const { request, skipped } = await session.run(this.before, {
      object,
      original: original === undefined ? undefined : session.toObject(className, original),
    });
    if (skipped) return { ...body };
    const saved = (request.object as SdkObject)._getSaveJSON();
    // The same scan as a client's body: no prototype keys, no unstorable text, no absurd nesting.
    assertSafeJson(saved);
    this.changed = Object.keys(saved).filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(body[key]));
    return body.objectId === undefined ? saved : { ...saved, objectId: body.objectId };
  }

  /**
   * The fields `beforeSave` set or changed, with their stored values, for the write's response: Parse
   * returns them so the client's object learns what the server decided. Protected fields stay out.
   */
  changedFields(saved: JsonRecord, hidden: ReadonlySet<string>): JsonRecord {
    const fields: JsonRecord = {};
    for (const key of this.changed) if (!hidden.has(key) && Object.hasOwn(saved, key)) fields[key] = saved[key];
    return fields;
  }

  /** `beforeDelete`: sees the stored object; throwing refuses the delete. */
  async beforeDelete(stored: JsonRecord): Promise<void> {
    if (this.before === undefined) return;
    await this.session.run(this.before, { object: this.session.toObject(this.className, stored) });
  }

  /** True when an after-trigger will want the object as it was before the write. */
  get wantsOriginal(): boolean {
    return this.before !== undefined || this.after !== undefined;
  }

  /** `afterSave` / `afterDelete`, after the commit; failures are logged, not returned. */
  async afterWrite(object: JsonRecord, original: JsonRecord | undefined): Promise<void> {
    if (this.after === undefined) return;
    const { session, className } = this;
    await session.runAfter(this.after, {
      object: session.toObject(className, object),
      original: original === undefined ? undefined : session.toObject(className, original),
    });
  }
}
