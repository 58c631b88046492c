/**
 * `parsec audit`: loads the app as `start` would, without serving, and reports its attack surface and
 * findings. Exit status 0 when nothing reaches `--fail-on` (and, with `--baseline`, the surface did not
 * grow), 1 when something does, 2 for a command line or configuration to fix.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { compareWithBaseline, parseBaseline } from '../audit/baseline.ts';
import { formatSarif } from '../audit/format-sarif.ts';
import { formatText } from '../audit/format-text.ts';
import type { LoadedApp } from '../audit/load-app.ts';
import { buildReport } from '../audit/report.ts';
import { SEVERITIES, severityRank, type AuditReport, type Finding, type Severity } from '../audit/types.ts';
import { loadConfig } from '../config/load.ts';
import type { ParsecConfig } from '../config/types.ts';
import { EXIT_USAGE, type CliIO, type Command } from './io.ts';
import { readVersion } from './version.ts';

export interface AuditDeps {
  readonly loadApp: (config: ParsecConfig, options: { readDatabase: boolean; cwd: string }) => Promise<LoadedApp>;
}

const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

interface AuditArgs {
  readonly format: Format;
  readonly baseline: string | undefined;
  readonly failOn: Severity;
  readonly readDatabase: boolean;
  /** Everything else: configuration flags, for the loader. */
  readonly rest: readonly string[];
}

export function auditCommand(deps: AuditDeps): Command {
  return {
    summary: 'Report who can reach what: functions, classes, findings (--format text|json|sarif, --baseline FILE, --fail-on high|medium|low, --no-database)',
    run: (args, io) => runAudit(args, io, deps),
  };
}

/** Splits the audit's own flags from the configuration flags; a problem is a message for the user. */
export function parseAuditArgs(argv: readonly string[]): AuditArgs | string {
  let format: Format = 'text';
  let baseline: string | undefined;
  let failOn: Severity = 'high';
  let readDatabase = true;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    const takeValue = (): string | undefined => (eq === -1 ? argv[++i] : token.slice(eq + 1));
    if (flag === '--no-database') {
      readDatabase = false;
    } else if (flag === '--format') {
      const value = takeValue();
      if (!FORMATS.includes(value as Format)) return `--format must be one of ${FORMATS.join(', ')}`;
      format = value as Format;
    } else if (flag === '--fail-on') {
      const value = takeValue();
      if (value === 'info' || !SEVERITIES.includes(value as Severity)) return '--fail-on must be one of high, medium, low';
      failOn = value as Severity;
    } else if (flag === '--baseline') {
      const value = takeValue();
      if (value === undefined || value === '') return '--baseline needs a file (a report saved with --format json)';
      baseline = value;
    } else {
      rest.push(token);
    }
  }
  return { format, baseline, failOn, readDatabase, rest };
}

async function runAudit(argv: readonly string[], io: CliIO, deps: AuditDeps): Promise<number> {
  const args = parseAuditArgs(argv);
  if (typeof args === 'string') {
    io.err(`error: ${args}`);
    return EXIT_USAGE;
  }
  let baseline: AuditReport | undefined;
  if (args.baseline !== undefined) {
    try {
      baseline = parseBaseline(await readFile(resolve(io.cwd, args.baseline), 'utf8'));
    } catch (error) {
      io.err(`error: cannot use ${args.baseline} as a baseline: ${error instanceof Error ? error.message : String(error)}`);
      return EXIT_USAGE;
    }
  }
  const loaded = await loadConfig({ argv: args.rest, env: io.env, cwd: io.cwd });
  if (!loaded.ok) {
    for (const problem of loaded.problems) io.err(`error: ${problem}`);
    return EXIT_USAGE;
  }
  let report: AuditReport;
  try {
    const app = await deps.loadApp(loaded.config, { readDatabase: args.readDatabase, cwd: io.cwd });
    try {
      report = buildReport(app.input);
    } finally {
      await app.close();
    }
  } catch (error) {
    io.err(`error: the app could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_USAGE;
  }
  if (args.format === 'json') io.out(JSON.stringify(report, null, 2));
  else if (args.format === 'sarif') io.out(formatSarif(report, await readVersion(), io.cwd));
  else io.out(formatText(report));
  return judge(report, baseline, args.failOn, io);
}

function judge(report: AuditReport, baseline: AuditReport | undefined, failOn: Severity, io: CliIO): number {
  const atLeast = (finding: Finding): boolean => severityRank(finding.severity) >= severityRank(failOn);
  let failing = report.findings.filter(atLeast);
  let failed = false;
  if (baseline !== undefined) {
    const comparison = compareWithBaseline(report, baseline);
    for (const growth of comparison.growth) io.err(`surface grew: ${growth}`);
    failing = comparison.newFindings.filter(atLeast);
    failed = comparison.growth.length > 0;
  }
  for (const finding of failing) io.err(`${baseline === undefined ? '' : 'new '}${finding.severity} finding ${finding.id}: ${finding.subject}: ${finding.title}`);
  if (failing.length > 0 || failed) {
    io.err(`parsec audit: failed (--fail-on ${failOn}${baseline === undefined ? '' : ', against the baseline'})`);
    return 1;
  }
  return 0;
}
