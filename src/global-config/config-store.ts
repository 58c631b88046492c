import type { Driver, SqlExecutor } from '../storage/driver.ts';

/**
 * Parse's global config (`Parse.Config`): one row of `_GlobalConfig` (objectId "1", as Parse stores it), its
 * `params` and which of them only the master key may read (`masterKeyOnly`). Nothing is cached: a read is one
 * primary-key lookup, so every node sees a change at once and there is nothing to invalidate.
 */
export interface GlobalConfig {
  readonly params: Readonly<Record<string, unknown>>;
  /** Names of the params hidden from clients (only `true` flags are kept). */
  readonly masterKeyOnly: ReadonlySet<string>;
}

/** One change: values to set (with their master-only flag) and names to delete. */
export interface ConfigChange {
  readonly set: Readonly<Record<string, unknown>>;
  readonly masterKeyOnly: readonly string[];
  /** Params deleted, and params set without the master-only flag: their flag is cleared. */
  readonly unflagged: readonly string[];
  readonly deleted: readonly string[];
}

const ROW_ID = '1';

export async function ensureGlobalConfigTable(driver: Driver): Promise<void> {
  // Parse's PostgreSQL layout for this class, so a database migrated from Parse keeps its config.
  await driver.query('CREATE TABLE IF NOT EXISTS "_GlobalConfig" ("objectId" text PRIMARY KEY, "params" jsonb, "masterKeyOnly" jsonb)');
}

export async function readGlobalConfig(db: SqlExecutor): Promise<GlobalConfig> {
  const { rows } = await db.query<{ params: Record<string, unknown> | null; masterKeyOnly: Record<string, unknown> | null }>(
    'SELECT "params", "masterKeyOnly" FROM "_GlobalConfig" WHERE "objectId" = $1::text',
    [ROW_ID],
  );
  const row = rows[0];
  const flags = Object.entries(row?.masterKeyOnly ?? {}).filter(([, flag]) => flag === true).map(([name]) => name);
  return { params: row?.params ?? {}, masterKeyOnly: new Set(flags) };
}

/**
 * Applies a change in one statement: each param is merged into the stored object by the database, so two
 * concurrent saves of different params both land (as Parse's per-key update does).
 */
export async function updateGlobalConfig(db: SqlExecutor, change: ConfigChange): Promise<void> {
  const flags = JSON.stringify(Object.fromEntries(change.masterKeyOnly.map((name) => [name, true])));
  await db.query(
    'INSERT INTO "_GlobalConfig" ("objectId", "params", "masterKeyOnly") VALUES ($1::text, $2::jsonb, $3::jsonb) ' +
      'ON CONFLICT ("objectId") DO UPDATE SET ' +
      '"params" = (COALESCE("_GlobalConfig"."params", \'{}\'::jsonb) - $4::text[]) || $2::jsonb, ' +
      '"masterKeyOnly" = (COALESCE("_GlobalConfig"."masterKeyOnly", \'{}\'::jsonb) - $5::text[]) || $3::jsonb',
    [ROW_ID, JSON.stringify(change.set), flags, [...change.deleted], [...change.unflagged]],
  );
}
