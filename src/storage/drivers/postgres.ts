import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Driver, QueryResult, SqlExecutor } from '../driver.ts';

/** How many distinct statements each connection keeps prepared; beyond it statements run unnamed. */
const PREPARED_STATEMENT_LIMIT = 500;

/**
 * PostgreSQL through `pg`. Statements are prepared per connection (named by a hash of their text) so the
 * hot queries skip planning after the first use; values always travel as bound parameters.
 */
export async function openPostgres(connectionString: string, poolSize: number, statementTimeoutMs: number): Promise<Driver> {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    statement_timeout: statementTimeoutMs > 0 ? statementTimeoutMs : undefined,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener the process dies.
  pool.on('error', (error) => {
    console.error(`[parsec] idle PostgreSQL connection failed: ${error.message}`);
  });
  const names = new Map<string, string>();
  const statementName = (sql: string): string | undefined => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= PREPARED_STATEMENT_LIMIT) return known;
    const name = `p_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    names.set(sql, name);
    return name;
  };
  const wrap = (target: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const name = params.length > 0 ? statementName(sql) : undefined;
      const result = await target.query<Row & pg.QueryResultRow>({ text: sql, values: params as unknown[], name });
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },
  });
  // Fail at startup, not on the first request, when the database is unreachable.
  await pool.query('SELECT 1');
  const executor = wrap(pool);
  return {
    kind: 'postgres',
    query: (sql, params) => executor.query(sql, params),
    async transaction(work) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // A connection that cannot roll back is destroyed rather than returned poisoned to the pool.
          broken = true;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    afterCommit(callback) {
      callback();
    },
    maintain() {
      // PostgreSQL's autovacuum does this work.
      return Promise.resolve();
    },
    async close() {
      await pool.end();
    },
  };
}
