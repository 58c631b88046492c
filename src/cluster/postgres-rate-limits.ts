/**
 * Rate-limit counters in PostgreSQL, so every node counts against the same window: a limit of 3 a minute
 * is 3 for the app, not 3 per node. One statement per counted request; the upsert takes the row lock, so
 * concurrent hits on any node are counted one by one.
 */
import { createHash } from 'node:crypto';
import type { RateLimitStore } from '../security/rate-limit-store.ts';
import type { Driver } from '../storage/driver.ts';

const DDL = `CREATE TABLE IF NOT EXISTS "_RateLimitCounter" (
  "key" text PRIMARY KEY,
  "windowStart" timestamptz NOT NULL,
  "windowMs" integer NOT NULL,
  "count" integer NOT NULL
)`;

// A window that has run out starts again at 1; otherwise the count goes up. The clock is the database's,
// so nodes whose clocks disagree still share one window.
const HIT = `INSERT INTO "_RateLimitCounter" AS c ("key", "windowStart", "windowMs", "count") VALUES ($1::text, clock_timestamp(), $2::integer, 1)
ON CONFLICT ("key") DO UPDATE SET
  "count" = CASE WHEN clock_timestamp() - c."windowStart" >= make_interval(secs => $2::integer / 1000.0) THEN 1 ELSE c."count" + 1 END,
  "windowStart" = CASE WHEN clock_timestamp() - c."windowStart" >= make_interval(secs => $2::integer / 1000.0) THEN clock_timestamp() ELSE c."windowStart" END,
  "windowMs" = $2::integer
RETURNING "count"`;

const PRUNE = `DELETE FROM "_RateLimitCounter" WHERE clock_timestamp() - "windowStart" >= make_interval(secs => "windowMs" / 1000.0)`;
const PRUNE_INTERVAL_MS = 60_000;

export class PostgresRateLimitStore implements RateLimitStore {
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly driver: Driver) {
    // Finished windows are deleted now and then, so many distinct callers cannot grow the table without bound.
    this.timer = setInterval(() => {
      driver.query(PRUNE).catch(() => undefined);
    }, PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  static async open(driver: Driver): Promise<PostgresRateLimitStore> {
    await driver.query(DDL);
    return new PostgresRateLimitStore(driver);
  }

  async hit(key: string, windowMs: number): Promise<number> {
    // Keys join their parts with NUL, which PostgreSQL text cannot hold; a digest also bounds their length.
    const digest = createHash('sha256').update(key).digest('base64url');
    const { rows } = await this.driver.query<{ count: number }>(HIT, [digest, Math.min(Math.max(1, Math.round(windowMs)), 2_147_483_647)]);
    return rows[0]?.count ?? 1;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
