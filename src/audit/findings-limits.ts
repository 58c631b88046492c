/** Findings about abuse limits: the account endpoints an attacker automates first. */
import type { ParsecConfig } from '../config/types.ts';
import { compileRequestPath, matchablePaths } from '../security/request-path.ts';
import type { Finding } from './types.ts';

interface Endpoint {
  readonly path: string;
  readonly what: string;
  readonly risk: string;
}

const ENDPOINTS: readonly Endpoint[] = [
  { path: '/login', what: 'login', risk: 'one address can try a common password against every account' },
  { path: '/users', what: 'sign-up', risk: 'one address can create accounts by the thousand (spam, fake reviews, free-tier abuse)' },
  { path: '/requestPasswordReset', what: 'password reset', risk: 'one address can make your server send email after email, to anyone, in your name' },
  { path: '/verificationEmailRequest', what: 'verification email', risk: 'one address can make your server send email after email, to anyone, in your name' },
];

/** True when some rule counts anonymous POSTs to the path (a rule that only counts the master key does not protect it). */
function limited(rules: ParsecConfig['rateLimit'], path: string): boolean {
  const forms = matchablePaths(path);
  return rules.some((rule) => {
    if (rule.requestMethods !== undefined && !rule.requestMethods.includes('POST')) return false;
    const matcher = compileRequestPath(rule.requestPath);
    return forms.some((form) => matcher.test(form));
  });
}

export function limitFindings(config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  for (const endpoint of ENDPOINTS) {
    if (limited(config.rateLimit, endpoint.path)) continue;
    const lockedOut = endpoint.path === '/login' && config.accountLockout !== undefined;
    findings.push({
      id: 'PSC225',
      severity: lockedOut ? 'low' : 'medium',
      title: `No rate limit on ${endpoint.what} (POST ${endpoint.path})`,
      subject: `option rateLimit (POST ${endpoint.path})`,
      why: `No rateLimit rule counts POST ${endpoint.path}: ${endpoint.risk}.${lockedOut ? ' Account lockout still bounds guesses per account.' : ''}`,
      fix: `Keep Parsec's default rule for ${endpoint.path} in rateLimit (see docs/configuration.md), or add one, e.g. { "requestPath": "${endpoint.path}", "requestTimeWindow": 60000, "requestCount": 10 }.`,
    });
  }
  if (config.accountLockout === undefined) {
    findings.push({
      id: 'PSC226',
      severity: 'medium',
      title: 'Accounts are never locked after wrong passwords',
      subject: 'option accountLockout',
      why: 'With accountLockout off, an attacker spreading guesses over many addresses can try passwords on one account without end.',
      fix: 'Turn accountLockout back on (the default locks an account for 5 minutes after 5 wrong passwords).',
    });
  }
  const off = (Object.entries(config.requestComplexity) as [string, number][]).filter(([, limit]) => limit === -1).map(([name]) => name);
  if (off.length > 0) {
    findings.push({
      id: 'PSC227',
      severity: 'low',
      title: `Query complexity limits turned off: ${off.join(', ')}`,
      subject: 'option requestComplexity',
      why: 'Each of these bounds how much work one client query can demand (deep includes, huge $in lists, long regular expressions); without it one request can keep the database busy for many.',
      fix: `Remove the -1 values from requestComplexity to get the defaults back, or set limits that fit your queries.`,
    });
  }
  return findings;
}
