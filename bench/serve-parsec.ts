/**
 * Child process: one Parsec server under test. argv[2] is JSON `{databaseURI, poolSize, maxLimit}` (and for
 * a node of the cluster bench, `cluster`: its Redis URL, its rate-limit rules, `trustProxy`). It runs
 * the bench's cloud code (bench/cloud/main.js), and its `serverURL` is its own address: were the cloud code's
 * SDK to send its queries over HTTP, they would come back to this very server (and be counted, see below).
 * Extra commands:
 * - `analyze` refreshes planner statistics after seeding, as autovacuum (PostgreSQL) or Parsec's own
 *   periodic VACUUM ANALYZE (PGlite) would in a server that has been up a while. Without it the planner
 *   sees a freshly filled table as empty and plans the find differently (see bench/README.md). On PGlite,
 *   Parsec's own periodic ANALYZE is switched off in this child (see `withoutPeriodicAnalyze`): the bench
 *   refreshes the statistics with this command between measurements instead;
 * - `traceStart` / `traceStop` record every statement Parsec sends in between, text and bound parameters
 *   (in order, duplicates kept, transactions included), for counting what one request costs and for taking
 *   the database limit's statements from Parsec itself; only used while no load is applied, so the driver
 *   is not wrapped while anything is measured;
 * - `explainSessionLookup` runs `EXPLAIN (ANALYZE, FORMAT JSON)` of the session lookup Parsec sent (the
 *   traced statement, text and parameters, after refreshing statistics), as the table is and at scale;
 * - `hashLimit` runs Parsec's `verifyPassword` in loops on this process's thread pool (see hash-limit.ts);
 * - `drain` returns once every password hash already queued on the thread pool has run;
 * - `httpCountStart` / `httpCountStop` record every HTTP request this server receives in between, and every
 *   HTTP request this process sends (node:http and fetch, through their diagnostics channels): the proof
 *   that a cloud function's `Parse.Query` is dispatched in process, not as an HTTP round trip in disguise.
 *   Only used while no load is applied.
 * - `ledger` switches the privilege ledger off (`{on: false}`: the router dispatches without its observer) or
 *   back on (the observer Parsec installed); `switchedStart`, `ledgerSwitch` and `switchedStop` do the same
 *   under a continuous load, each switch returning the responses finished, the observer's calls and the CPU
 *   time so far (ledger-switch.ts); `ledgerRecords` flushes the ledger's buffer and counts the records of
 *   `_PrivilegeLedger` in SQL. Together: the ledger's cost and its correctness guard (ledger-check.ts).
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:net';
import type { RateLimitRule } from '../src/config/types.ts';
import type { Driver, SqlExecutor } from '../src/storage/driver.ts';
import { createParsec, type Parsec } from '../src/server.ts';
import { testConfig } from '../test/helpers/server.ts';
import { runChild } from './child-main.ts';
import { LedgerSwitch } from './ledger-switch.ts';
import type { HttpCount } from './cloud-check.ts';
import { measureHashLimit, verifyOnce, type HashLimitRequest } from './hash-limit.ts';
import { readsSessions, summarize, TRANSACTION_MARK, type SessionLookupPlan, type TracedStatement } from './session-plan.ts';
import { LIVE_CLASS } from './livequery-model.ts';
import { CLOUD_CODE_FILE, CLOUD_ENV } from './workload.ts';

interface ParsecChildArgs {
  readonly databaseURI: string;
  readonly poolSize: number;
  readonly maxLimit: number;
  /** A node of the cluster bench (cluster.ts): what differs from the single-node server. */
  readonly cluster?: {
    readonly redisURL: string | undefined;
    readonly rateLimit: readonly RateLimitRule[];
    /** Behind a load balancer: the client address is the `X-Forwarded-For` the bench sends. */
    readonly trustProxy: boolean;
  };
}

/** Replaces one method of the driver; the returned function puts the very original property back. */
function patch<K extends 'query' | 'transaction'>(driver: Driver, key: K, replacement: Driver[K]): () => void {
  const own = Object.getOwnPropertyDescriptor(driver, key);
  driver[key] = replacement;
  return () => {
    if (own !== undefined) Object.defineProperty(driver, key, own);
    else delete (driver as Partial<Driver>)[key]; // it was inherited: uncover the prototype's again
  };
}

/** Passes every statement Parsec sends through `driver`, in or out of a transaction, to `tap`. */
function tapSql(driver: Driver, tap: (statement: TracedStatement) => void): () => void {
  const query = driver.query.bind(driver);
  const transaction = driver.transaction.bind(driver);
  // A copy: the parameters as bound, whatever the caller does with its array afterwards.
  const record = (text: string, params: readonly unknown[] | undefined): void => tap({ text, params: structuredClone([...(params ?? [])]) });
  const restoreQuery = patch(driver, 'query', <Row>(text: string, params?: readonly unknown[]) => {
    record(text, params);
    return query<Row>(text, params);
  });
  const restoreTransaction = patch(driver, 'transaction', <T>(work: (tx: SqlExecutor) => Promise<T>) => {
    record(TRANSACTION_MARK, []);
    return transaction((tx) =>
      work({
        query: <Row>(text: string, params?: readonly unknown[]) => {
          record(text, params);
          return tx.query<Row>(text, params);
        },
      }),
    );
  });
  return () => {
    restoreTransaction();
    restoreQuery();
  };
}

