import { ErrorCode, masterKeyRequired, ParseError } from '../errors/parse-error.ts';
import { parseWhere } from '../query/parse-where.ts';
import { and, type Condition } from '../query/tree.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Caller } from '../rest/services.ts';
import type { PushAdapter } from './adapter.ts';
import { startDelivery } from './deliver.ts';
import { parsePushBody } from './push-body.ts';
import { PushStatusRecord } from './push-status.ts';

/** Parse sends only to installations that have a device token. */
const HAS_DEVICE_TOKEN: Condition = { type: 'exists', target: { field: 'deviceToken', path: [] }, exists: true };

/** Parse's validatePushType: a `where` naming one `deviceType` the adapter cannot serve is refused (115). */
function assertPushType(where: Record<string, unknown>, validTypes: readonly string[]): void {
  const { deviceType } = where;
  if (typeof deviceType === 'string' && !validTypes.includes(deviceType)) {
    throw new ParseError(ErrorCode.PUSH_MISCONFIGURED, `${deviceType} is not supported push type.`);
  }
}

/** The adapter's device types; an adapter that cannot say is a misconfiguration (115), not a server error. */
function validPushTypes(adapter: PushAdapter): readonly string[] {
  let types: unknown;
  try {
    types = adapter.getValidPushTypes();
  } catch {
    types = undefined;
  }
  if (!Array.isArray(types)) throw new ParseError(ErrorCode.PUSH_MISCONFIGURED, 'The push adapter does not list its valid push types.');
  return types.filter((type): type is string => typeof type === 'string');
}

/**
 * `POST /push`: the full master key only (403 for anyone else, 119 for the read-only master key), then Parse's
 * 115 when no adapter is configured. The body is validated and the audience's `where` parsed (with master
 * limits) before anything is recorded, so a refused push leaves no `_PushStatus`. The answer comes once the
 * status is recorded; delivery runs in the background. With `scheduledPush` a push with `push_time` is only
 * recorded (`scheduled`), for an external scheduler, as in Parse; without it, it is sent now.
 */
export async function sendPush(caller: Caller, raw: unknown): Promise<string> {
  const { auth, services } = caller;
  if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to send push notifications.");
  if (auth.kind !== 'master') throw masterKeyRequired();
  const { push, config, driver } = services;
  if (push === undefined) throw new ParseError(ErrorCode.PUSH_MISCONFIGURED, 'Missing push configuration');
  const now = new Date();
  const request = parsePushBody(raw, now);
  assertPushType(request.where, validPushTypes(push.adapter));
  const where = and(parseWhere(request.where, { maxDepth: config.queryDepth }), HAS_DEVICE_TOKEN);
  const scheduled = request.pushTime !== undefined && config.scheduledPush === true;
  const record = await PushStatusRecord.create(driver, {
    objectId: newObjectId(),
    status: scheduled ? 'scheduled' : 'pending',
    pushTime: scheduled ? (request.pushTime ?? now.toISOString()) : now.toISOString(),
    where: request.where,
    data: request.data,
    expiry: request.expirationTime,
    expirationInterval: request.expirationInterval,
  });
  if (!scheduled) void startDelivery(services, push, record, request, where);
  return record.objectId;
}
