/**
 * `npm run bench [-- --quick]`: Parsec on PGlite and on PostgreSQL against two limits measured in the same
 * run with the same load — a bare HTTP server replaying Parsec's responses, and Parsec's SQL sent straight
 * to the database. `--cluster`: instead, two Parsec nodes on one PostgreSQL database (cluster.ts). JSON
 * report on stdout, progress on stderr. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { killAllChildren } from './child.ts';
import { benchCluster, CLUSTER_SCENARIOS, NODE_POOL_SIZE } from './cluster.ts';
import { pgliteExecutor, postgresExecutor } from './db-limit.ts';
import { benchEngine, benchHttpLimit, POOL_SIZE, type EngineRun } from './engine.ts';
import { progress } from './progress.ts';
import { createFreshDatabase, postgresTarget, probe, redact } from './postgres.ts';
import { clusterFailures, clusterReport, clusterSettingsReport, engineReport, failures, httpLimitReport, settingsReport } from './report.ts';
import { clusterMode, readClusterSettings, readSettings, type BenchSettings, type ClusterSettings } from './settings.ts';

/** Undo steps (temp dirs, bench databases), run last-in first-out on any exit path. */
const cleanups: (() => Promise<void>)[] = [];

async function runCleanups(): Promise<void> {
  killAllChildren();
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    try {
      await cleanup?.();
    } catch (error) {
      progress(`cleanup failed: ${String(error)}`);
    }
  }
}

/** A generous bound on the whole run, so a hang anywhere still ends the process (and its children). */
function startWatchdog(settings: BenchSettings, cluster: ClusterSettings | undefined): void {
  // HTTP limit: 7 routes (4 REST, 3 cloud functions). Per engine: 5 Parsec routes, the secured find (as a
  // user, as the master), 3 cloud functions, the hashing limit,
  // the enumeration check (counted twice: its one-connection pass is a fixed count of hashes) and 4
  // database statements; and the ledger (two switched runs, saturated and paced). The cluster: each scenario
  // on one node, two, two and one; and the invalidation trials
  // (sessions, then a quarter as many role and CLP changes): a second each is several times what one takes
  // (a login's hash and a few requests), and a kind of change stops after 3 problems of `refusalLimitMs`.
  const measurements = cluster === undefined ? 7 + 2 * 19 : 4 * CLUSTER_SCENARIOS.length;
  const ledgerSec = cluster === undefined ? 2 * 2 * (4 * settings.ledgerCycles * (settings.ledgerIntervalSec + 1) + settings.warmupSec + 30) : 0;
  const trialsSec = cluster === undefined ? 0 : 1.5 * cluster.revocations + 3 * 3 * (cluster.refusalLimitMs / 1000);
  const limitMs = (measurements * (settings.warmupSec + settings.durationSec + 5) + ledgerSec + trialsSec + 600) * 1000;
  setTimeout(() => {
    progress(`watchdog: the run exceeded ${Math.round(limitMs / 1000)} s, aborting`);
    void runCleanups().finally(() => process.exit(2));
  }, limitMs).unref();
}

async function pgliteRun(settings: BenchSettings): Promise<EngineRun> {
  // A data directory rather than memory://, as Parsec runs embedded in production; the direct loops reopen it.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'parsec-bench-pglite-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return benchEngine('pglite', dataDir, () => pgliteExecutor(dataDir), settings);
}

/** Checked before anything runs, so a misconfigured URL fails in seconds, not after the PGlite half. */
async function planPostgres(required = false): Promise<{ baseUrl: string } | { skipped: string }> {
  const target = postgresTarget();
  try {
    progress(`postgres: PostgreSQL ${await probe(target.baseUrl)} at ${redact(target.baseUrl)}`);
    return { baseUrl: target.baseUrl };
  } catch (error) {
    const reason = `PostgreSQL unreachable at ${redact(target.baseUrl)}: ${error instanceof Error ? error.message : String(error)}`;
    if (target.explicit) throw new Error(reason);
    if (required) throw new Error(`${reason} (the cluster bench needs PostgreSQL: set PARSEC_BENCH_DATABASE_URL)`);
    progress(`SKIPPING PostgreSQL: ${reason} (set PARSEC_BENCH_DATABASE_URL to bench another server)`);
    return { skipped: reason };
  }
}

