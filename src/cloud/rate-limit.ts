import { createHash } from 'node:crypto';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { NO_CLIENT } from '../http/client-info.ts';
import type { Caller } from '../rest/services.ts';
import type { RateLimitOptions } from './validator.ts';

/**
 * Where rate-limit counters live. One counter per key and fixed window; `hit` counts one call and returns
 * the count in the current window. The in-memory store counts per process; the scale-out work backs this
 * interface with Redis or PostgreSQL so a limit of 3 is 3 for the whole cluster.
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<number>;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { startedAt: number; count: number; windowMs: number }>();
  private nextSweep = 0;

  hit(key: string, windowMs: number): Promise<number> {
    const now = Date.now();
    this.sweep(now);
    const current = this.windows.get(key);
    if (current === undefined || now - current.startedAt >= windowMs) {
      this.windows.set(key, { startedAt: now, count: 1, windowMs });
      return Promise.resolve(1);
    }
    current.count += 1;
    return Promise.resolve(current.count);
  }

  /** Drops finished windows now and then, so many distinct callers cannot grow the map without bound. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 10_000;
    for (const [key, window] of this.windows) if (now - window.startedAt >= window.windowMs) this.windows.delete(key);
  }
}

/** Who a call counts against: the zone decides (an unauthenticated caller falls back to the IP). */
function zoneKey(caller: Caller, zone: RateLimitOptions['zone']): string {
  const { auth } = caller;
  const ip = `ip:${(caller.client ?? NO_CLIENT).ip}`;
  switch (zone ?? 'ip') {
    case 'global':
      return 'global';
    case 'user':
      return auth.kind === 'user' ? `user:${auth.userId}` : ip;
    case 'session':
      return auth.kind === 'user' ? `session:${createHash('sha256').update(auth.sessionToken).digest('hex')}` : ip;
    case 'ip':
      return ip;
  }
}

/**
 * Counts one call of a limited function or trigger and refuses it (HTTP 429, Parse code 100) past the
 * limit. It is applied where the call runs, not where the URL is matched, so every way of arriving counts
 * alike: a direct request, a batch sub-request, a `_method` override, GET or POST, and cloud code's own calls
 * when `includeInternalRequests` is set. Loopback callers are not exempt (Parse Server exempts 127.0.0.1).
 */
export async function enforceRateLimit(caller: Caller, store: RateLimitStore, scope: string, limit: RateLimitOptions | undefined, fromCloud: boolean): Promise<void> {
  if (limit === undefined) return;
  const isMaster = caller.auth.kind === 'master' || caller.auth.kind === 'readOnlyMaster' || caller.auth.kind === 'maintenance';
  if (isMaster && limit.includeMasterKey !== true) return;
  if (fromCloud && limit.includeInternalRequests !== true) return;
  const count = await store.hit(`${scope}\u0000${zoneKey(caller, limit.zone)}`, limit.requestTimeWindow);
  if (count > limit.requestCount) throw new ParseError(ErrorCode.CONNECTION_FAILED, limit.errorResponseMessage ?? 'Too many requests.');
}
