import { LocalBus, type InvalidationBus } from '../cluster/invalidation.ts';
import type { Driver } from '../storage/driver.ts';

/** The longest one node trusts a user's expanded roles without asking the database again (any role change clears it at once, on every node). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;

/**
 * Every role a user holds: the roles whose `users` relation names them, and, transitively, every role whose
 * `roles` relation names a role they hold. One recursive statement; `UNION` (not `UNION ALL`) stops at
 * roles already found, so a cycle in the hierarchy ends the recursion instead of looping.
 */
export function roleNamesOf(userId: string): string {
  return `(
WITH RECURSIVE held("objectId", "name") AS (
  SELECT r."objectId", r."name" FROM "_Role" AS r
    JOIN "_Join:users:_Role" AS m ON m."owningId" = r."objectId"
    WHERE m."relatedId" = ${userId}
  UNION
  SELECT r."objectId", r."name" FROM "_Role" AS r
    JOIN "_Join:roles:_Role" AS c ON c."owningId" = r."objectId"
    JOIN held ON c."relatedId" = held."objectId"
)
SELECT coalesce(array_agg(DISTINCT "name" ORDER BY "name"), '{}'::text[]) FROM held WHERE "name" IS NOT NULL)`;
}

const EXPAND_ROLES = `SELECT ${roleNamesOf('$1::text')} AS "roles"`;

/**
 * Role expansion per user, cached. Any change to any role clears the whole cache, on this node at once and
 * on the others through the invalidation bus when it commits (role writes are rare, and a change deep in the
 * hierarchy affects users it never names). A generation counter keeps a lookup that started before a change
 * from caching its stale answer after it; while the bus cannot be trusted the cache is not read.
 */
export class RoleStore {
  private readonly cache = new Map<string, { roles: readonly string[]; cachedAt: number }>();
  private generation = 0;

  constructor(
    private readonly driver: Driver,
    private readonly bus: InvalidationBus = new LocalBus(),
  ) {
    const clear = (): void => this.clear();
    bus.subscribe({ apply: (event) => event.kind === 'roles' && clear(), reset: clear });
  }

  async rolesOf(userId: string): Promise<readonly string[]> {
    const now = Date.now();
    const hit = this.bus.trusted ? this.cache.get(userId) : undefined;
    if (hit !== undefined && now - hit.cachedAt < CACHE_MS) return hit.roles;
    const generation = this.generation;
    const { rows } = await this.driver.query<{ roles: string[] | null }>(EXPAND_ROLES, [userId]);
    return this.learned(userId, rows[0]?.roles ?? [], generation);
  }

  /** Where a lookup begins: pass it back to `learned` with what the lookup found. */
  get currentGeneration(): number {
    return this.generation;
  }

  /**
   * Records an expansion read by someone else's statement (the session lookup reads it in the same query),
   * unless a role changed since that statement began.
   */
  learned(userId: string, names: readonly string[], generation: number): readonly string[] {
    const roles = Object.freeze([...names]);
    if (generation === this.generation) this.remember(userId, roles, Date.now());
    return roles;
  }

  private clear(): void {
    this.generation += 1;
    this.cache.clear();
  }

  /** Forgets every expansion, now and again when the writing transaction commits, here and on every node. */
  async invalidate(db: Driver): Promise<void> {
    this.clear();
    db.afterCommit(() => this.clear());
    await this.bus.publish(db, { kind: 'roles' });
  }

  private remember(userId: string, roles: readonly string[], now: number): void {
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(userId, { roles, cachedAt: now });
  }
}
