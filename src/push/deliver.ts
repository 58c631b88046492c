import { MASTER } from '../auth/context.ts';
import { logSafely } from '../errors/log-safely.ts';
import { INSTALLATION_CLASS } from '../installations/installation-class.ts';
import { and, type Condition, type FindQuery } from '../query/tree.ts';
import type { JsonRecord } from '../rest/encode.ts';
import { find } from '../rest/find.ts';
import type { Caller, Services } from '../rest/services.ts';
import { callerAccess } from '../security/access.ts';
import type { PushAdapter } from './adapter.ts';
import type { BadgeChange, PushRequest } from './push-body.ts';
import type { DeliveryTally, PushStatusRecord } from './push-status.ts';

/** The push side of one server: its adapter and how long one `send` may take. */
export interface PushService {
  readonly adapter: PushAdapter;
  readonly sendTimeoutMs: number;
}

/** Installations read and handed to the adapter at a time (Parse's PushQueue batch size). */
export const PUSH_BATCH_SIZE = 100;

const OBJECT_ID = { field: 'objectId', path: [] } as const;

/** One page of the audience, by objectId after the previous page (stable under concurrent inserts). */
function page(where: Condition, after: string | undefined, limit: number, count = false): FindQuery {
  const condition = after === undefined ? where : and(where, { type: 'compare', target: OBJECT_ID, operator: '>', value: { kind: 'string', value: after } });
  return { className: INSTALLATION_CLASS, where: condition, order: [{ target: OBJECT_ID, descending: false }], limit, skip: 0, keys: undefined, excludeKeys: new Set(), include: [], count };
}

/**
 * The badge change of one batch, in one statement that also returns the new values: what each device is sent
 * is the badge the database now holds for it (Parse increments first, then groups the devices by badge).
 */
async function changeBadges(services: Services, badge: BadgeChange, installations: JsonRecord[]): Promise<void> {
  const ids = installations.map((installation) => String(installation.objectId));
  const set = badge.kind === 'increment' ? 'COALESCE("badge", 0) + $1::float8' : '$1::float8';
  const { rows } = await services.driver.query<{ objectId: string; badge: number }>(
    `UPDATE "_Installation" SET "badge" = ${set}, "updatedAt" = now() WHERE "objectId" = ANY($2::text[]) RETURNING "objectId", "badge"`,
    [badge.kind === 'increment' ? badge.amount : badge.value, ids],
  );
  const badges = new Map(rows.map((row) => [row.objectId, row.badge]));
  for (const installation of installations) {
    const value = badges.get(String(installation.objectId));
    if (value !== undefined) installation.badge = value;
  }
}

