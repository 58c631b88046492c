/**
 * Where the privilege ledger's records live: one row per batch in `_PrivilegeLedgerBatch` (the batch's
 * records as one JSON array, and the times of its first and last record), read through the view
 * `_PrivilegeLedger`, one row per record, which the master key queries like any class.
 *
 * Why not a row per record: appending a row costs PostgreSQL about 10 µs (parsing it, the heap, the WAL,
 * two index entries), paid by the same CPUs that serve the request it describes; a batch of a thousand
 * records is one row, one value compressed into TOAST, and two index entries. Reads pay instead: a query
 * expands the batches it reads, so the ledger's plugin narrows every query with a `createdAt` bound or a
 * record id to the batches whose time span can hold its records (see ledger-bounds.ts).
 */
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import { RECORD_FIELDS, RECORD_ID, type LedgerBatch } from './ledger-batch.ts';

export const LEDGER_VIEW = '_PrivilegeLedger';
export const BATCH_TABLE = '_PrivilegeLedgerBatch';
/** The view's columns holding the time span of the batch a record came in. */
export const BATCH_FIRST = 'batchFirstAt';
export const BATCH_LAST = 'batchLastAt';

/** Each record field's type in the view (what a class table of these fields would have). */
const FIELD_TYPES: Readonly<Record<(typeof RECORD_FIELDS)[number], string>> = {
  objectId: 'text',
  createdAt: 'timestamptz',
  keyKind: 'text',
  ip: 'text',
  method: 'text',
  path: 'text',
  origin: 'text',
  onBehalfOf: 'text',
  className: 'text',
  operation: 'text',
  objectIds: 'jsonb',
  status: 'double precision',
};

function fieldColumn(field: (typeof RECORD_FIELDS)[number], position: number): string {
  const type = FIELD_TYPES[field];
  const value = type === 'jsonb' ? `r -> ${position}` : type === 'text' ? `r ->> ${position}` : `(r ->> ${position})::${type}`;
  return `${value} AS "${field}"`;
}

/**
 * Each record as a class row: the system columns a class has (`updatedAt` is its `createdAt`, nothing
 * updates a record; no ACL, only the master keys read it), the fields, and its batch's span.
 */
const VIEW_SQL = `CREATE OR REPLACE VIEW "${LEDGER_VIEW}" AS SELECT ${[
  fieldColumn('objectId', 0),
  fieldColumn('createdAt', 1),
  `(r ->> 1)::timestamptz AS "updatedAt"`,
  `'{}'::text[] AS "_rperm"`,
  `'{}'::text[] AS "_wperm"`,
  ...RECORD_FIELDS.slice(2).map((field, i) => fieldColumn(field, i + 2)),
  `b."firstAt" AS "${BATCH_FIRST}"`,
  `b."lastAt" AS "${BATCH_LAST}"`,
].join(', ')} FROM "${BATCH_TABLE}" b CROSS JOIN LATERAL jsonb_array_elements(b."records"::jsonb) AS r`;

/**
 * The time a record id starts with (recordIdTime in SQL), for ids of that shape. Ids an
 * earlier version gave its records had it too, but their `createdAt` was the time of the write, up to a
 * retry later: a batch's span must hold both times.
 */
const ID_TIME = `CASE WHEN "objectId" ~ '${RECORD_ID.source}' THEN timestamptz 'epoch' + interval '1 millisecond' *
  (SELECT sum((strpos('0123456789abcdefghijklmnopqrstuvwxyz', substr("objectId", i, 1)) - 1)::numeric * 36::numeric ^ (9 - i)) FROM generate_series(1, 9) AS i) END`;

/**
 * A ledger written by an earlier Parsec (a table with a row per record) moves into batches of a thousand,
 * in the order recorded, each record as the encoder writes it: times in milliseconds, as the spans too, so
 * neither a record's time nor its id's falls outside its batch's span.
 */
const MIGRATE_ROWS = `INSERT INTO "${BATCH_TABLE}" ("firstAt", "lastAt", "size", "records")
  SELECT least(date_trunc('milliseconds', min("createdAt")), min("idTime")), greatest(date_trunc('milliseconds', max("createdAt")), max("idTime")), count(*), jsonb_agg(jsonb_build_array(${RECORD_FIELDS.map((field) =>
    field === 'createdAt' ? `to_char("createdAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `"${field}"`,
  ).join(', ')}) ORDER BY "createdAt", "objectId")::text
  FROM (SELECT *, ${ID_TIME} AS "idTime", (row_number() OVER (ORDER BY "createdAt", "objectId") - 1) / 1000 AS "chunk" FROM "${LEDGER_VIEW}") AS "old"
  GROUP BY "chunk"`;

async function relationKind(tx: SqlExecutor, name: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ relkind: string }>(
    'SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = $1',
    [name],
  );
  return rows[0]?.relkind;
}

/**
 * Creates the batch table and the view (or moves an earlier row-per-record table into batches), in one
 * transaction that nodes starting together take in turn.
 */
export async function ensureLedgerStorage(driver: Driver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parsec:${LEDGER_VIEW}`]);
    await tx.query(`CREATE TABLE IF NOT EXISTS "${BATCH_TABLE}" ("firstAt" timestamptz NOT NULL, "lastAt" timestamptz NOT NULL, "size" integer NOT NULL, "records" text NOT NULL)`);
    // Similar records compress well; lz4 costs a fraction of the default's CPU (PGlite is built without it).
    const { rows } = await tx.query<{ lz4: boolean }>(`SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`);
    if (rows[0]?.lz4 === true) await tx.query(`ALTER TABLE "${BATCH_TABLE}" ALTER COLUMN "records" SET COMPRESSION lz4`);
    await tx.query(`CREATE INDEX IF NOT EXISTS "${BATCH_TABLE}_lastAt" ON "${BATCH_TABLE}" ("lastAt")`);
    await tx.query(`CREATE INDEX IF NOT EXISTS "${BATCH_TABLE}_firstAt" ON "${BATCH_TABLE}" ("firstAt")`);
    if ((await relationKind(tx, LEDGER_VIEW)) === 'r') {
      await tx.query(MIGRATE_ROWS);
      await tx.query(`DROP TABLE "${LEDGER_VIEW}"`);
    }
    await tx.query(VIEW_SQL);
  });
}

/** Appends one batch: a single row, whatever the number of records. */
export async function insertBatch(driver: Driver, batch: LedgerBatch): Promise<void> {
  const { first, last } = batch.span;
  await driver.query(`INSERT INTO "${BATCH_TABLE}" ("firstAt", "lastAt", "size", "records") VALUES ($1, $2, $3, $4)`, [first, last, batch.size, batch.json()]);
}

/** How many records the ledger holds, from its batches' sizes (a count of the view reads every record). */
export async function countRecords(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ total: string | number | null }>(`SELECT sum("size") AS "total" FROM "${BATCH_TABLE}"`);
  return Number(rows[0]?.total ?? 0);
}

/**
 * Deletes the batches whose every record is older than `days` days: a record may outlive the retention by
 * its batch's span (a quarter of a second, or the time the database was away).
 */
export async function deleteBatchesOlderThan(driver: Driver, days: number): Promise<void> {
  await driver.query(`DELETE FROM "${BATCH_TABLE}" WHERE "lastAt" < now() - make_interval(days => $1::int)`, [days]);
}
