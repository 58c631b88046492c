/**
 * LiveQuery across nodes on PostgreSQL without `redisURL` (with it, redis-fanout.ts): every committed
 * change of a LiveQuery class is announced with NOTIFY from the writing transaction (so it leaves at
 * commit, and never for a rollback), and every other node dispatches it to its own subscribers exactly as
 * the writer dispatches it locally. NOTIFY payloads are limited to 8000 bytes: a larger change is stored
 * in `_LiveQueryChange` in the same transaction and only its id is announced (rows are pruned after a few
 * minutes).
 *
 * Not guaranteed: changes announced while a node's listening connection is down are not replayed; its
 * subscribers miss them (as with Parse Server's Redis pub/sub).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import type { Logger } from '../rest/services.ts';
import { readChange, type ChangeFanout, type RowChange } from './feed.ts';
import { isPlainObject } from '../query/values.ts';

const CHANNEL = 'parsec_livequery';
/** Room left under PostgreSQL's 8000-byte limit for the envelope around the change. */
const INLINE_LIMIT = 7000;
const KEEP_MINUTES = 10;
const PRUNE_MS = 60_000;
const RECONNECT_MS = 500;

interface Envelope {
  readonly from: string;
  readonly change?: RowChange;
  readonly ref?: string;
}

export class PostgresFanout implements ChangeFanout {
  private readonly nodeId = randomUUID();
  private client: pg.Client | undefined;
  private closed = false;
  private readonly pruneTimer: NodeJS.Timeout;

  private constructor(
    private readonly connectionString: string,
    private readonly driver: Driver,
    private readonly deliver: (change: RowChange) => void,
    private readonly log: () => Logger,
  ) {
    this.pruneTimer = setInterval(() => {
      this.driver.query(`DELETE FROM "_LiveQueryChange" WHERE "createdAt" < now() - interval '${KEEP_MINUTES} minutes'`).catch(() => undefined);
    }, PRUNE_MS);
    this.pruneTimer.unref();
  }

  static async open(connectionString: string, driver: Driver, deliver: (change: RowChange) => void, log: () => Logger): Promise<PostgresFanout> {
    await driver.query('CREATE TABLE IF NOT EXISTS "_LiveQueryChange" ("id" bigserial PRIMARY KEY, "createdAt" timestamptz NOT NULL DEFAULT now(), "change" jsonb NOT NULL)');
    const fanout = new PostgresFanout(connectionString, driver, deliver, log);
    await fanout.connect();
    return fanout;
  }

  /** Announces a change from inside the writing transaction `db`. */
  async announce(db: SqlExecutor, change: RowChange): Promise<void> {
    const inline = JSON.stringify({ from: this.nodeId, change } satisfies Envelope);
    if (Buffer.byteLength(inline) <= INLINE_LIMIT) {
      await db.query('SELECT pg_notify($1::text, $2::text)', [CHANNEL, inline]);
      return;
    }
    const { rows } = await db.query<{ id: string }>('INSERT INTO "_LiveQueryChange" ("change") VALUES ($1::jsonb) RETURNING "id"::text AS "id"', [JSON.stringify(change)]);
    await db.query('SELECT pg_notify($1::text, $2::text)', [CHANNEL, JSON.stringify({ from: this.nodeId, ref: rows[0]?.id } satisfies Envelope)]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      this.received(message.payload).catch((error: unknown) => this.log().error({ err: error }, 'LiveQuery: reading another node\'s change failed'));
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.log().warn({}, 'LiveQuery: the listener for other nodes\' changes was lost; reconnecting (changes meanwhile are missed)');
    client.end().catch(() => undefined);
    const retry = (): void => {
      if (this.closed) return;
      this.connect().catch(() => setTimeout(retry, RECONNECT_MS).unref());
    };
    setTimeout(retry, RECONNECT_MS).unref();
  }

  private async received(payload: string | undefined): Promise<void> {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload ?? '') as Envelope;
    } catch {
      return;
    }
    // This node's own changes were dispatched when they committed here.
    if (!isPlainObject(envelope) || envelope.from === this.nodeId) return;
    let raw: unknown = envelope.change;
    if (typeof envelope.ref === 'string') {
      const { rows } = await this.driver.query<{ change: unknown }>('SELECT "change" FROM "_LiveQueryChange" WHERE "id" = $1::bigint', [envelope.ref]);
      raw = rows[0]?.change;
    }
    const change = readChange(typeof raw === 'string' ? JSON.parse(raw) : raw);
    if (change !== undefined) this.deliver(change);
  }
}
