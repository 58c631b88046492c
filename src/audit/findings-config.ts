/** Findings about the server's own options: keys, sessions, accounts and what clients may do to the schema. */
import { ALLOW_ALL, isWeakKey } from '../config/cross-check.ts';
import type { ParsecConfig } from '../config/types.ts';
import type { Finding } from './types.ts';

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;
/** Words that make a key guessable whatever its length. */
const DEFAULT_LOOKING = /master|secret|password|changeme|example|parse|test|admin|^(.)\1+$/i;
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

export function configFindings(config: ParsecConfig): Finding[] {
  return [...keyFindings(config), ...sessionFindings(config), ...accountFindings(config), ...serverFindings(config)];
}

function keyFindings(config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  const keys: [string, string | undefined][] = [
    ['masterKey', config.masterKey],
    ['readOnlyMasterKey', config.readOnlyMasterKey],
    ['maintenanceKey', config.maintenanceKey],
  ];
  for (const [name, value] of keys) {
    if (value === undefined) continue;
    const weak = isWeakKey(value);
    const guessable = DEFAULT_LOOKING.test(value) || value === config.appId;
    if (!weak && !guessable) continue;
    findings.push({
      id: 'PSC201',
      severity: 'high',
      title: guessable ? `The ${name} looks like a default or is guessable` : `The ${name} is weak`,
      subject: `option ${name}`,
      why: `Whoever has the ${name} bypasses every ACL and class-level permission. ${guessable ? 'It contains a common word or repeats the app id, the first things an attacker tries.' : 'It is shorter than 14 characters or mixes fewer than three kinds of character.'}`,
      fix: `Use a long random value (e.g. \`openssl rand -base64 32\`), or leave ${name === 'masterKey' ? 'masterKey unset and let Parsec generate one' : `${name} unset if you do not need it`}.`,
    });
  }
  const everywhere = config.masterKeyIps.filter((entry) => ALLOW_ALL.has(entry));
  if (everywhere.length > 0) {
    findings.push({
      id: 'PSC202',
      severity: 'high',
      title: 'The master key is accepted from any IP address',
      subject: 'option masterKeyIps',
      why: `masterKeyIps contains ${everywhere.join(' and ')}: a leaked master key works from anywhere on the internet, not only from your servers.`,
      fix: 'List only the addresses of the machines that use the master key (the default is loopback only).',
    });
  }
  if (Object.values(config.clientKeys).every((key) => key === undefined)) {
    findings.push({
      id: 'PSC203',
      severity: 'info',
      title: 'No client key is configured: the app id alone identifies the app',
      subject: 'option javascriptKey / restAPIKey / clientKey',
      why: 'As in Parse Server, without client keys any request naming the app id is accepted as a client. Client keys are not secrets (they ship inside apps) but they keep casual scanners out.',
      fix: 'Set the client keys your SDKs use (javascriptKey for the JS SDK, clientKey for iOS/Android, restAPIKey for REST).',
    });
  }
  return findings;
}

function sessionFindings(config: ParsecConfig): Finding[] {
  if (!config.expireInactiveSessions) {
    return [
      {
        id: 'PSC211',
        severity: 'medium',
        title: 'Sessions never expire',
        subject: 'option expireInactiveSessions',
        why: 'A session token stolen once (a lost phone, a log file, a shared computer) works forever unless someone revokes it by hand.',
        fix: 'Turn expireInactiveSessions back on and choose a sessionLength; extendSessionOnUse keeps active users logged in.',
      },
    ];
  }
  if (config.sessionLength > ONE_YEAR_SECONDS) {
    return [
      {
        id: 'PSC212',
        severity: 'low',
        title: 'Sessions last more than a year',
        subject: 'option sessionLength',
        why: `A session lives ${Math.round(config.sessionLength / 86_400)} days: a stolen token stays useful for that long.`,
        fix: 'Use a shorter sessionLength with extendSessionOnUse, so active users stay logged in and forgotten sessions end.',
      },
    ];
  }
  return [];
}

