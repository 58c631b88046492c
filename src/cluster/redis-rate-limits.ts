/**
 * Rate-limit counters in Redis, for clusters that have it: one round trip, no database write per counted
 * request. Redis stays optional for correctness: while it is unreachable the counters fall back to
 * PostgreSQL (still shared by every node), rather than letting every request through or refusing them all.
 */
import { createClient } from '@redis/client';
import type { RateLimitStore } from '../security/rate-limit-store.ts';
import type { BusLog } from './postgres-bus.ts';
import { withTimeout } from '../storage/with-timeout.ts';


function newClient(url: string) {
  const client = createClient({
    url,
    // Fail fast instead of queueing while disconnected: the fallback answers meanwhile.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
  });
  // Without an 'error' listener a lost connection would crash the process.
  client.on('error', () => undefined);
  return client;
}

type RedisClient = ReturnType<typeof newClient>;

const KEY_PREFIX = 'parsec:rl:';
const COMMAND_TIMEOUT_MS = 500;

export class RedisRateLimitStore implements RateLimitStore {
  private usingFallback = false;

  private constructor(
    private readonly client: RedisClient,
    /** Apps sharing one Redis never share counters. */
    private readonly prefix: string,
    private readonly fallback: RateLimitStore,
    private readonly log: BusLog,
  ) {}

  static async open(url: string, appId: string, fallback: RateLimitStore, log: BusLog): Promise<RedisRateLimitStore> {
    const client = newClient(url);
    await client.connect();
    return new RedisRateLimitStore(client, `${KEY_PREFIX}${appId}:`, fallback, log);
  }

  async hit(key: string, windowMs: number): Promise<number> {
    try {
      const replies = await withTimeout(
        this.client
          .multi()
          .set(this.prefix + key, '0', { condition: 'NX', expiration: { type: 'PX', value: Math.max(1, Math.round(windowMs)) } })
          .incr(this.prefix + key)
          .exec(),
        COMMAND_TIMEOUT_MS,
        'Redis command timed out',
      );
      const count = Number(replies[1]);
      this.switchTo(false);
      if (Number.isInteger(count)) return count;
    } catch {
      this.switchTo(true);
    }
    return this.fallback.hit(key, windowMs);
  }

  private switchTo(fallback: boolean): void {
    if (fallback === this.usingFallback) return;
    this.usingFallback = fallback;
    if (fallback) this.log.warn('Redis is unreachable: rate limits are counted in PostgreSQL until it returns');
    else this.log.info('Redis is back: rate limits are counted in Redis again');
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}

