/**
 * The audit in the shape of Parse Server's security check (`GET /security`: `{report: {version, state,
 * groups: [{name, state, checks: [{title, warning, solution, state}]}]}}`), so tools written for Parse read it.
 * Parsec's full report travels next to it as `audit`.
 */
import type { AuditReport, Finding } from './types.ts';

const GROUPS: readonly { readonly name: string; readonly matches: (finding: Finding) => boolean }[] = [
  { name: 'Cloud Code', matches: (finding) => /^PSC0/.test(finding.id) },
  { name: 'Class-level permissions', matches: (finding) => /^PSC1/.test(finding.id) },
  { name: 'Parsec configuration', matches: (finding) => /^PSC2/.test(finding.id) },
];

/** Informational findings describe a choice, not a failure: they do not fail a group. */
const fails = (finding: Finding): boolean => finding.severity !== 'info';

export function parseCheckShape(report: AuditReport): Record<string, unknown> {
  const groups = GROUPS.map((group) => {
    const checks = report.findings.filter(group.matches).map((finding) => ({
      title: `${finding.subject}: ${finding.title}`,
      warning: finding.why,
      solution: finding.fix,
      state: fails(finding) ? 'fail' : 'success',
    }));
    return { name: group.name, state: checks.some((check) => check.state === 'fail') ? 'fail' : 'success', checks };
  });
  return { version: '1.0.0', state: groups.some((group) => group.state === 'fail') ? 'fail' : 'success', groups };
}
