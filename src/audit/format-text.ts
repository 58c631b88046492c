/** The audit report for people: the surface first, then the findings with why and how to fix. */
import { countBySeverity } from './report.ts';
import type { AuditReport, Finding, FunctionSurface } from './types.ts';

export function formatText(report: AuditReport): string {
  const lines: string[] = ['Parsec security audit', ''];
  const { functions, triggers, jobs, classes } = report.surface;
  lines.push(`Cloud functions (${functions.length})`);
  if (functions.length === 0) lines.push('  none');
  for (const fn of functions) lines.push(...functionLines(fn));
  lines.push('', `Triggers (${triggers.length})`);
  if (triggers.length === 0) lines.push('  none');
  for (const trigger of triggers) lines.push(`  ${trigger.type} ${trigger.className}${escalationSuffix(trigger.escalation)}`);
  lines.push('', `Jobs (${jobs.length}, master key only)`);
  if (jobs.length === 0) lines.push('  none');
  for (const job of jobs) lines.push(`  ${job.name}${escalationSuffix(job.escalation)}`);
  lines.push('');
  if (classes === undefined) lines.push('Classes: not read (--no-database)');
  else {
    lines.push(`Classes (${classes.length})`);
    for (const surface of classes) {
      lines.push(`  ${surface.className}: ${surface.summary}`);
      const hidden = Object.entries(surface.protectedFields).map(([audience, fields]) => `${fields.join(', ')} from ${audience === '*' ? 'everyone' : audience}`);
      if (hidden.length > 0) lines.push(`    protected: ${hidden.join('; ')}`);
    }
  }
  const { liveQuery } = report.surface;
  if (liveQuery === undefined) lines.push('', 'LiveQuery: off');
  else {
    lines.push('', `LiveQuery (${liveQuery.length} classes; each event carries only what its subscriber may read)`);
    for (const surface of liveQuery) lines.push(`  ${surface.className}: subscribable by ${surface.subscribableBy}`);
  }
  const counts = countBySeverity(report.findings);
  lines.push('', `Findings: ${counts.high} high, ${counts.medium} medium, ${counts.low} low, ${counts.info} info`);
  for (const finding of report.findings) lines.push('', ...findingLines(finding));
  return lines.join('\n');
}

function escalationSuffix(escalation: FunctionSurface['escalation']): string {
  if (escalation === 'yes') return ' — escalates with useMasterKey';
  if (escalation === 'unknown') return ' — may escalate (the audit cannot tell)';
  return '';
}

function functionLines(fn: FunctionSurface): string[] {
  const lines = [`  ${fn.name}: ${fn.callableBy}${escalationSuffix(fn.escalation)}`];
  if (fn.params === undefined) lines.push('    params: checked by its validator function');
  else if (fn.params.length > 0) lines.push(`    params: ${fn.params.map((param) => `${param.name}${param.required ? '' : '?'}: ${param.type}`).join(', ')}`);
  if (fn.rateLimit !== undefined) lines.push(`    rate limit: ${fn.rateLimit}`);
  for (const note of fn.escalationNotes) lines.push(`    ${note}`);
  return lines;
}

function findingLines(finding: Finding): string[] {
  return [
    `[${finding.severity.toUpperCase()}] ${finding.id} ${finding.subject}: ${finding.title}`,
    ...(finding.location === undefined ? [] : [`  at ${finding.location}`]),
    `  why: ${finding.why}`,
    `  fix: ${finding.fix}`,
  ];
}
