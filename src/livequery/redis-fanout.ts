/**
 * LiveQuery across nodes through Redis pub/sub, when `redisURL` is configured: a change is published once
 * the writing transaction has committed (never for a rollback), on a channel of its own app, and every
 * other node dispatches it to its own subscribers exactly as the writer dispatches it locally. Redis has no
 * payload limit worth the name, so unlike NOTIFY no change goes through a table.
 *
 * Not guaranteed: a node that crashes between its commit and the publish loses that change for the other
 * nodes; a publish while Redis is unreachable is dropped (and logged); a node whose subscriber connection is
 * down misses what is published meanwhile (pub/sub keeps nothing). This is Parse Server's guarantee too.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import type { Driver } from '../storage/driver.ts';
import type { Logger } from '../rest/services.ts';
import { withTimeout } from '../storage/with-timeout.ts';
import { isPlainObject } from '../query/values.ts';
import { readChange, type ChangeFanout, type RowChange } from './feed.ts';

const CHANNEL_PREFIX = 'parsec:livequery:';
const PUBLISH_TIMEOUT_MS = 2_000;
const CLOSE_TIMEOUT_MS = 1_000;

function newClient(url: string) {
  return createClient({
    url,
    // A publish while disconnected fails at once rather than piling up in memory for an unknown time.
    disableOfflineQueue: true,
    // Reconnects forever: the subscriber resubscribes by itself once Redis is back.
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
  });
}

type RedisClient = ReturnType<typeof newClient>;

interface Envelope {
  readonly from: string;
  readonly change: unknown;
}

export class RedisFanout implements ChangeFanout {
  private readonly nodeId = randomUUID();
  private closed = false;
  private subscriberLost = false;
  private publishFailing = false;

  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    /** Apps sharing one Redis never hear each other's changes. */
    private readonly channel: string,
    private readonly deliver: (change: RowChange) => void,
    private readonly log: () => Logger,
  ) {}

  /** Connects and subscribes before the node serves anything, so no change committed afterwards is missed. */
  static async open(url: string, appId: string, deliver: (change: RowChange) => void, log: () => Logger): Promise<RedisFanout> {
    const publisher = newClient(url);
    // Without an 'error' listener a lost connection would crash the process; the fanout's own listeners log.
    publisher.on('error', () => undefined);
    const subscriber = publisher.duplicate();
    subscriber.on('error', () => undefined);
    const fanout = new RedisFanout(publisher, subscriber, CHANNEL_PREFIX + appId, deliver, log);
    try {
      await publisher.connect();
      await subscriber.connect();
      await subscriber.subscribe(fanout.channel, (message) => fanout.received(message));
    } catch (error) {
      await fanout.close();
      throw error;
    }
    fanout.watch();
    return fanout;
  }

  /**
   * Publishing from inside the transaction could tell the other nodes of a write that then rolls back, so
   * the publish waits for the commit; its failure is logged, never turned into the writer's error.
   */
  announce(db: Driver, change: RowChange): Promise<void> {
    db.afterCommit(() => {
      this.publish(change).catch((error: unknown) => this.publishFailed(error, change));
    });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([quit(this.subscriber), quit(this.publisher)]);
  }

  private async publish(change: RowChange): Promise<void> {
    if (this.closed) return;
    const message = JSON.stringify({ from: this.nodeId, change } satisfies Envelope);
    await withTimeout(this.publisher.publish(this.channel, message), PUBLISH_TIMEOUT_MS, 'Redis PUBLISH timed out');
    if (this.publishFailing) {
      this.publishFailing = false;
      this.log().info({}, 'LiveQuery: publishing changes to other nodes through Redis works again');
    }
  }

  private publishFailed(error: unknown, change: RowChange): void {
    if (this.closed) return;
    // One error per outage, not one per write.
    if (this.publishFailing) return;
    this.publishFailing = true;
    this.log().error({ err: error, className: change.className }, 'LiveQuery: publishing a change to other nodes through Redis failed; other nodes miss it');
  }

  private watch(): void {
    const lost = (error?: unknown): void => {
      if (this.closed || this.subscriberLost) return;
      this.subscriberLost = true;
      this.log().warn({ ...(error === undefined ? {} : { err: error }) }, 'LiveQuery: the Redis subscriber for other nodes\' changes was lost; reconnecting (changes meanwhile are missed)');
    };
    this.subscriber.on('error', (error: unknown) => lost(error));
    this.subscriber.on('reconnecting', () => lost());
    this.subscriber.on('ready', () => {
      if (this.closed || !this.subscriberLost) return;
      this.subscriberLost = false;
      this.log().info({}, 'LiveQuery: the Redis subscriber for other nodes\' changes is back');
    });
  }

  private received(message: string): void {
    try {
      const envelope: unknown = JSON.parse(message);
      // This node's own changes were dispatched when they committed here.
      if (!isPlainObject(envelope) || envelope.from === this.nodeId) return;
      const change = readChange(envelope.change);
      if (change !== undefined) this.deliver(change);
    } catch (error) {
      this.log().error({ err: error }, 'LiveQuery: reading another node\'s change from Redis failed');
    }
  }
}

/** Closes gracefully, or drops the socket if Redis does not answer (a client stuck reconnecting would wait forever). */
async function quit(client: RedisClient): Promise<void> {
  try {
    await withTimeout(client.close(), CLOSE_TIMEOUT_MS, 'Redis close timed out');
  } catch {
    try {
      client.destroy();
    } catch {
      // Already closed.
    }
  }
}
