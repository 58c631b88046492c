/**
 * What a node shares with the others: the invalidation bus and the rate-limit counters. On PostgreSQL a
 * node may have peers, so both go through the database (and the counters through Redis when configured);
 * embedded PGlite is one process by construction (its directory is locked), so both stay in memory.
 */
import type { ParsecConfig } from '../config/types.ts';
import { MemoryRateLimitStore, type RateLimitStore } from '../security/rate-limit-store.ts';
import type { Driver } from '../storage/driver.ts';
import { LocalBus, type InvalidationBus } from './invalidation.ts';
import { PostgresBus, type BusLog } from './postgres-bus.ts';
import { PostgresRateLimitStore } from './postgres-rate-limits.ts';
import { RedisRateLimitStore } from './redis-rate-limits.ts';

export interface ClusterLinks {
  readonly bus: InvalidationBus;
  readonly rateLimits: RateLimitStore;
  close(): Promise<void>;
}

export async function openCluster(config: ParsecConfig, driver: Driver, log: BusLog): Promise<ClusterLinks> {
  if (driver.kind !== 'postgres') {
    return { bus: new LocalBus(), rateLimits: new MemoryRateLimitStore(), close: () => Promise.resolve() };
  }
  const bus = await PostgresBus.open(config.databaseURI, driver, log);
  try {
    const counters = await PostgresRateLimitStore.open(driver);
    const redis = config.redisURL === undefined ? undefined : await RedisRateLimitStore.open(config.redisURL, config.appId, counters, log);
    return {
      bus,
      rateLimits: redis ?? counters,
      async close() {
        counters.close();
        await redis?.close();
        await bus.close();
      },
    };
  } catch (error) {
    await bus.close();
    throw error;
  }
}
