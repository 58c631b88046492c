/**
 * Parse Server options Parsec does not implement yet, so a parse-server config.json loads unchanged and every
 * key in it is accounted for.
 *
 * The rule for the class of each: an option whose value asks for protection Parsec cannot give yet is an
 * `error` (starting anyway would leave the app less protected than its owner configured); one that only adds
 * a feature, or whose absence leaves the app at least as protected, is a `warn` (named at startup, ignored).
 * Where the same option can ask either way (`enforcePrivateUsers: false` asks for less), `protective` decides
 * per value and a non-protective value is only a warning.
 */

export type Severity = 'warn' | 'error';

export interface UnsupportedOption {
  readonly severity: Severity;
  /** For `error`: what protection would be missing. For `warn`: what is ignored, or what to use instead. */
  readonly note: string;
  /** For `error`: whether this value really asks for protection; absent means any value does. */
  readonly protective?: (value: unknown) => boolean;
}

const isTrue = (value: unknown): boolean => value === true;

/** Whether a value asks for anything at all: null, false, '', [] and {} do not. */
function hasContent(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

const ALLOW_ALL_RANGES = new Set(['0.0.0.0/0', '::/0', '::0', '::']);

const warn = (note: string): UnsupportedOption => ({ severity: 'warn', note });
const error = (note: string, protective: (value: unknown) => boolean = hasContent): UnsupportedOption => ({
  severity: 'error',
  note,
  protective,
});

const table: Readonly<Record<string, UnsupportedOption>> = {
  // Accounts and sessions.
  preventSignupWithUnverifiedEmail: error('sign-ups with an unverified email would not be refused', isTrue),
  // Parsec validates authData with the provider on every log-in, whatever this says (GHSA-pfj7-wv7c-22pr).
  allowExpiredAuthDataToken: warn('every authData log-in is validated with the provider; an expired token is never accepted.'),
  // Parsec has no adapter that trusts a client's token without an app (audience) check.
  enableInsecureAuthAdapters: warn('Parsec\'s built-in auth adapters all check that a token was issued for this app.'),
  sendUserEmailVerification: warn('email verification is not available yet.'),
  emailVerifyTokenValidityDuration: warn('email verification is not available yet, so no token is issued.'),
  emailVerifyTokenReuseIfValid: warn('email verification is not available yet.'),
  emailVerifySuccessOnInvalidEmail: warn('email verification requests are not available yet.'),
  convertEmailToLowercase: warn('emails are stored as given.'),
  convertUsernameToLowercase: warn('usernames are stored as given.'),
  appName: warn('only used in emails and pages, which are not available yet.'),
  publicServerURL: warn('only used in emails and pages, which are not available yet.'),
  customPages: warn('password reset and verification pages are not available yet.'),
  pages: warn('password reset and verification pages are not available yet.'),

  // Parsec applies masterKeyIps to the maintenance key too; a separate (narrower) list would be widened.
  maintenanceKeyIps: error(
    'the maintenance key follows masterKeyIps, not a list of its own; set masterKeyIps to the addresses the keys may use',
    (v) => !(Array.isArray(v) && v.every((entry) => typeof entry === 'string' && ALLOW_ALL_RANGES.has(entry))),
  ),
  // Parsec applies masterKeyIps to the read-only master key too; a separate (narrower) list would be widened.
  readOnlyMasterKeyIps: error(
    'the read-only master key follows masterKeyIps, not a list of its own; set masterKeyIps to the addresses both keys may use',
    (v) => !(Array.isArray(v) && v.every((entry) => typeof entry === 'string' && ALLOW_ALL_RANGES.has(entry))),
  ),
  masterKeyTtl: warn('only applies to a master key given as a function, which a JSON config cannot hold.'),
  webhookKey: warn('webhooks are not available yet.'),
  fileKey: warn('legacy hosted-Parse file key; not used.'),
  encryptionKey: error('files would be stored unencrypted', (v) => typeof v === 'string' && v !== ''),

  // Request filtering and limits.
  requestKeywordDenylist: error('the configured keyword denylist would not be applied to request data'),
  allowOrigin: error(
    'CORS would not be limited to the configured origins',
    (v) => hasContent(v) && v !== '*' && !(Array.isArray(v) && v.length === 1 && v[0] === '*'),
  ),
  allowHeaders: warn('no extra CORS headers are allowed.'),
  // Parsec always keeps explain (and hint) to the master key: false is what it does, true is not offered.
  allowPublicExplain: warn('explain and hint always need the master key in Parsec.'),
  nonMasterExplain: warn('explain and hint always need the master key in Parsec.'),
  enableSanitizedErrorResponse: error('error details would not be sanitised as configured', isTrue),
  enableExpressErrorHandler: warn('Parsec does not use Express.'),
  middleware: error('the custom middleware, which may perform access checks, would not run'),
  requestContextMiddleware: error('the custom middleware, which may perform access checks, would not run'),

  // Data protection.
  userSensitiveFields: error('the configured user fields would not be hidden from other users'),
  schema: error('the class definitions, including their class-level permissions, would not be applied'),
  // Ignoring a prefix would put this app's data in the same tables as another app sharing the database.
  collectionPrefix: error('this app would share tables with other apps in the same database'),
  databaseAdapter: error('data would be stored by Parsec\'s own adapter instead; configure databaseURI'),
  // These may carry TLS settings; dropping them could connect without TLS. Put TLS in the URI (sslmode=...).
  databaseOptions: error('the database options (which may include TLS settings) would not be applied; use databaseURI parameters and databasePoolSize'),
  objectIdSize: warn('object ids have Parsec\'s fixed length.'),
  enableCollationCaseComparison: warn('not applicable to PostgreSQL.'),
  encodeParseObjectInCloudFunction: warn('Cloud Code return values follow Parsec\'s encoding.'),
  directAccess: warn('Cloud Code requests follow Parsec\'s own routing.'),

  // Files.
  preserveFileName: warn('file names follow Parsec\'s rules.'),

  // GraphQL. (startLiveQueryServer and liveQueryServerOptions are read as liveQuery's port: live-query-server-option.ts.)
  mountGraphQL: warn('GraphQL is not available.'),
  graphQLPath: warn('GraphQL is not available.'),
  graphQLSchema: warn('GraphQL is not available.'),
  graphQLPublicIntrospection: warn('GraphQL is not available.'),
  mountPlayground: warn('GraphQL is not available.'),
  playgroundPath: warn('GraphQL is not available.'),

  // Logging, caching, process.
  verbose: warn('use logLevel: "debug".'),
  silent: warn('use logLevel: "silent".'),
  jsonLogs: warn('log format is fixed.'),
  logsFolder: warn('logs go to standard output.'),
  maxLogFiles: warn('logs go to standard output.'),
  logLevels: warn('use logLevel.'),
  loggerAdapter: warn('logs go to standard output.'),
  analyticsAdapter: warn('analytics events are not recorded.'),
  cacheAdapter: warn('Parsec uses its own cache.'),
  cacheTTL: warn('Parsec uses its own cache.'),
  cacheMaxSize: warn('Parsec uses its own cache.'),
  cluster: warn('run one Parsec process per core behind a load balancer instead.'),
  security: warn('the security check endpoint is not available; `parsec audit` will replace it.'),
  verifyServerUrl: warn('serverURL is not probed at startup.'),
  serverStartComplete: warn('callbacks cannot be given in a JSON config.'),
  serverCloseComplete: warn('callbacks cannot be given in a JSON config.'),
  enableProductPurchaseLegacyApi: warn('the legacy purchase API is not available.'),
};

export const UNSUPPORTED_OPTIONS: ReadonlyMap<string, UnsupportedOption> = new Map(Object.entries(table));

export interface Classified {
  readonly severity: Severity;
  readonly message: string;
}

/** What to report for an unsupported option `name` set to `value` in the config file. */
export function classifyUnsupported(name: string, option: UnsupportedOption, value: unknown): Classified {
  const protective = option.severity === 'error' && (option.protective ?? hasContent)(value);
  if (protective) {
    return {
      severity: 'error',
      message: `${name}: this Parse option is not implemented by Parsec yet, and ignoring it would leave the app less protected than configured (${option.note}). Remove it to run without that protection.`,
    };
  }
  const note = option.severity === 'warn' ? ` ${option.note}` : '';
  return { severity: 'warn', message: `${name}: this Parse option is not implemented by Parsec yet and is ignored.${note}` };
}
