/** The audit's findings as SARIF 2.1.0, the format code-scanning tools (GitHub, GitLab, IDEs) read. */
import { isAbsolute, relative, sep } from 'node:path';
import type { AuditReport, Finding, Severity } from './types.ts';

const LEVEL: Readonly<Record<Severity, string>> = { high: 'error', medium: 'warning', low: 'note', info: 'note' };
// GitHub sorts and filters on this property (0.1–10).
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { high: '8.0', medium: '5.0', low: '2.0', info: '0.1' };

export function formatSarif(report: AuditReport, version: string, cwd: string): string {
  const rules = new Map<string, Finding>();
  for (const finding of report.findings) if (!rules.has(finding.id)) rules.set(finding.id, finding);
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'parsec audit',
            version,
            rules: [...rules.values()].map((finding) => ({
              id: finding.id,
              shortDescription: { text: finding.title },
              help: { text: finding.fix },
              defaultConfiguration: { level: LEVEL[finding.severity] },
              properties: { 'security-severity': SECURITY_SEVERITY[finding.severity], tags: ['security'] },
            })),
          },
        },
        results: report.findings.map((finding) => ({
          ruleId: finding.id,
          level: LEVEL[finding.severity],
          message: { text: `${finding.subject}: ${finding.title}. ${finding.why} Fix: ${finding.fix}` },
          locations: [locationOf(finding, cwd)],
          partialFingerprints: { subject: `${finding.id}/${finding.subject}` },
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2);
}

function locationOf(finding: Finding, cwd: string): Record<string, unknown> {
  const logical = { logicalLocations: [{ fullyQualifiedName: finding.subject }] };
  const position = /^(.+):(\d+):(\d+)$/.exec(finding.location ?? '');
  if (position === null) return logical;
  const file = position[1] ?? '';
  const uri = (isAbsolute(file) ? relative(cwd, file) : file).split(sep).join('/');
  return {
    ...logical,
    physicalLocation: { artifactLocation: { uri }, region: { startLine: Number(position[2]), startColumn: Number(position[3]) } },
  };
}
