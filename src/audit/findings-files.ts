/** Findings about file uploads: who may store files on the app's storage, and whether they can run in a browser. */
import type { ParsecConfig } from '../config/types.ts';
import { DEFAULT_FILE_UPLOAD, extensionAllowed } from '../files/policy.ts';
import { ACTIVE_EXTENSIONS } from '../files/names.ts';
import { anonymousSignUpOpen } from './anonymous-sign-up.ts';
import type { Finding } from './types.ts';

export function fileFindings(config: ParsecConfig): Finding[] {
  const options = config.fileUpload ?? DEFAULT_FILE_UPLOAD;
  const findings: Finding[] = [];
  const storageAbuse =
    'Files are stored on your account and served from your domain by public URL: uploads nobody is accountable for become free hosting for malware, phishing pages and stolen content, and a bill.';
  if (options.enableForPublic) {
    findings.push({
      id: 'PSC241',
      severity: 'medium',
      title: 'Anyone with the app keys may upload files, without logging in',
      subject: 'option fileUpload.enableForPublic',
      why: storageAbuse,
      fix: 'Set fileUpload.enableForPublic to false (the default): uploads then need a logged-in user, who can be rate-limited and held to account.',
    });
  }
  if (options.enableForAnonymousUser && anonymousSignUpOpen(config)) {
    findings.push({
      id: 'PSC242',
      severity: 'medium',
      title: 'Anonymous users may upload files, and anyone can become one',
      subject: 'option fileUpload.enableForAnonymousUser',
      why: `Anonymous users are enabled, so one request without any credential makes a user who may then upload. ${storageAbuse}`,
      fix: 'Set fileUpload.enableForAnonymousUser to false (the default), or turn anonymous users off (enableAnonymousUsers: false).',
    });
  }
  const active = [...ACTIVE_EXTENSIONS].filter((extension) => extensionAllowed(options, extension));
  if (active.length > 0) {
    findings.push({
      id: 'PSC243',
      severity: 'medium',
      title: 'Files that run in a browser may be uploaded',
      subject: 'option fileUpload.fileExtensions',
      why:
        `fileUpload.fileExtensions lets through ${active.slice(0, 6).join(', ')}${active.length > 6 ? ` and ${active.length - 6} more` : ''}: ` +
        "a page or script uploaded by a client runs with your file host's origin when opened (stored cross-site scripting), and a link to it looks like yours.",
      fix: 'Remove the fileExtensions option (Parsec then refuses active content) or list only the extensions your app stores, e.g. ["jpe?g", "png", "pdf"].',
    });
  }
  return findings;
}
