/**
 * Cross-node invalidation over PostgreSQL's LISTEN/NOTIFY, so a cluster needs nothing but its database.
 * NOTIFY is transactional: sent in the writing transaction, it is delivered when that transaction commits
 * and dropped if it rolls back, which is exactly when other nodes must forget what they cached.
 *
 * Fail closed: the node listens on a connection of its own and sends itself a heartbeat through the same
 * channel. While that connection is down, or its own heartbeat is late (the channel lags), `trusted` is
 * false and every cache is bypassed; when the connection comes back, every cache is dropped (messages may
 * have been missed) before it is trusted again.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import { readInvalidation, type Invalidation, type InvalidationBus, type InvalidationListener } from './invalidation.ts';

const CHANNEL = 'parsec_invalidation';
export const HEARTBEAT_MS = 250;
/** How late our own heartbeat may be before the channel counts as lagging. */
export const LAG_LIMIT_MS = 1_000;
const RECONNECT_MAX_MS = 2_000;

export interface BusLog {
  warn(message: string): void;
  info(message: string): void;
}

interface Envelope {
  readonly from: string;
  readonly event?: Invalidation;
  readonly heartbeat?: number;
}

export class PostgresBus implements InvalidationBus {
  private readonly nodeId = randomUUID();
  private readonly listeners: InvalidationListener[] = [];
  private client: pg.Client | undefined;
  private connected = false;
  private lastHeartbeat = 0;
  private closed = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = 100;
  private wasTrusted = true;

  private constructor(
    private readonly connectionString: string,
    private readonly driver: Driver,
    private readonly log: BusLog,
  ) {}

  /** Connects the listener before the node serves anything, so it starts trusted. */
  static async open(connectionString: string, driver: Driver, log: BusLog): Promise<PostgresBus> {
    const bus = new PostgresBus(connectionString, driver, log);
    await bus.connect();
    bus.heartbeatTimer = setInterval(() => bus.beat(), HEARTBEAT_MS);
    bus.heartbeatTimer.unref();
    return bus;
  }

  get trusted(): boolean {
    const trusted = this.connected && Date.now() - this.lastHeartbeat <= LAG_LIMIT_MS;
    if (trusted !== this.wasTrusted) {
      this.wasTrusted = trusted;
      if (trusted) this.log.info('cache invalidation channel is back: caches are trusted again');
      else this.log.warn('cache invalidation channel is down or late: sessions, roles and schemas are read from the database until it recovers');
    }
    return trusted;
  }

  async publish(db: SqlExecutor, event: Invalidation): Promise<void> {
    await db.query('SELECT pg_notify($1::text, $2::text)', [CHANNEL, JSON.stringify({ from: this.nodeId, event } satisfies Envelope)]);
  }

  subscribe(listener: InvalidationListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    // Without an 'error' listener a lost connection would crash the process.
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    client.on('notification', (message) => this.received(message.payload));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    // Anything may have changed while we were not listening.
    for (const listener of this.listeners) listener.reset();
    this.connected = true;
    this.lastHeartbeat = Date.now();
    this.reconnectDelay = 100;
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.connected = false;
    this.log.warn(`cache invalidation listener lost (${reason}); reconnecting`);
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.log.warn(`cache invalidation listener cannot reconnect: ${error instanceof Error ? error.message : String(error)}`);
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
        this.scheduleReconnect();
      });
    }, this.reconnectDelay);
    timer.unref();
  }

  private beat(): void {
    if (!this.connected) return;
    const envelope: Envelope = { from: this.nodeId, heartbeat: Date.now() };
    this.driver.query('SELECT pg_notify($1::text, $2::text)', [CHANNEL, JSON.stringify(envelope)]).catch(() => {
      // The database is unreachable: the heartbeat stays late and the caches untrusted.
    });
  }

  private received(payload: string | undefined): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload ?? '') as Envelope;
    } catch {
      return;
    }
    if (envelope.from === this.nodeId) {
      if (typeof envelope.heartbeat === 'number') this.lastHeartbeat = Date.now();
      // Our own changes were applied locally when they were made.
      return;
    }
    const event = readInvalidation(envelope.event);
    if (event === undefined) return;
    for (const listener of this.listeners) listener.apply(event);
  }
}
