/**
 * `npm run bench [-- --quick]`: Parsec on PGlite and on PostgreSQL against two limits measured in the same
 * run with the same load — a bare HTTP server replaying Parsec's responses, and Parsec's SQL sent straight
 * to the database. JSON report on stdout, progress on stderr. See bench/README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { killAllChildren } from './child.ts';
import { pgliteExecutor, postgresExecutor } from './db-limit.ts';
import { benchEngine, benchHttpLimit, POOL_SIZE, type EngineRun } from './engine.ts';
import { progress } from './progress.ts';
import { createFreshDatabase, postgresTarget, probe, redact } from './postgres.ts';
import { engineReport, failures, httpLimitReport, settingsReport } from './report.ts';
import { readSettings, type BenchSettings } from './settings.ts';

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
function startWatchdog(settings: BenchSettings): void {
  // HTTP limit: 7 routes (4 REST, 3 cloud functions). Per engine: 5 Parsec routes, the secured find (as a
  // user, as the master), the master get (ledger off, on, on, off), 3 cloud functions, the hashing limit,
  // the enumeration check (counted twice: its one-connection pass is a fixed count of hashes) and 4
  // database statements.
  const measurements = 7 + 2 * 20;
  const limitMs = (measurements * (settings.warmupSec + settings.durationSec + 5) + 600) * 1000;
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
async function planPostgres(): Promise<{ baseUrl: string } | { skipped: string }> {
  const target = postgresTarget();
  try {
    progress(`postgres: PostgreSQL ${await probe(target.baseUrl)} at ${redact(target.baseUrl)}`);
    return { baseUrl: target.baseUrl };
  } catch (error) {
    const reason = `PostgreSQL unreachable at ${redact(target.baseUrl)}: ${error instanceof Error ? error.message : String(error)}`;
    if (target.explicit) throw new Error(reason);
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

async function main(): Promise<number> {
  const settings = readSettings(process.argv.slice(2));
  startWatchdog(settings);
  progress(`${settings.connections} connections, ${settings.warmupSec} s warm-up + ${settings.durationSec} s per measurement`);

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
