import { LocalBus, type InvalidationBus } from '../cluster/invalidation.ts';
import type { JsonRecord } from '../rest/encode.ts';
import type { Driver } from '../storage/driver.ts';

/** How long a user's own record is reused for `request.user` without reading it again (changes on this node clear it at once). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;

/** Freezes a JSON value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Each user's own record as they see it, for `request.user` in cloud code: a function called with a
 * session would otherwise read the user on every call. Every write to a user on this node forgets that
 * user (now and again when its transaction commits), and a generation counter keeps a read that raced a
 * write from caching what it read. Other nodes forget the user when the write commits (the invalidation bus);
 * while the bus cannot be trusted the cache is not read, and an entry lives at most CACHE_MS whatever
 * happens. Records are deep-frozen and handed out as they are, one object per entry (so what is derived
 * from a record can be kept per entry, see cloud/request-user.ts): no caller can change the cache, and none
 * pays for a copy.
 */
export class UserCache {
  private readonly entries = new Map<string, { user: JsonRecord; cachedAt: number }>();
  private generation = 0;

  constructor(private readonly bus: InvalidationBus = new LocalBus()) {
    bus.subscribe({
      apply: (event) => {
        if (event.kind === 'user') this.drop(event.userId);
      },
      reset: () => this.drop(undefined),
    });
  }

  /** The cached record while it is fresh and trusted: a synchronous look-up, so `request.user` costs no promise then. */
  cached(userId: string): Readonly<JsonRecord> | undefined {
    const hit = this.bus.trusted ? this.entries.get(userId) : undefined;
    return hit !== undefined && Date.now() - hit.cachedAt < CACHE_MS ? hit.user : undefined;
  }

  async get(userId: string, load: () => Promise<JsonRecord>): Promise<Readonly<JsonRecord>> {
    const now = Date.now();
    const hit = this.bus.trusted ? this.entries.get(userId) : undefined;
    if (hit !== undefined && now - hit.cachedAt < CACHE_MS) return hit.user;
    const generation = this.generation;
    const user = deepFreeze(await load());
    if (generation === this.generation) {
      if (this.entries.size >= CACHE_LIMIT) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(userId, { user, cachedAt: now });
    }
    return user;
  }

  /** undefined: every user. */
  private drop(userId: string | undefined): void {
    this.generation += 1;
    if (userId === undefined) this.entries.clear();
    else this.entries.delete(userId);
  }

  /** Forgets a user (undefined: every user) now and again when the writing transaction commits, here and on every node. */
  async forget(db: Driver, userId: string | undefined): Promise<void> {
    this.drop(userId);
    db.afterCommit(() => this.drop(userId));
    await this.bus.publish(db, userId === undefined ? { kind: 'user' } : { kind: 'user', userId });
  }
}
