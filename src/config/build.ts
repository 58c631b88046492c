/**
 * Turns merged, validated option values into the frozen ParsecConfig every other module receives.
 */
import { isIP } from 'node:net';
import type { OptionName, OptionValues } from './options.ts';
import type { ParsecConfig } from './types.ts';

/** Values after merging with the defaults and credentials; paths already resolved against the working directory. */
export interface Resolved {
  readonly values: Partial<OptionValues>;
  readonly databaseURI: string;
  readonly cloud: string | undefined;
}

function need<K extends OptionName>(values: Partial<OptionValues>, name: K): OptionValues[K] {
  const value = values[name];
  // Unreachable by construction (defaults and credentials fill these); failing loudly beats a half config.
  if (value === undefined) throw new Error(`internal error: option ${name} has no value after loading`);
  return value;
}

/**
 * Where Cloud Code reaches this server when serverURL is not set. A wildcard or loopback bind is reached
 * through localhost (Parse's convention); a server bound to one specific address only answers on that address.
 */
export function defaultServerURL(host: string, port: number, mountPath: string): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === 'localhost' || host === '127.0.0.1' || host === '::1';
  const authority = wildcard ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${authority}:${port}${mountPath}`;
}

export function buildConfig({ values, databaseURI, cloud }: Resolved): ParsecConfig {
  const port = need(values, 'port');
  const host = need(values, 'host');
  const mountPath = need(values, 'mountPath');
  const accountLockout = need(values, 'accountLockout');
  // Parse spells two of Parsec's top-level limits inside requestComplexity; given there, they win.
  const { queryDepth, batchRequestLimit, ...requestComplexity } = need(values, 'requestComplexity');
  const clientKeys: { -readonly [K in keyof ParsecConfig['clientKeys']]: string } = {};
  // Only configured keys appear: the server treats "no client key at all" as Parse does.
  if (values.javascriptKey !== undefined) clientKeys.javascriptKey = values.javascriptKey;
  if (values.restAPIKey !== undefined) clientKeys.restAPIKey = values.restAPIKey;
  if (values.clientKey !== undefined) clientKeys.clientKey = values.clientKey;
  if (values.dotNetKey !== undefined) clientKeys.dotNetKey = values.dotNetKey;

  const config: ParsecConfig = {
    appId: need(values, 'appId'),
    masterKey: need(values, 'masterKey'),
    readOnlyMasterKey: values.readOnlyMasterKey,
    maintenanceKey: values.maintenanceKey,
    clientKeys: Object.freeze(clientKeys),
    masterKeyIps: Object.freeze([...need(values, 'masterKeyIps')]),
    databaseURI,
    redisURL: values.redisURL,
    readReplicaURI: values.readReplicaURI,
    readReplicaMaxLagMs: need(values, 'readReplicaMaxLagMs'),
    cloud,
    cloudActsAsCaller: need(values, 'cloudActsAsCaller'),
    requireFunctionAccess: need(values, 'requireFunctionAccess'),
    cloudTimeoutMs: need(values, 'cloudTimeoutMs'),
    ledgerRetentionDays: need(values, 'ledgerRetentionDays'),
    port,
    host,
    mountPath,
    serverURL: values.serverURL ?? defaultServerURL(host, port, mountPath),
    defaultLimit: need(values, 'defaultLimit'),
    maxLimit: need(values, 'maxLimit'),
    allowClientClassCreation: need(values, 'allowClientClassCreation'),
    allowCustomObjectId: need(values, 'allowCustomObjectId'),
    batchRequestLimit: batchRequestLimit ?? need(values, 'batchRequestLimit'),
    maxRequestBytes: need(values, 'maxRequestBytes'),
    fileUpload: need(values, 'fileUpload'),
    filesAdapter: values.filesAdapter,
    queryDepth: queryDepth ?? need(values, 'queryDepth'),
    requestComplexity: Object.freeze(requestComplexity),
    rateLimit: need(values, 'rateLimit'),
    idempotencyOptions: values.idempotencyOptions === undefined || values.idempotencyOptions === false ? undefined : values.idempotencyOptions,
    liveQuery: values.liveQuery === undefined || values.liveQuery === false ? undefined : values.liveQuery,
    trustProxy: need(values, 'trustProxy'),
    databasePoolSize: need(values, 'databasePoolSize'),
    statementTimeoutMs: need(values, 'statementTimeoutMs'),
    vacuumIntervalMs: need(values, 'vacuumIntervalMs'),
    logLevel: need(values, 'logLevel'),
    sessionLength: need(values, 'sessionLength'),
    expireInactiveSessions: need(values, 'expireInactiveSessions'),
    extendSessionOnUse: need(values, 'extendSessionOnUse'),
    revokeSessionOnPasswordReset: need(values, 'revokeSessionOnPasswordReset'),
    enforcePrivateUsers: need(values, 'enforcePrivateUsers'),
    protectedFields: need(values, 'protectedFields'),
    allowGetLogin: need(values, 'allowGetLogin'),
    accountLockout: accountLockout === false ? undefined : accountLockout,
    passwordPolicy: values.passwordPolicy === undefined || values.passwordPolicy === false ? undefined : values.passwordPolicy,
    verifyUserEmails: need(values, 'verifyUserEmails'),
    preventLoginWithUnverifiedEmail: need(values, 'preventLoginWithUnverifiedEmail'),
    emailAdapter: values.emailAdapter === undefined || values.emailAdapter === false ? undefined : values.emailAdapter,
    auth: values.auth,
    enableAnonymousUsers: need(values, 'enableAnonymousUsers'),
    push: values.push,
    scheduledPush: values.scheduledPush ?? false,
  };
  return Object.freeze(config);
}