async function postgresRun(baseUrl: string, settings: BenchSettings): Promise<EngineRun> {
  const database = await createFreshDatabase(baseUrl);
  cleanups.push(() => database.drop());
  progress(`postgres: created database ${database.name}`);
  const run = await benchEngine('postgres', database.url, () => Promise.resolve(postgresExecutor(database.url, POOL_SIZE)), settings);
  await database.drop();
  progress(`postgres: dropped database ${database.name}`);
  return run;
}

/**
 * Two nodes on one database: PostgreSQL only. PGlite is one process by construction (its data directory is
 * locked, and Parsec keeps an embedded database's invalidations in memory), so it has no cluster to bench.
 */
async function clusterMain(settings: BenchSettings, cluster: ClusterSettings): Promise<number> {
  const plan = await planPostgres(true);
  if ('skipped' in plan) throw new Error(plan.skipped);
  const database = await createFreshDatabase(plan.baseUrl);
  cleanups.push(() => database.drop());
  progress(`cluster: created database ${database.name}; rate-limit counters in ${cluster.redisURL === undefined ? 'PostgreSQL' : `Redis at ${redact(cluster.redisURL)}`}`);
  // The machine's load around the run: its numbers are only as steady as that (bench/README.md, "Cluster mode").
  const loadBefore = os.loadavg();
  const run = await benchCluster(database.url, settings, cluster);
  await database.drop();
  progress(`cluster: dropped database ${database.name}`);
  const found = clusterFailures(run);
  const loadAverage = { before: loadBefore.map((load) => Math.round(load * 100) / 100), after: os.loadavg().map((load) => Math.round(load * 100) / 100) };
  const report = {
    settings: { ...settingsReport(settings), cluster: clusterSettingsReport(cluster, NODE_POOL_SIZE), loadAverage },
    cluster: clusterReport(run),
    failures: found,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (found.length > 0) {
    progress('FAILED: errors or non-2xx responses under load, or a revocation another node did not refuse in time; the numbers above are not valid:');
    for (const failure of found) progress(`  ${failure}`);
    return 1;
  }
  progress('done');
  return 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const settings = readSettings(argv);
  const cluster = clusterMode(argv) ? readClusterSettings(settings) : undefined;
  startWatchdog(settings, cluster);
  progress(`${settings.connections} connections, ${settings.warmupSec} s warm-up + ${settings.durationSec} s per measurement`);
  if (cluster !== undefined) return clusterMain(settings, cluster);

  const postgresPlan = await planPostgres();
  const pglite = await pgliteRun(settings);
  const http = await benchHttpLimit(pglite.responses, pglite.ids, pglite.users, settings);
  const postgres = 'skipped' in postgresPlan ? postgresPlan : await postgresRun(postgresPlan.baseUrl, settings);

  const found = [...failures('pglite', pglite), ...failures('http limit', http), ...('skipped' in postgres ? [] : failures('postgres', postgres))];
  const report = {
    settings: settingsReport(settings),
    httpLimit: httpLimitReport(http),
    pglite: engineReport('pglite', pglite, http),
    postgres: 'skipped' in postgres ? postgres : engineReport('postgres', postgres, http),
    failures: found,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (found.length > 0) {
    progress('FAILED: errors or non-2xx responses under load, or a cloud round-trip check failed; the numbers above are not valid:');
    for (const failure of found) progress(`  ${failure}`);
    return 1;
  }
  progress('done');
  return 0;
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping servers and cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  progress(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await runCleanups();
}
process.exit(exitCode);
