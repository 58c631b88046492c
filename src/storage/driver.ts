/**
 * What the storage layer needs from a database connection. Both drivers speak the PostgreSQL dialect and
 * run the same SQL text; only connection handling differs.
 */
export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export interface Driver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction; a throw rolls back everything it did and leaves the connection usable. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `callback` once the enclosing transaction has committed (at once outside a transaction), so
   * in-memory caches only ever reflect committed state.
   */
  afterCommit(callback: () => void): void;
  /**
   * Routine maintenance the engine does not do by itself (PGlite has no autovacuum): `analyze` refreshes
   * planner statistics if rows changed since the last run (without them the planner reads whole tables
   * through the ACL index); `vacuum` also reclaims space.
   */
  maintain(level?: 'analyze' | 'vacuum'): Promise<void>;
  close(): Promise<void>;
}

/** The subset of a database error we act on; both drivers report PostgreSQL SQLSTATE codes. */
export interface DatabaseErrorLike {
  code?: string;
  message?: string;
}

export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as DatabaseErrorLike).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Deadlock and serialization failures: the database rolled the transaction back and it may simply be rerun. */
const TRANSIENT = new Set(['40P01', '40001']);
const ATTEMPTS = 5;
/** Drivers bound to a transaction by `withTransaction`: work on them joins that transaction. */
const bound = new WeakSet<Driver>();

/**
 * Runs `work` in one transaction with a driver bound to it: its queries, nested transactions and schema
 * changes all join that transaction, and after-commit work (cache updates) waits for the real commit.
 * Inside an outer transaction (a transactional `/batch`) it simply joins the outer one. The outermost
 * transaction is rerun when the database aborts it as a deadlock (concurrent schema changes and inserts on
 * one class), as Parse reruns transactional batches on transient errors; nothing of an aborted run remains.
 */
export async function withTransaction<T>(driver: Driver, work: (db: Driver) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const pending: (() => void)[] = [];
    try {
      const result = await driver.transaction((tx) => {
        const db: Driver = {
          kind: driver.kind,
          query: (sql, params) => tx.query(sql, params),
          transaction: (inner) => inner(tx),
          afterCommit: (callback) => {
            pending.push(callback);
          },
          maintain: () => Promise.resolve(),
          close: () => Promise.resolve(),
        };
        bound.add(db);
        return work(db);
      });
      for (const callback of pending) driver.afterCommit(callback);
      return result;
    } catch (error) {
      if (bound.has(driver) || attempt >= ATTEMPTS || !TRANSIENT.has(sqlState(error) ?? '')) throw error;
      // A random pause, so that the transactions that collided do not simply collide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
    }
  }
}
