/** Builds the audit report from what a server loaded: its configuration, its cloud code and its schemas. */
import type { CloudRegistry } from '../cloud/registry.ts';
import type { ParsecConfig } from '../config/types.ts';
import type { ClassPlugins } from '../rest/class-plugin.ts';
import type { ClassSchema } from '../schema/types.ts';
import { describeClasses } from './class-surface.ts';
import { classFindings } from './findings-classes.ts';
import { cloudFindings } from './findings-cloud.ts';
import { configFindings } from './findings-config.ts';
import { fileFindings } from './findings-files.ts';
import { limitFindings } from './findings-limits.ts';
import { describeCloud } from './function-surface.ts';
import { describeLiveQuery } from './livequery-surface.ts';
import { severityRank, type AuditReport, type Finding, type FunctionSurface } from './types.ts';

export interface AuditInput {
  readonly config: ParsecConfig;
  readonly registry: CloudRegistry;
  readonly plugins: ClassPlugins;
  /** undefined: the database was not read, so classes are not reported. */
  readonly schemas: readonly ClassSchema[] | undefined;
  /** The app's directory: cloud code locations are shown relative to it. */
  readonly cwd?: string;
}

export function buildReport(input: AuditInput, now: Date = new Date()): AuditReport {
  const cloud = describeCloud(input.registry, input.cwd ?? process.cwd());
  const classes = input.schemas === undefined ? undefined : describeClasses(input.schemas, input.plugins, input.config);
  const findings = [
    ...cloudFindings(cloud.functions, cloud.triggers, input.config),
    ...(classes === undefined ? [] : classFindings(classes, input.config)),
    ...configFindings(input.config),
    ...fileFindings(input.config),
    ...limitFindings(input.config),
  ].sort(bySeverityThenId);
  const functions: FunctionSurface[] = cloud.functions.map(({ paramsRead: _read, declaresParams: _params, declaresAccess: _access, ...surface }) => surface);
  const liveQuery = describeLiveQuery(input.config, classes);
  return { version: 1, generatedAt: now.toISOString(), surface: { functions, triggers: cloud.triggers, jobs: cloud.jobs, classes, liveQuery }, findings };
}

function bySeverityThenId(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject);
}

/** "2 high, 1 medium, 4 low, 1 info": the one-line summary for the startup log and the text report. */
export function countBySeverity(findings: readonly Finding[]): Record<Finding['severity'], number> {
  const counts = { high: 0, medium: 0, low: 0, info: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}