/**
 * Parsec runs ANALYZE on PGlite every 30 s once anything was written. PGlite runs in this process, so that
 * blocks Parsec's event loop, for 0.6–1 s on the bench's tables: landing inside a measured window (3 s with
 * --quick) it takes up to a third of it, at random — the likeliest reason PGlite's cloud-function ratios
 * came out lower than PostgreSQL's, since a call that touches no database costs the same CPU on both. Like
 * VACUUM (`vacuumIntervalMs: 0`), it is kept out of the measurements: the periodic call does nothing here,
 * and the bench's `analyze` command refreshes the statistics (VACUUM ANALYZE) between measurements.
 * PostgreSQL's autovacuum runs in its own processes.
 */
function withoutPeriodicAnalyze(driver: Driver): void {
  if (driver.kind !== 'pglite') return;
  const maintain = driver.maintain.bind(driver);
  driver.maintain = (level) => (level === 'analyze' ? Promise.resolve() : maintain(level));
}

async function refreshStatistics(driver: Driver, tables = '"BenchItem", "Secured", "_User", "_Session", "_Role", "_Join:users:_Role", "_Join:roles:_Role"'): Promise<void> {
  if (driver.kind === 'pglite') await driver.maintain();
  else await driver.query(`ANALYZE ${tables}`);
}

/** `_Session` rows of a modest production app, for planning the lookup at a realistic size. */
const SESSIONS_AT_SCALE = 10_000;

/** Carries a result out of a transaction that must roll back. */
class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

async function sessionRows(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "_Session"');
  return rows[0]?.n ?? -1;
}

/**
 * `EXPLAIN (ANALYZE, FORMAT JSON)` of the session lookup exactly as Parsec sent it (the traced text and
 * parameters), twice: on `_Session` as the bench left it (a few hundred rows, where a sequential scan is
 * the planner's right choice), and with `SESSIONS_AT_SCALE` synthetic sessions added and analyzed inside a
 * transaction that is then rolled back (nothing of them remains but the row-count estimate in pg_class,
 * which the planner rescales to the table's real size anyway). ANALYZE runs the statement: it is a read.
 */
async function explainSessionLookup(driver: Driver, lookup: TracedStatement): Promise<SessionLookupPlan> {
  if (!/^\s*SELECT\b/i.test(lookup.text) || !readsSessions(lookup.text)) throw new Error(`explainSessionLookup: not a session lookup: ${lookup.text}`);
  await refreshStatistics(driver, '"_Session"');
  const explain = `EXPLAIN (ANALYZE, FORMAT JSON) ${lookup.text}`;
  const params = [...lookup.params];
  const asIs = { ...summarize((await driver.query<Record<string, unknown>>(explain, params)).rows), sessionRows: await sessionRows(driver) };
  try {
    await driver.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO "_Session" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "user", "expiresAt", "_session_token_hash") ' +
          "SELECT 'bench' || g, now(), now(), ARRAY['benchUser'], ARRAY['benchUser'], 'benchUser', now() + interval '1 year', " +
          "encode(sha256(('bench-session-' || g)::bytea), 'hex') FROM generate_series(1, $1::int) AS g",
        [SESSIONS_AT_SCALE],
      );
      await tx.query('ANALYZE "_Session"');
      const plan = summarize((await tx.query<Record<string, unknown>>(explain, params)).rows);
      throw new Rollback({ ...plan, sessionRows: await sessionRows(tx) });
    });
  } catch (error) {
    if (error instanceof Rollback) return { ...asIs, atScale: error.value as SessionLookupPlan['atScale'] };
    throw error;
  }
  throw new Error('explainSessionLookup: the planning transaction did not roll back');
}

/** The diagnostics channels on which node:http and fetch (undici) announce each request they send. */
const OUTGOING_CHANNELS = {
  'http.client.request.start': (message: unknown) => {
    const request = (message as { request?: { method?: string; host?: string; path?: string } }).request;
    return `${request?.method ?? '?'} http://${request?.host ?? '?'}${request?.path ?? ''}`;
  },
  'undici:request:create': (message: unknown) => {
    const request = (message as { request?: { method?: string; origin?: string; path?: string } }).request;
    return `${request?.method ?? '?'} ${request?.origin ?? '?'}${request?.path ?? ''}`;
  },
} as const;

