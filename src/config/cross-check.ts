/**
 * Checks that involve more than one option, run on the merged values (defaults < file < environment < flags,
 * plus stored credentials). Single values were already type-checked where they were read.
 */
import { OPTIONS, type OptionValues } from './options.ts';
import { readReplicaProblem } from './database-uri.ts';

export interface CrossCheck {
  readonly problems: string[];
  readonly warnings: string[];
}

const CLIENT_KEYS = ['javascriptKey', 'restAPIKey', 'clientKey', 'dotNetKey'] as const;
/** masterKeyIps entries that accept every address of a family. */
export const ALLOW_ALL: ReadonlyMap<string, string> = new Map([
  ['0.0.0.0/0', 'IPv4'],
  ['::/0', 'IPv6'],
]);

/** `masterKeyConfigured`: the master key came from the configuration, not from generated credentials. */
export function crossCheck(values: Partial<OptionValues>, masterKeyConfigured: boolean): CrossCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const { masterKey, readOnlyMasterKey, maintenanceKey } = values;

  if (readOnlyMasterKey !== undefined && readOnlyMasterKey === masterKey) {
    problems.push('readOnlyMasterKey must differ from masterKey (otherwise it grants full write access)');
  }
  if (maintenanceKey !== undefined && (maintenanceKey === masterKey || maintenanceKey === readOnlyMasterKey)) {
    problems.push('maintenanceKey must differ from masterKey and readOnlyMasterKey (each key grants different rights)');
  }
  for (const name of CLIENT_KEYS) {
    const clientKey = values[name];
    if (clientKey === undefined) continue;
    // Client keys ship inside apps and web pages, so one equal to a master key publishes that key.
    if (clientKey === masterKey) problems.push(`${name} must differ from masterKey (client keys are public, shipped inside apps)`);
    if (clientKey === readOnlyMasterKey) problems.push(`${name} must differ from readOnlyMasterKey (client keys are public, shipped inside apps)`);
    if (clientKey === maintenanceKey) problems.push(`${name} must differ from maintenanceKey (client keys are public, shipped inside apps)`);
  }

  const { defaultLimit, maxLimit } = values;
  if (defaultLimit !== undefined && maxLimit !== undefined && defaultLimit > maxLimit) {
    problems.push(`defaultLimit (${defaultLimit}) must not be larger than maxLimit (${maxLimit})`);
  }

  problems.push(...complexityProblems(values));
  for (const rule of values.rateLimit ?? []) {
    const mount = values.mountPath;
    // Rules are relative to the mount path, as in Parse: "/parse/login" would never match anything.
    if (mount !== undefined && mount !== '/' && (rule.requestPath === mount || rule.requestPath.startsWith(`${mount}/`))) {
      problems.push(`rateLimit: requestPath ${JSON.stringify(rule.requestPath)} includes the mount path; paths are relative to it (write ${JSON.stringify(rule.requestPath.slice(mount.length) || '/')})`);
    }
  }

  const liveQueryProblem = liveQueryPortProblem(values);
  if (liveQueryProblem !== undefined) problems.push(liveQueryProblem);

  const { redisURL } = values;
  if (redisURL !== undefined && !/^rediss?:\/\//i.test(redisURL)) problems.push('redisURL must be a redis:// or rediss:// URL');
  const replicaProblem = readReplicaProblem(values.readReplicaURI, values.databaseURI);
  if (replicaProblem !== undefined) problems.push(replicaProblem);

  for (const entry of values.masterKeyIps ?? []) {
    const family = ALLOW_ALL.get(entry);
    if (family !== undefined) warnings.push(`masterKeyIps contains ${entry}: the master key is accepted from every ${family} address`);
  }
  const policy = values.passwordPolicy;
  if (policy !== undefined && policy !== false) {
    // resetTokenValidityDuration sets the reset link lifetime; reusing a valid link is not implemented:
    // every request issues a new link (which invalidates the previous one), the stricter behaviour.
    if (policy.resetTokenReuseIfValid === true) {
      warnings.push('passwordPolicy.resetTokenReuseIfValid: not applied; every reset request issues a new link and invalidates the previous one');
    }
  }
  if (masterKeyConfigured && masterKey !== undefined && isWeakKey(masterKey)) {
    warnings.push('masterKey is weak: use at least 14 characters mixing upper case, lower case, digits and symbols (or leave it unset to have a strong one generated)');
  }
  return { problems, warnings };
}

/** requestComplexity.queryDepth / batchRequestLimit are Parse's names for two top-level options: one value each. */
function complexityProblems(values: Partial<OptionValues>): string[] {
  const problems: string[] = [];
  for (const name of ['queryDepth', 'batchRequestLimit'] as const) {
    const nested = values.requestComplexity?.[name];
    const top = values[name];
    if (nested !== undefined && top !== undefined && top !== OPTIONS[name].default && top !== nested) {
      problems.push(`requestComplexity.${name} (${nested}) and ${name} (${top}) set the same limit; keep one`);
    }
  }
  return problems;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/**
 * LiveQuery's own port on the REST server's address: the second server to bind it would fail at start, and
 * since LiveQuery binds first the failure would be reported as the REST port's.
 */
function liveQueryPortProblem(values: Partial<OptionValues>): string | undefined {
  const { liveQuery, port, host } = values;
  if (liveQuery === undefined || liveQuery === false || liveQuery.port === undefined || liveQuery.port !== port || host === undefined) return undefined;
  const liveHost = liveQuery.host ?? host;
  if (liveHost !== host && !WILDCARD_HOSTS.has(liveHost) && !WILDCARD_HOSTS.has(host)) return undefined;
  return `liveQuery.port (${liveQuery.port}) is the REST port; leave it out to serve LiveQuery on the REST port, or choose another port`;
}

/** Parse's own security-check rule: shorter than 14, or fewer than three kinds of character. */
export function isWeakKey(value: string): boolean {
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((kind) => kind.test(value)).length;
  return value.length < 14 || kinds < 3;
}
