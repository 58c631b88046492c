import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Driver, QueryResult, SqlExecutor } from '../driver.ts';
import { lockDirectory } from './directory-lock.ts';

const WRITES = /^\s*(INSERT|UPDATE|DELETE|CREATE|ALTER|DROP)\b/i;

/**
 * Embedded PostgreSQL (WASM). One connection; PGlite serialises queries itself and a transaction holds the
 * connection exclusively. Good for development and single-node use: it survives a process crash but does
 * not fsync, so it is not power-loss durable.
 */
export async function openPGlite(dataDir: string | undefined, statementTimeoutMs: number): Promise<Driver> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const release = dataDir === undefined ? () => undefined : lockDirectory(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  } catch (error) {
    release();
    throw error;
  }
  await db.exec(`SET statement_timeout = ${Math.max(0, Math.floor(statementTimeoutMs))}`);
  let changed = false;
  const wrap = (target: PGlite | Transaction): SqlExecutor => ({
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      if (!changed && WRITES.test(sql)) changed = true;
      const result = await target.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
  });
  const executor = wrap(db);
  return {
    kind: 'pglite',
    query: (sql, params) => executor.query(sql, params),
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    afterCommit(callback) {
      callback();
    },
    async maintain(level = 'vacuum') {
      if (level === 'analyze' && !changed) return;
      changed = false;
      await db.exec(level === 'vacuum' ? 'VACUUM ANALYZE' : 'ANALYZE');
    },
    async close() {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
