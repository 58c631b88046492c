import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Driver, QueryResult, SqlExecutor } from '../driver.ts';

/** How many distinct statements each connection keeps prepared; beyond it statements run unnamed. */
const PREPARED_STATEMENT_LIMIT = 500;

/** Named prepared statements for one pool's connections, named by a hash of their text. */
function preparingExecutor(): (target: pg.Pool | pg.PoolClient) => SqlExecutor {
  const names = new Map<string, string>();
  const statementName = (sql: string): string | undefined => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= PREPARED_STATEMENT_LIMIT) return known;
    const name = `p_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    names.set(sql, name);
    return name;
  };
  return (target) => ({
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const name = params.length > 0 ? statementName(sql) : undefined;
      const result = await target.query<Row & pg.QueryResultRow>({ text: sql, values: params as unknown[], name });
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },
  });
}

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
  const wrap = preparingExecutor();
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

/** How long a replica connection attempt may take before the read goes to the primary instead. */
const REPLICA_CONNECT_TIMEOUT_MS = 2_000;
/** How long the replica's health probe may wait for its answer. */
const REPLICA_PROBE_TIMEOUT_MS = 1_000;

/** A pool on a read replica; see openPostgresReplica. */
export interface ReplicaPool {
  /**
   * A read on the replica. When `abandon` settles first, the read is given up (rejected) and its connection
   * destroyed, so a replica that stopped answering holds neither the caller nor a connection.
   */
  query<Row>(sql: string, params: readonly unknown[] | undefined, abandon: Promise<void>): Promise<QueryResult<Row>>;
  /** A health probe, answered within a second or failed (its connection destroyed). */
  probe<Row>(sql: string): Promise<QueryResult<Row>>;
  close(): Promise<void>;
}

/**
 * A pool on a streaming replica (`readReplicaURI`), for reads only: the same prepared statements and
 * statement timeout as the primary's pool, but it opens without connecting and every wait is bounded
 * (connecting, the probe, and each read on the client side too, in case the network swallows packets),
 * because a replica that is down must cost a read a detour to the primary, never an error or a hang. Lost
 * idle connections are not logged here: the replica's state changes are, once each, by its poller.
 */
export function openPostgresReplica(connectionString: string, poolSize: number, statementTimeoutMs: number): ReplicaPool {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    statement_timeout: statementTimeoutMs > 0 ? statementTimeoutMs : undefined,
    query_timeout: (statementTimeoutMs > 0 ? statementTimeoutMs : 30_000) + 1_000,
    connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
  });
  pool.on('error', () => undefined);
  const wrap = preparingExecutor();
  return {
    async query<Row>(sql: string, params: readonly unknown[] | undefined, abandon: Promise<void>): Promise<QueryResult<Row>> {
      const client = await pool.connect();
      let failure: Error | undefined;
      // A checked-out client whose connection dies emits 'error' (the pool only listens on idle ones); unheard,
      // it would end the process. The read itself fails too, and is rerun on the primary.
      const lost = (error: Error): void => {
        failure = error;
      };
      client.on('error', lost);
      try {
        const given = abandon.then(() => {
          throw new Error('read abandoned: the replica stopped answering');
        });
        return await Promise.race([wrap(client).query<Row>(sql, params), given]);
      } catch (error) {
        // As pool.query does: a connection that failed a statement is not reused.
        failure = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.removeListener('error', lost);
        client.release(failure);
      }
    },
    async probe<Row>(sql: string): Promise<QueryResult<Row>> {
      const result = await pool.query<Row & pg.QueryResultRow>({ text: sql, query_timeout: REPLICA_PROBE_TIMEOUT_MS } as pg.QueryConfig);
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },
    close: () => pool.end(),
  };
}