function accountFindings(config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  if (config.allowGetLogin) {
    findings.push({
      id: 'PSC221',
      severity: 'low',
      title: 'GET /login is allowed',
      subject: 'option allowGetLogin',
      why: 'A GET login puts the username and password in the URL, where proxies, load balancers and access logs keep them.',
      fix: 'Turn allowGetLogin off: every official SDK logs in with POST.',
    });
  }
  if (!config.enforcePrivateUsers) {
    findings.push({
      id: 'PSC222',
      severity: 'low',
      title: 'New users are created with public read access',
      subject: 'option enforcePrivateUsers',
      why: 'Every new _User row gets an ACL readable by everyone, so any client can read each user\'s unprotected fields.',
      fix: 'Turn enforcePrivateUsers on (the default).',
    });
  }
  if (!(config.protectedFields._User?.['*'] ?? []).includes('email')) {
    findings.push({
      id: 'PSC223',
      severity: 'medium',
      title: "Users' email addresses are not protected",
      subject: 'option protectedFields',
      why: 'protectedFields no longer hides _User.email from other users: anyone who can read a user row reads its email address.',
      fix: 'Keep "email" in protectedFields._User["*"] (the default), adding the fields of your own you want hidden.',
    });
  }
  if (config.passwordPolicy === undefined) {
    findings.push({
      id: 'PSC224',
      severity: 'low',
      title: 'Any non-empty password is accepted',
      subject: 'option passwordPolicy',
      why: 'Without a password policy, "1" is a valid password: accounts fall to the first guesses of a credential-stuffing list.',
      fix: 'Set passwordPolicy (validatorPattern, doNotAllowUsername, maxPasswordHistory) to the rules your app needs.',
    });
  }
  return findings;
}

function serverFindings(config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  if (config.allowClientClassCreation) {
    findings.push({
      id: 'PSC231',
      severity: 'medium',
      title: 'Clients may create classes',
      subject: 'option allowClientClassCreation',
      why: 'Any client can create a new class by saving an object into it, and a new class is public for every operation: a free database for whoever finds your app keys.',
      fix: 'Turn allowClientClassCreation off (the default) and create classes with the master key.',
    });
  }
  if (!config.cloudActsAsCaller) {
    findings.push({
      id: 'PSC232',
      severity: 'low',
      title: "Cloud code queries run as nobody, not as the function's caller",
      subject: 'option cloudActsAsCaller',
      why: 'With cloudActsAsCaller off (Parse Server\'s behaviour), a query without sessionToken or useMasterKey runs as an anonymous client, so code tends to add useMasterKey to make it work.',
      fix: 'Turn cloudActsAsCaller on (the default): queries then act as the caller, under their ACLs.',
    });
  }
  const url = safeUrl(config.serverURL);
  if (url?.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
    findings.push({
      id: 'PSC233',
      severity: 'medium',
      title: 'serverURL is plain HTTP',
      subject: 'option serverURL',
      why: `Clients reach ${url.host} without TLS: session tokens, passwords and keys cross the network in clear text.`,
      fix: 'Serve Parsec behind HTTPS (a TLS-terminating proxy) and set serverURL to the https:// address.',
    });
  }
  const password = databasePassword(config.databaseURI);
  if (password !== undefined && isWeakKey(password)) {
    findings.push({
      id: 'PSC234',
      severity: 'medium',
      title: 'The database password is weak',
      subject: 'option databaseURI',
      why: 'Whoever reaches the database with it reads every row, whatever the ACLs say.',
      fix: 'Use a long random password for the database user.',
    });
  }
  // A list of proxies is the safe form (the header is read from the right, past them); `true` believes its leftmost entry.
  if (config.trustProxy === true) {
    findings.push({
      id: 'PSC235',
      severity: 'medium',
      title: 'Client IPs are the leftmost X-Forwarded-For entry',
      subject: 'option trustProxy',
      why: 'A proxy that appends to the header keeps what the client wrote first: a client then claims any IP, past masterKeyIps and per-IP rate limits.',
      fix: "List your proxies instead (trustProxy: ['10.0.0.0/8'] or 'loopback'): the client is then the address your proxy saw.",
    });
  }
  return findings;
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function databasePassword(uri: string): string | undefined {
  const url = /^postgres(ql)?:\/\//i.test(uri) ? safeUrl(uri) : undefined;
  return url === undefined || url.password === '' ? undefined : decodeURIComponent(url.password);
}
