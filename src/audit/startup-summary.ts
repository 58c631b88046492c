/**
 * The audit's one-paragraph summary in the startup log: counts, and each high finding by name, so an
 * unsafe deployment is visible in the log of every start, not only to whoever runs `parsec audit`.
 */
import type { Services } from '../rest/services.ts';
import { buildReport, countBySeverity } from './report.ts';

export function logAuditSummary(services: Services): void {
  const { config, cloud, plugins, schemas, log } = services;
  const report = buildReport({ config, registry: cloud.registry, plugins, schemas: schemas.all() });
  const counts = countBySeverity(report.findings);
  const summary = `security audit: ${counts.high} high, ${counts.medium} medium, ${counts.low} low, ${counts.info} info findings; run \`parsec audit\` or GET /security with the master key for details`;
  if (counts.high === 0) {
    log.info({ findings: counts }, summary);
    return;
  }
  log.warn({ findings: counts, high: report.findings.filter((finding) => finding.severity === 'high').map((finding) => `${finding.id} ${finding.subject}: ${finding.title}`) }, summary);
}
