/**
 * Builds and sends one event to one subscriber. Each subscriber gets its own copy of the images, the
 * `afterLiveQueryEvent` trigger works on that copy, and only then are the subscriber's protected fields
 * removed (from `object` and `original` alike) and its `keys` applied: nothing a trigger does can put a
 * field in front of a subscriber who may not read it, and no subscriber's copy is shared with another.
 */
import type { JsonRecord } from '../rest/encode.ts';
import { encodeRow } from '../rest/encode.ts';
import { fileBaseUrl, hideProtected } from '../rest/find.ts';
import type { Caller } from '../rest/services.ts';
import type { ClassSchema } from '../schema/types.ts';
import type { LiveConnection } from './connection.ts';
import type { Decision } from './decide.ts';
import type { SideResult } from './evaluate.ts';
import type { Subscription } from './subscription.ts';
import type { LiveQueryTriggers } from './triggers.ts';

export interface Delivery {
  readonly caller: Caller;
  readonly connection: LiveConnection;
  readonly subscription: Subscription;
  readonly schema: ClassSchema;
  readonly decision: Decision;
  readonly sides: { readonly before?: SideResult; readonly after?: SideResult };
  readonly triggers: LiveQueryTriggers;
}

/** Always sent whatever `keys` says, as in Parse. */
const ALWAYS = new Set(['objectId', 'createdAt', 'updatedAt', 'ACL', 'className']);
/** Classes whose events never carry a `sessionToken`, whatever a trigger puts in (reference §7.3, GHSA-7pr3-p5fm-8r9x). */
const SESSION_CLASSES = new Set(['_User', '_Session']);

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What one subscriber's event says, serialised (`"object":…` and `"original":…`), or null when `watch`
 * suppressed it. Built from fresh copies of the images, after the trigger, then filtered for this caller.
 */
async function eventBody(delivery: Delivery): Promise<string | null> {
  const { caller, connection, subscription, schema, decision, sides } = delivery;
  const { className } = subscription;
  const encode = (side: SideResult | undefined): JsonRecord | undefined =>
    side === undefined ? undefined : { ...encodeRow(schema, side.row, fileBaseUrl(caller)), className };
  const encoded = encode(decision.object === 'before' ? sides.before : sides.after);
  if (encoded === undefined) return null;
  const triggered = await delivery.triggers.afterEvent(caller, connection, subscription, decision.event, encoded, decision.original ? encode(sides.before) : undefined);
  if (triggered === undefined) return null;
  const { object, original } = triggered;
  const images = original === undefined ? [object] : [object, original];
  hideProtected(caller, className, images);
  if (SESSION_CLASSES.has(className)) for (const image of images) delete image.sessionToken;
  const { watch, keys } = subscription;
  if (watch !== undefined && (decision.event === 'create' || decision.event === 'update')) {
    const before = original;
    const after = object;
    if (!watch.some((field) => !same(after[field], before?.[field]))) return null;
  }
  if (keys !== undefined) {
    for (const image of images) for (const key of Object.keys(image)) if (!ALWAYS.has(key) && !keys.has(key)) delete image[key];
  }
  return original === undefined ? `"object":${JSON.stringify(object)}` : `"object":${JSON.stringify(object)},"original":${JSON.stringify(original)}`;
}

/**
 * Sends one subscriber its event. Without an `afterLiveQueryEvent` trigger the serialised body depends only
 * on the change, the caller's identity (which decides its protected fields) and the subscription's shape,
 * so subscribers alike share it through `shared` (one per change): the cost of a change grows with the
 * distinct (identity, shape) pairs, plus one small frame per subscriber. Strings are immutable: sharing
 * them shares nothing a trigger or another subscriber could change.
 */
export async function deliverEvent(delivery: Delivery, shared: Map<string, string | null>, identity: string): Promise<void> {
  const { connection, subscription, decision } = delivery;
  let body: string | null | undefined;
  let key: string | undefined;
  if (!delivery.triggers.hasAfterEvent(subscription.className)) {
    key = [identity, decision.event, decision.object, decision.original, subscription.keys === undefined ? '*' : [...subscription.keys].join(','), subscription.watch?.join(',') ?? '*'].join('\u0000');
    body = shared.get(key);
  }
  if (body === undefined) {
    body = await eventBody(delivery);
    if (key !== undefined) shared.set(key, body);
  }
  if (body === null) return;
  connection.sendText(`{"op":${JSON.stringify(decision.event)},"clientId":${JSON.stringify(connection.clientId)},"requestId":${subscription.requestId},${body}}`);
}
