import type { Driver } from '../storage/driver.ts';

/** How long one node trusts a user's expanded roles without asking the database again (changes on this node clear it at once). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;

/**
 * Every role a user holds: the roles whose `users` relation names them, and, transitively, every role whose
 * `roles` relation names a role they hold. One recursive statement; `UNION` (not `UNION ALL`) stops at
 * roles already found, so a cycle in the hierarchy ends the recursion instead of looping.
 */
const EXPAND_ROLES = `
WITH RECURSIVE held("objectId", "name") AS (
  SELECT r."objectId", r."name" FROM "_Role" AS r
    JOIN "_Join:users:_Role" AS m ON m."owningId" = r."objectId"
    WHERE m."relatedId" = $1::text
  UNION
  SELECT r."objectId", r."name" FROM "_Role" AS r
    JOIN "_Join:roles:_Role" AS c ON c."owningId" = r."objectId"
    JOIN held ON c."relatedId" = held."objectId"
)
SELECT DISTINCT "name" FROM held WHERE "name" IS NOT NULL ORDER BY "name"`;

/**
 * Role expansion per user, cached. Any change to any role clears the whole cache (role writes are rare,
 * and a change deep in the hierarchy affects users it never names). A generation counter keeps a lookup
 * that started before a change from caching its stale answer after it.
 */
export class RoleStore {
  private readonly cache = new Map<string, { roles: readonly string[]; cachedAt: number }>();
  private generation = 0;

  constructor(private readonly driver: Driver) {}

  async rolesOf(userId: string): Promise<readonly string[]> {
    const now = Date.now();
    const hit = this.cache.get(userId);
    if (hit !== undefined && now - hit.cachedAt < CACHE_MS) return hit.roles;
    const generation = this.generation;
    const { rows } = await this.driver.query<{ name: string }>(EXPAND_ROLES, [userId]);
    const roles = Object.freeze(rows.map((row) => row.name));
    if (generation === this.generation) this.remember(userId, roles, now);
    return roles;
  }

  /** Forgets every expansion, now and again when the writing transaction commits. */
  invalidate(db: Driver): void {
    const clear = (): void => {
      this.generation += 1;
      this.cache.clear();
    };
    clear();
    db.afterCommit(clear);
  }

  private remember(userId: string, roles: readonly string[], now: number): void {
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(userId, { roles, cachedAt: now });
  }
}
