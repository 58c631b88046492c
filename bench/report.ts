import os from 'node:os';
import type { DbMeasurement } from './db-limit.ts';
import type { Engine, EngineRun, HttpLimitRun, SqlCheck } from './engine.ts';
import type { HttpMeasurement, HttpScenario } from './http-load.ts';
import { round } from './latency.ts';
import type { BenchSettings } from './settings.ts';

export interface ParsecEntry extends HttpMeasurement {
  /** Parsec's requests/s over the bare server's for the same route: 1.0 would mean Parsec costs nothing. */
  readonly vsHttpLimit: number;
  /** Parsec's requests/s over direct queries/s of the statement it issues (create ↔ insert). */
  readonly vsDbLimit: number;
}

export interface Target {
  readonly rule: string;
  readonly ratio: number;
  readonly required: number;
  readonly pass: boolean;
}

export interface EngineReport {
  readonly parsec: Record<HttpScenario, ParsecEntry> & { readonly peakRssMB: number | null };
  readonly dbLimit: Record<'get' | 'find' | 'insert', DbMeasurement>;
  readonly targets?: Record<HttpScenario, Target>;
  readonly sqlCheck: SqlCheck;
}

export type EngineOutcome = { readonly run: EngineRun } | { readonly skipped: string };

const DB_STATEMENT = { get: 'get', find: 'find', create: 'insert' } as const;

function megabytes(bytes: number | undefined): number | null {
  return bytes === undefined ? null : round(bytes / (1024 * 1024), 1);
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? round(numerator / denominator, 3) : Number.NaN;
}

function target(rule: string, value: number, required: number): Target {
  return { rule, ratio: value, required, pass: value >= required };
}

/** The spec's PostgreSQL targets: get ≥ 50% of the lower limit, find ≥ 70% and create ≥ 60% of the DB's. */
function targets(run: EngineRun, http: HttpLimitRun): Record<HttpScenario, Target> {
  const { parsec, dbLimit } = run;
  const getLimit = Math.min(http.measurements.get.requestsPerSec, dbLimit.get.queriesPerSec);
  return {
    get: target('get ≥ 50% of min(HTTP limit, DB limit)', ratio(parsec.get.requestsPerSec, getLimit), 0.5),
    find: target('find ≥ 70% of DB limit', ratio(parsec.find.requestsPerSec, dbLimit.find.queriesPerSec), 0.7),
    create: target('create ≥ 60% of DB limit (insert)', ratio(parsec.create.requestsPerSec, dbLimit.insert.queriesPerSec), 0.6),
  };
}

export function engineReport(engine: Engine, run: EngineRun, http: HttpLimitRun): EngineReport {
  const entry = (scenario: HttpScenario): ParsecEntry => {
    const measured = run.parsec[scenario];
    return {
      ...measured,
      vsHttpLimit: ratio(measured.requestsPerSec, http.measurements[scenario].requestsPerSec),
      vsDbLimit: ratio(measured.requestsPerSec, run.dbLimit[DB_STATEMENT[scenario]].queriesPerSec),
    };
  };
  return {
    parsec: { get: entry('get'), find: entry('find'), create: entry('create'), peakRssMB: megabytes(run.parsecPeakRssBytes) },
    dbLimit: run.dbLimit,
    ...(engine === 'postgres' ? { targets: targets(run, http) } : {}),
    sqlCheck: run.sqlCheck,
  };
}

/** Every error or non-2xx anywhere: the numbers of a run with failures mean nothing. */
export function failures(label: string, run: EngineRun | HttpLimitRun): string[] {
  const found: string[] = [];
  const http = 'measurements' in run ? run.measurements : run.parsec;
  for (const [scenario, m] of Object.entries(http)) {
    if (m.errors > 0 || m.non2xx > 0) found.push(`${label} ${scenario}: ${m.errors} errors, ${m.non2xx} non-2xx responses`);
  }
  if ('dbLimit' in run) {
    for (const [scenario, m] of Object.entries(run.dbLimit)) {
      if (m.errors > 0) found.push(`${label} database ${scenario}: ${m.errors} failed queries`);
    }
  }
  return found;
}

export function settingsReport(settings: BenchSettings): Record<string, unknown> {
  return {
    ...settings,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}` },
  };
}

export function httpLimitReport(http: HttpLimitRun): Record<string, unknown> {
  return { ...http.measurements, peakRssMB: megabytes(http.peakRssBytes) };
}
