/**
 * LiveQuery's cloud triggers, with Parse's request fields: `beforeConnect` (throw to refuse a client),
 * `beforeSubscribe` (throw to refuse, or change `request.query`) and `afterLiveQueryEvent` (change
 * `request.object`/`original` or set `request.sendEvent = false`), run through the same TriggerSession as
 * every other trigger (validators, rate limits, timeout, errors as Parse errors).
 */
import type { AuthContext } from '../auth/context.ts';
import { LIVE_QUERY_CONNECT, type CloudTrigger } from '../cloud/registry.ts';
import { TriggerSession, type SdkObject } from '../cloud/triggers.ts';
import { assertSafeJson } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';
import type { JsonRecord } from '../rest/encode.ts';
import type { Caller } from '../rest/services.ts';
import type { LiveConnection } from './connection.ts';
import type { LiveQueryHub } from './hub.ts';
import type { ConnectMessage, EventName, SubscribeMessage, WireSubscriptionQuery } from './protocol.ts';
import type { Subscription } from './subscription.ts';

interface SdkQuery {
  toJSON(): Record<string, unknown>;
}

const list = (value: unknown): string[] | undefined => (typeof value === 'string' && value !== '' ? value.split(',') : undefined);

export class LiveQueryTriggers {
  constructor(private readonly hub: LiveQueryHub) {}

  private find(type: CloudTrigger['type'], className: string): { trigger: CloudTrigger; sdk: NonNullable<Caller['services']['cloud']['sdk']> } | undefined {
    const { registry, sdk } = this.hub.services.cloud;
    const trigger = sdk === undefined ? undefined : registry.trigger(type, className);
    return trigger === undefined || sdk === undefined ? undefined : { trigger, sdk };
  }

  private counts(): { clients: number; subscriptions: number } {
    let subscriptions = 0;
    for (const connection of this.hub.connections) subscriptions += connection.subscriptions.size;
    return { clients: this.hub.connections.size, subscriptions };
  }

  /** Whether the class has an `afterLiveQueryEvent` (each subscriber's event must then be built on its own). */
  hasAfterEvent(className: string): boolean {
    return this.find('afterLiveQueryEvent', className) !== undefined;
  }

  /** `beforeConnect`: a throw refuses the connection (the client gets the error). */
  async beforeConnect(connection: LiveConnection, auth: AuthContext, message: ConnectMessage): Promise<void> {
    const found = this.find('beforeConnect', LIVE_QUERY_CONNECT);
    if (found === undefined) return;
    const session = new TriggerSession(connection.callerFor(auth), found.sdk);
    await session.run(found.trigger, {
      event: 'connect',
      useMasterKey: auth.kind === 'master',
      sessionToken: message.sessionToken,
      installationId: message.installationId,
      clientId: connection.clientId,
      ...this.counts(),
    });
  }

  /** `beforeSubscribe`: a throw refuses the subscription; what it leaves in `request.query` is what gets checked and kept. */
  async beforeSubscribe(caller: Caller, connection: LiveConnection, message: SubscribeMessage): Promise<WireSubscriptionQuery> {
    const found = this.find('beforeSubscribe', message.query.className);
    if (found === undefined) return message.query;
    const { sdk } = found;
    const wire = message.query;
    const json: Record<string, unknown> = { where: wire.where };
    if (wire.keys !== undefined) json.keys = wire.keys.join(',');
    if (wire.watch !== undefined) json.watch = wire.watch.join(',');
    const query = (sdk.Query as { fromJSON(className: string, json: unknown): SdkQuery }).fromJSON(wire.className, json);
    const session = new TriggerSession(caller, sdk);
    const { request } = await session.run(found.trigger, {
      event: 'subscribe',
      op: message.op,
      requestId: message.requestId,
      query,
      sessionToken: message.sessionToken,
      useMasterKey: caller.auth.kind === 'master',
      clientId: connection.clientId,
      ...this.counts(),
    });
    const changed = (request.query as SdkQuery).toJSON();
    assertSafeJson(changed);
    // The query the trigger leaves is parsed and checked like the client's own (prepareSubscription).
    return { className: wire.className, where: isPlainObject(changed.where) ? changed.where : {}, keys: list(changed.keys), watch: list(changed.watch) };
  }

  /**
   * `afterLiveQueryEvent` on this subscriber's own copy: undefined when the trigger suppressed the event
   * (`sendEvent = false`) or failed (the subscriber gets the error).
   */
  async afterEvent(
    caller: Caller,
    connection: LiveConnection,
    subscription: Subscription,
    event: EventName,
    object: JsonRecord,
    original: JsonRecord | undefined,
  ): Promise<{ object: JsonRecord; original: JsonRecord | undefined } | undefined> {
    const found = this.find('afterLiveQueryEvent', subscription.className);
    if (found === undefined) return { object, original };
    const session = new TriggerSession(caller, found.sdk);
    const toJson = (value: unknown): JsonRecord | undefined => {
      if (value === undefined || value === null) return undefined;
      const json = (value as SdkObject)._toFullJSON([]);
      delete json.__type;
      assertSafeJson(json);
      return { ...json, className: subscription.className };
    };
    try {
      const { request } = await session.run(found.trigger, {
        event,
        object: session.toObject(subscription.className, object),
        original: original === undefined ? undefined : session.toObject(subscription.className, original),
        sendEvent: true,
        sessionToken: connection.tokenOf(subscription),
        useMasterKey: caller.auth.kind === 'master',
        clientId: connection.clientId,
        requestId: subscription.requestId,
        ...this.counts(),
      });
      if (request.sendEvent === false) return undefined;
      const changed = toJson(request.object);
      if (changed === undefined) return undefined;
      return { object: changed, original: original === undefined ? undefined : toJson(request.original) };
    } catch (error) {
      connection.sendError(error, subscription.requestId);
      return undefined;
    }
  }
}
