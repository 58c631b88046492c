/**
 * Compares a report with a saved one (`parsec audit --format json > baseline.json`) so CI can refuse a change
 * that widens the attack surface: a function more callers can reach, a function that newly escalates, a class
 * operation newly open to everyone, a LiveQuery class anyone may now subscribe to. Findings already in the
 * baseline are accepted; new ones are what `--fail-on` judges.
 */
import type { Audience, AuditReport, Finding, FunctionSurface } from './types.ts';

/** Narrowest to widest. */
const AUDIENCE_ORDER: readonly Audience[] = ['internal', 'master', 'roles', 'users', 'custom', 'anyone'];

export interface BaselineComparison {
  /** One sentence per way the surface grew. */
  readonly growth: readonly string[];
  /** Findings not in the baseline. */
  readonly newFindings: readonly Finding[];
}

const findingKey = (finding: Pick<Finding, 'id' | 'subject'>): string => `${finding.id}\u0000${finding.subject}`;

export function compareWithBaseline(current: AuditReport, baseline: AuditReport): BaselineComparison {
  const growth: string[] = [];
  const before = new Map(baseline.surface.functions.map((fn) => [fn.name, fn]));
  for (const fn of current.surface.functions) growth.push(...functionGrowth(fn, before.get(fn.name)));
  if (current.surface.classes !== undefined && baseline.surface.classes !== undefined) {
    const classesBefore = new Map(baseline.surface.classes.map((surface) => [surface.className, new Set(surface.publicOperations)]));
    for (const surface of current.surface.classes) {
      const open = classesBefore.get(surface.className) ?? new Set<string>();
      const opened = surface.publicOperations.filter((operation) => !open.has(operation));
      if (opened.length > 0) growth.push(`class ${surface.className}: anyone may now ${opened.join(', ')}`);
    }
  }
  if (current.surface.liveQuery !== undefined) {
    const before = new Map((baseline.surface.liveQuery ?? []).map((surface) => [surface.className, surface.subscribableBy]));
    for (const surface of current.surface.liveQuery) {
      if (surface.subscribableBy === 'anyone' && before.get(surface.className) !== 'anyone') growth.push(`LiveQuery class ${surface.className}: anyone may now subscribe`);
    }
  }
  const known = new Set(baseline.findings.map(findingKey));
  return { growth, newFindings: current.findings.filter((finding) => !known.has(findingKey(finding))) };
}

function functionGrowth(fn: FunctionSurface, previous: FunctionSurface | undefined): string[] {
  const reachable = fn.audience !== 'internal' && fn.audience !== 'master';
  if (previous === undefined) return reachable && (fn.audience === 'anyone' || fn.audience === 'custom') ? [`new function ${fn.name}, callable by ${fn.callableBy}`] : [];
  const growth: string[] = [];
  if (AUDIENCE_ORDER.indexOf(fn.audience) > AUDIENCE_ORDER.indexOf(previous.audience)) {
    growth.push(`function ${fn.name}: was callable by ${previous.callableBy}, now by ${fn.callableBy}`);
  }
  if (reachable && previous.escalation === 'no' && fn.escalation !== 'no') growth.push(`function ${fn.name} now ${fn.escalation === 'yes' ? 'escalates' : 'may escalate'} to the master key`);
  return growth;
}

/** A baseline file must at least look like a report; anything else is a usage error, not an empty baseline. */
export function parseBaseline(text: string): AuditReport {
  const parsed: unknown = JSON.parse(text);
  const report = parsed as Partial<AuditReport> | null;
  if (report === null || typeof report !== 'object' || report.version !== 1 || typeof report.surface !== 'object' || !Array.isArray(report.surface.functions) || !Array.isArray(report.findings)) {
    throw new Error('not a parsec audit JSON report (make one with `parsec audit --format json`)');
  }
  return report as AuditReport;
}
