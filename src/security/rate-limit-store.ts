/**
 * Where rate-limit counters live. One counter per key and fixed window; `hit` counts one call and returns
 * the count in the current window. The in-memory store counts per process; the scale-out work backs this
 * interface with Redis or PostgreSQL so a limit of 3 is 3 for the whole cluster. Cloud validators' limits
 * and the server's `rateLimit` rules share one store per server (their keys never collide: each names its
 * scope).
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
