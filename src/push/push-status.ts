import { createHash } from 'node:crypto';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import type { Driver } from '../storage/driver.ts';

export const PUSH_STATUS_CLASS = '_PushStatus';

/** Parse's `_PushStatus` columns, under Parse's names and types (SchemaController defaultColumns). */
const PUSH_STATUS_FIELDS = new Map<string, FieldType>([
  ['pushTime', { type: 'String' }],
  ['source', { type: 'String' }],
  ['query', { type: 'String' }],
  ['payload', { type: 'String' }],
  ['title', { type: 'String' }],
  ['expiry', { type: 'Number' }],
  ['expiration_interval', { type: 'Number' }],
  ['status', { type: 'String' }],
  ['numSent', { type: 'Number' }],
  ['numFailed', { type: 'Number' }],
  ['pushHash', { type: 'String' }],
  ['errorMessage', { type: 'Object' }],
  ['sentPerType', { type: 'Object' }],
  ['failedPerType', { type: 'Object' }],
  ['sentPerUTCOffset', { type: 'Object' }],
  ['failedPerUTCOffset', { type: 'Object' }],
  ['count', { type: 'Number' }],
]);

export async function ensurePushStatusClass(driver: Driver, schemas: SchemaStore): Promise<void> {
  await schemas.ensureFields(PUSH_STATUS_CLASS, PUSH_STATUS_FIELDS, driver);
}

const NOTHING: Condition = { type: 'or', conditions: [] };

/** `_PushStatus` is readable with the master key only, as in Parse; only the server writes it. */
export function pushStatusPlugin(): ClassPlugin {
  return {
    className: PUSH_STATUS_CLASS,
    operations: new Set(['find', 'get', 'count']),
    masterOnly: true,
    // Never reached by a non-master caller (masterOnly); kept so the row rule does not depend on that check.
    rowFilter: () => NOTHING,
  };
}

export type PushState = 'scheduled' | 'pending' | 'running' | 'succeeded' | 'failed';

/** What one push's record starts with (Parse's StatusHandler `setInitial`). */
export interface InitialStatus {
  readonly objectId: string;
  readonly status: 'scheduled' | 'pending';
  readonly pushTime: string;
  readonly where: Record<string, unknown>;
  readonly data: Record<string, unknown>;
  readonly expiry: number | undefined;
  readonly expirationInterval: number | undefined;
}

/** Parse's pushHash: the MD5 of the alert (text, or its JSON), or of nothing. An identifier, not a secret. */
function pushHash(data: Record<string, unknown>): string {
  const { alert } = data;
  const text = typeof alert === 'string' ? alert : typeof alert === 'object' && alert !== null ? JSON.stringify(alert) : '';
  return createHash('md5').update(text).digest('hex');
}

/** Tallies of one delivery: devices sent and failed, in total and per device type. */
export interface DeliveryTally {
  readonly sent: number;
  readonly failed: number;
  readonly sentPerType: Readonly<Record<string, number>>;
  readonly failedPerType: Readonly<Record<string, number>>;
}

/**
 * The `_PushStatus` record of one push, written only by the server. The ACL is empty: only the master key
 * reads it.
 */
export class PushStatusRecord {
  constructor(
    private readonly driver: Driver,
    readonly objectId: string,
  ) {}

  static async create(driver: Driver, initial: InitialStatus): Promise<PushStatusRecord> {
    const now = new Date().toISOString();
    await driver.query(
      'INSERT INTO "_PushStatus" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "pushTime", "source", "query", "payload", ' +
        '"expiry", "expiration_interval", "status", "numSent", "pushHash") ' +
        "VALUES ($1::text, $2::timestamptz, $2::timestamptz, '{}'::text[], '{}'::text[], $3::text, 'rest', $4::text, $5::text, " +
        '$6::float8, $7::float8, $8::text, 0, $9::text)',
      [
        initial.objectId,
        now,
        initial.pushTime,
        JSON.stringify(initial.where),
        JSON.stringify(initial.data),
        initial.expiry ?? null,
        initial.expirationInterval ?? null,
        initial.status,
        pushHash(initial.data),
      ],
    );
    return new PushStatusRecord(driver, initial.objectId);
  }

  /** Delivery starts: `count` is the number of batches still to send (Parse's meaning). */
  async running(batches: number): Promise<void> {
    await this.driver.query(
      'UPDATE "_PushStatus" SET "status" = \'running\', "count" = $1::float8, "numFailed" = COALESCE("numFailed", 0), "updatedAt" = now() WHERE "objectId" = $2::text',
      [batches, this.objectId],
    );
  }

  /**
   * Progress after a batch: the push's running totals (one push's batches are delivered one after another by
   * the node that accepted it, so the totals it holds are the whole truth) and the batches still to send.
   */
  async progress(totals: DeliveryTally, remainingBatches: number): Promise<void> {
    await this.driver.query(
      'UPDATE "_PushStatus" SET "numSent" = $1::float8, "numFailed" = $2::float8, "sentPerType" = $3::jsonb, "failedPerType" = $4::jsonb, ' +
        '"count" = $5::float8, "updatedAt" = now() WHERE "objectId" = $6::text',
      [totals.sent, totals.failed, JSON.stringify(totals.sentPerType), JSON.stringify(totals.failedPerType), remainingBatches, this.objectId],
    );
  }

  /** Every batch sent: `succeeded`, and `count` removed as Parse removes it. */
  async succeeded(): Promise<void> {
    await this.driver.query(
      'UPDATE "_PushStatus" SET "status" = \'succeeded\', "count" = NULL, "numFailed" = COALESCE("numFailed", 0), "updatedAt" = now() WHERE "objectId" = $1::text',
      [this.objectId],
    );
  }

  /** The push could not be delivered (an adapter that threw or timed out, a failing query): `failed` with why. */
  async failed(message: string): Promise<void> {
    await this.driver.query(
      'UPDATE "_PushStatus" SET "status" = \'failed\', "errorMessage" = $1::jsonb, "count" = NULL, "updatedAt" = now() WHERE "objectId" = $2::text',
      [JSON.stringify({ message: message.slice(0, 2000) }), this.objectId],
    );
  }
}