/** One `send` within the time limit; a synchronous throw, a rejection and a timeout all become a rejection. */
async function sendWithin(service: PushService, body: Record<string, unknown>, installations: JsonRecord[], statusId: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the push adapter did not answer within ${service.sendTimeoutMs} ms`)), service.sendTimeoutMs);
    // A hung adapter must not keep a stopping process alive.
    timer.unref();
  });
  try {
    // race subscribes to both, so an adapter that rejects after the timeout is still handled (and ignored).
    return await Promise.race([Promise.resolve().then(() => service.adapter.send(body, installations, statusId)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Running totals of a push, counted from the adapter's results as Parse's StatusHandler counts them. */
class Tally {
  sent = 0;
  failed = 0;
  private readonly sentPerType = new Map<string, number>();
  private readonly failedPerType = new Map<string, number>();

  add(transmitted: boolean, deviceType: string | undefined, devices = 1): void {
    if (transmitted) this.sent += devices;
    else this.failed += devices;
    if (deviceType === undefined) return;
    const counts = transmitted ? this.sentPerType : this.failedPerType;
    counts.set(deviceType, (counts.get(deviceType) ?? 0) + devices);
  }

  /** An adapter's results: one per device, possibly nested; results without `device.deviceType` are ignored (Parse). */
  addResults(results: unknown): void {
    if (!Array.isArray(results)) return;
    for (const result of results.flat(Infinity) as unknown[]) {
      if (typeof result !== 'object' || result === null) continue;
      const { device, transmitted } = result as { device?: { deviceType?: unknown }; transmitted?: unknown };
      if (typeof device?.deviceType !== 'string') continue;
      this.add(transmitted === true, device.deviceType);
    }
  }

  totals(): DeliveryTally {
    // Map → entries: a device type named `__proto__` is an own key, never a prototype.
    return { sent: this.sent, failed: this.failed, sentPerType: Object.fromEntries(this.sentPerType), failedPerType: Object.fromEntries(this.failedPerType) };
  }
}

const typeOf = (installation: JsonRecord): string | undefined => (typeof installation.deviceType === 'string' ? installation.deviceType : undefined);

/** Groups of one batch, each delivered by one `send`: same deviceType, and the same badge when badges changed. */
function groups(installations: JsonRecord[], byBadge: boolean): Map<string, { deviceType: string | undefined; badge: unknown; devices: JsonRecord[] }> {
  const grouped = new Map<string, { deviceType: string | undefined; badge: unknown; devices: JsonRecord[] }>();
  for (const installation of installations) {
    const deviceType = typeOf(installation);
    const badge = byBadge ? installation.badge : undefined;
    const key = JSON.stringify([deviceType ?? null, badge ?? null]);
    const group = grouped.get(key) ?? { deviceType, badge, devices: [] };
    group.devices.push(installation);
    grouped.set(key, group);
  }
  return grouped;
}

/**
 * Delivers a push: the audience (`where` and a device token, as Parse) is read with master access through the
 * ordinary find (no find triggers: the server's own read), a batch at a time; each batch's badges are changed,
 * then each group of one device type goes to the adapter. A type the adapter does not serve, an adapter that
 * throws or exceeds `sendTimeoutMs`, counts its devices as failed; the push ends `succeeded`, or `failed` with
 * the first adapter error. Nothing here can reach the process: the caller logs and records whatever escapes.
 */
async function deliver(services: Services, service: PushService, record: PushStatusRecord, request: PushRequest, where: Condition): Promise<void> {
  const caller: Caller = { auth: MASTER, access: callerAccess(MASTER, services), services };
  const audience = await find(caller, page(where, undefined, 0, true), 'find', { cloudTriggers: false });
  const batches = Math.ceil((audience.count ?? 0) / PUSH_BATCH_SIZE);
  if (batches === 0) return record.succeeded();
  await record.running(batches);
  const validTypes = new Set<unknown>(service.adapter.getValidPushTypes());
  const tally = new Tally();
  let firstError: string | undefined;
  let after: string | undefined;
  for (let done = 0; ; ) {
    const { results } = await find(caller, page(where, after, PUSH_BATCH_SIZE), 'find', { cloudTriggers: false });
    if (results.length === 0) break;
    if (request.badge !== undefined) await changeBadges(services, request.badge, results);
    for (const group of groups(results, request.badge !== undefined).values()) {
      if (group.deviceType === undefined || !validTypes.has(group.deviceType)) {
        tally.add(false, group.deviceType, group.devices.length);
        continue;
      }
      // Each send gets its own copy: an adapter may change what it is given.
      const body = structuredClone(request.body);
      if (request.badge !== undefined && typeof group.badge === 'number') (body.data as Record<string, unknown>).badge = group.badge;
      try {
        tally.addResults(await sendWithin(service, body, group.devices, record.objectId));
      } catch (error) {
        firstError ??= error instanceof Error ? error.message : String(error);
        logSafely(services.log, 'error', { err: error, pushStatusId: record.objectId }, 'the push adapter failed');
        tally.add(false, group.deviceType, group.devices.length);
      }
    }
    done += 1;
    await record.progress(tally.totals(), Math.max(batches - done, 0));
    if (results.length < PUSH_BATCH_SIZE) break;
    after = String(results.at(-1)?.objectId);
  }
  if (firstError !== undefined) return record.failed(firstError);
  return record.succeeded();
}

/** Runs a delivery in the background; whatever goes wrong is logged and recorded as `failed`, never thrown. */
export function startDelivery(services: Services, service: PushService, record: PushStatusRecord, request: PushRequest, where: Condition): Promise<void> {
  return deliver(services, service, record, request, where).catch(async (error: unknown) => {
    logSafely(services.log, 'error', { err: error, pushStatusId: record.objectId }, 'sending a push failed');
    await record.failed('The push could not be sent.').catch((recordError: unknown) => {
      logSafely(services.log, 'error', { err: recordError, pushStatusId: record.objectId }, 'could not record a failed push');
    });
  });
}
