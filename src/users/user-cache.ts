import type { JsonRecord } from '../rest/encode.ts';
import type { Driver } from '../storage/driver.ts';

/** How long a user's own record is reused for `request.user` without reading it again (changes on this node clear it at once). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;

/**
 * Each user's own record as they see it, for `request.user` in cloud code: a function called with a
 * session would otherwise read the user on every call. Every write to a user on this node forgets that
 * user (now and again when its transaction commits), and a generation counter keeps a read that raced a
 * write from caching what it read. Other nodes are told by the scale-out work; until then an entry lives
 * at most CACHE_MS. Callers get a copy, so nothing they do changes the cache.
 */
export class UserCache {
  private readonly entries = new Map<string, { user: JsonRecord; cachedAt: number }>();
  private generation = 0;

  async get(userId: string, load: () => Promise<JsonRecord>): Promise<JsonRecord> {
    const now = Date.now();
    const hit = this.entries.get(userId);
    if (hit !== undefined && now - hit.cachedAt < CACHE_MS) return structuredClone(hit.user);
    const generation = this.generation;
    const user = await load();
    if (generation === this.generation) {
      if (this.entries.size >= CACHE_LIMIT) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(userId, { user: structuredClone(user), cachedAt: now });
    }
    return user;
  }

  forget(db: Driver, userId: string): void {
    const drop = (): void => {
      this.generation += 1;
      this.entries.delete(userId);
    };
    drop();
    db.afterCommit(drop);
  }
}
