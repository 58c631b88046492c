import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ParsecConfig } from './config/types.ts';
import { buildApp } from './http/app.ts';
import type { Router } from './http/router.ts';
import { openFilesAdapter } from './files/adapter.ts';
import { logAuditSummary } from './audit/startup-summary.ts';
import { openCluster, type ClusterLinks } from './cluster/open-cluster.ts';
import { openReadRouting } from './cluster/read-routing.ts';
import { recordClientWrite } from './rest/read-source.ts';
import { ensureJobStatusClass, jobStatusPlugin } from './cloud/jobs.ts';
import { ensurePushStatusClass, pushStatusPlugin } from './push/push-status.ts';
import { openPushService } from './push/open.ts';
import { loadCloudCode, prepareCloud } from './cloud/load.ts';
import { ensureLedgerClass, ledgerPlugin, PrivilegeLedger } from './security/ledger.ts';
import { ensureIdempotencyTable, scheduleIdempotencyPruning } from './security/idempotency.ts';
import { ensureGlobalConfigTable } from './global-config/config-store.ts';
import { ensureInstallationClass } from './installations/installation-class.ts';
import { installationPlugin } from './installations/installation-plugin.ts';
import { ledgerObserver } from './security/ledger-recorder.ts';
import { createLiveQuery, startLiveQuery } from './livequery/start.ts';
import { rolePlugin } from './security/role-plugin.ts';
import { RoleStore } from './security/role-store.ts';
import type { Logger, Services } from './rest/services.ts';
import { SchemaStore } from './schema/schema-store.ts';
import type { Driver } from './storage/driver.ts';
import { openDriver } from './storage/drivers/open.ts';
import { loadEmailAdapter, type EmailAdapter } from './users/email.ts';
import { SessionStore } from './users/session-store.ts';
import { UserCache } from './users/user-cache.ts';
import { sessionPlugin } from './users/session-plugin.ts';
import { ensureUserClasses } from './users/system-classes.ts';
import { userPlugin } from './users/user-plugin.ts';
import { loadAuthProviders } from './auth-providers/load.ts';
import { defaultAuthFetch, type AuthFetch } from './auth-providers/fetch.ts';
import { AuthDataFlow } from './users/auth-data-flow.ts';
import { ensureAuthDataIndexes } from './users/auth-data.ts';

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface Parsec {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** The routing table every request goes through (HTTP, batch, cloud code's), with its observer (the ledger). */
  readonly router: Router;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * Composition root: config → storage → schema → HTTP app. Wiring only. `mail` replaces the configured email
 * adapter; `authFetch` is how auth providers reach the network (tests give an offline double; the default is
 * the global fetch with a timeout).
 */
export async function createParsec(config: ParsecConfig, options: { cwd?: string; mail?: EmailAdapter; authFetch?: AuthFetch } = {}): Promise<Parsec> {
  const driver = await openDriver({
    databaseURI: config.databaseURI,
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    cwd: options.cwd,
  });
  // Logs through the app's logger once it is built (the cluster links and the ledger exist before the app).
  const logger: { current: Logger } = { current: SILENT };
  const nodeLog = { warn: (message: string) => logger.current.warn({}, message), info: (message: string) => logger.current.info({}, message) };
  let cluster: ClusterLinks;
  try {
    cluster = await openCluster(config, driver, nodeLog);
  } catch (error) {
    await driver.close();
    throw error;
  }
  let reads: ReturnType<typeof openReadRouting>;
  try {
    const { bus } = cluster;
    reads = openReadRouting(config, driver, bus, nodeLog);
    const schemas = await SchemaStore.open(driver, bus);
    await ensureUserClasses(driver, schemas);
    const authProviders = await loadAuthProviders(config.auth, {
      enableAnonymousUsers: config.enableAnonymousUsers ?? true,
      fetch: options.authFetch ?? defaultAuthFetch,
      cwd: options.cwd ?? process.cwd(),
    });
    await ensureAuthDataIndexes(driver, authProviders);
    await ensureJobStatusClass(driver, schemas);
    await ensureLedgerClass(driver, schemas);
    await ensureInstallationClass(driver, schemas);
    await ensurePushStatusClass(driver, schemas);
    await ensureGlobalConfigTable(driver);
    if (config.idempotencyOptions !== undefined) await ensureIdempotencyTable(driver);
    const roles = new RoleStore(driver, bus);
    const sessions = new SessionStore(driver, config, roles, bus);
    const users = new UserCache(bus);
    const plugins = new Map([userPlugin(config, sessions, users, new AuthDataFlow(authProviders, sessions, users)), sessionPlugin(sessions), rolePlugin(roles), jobStatusPlugin(), ledgerPlugin(), installationPlugin(), pushStatusPlugin()].map((plugin) => [plugin.className, plugin]));
    const mail = options.mail ?? (config.emailAdapter === undefined ? undefined : await loadEmailAdapter(config.emailAdapter, options.cwd ?? process.cwd()));
    const files = await openFilesAdapter(config.filesAdapter, driver, options.cwd ?? process.cwd());
    const push = await openPushService(config.push, options.cwd ?? process.cwd());
    const cloud = prepareCloud(config, cluster.rateLimits);
    const ledger = new PrivilegeLedger(driver, () => logger.current, config.ledgerRetentionDays);
    const liveQuery = createLiveQuery(config);
    const { app, services, router } = buildApp({ config, driver, schemas, plugins, sessions, users, roles, mail, cloud, ledger, invalidation: bus, files, push, liveQuery, reads });
    const stopLiveQuery = liveQuery === undefined ? undefined : await startLiveQuery(liveQuery, services, app.server);
    logger.current = services.log;
    reads?.replica.announce();
    router.observe(ledgerObserver(ledger));
    // A batch's sub-requests are covered by the batch itself, noted once it has finished (and committed).
    if (reads !== undefined) router.afterWrites((request) => (request.inBatch ? Promise.resolve() : recordClientWrite(request.caller, request.escalation?.onBehalfOf)));
    await loadCloudCode(cloud, router, services);
    logAuditSummary(services);
    const timers = driver.kind === 'pglite' ? scheduleMaintenance(driver, config.vacuumIntervalMs, app.log) : [];
    timers.push(schedulePruning(ledger, app.log));
    if (config.idempotencyOptions !== undefined) {
      timers.push(scheduleIdempotencyPruning(driver, (error) => app.log.warn({ err: error }, 'pruning expired idempotency ids failed')));
    }
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      router,
      close() {
        closing ??= (async () => {
          for (const timer of timers) clearInterval(timer);
          // Upgraded sockets are no longer the HTTP server's: closed first, or its close would wait for them.
          await stopLiveQuery?.();
          await app.close();
          await liveQuery?.idle();
          // What the last requests recorded is written before the database closes.
          await ledger.flush();
          schemas.close();
          await reads?.close();
          await cluster.close();
          await driver.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await reads?.close();
    await cluster.close();
    await driver.close();
    throw error;
  }
}

const SILENT: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined };
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Old ledger records are deleted at start and hourly, per `ledgerRetentionDays`. */
function schedulePruning(ledger: PrivilegeLedger, log: FastifyBaseLogger): NodeJS.Timeout {
  const prune = (): void => {
    ledger.prune().catch((error: unknown) => log.warn({ err: error }, 'pruning the privilege ledger failed'));
  };
  prune();
  const timer = setInterval(prune, PRUNE_INTERVAL_MS);
  timer.unref();
  return timer;
}

/** How often embedded PGlite refreshes planner statistics when rows changed (PostgreSQL's autovacuum does this). */
const ANALYZE_INTERVAL_MS = 30_000;

function scheduleMaintenance(driver: Driver, vacuumIntervalMs: number, log: FastifyBaseLogger): NodeJS.Timeout[] {
  const run = (level: 'analyze' | 'vacuum') => () => {
    driver.maintain(level).catch((error: unknown) => log.warn({ err: error }, `PGlite ${level} failed`));
  };
  const timers = [setInterval(run('analyze'), ANALYZE_INTERVAL_MS)];
  if (vacuumIntervalMs > 0) timers.push(setInterval(run('vacuum'), vacuumIntervalMs));
  for (const timer of timers) timer.unref();
  return timers;
}

export async function startServer(config: ParsecConfig, options: { cwd?: string } = {}): Promise<RunningServer> {
  const parsec = await createParsec(config, options);
  try {
    await parsec.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await parsec.close();
    throw error;
  }
  return { url: config.serverURL, close: () => parsec.close() };
}