/** Records the HTTP requests `server` receives and those this process sends, until the returned function is called. */
function countHttp(server: Server): () => HttpCount {
  const count: { incoming: string[]; outgoing: string[] } = { incoming: [], outgoing: [] };
  const onRequest = (request: IncomingMessage): void => {
    count.incoming.push(`${request.method ?? '?'} ${request.url ?? ''}`);
  };
  server.on('request', onRequest);
  const subscribers = Object.entries(OUTGOING_CHANNELS).map(([name, describe]) => {
    const subscriber = (message: unknown): void => {
      count.outgoing.push(describe(message));
    };
    diagnostics.subscribe(name, subscriber);
    return () => diagnostics.unsubscribe(name, subscriber);
  });
  return () => {
    server.off('request', onRequest);
    for (const unsubscribe of subscribers) unsubscribe();
    return count;
  };
}

/** A port nobody listens on now, so `serverURL` can name this server's address before it listens. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('freePort: no TCP address');
  return address.port;
}

/**
 * Parsec with the bench's cloud code, listening on 127.0.0.1 at the port its `serverURL` names. The port
 * is chosen before Parsec starts (its config is fixed then); taken meanwhile by someone else, another one.
 */
async function startParsec(args: ParsecChildArgs): Promise<{ parsec: Parsec; port: number }> {
  Object.assign(process.env, CLOUD_ENV);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const parsec = await createParsec(
      testConfig({
        databaseURI: args.databaseURI,
        databasePoolSize: args.poolSize,
        maxLimit: args.maxLimit,
        logLevel: 'silent',
        // Maintenance mid-measurement would be noise; the bench measures steady-state request handling.
        vacuumIntervalMs: 0,
        // The bench logs in thousands of times from 127.0.0.1: it measures the work, not the rate limits
        // (the cluster bench's one rule counts one route's calls in the shared store, see cluster.ts).
        rateLimit: args.cluster?.rateLimit ?? [],
        redisURL: args.cluster?.redisURL,
        trustProxy: args.cluster?.trustProxy ?? false,
        cloud: CLOUD_CODE_FILE,
        // The LiveQuery scenario's 1,000 clients all come from 127.0.0.1, 20 to a user (livequery-load.ts).
        liveQuery: { classNames: [LIVE_CLASS], maxConnectionsPerIp: 5000, maxConnectionsPerUser: 5000, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 },
        serverURL: `http://127.0.0.1:${port}/parse`,
      }),
    );
    try {
      await parsec.app.listen({ port, host: '127.0.0.1' });
      return { parsec, port };
    } catch (error) {
      await parsec.close();
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

await runChild(async () => {
  const args = JSON.parse(process.argv[2] ?? '{}') as ParsecChildArgs;
  const { parsec, port } = await startParsec(args);
  const { driver } = parsec.services;
  withoutPeriodicAnalyze(driver);
  let trace: { statements: TracedStatement[]; restore: () => void } | undefined;
  let httpCount: (() => HttpCount) | undefined;
  const ledgerSwitch = new LedgerSwitch(parsec.router, parsec.services.ledger, parsec.app.server);
  return {
    port,
    close: () => parsec.close(),
    commands: {
      analyze: async () => {
        await refreshStatistics(driver);
        return true;
      },
      traceStart: async () => {
        if (trace !== undefined) throw new Error('traceStart: already recording');
        // Records buffered by earlier master-key requests (the seeding's) would be written inside the trace.
        await parsec.services.ledger.flush();
        const statements: TracedStatement[] = [];
        trace = { statements, restore: tapSql(driver, (statement) => statements.push(statement)) };
        return true;
      },
      traceStop: () => {
        if (trace === undefined) throw new Error('traceStop: not recording');
        trace.restore();
        const { statements } = trace;
        trace = undefined;
        return statements;
      },
      httpCountStart: () => {
        if (httpCount !== undefined) throw new Error('httpCountStart: already counting');
        httpCount = countHttp(parsec.app.server);
        return true;
      },
      httpCountStop: () => {
        if (httpCount === undefined) throw new Error('httpCountStop: not counting');
        const count = httpCount();
        httpCount = undefined;
        return count;
      },
      ledger: async (payload) => {
        ledgerSwitch.set((payload as { on: boolean }).on);
        // A request keeps the observer it was dispatched with: let those still in flight (autocannon abandons
        // them when a run ends) finish before anything is counted.
        await new Promise((resolve) => setTimeout(resolve, 500));
        return true;
      },
      switchedStart: () => {
        ledgerSwitch.startCounting();
        return true;
      },
      ledgerSwitch: (payload) => ledgerSwitch.switchTo((payload as { on: boolean }).on),
      switchedStop: () => {
        ledgerSwitch.stopCounting();
        return true;
      },
      ledgerRecords: async () => {
        await parsec.services.ledger.flush();
        const { rows } = await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_PrivilegeLedger"');
        return rows[0]?.n ?? -1;
      },
      explainSessionLookup: (payload) => explainSessionLookup(driver, payload as TracedStatement),
      hashLimit: (payload) => measureHashLimit(payload as HashLimitRequest),
      drain: async () => {
        await verifyOnce();
        // The logins whose hash ran just before ours still send a statement or two: let them finish.
        await new Promise((resolve) => setTimeout(resolve, 100));
        return true;
      },
    },
  };
});
