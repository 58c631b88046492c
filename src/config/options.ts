/**
 * The one table of options Parsec implements: Parse name, type, default, environment variable and CLI flag.
 * The loader, the validator and `parsec help` are all driven from this table, so adding an option here is the
 * whole job of exposing it.
 */
import * as types from './value-types.ts';
import { trustProxyType, type TrustProxy } from './trust-proxy-option.ts';
import { DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_TEXT, rateLimit } from './rate-limit-option.ts';
import { DEFAULT_REQUEST_COMPLEXITY, requestComplexity, type RequestComplexityOption } from './request-complexity-option.ts';
import { idempotencyOptions, type IdempotencyOptions } from './idempotency-option.ts';
import { liveQuery, type LiveQueryOptions } from './live-query-option.ts';
import { fileUpload, filesAdapter } from './files-option.ts';
import { push } from './push-option.ts';
import { auth } from './auth-option.ts';
import type { AuthOption } from '../auth-providers/load.ts';
import type { PushOption } from '../push/adapter.ts';
import type { FilesAdapterOption } from '../files/adapter.ts';
import type { FileUploadOptions } from '../files/policy.ts';
import type { AccountLockoutPolicy, EmailAdapterOption, PasswordPolicy, RateLimitRule } from './types.ts';
import type { LogLevel, ValueType } from './value-types.ts';
import { DEFAULT_FILE_UPLOAD } from '../files/policy.ts';

/** Every option's value type after reading; ParsecConfig is built from these. */
export interface OptionValues {
  appId: string;
  masterKey: string;
  readOnlyMasterKey: string;
  maintenanceKey: string;
  javascriptKey: string;
  restAPIKey: string;
  clientKey: string;
  dotNetKey: string;
  masterKeyIps: readonly string[];
  databaseURI: string;
  redisURL: string;
  readReplicaURI: string;
  readReplicaMaxLagMs: number;
  cloud: string;
  cloudActsAsCaller: boolean;
  requireFunctionAccess: boolean;
  cloudTimeoutMs: number;
  ledgerRetentionDays: number;
  port: number;
  host: string;
  mountPath: string;
  serverURL: string;
  defaultLimit: number;
  maxLimit: number;
  allowClientClassCreation: boolean;
  allowCustomObjectId: boolean;
  trustProxy: TrustProxy;
  logLevel: LogLevel;
  batchRequestLimit: number;
  maxRequestBytes: number;
  fileUpload: FileUploadOptions;
  filesAdapter: FilesAdapterOption;
  queryDepth: number;
  requestComplexity: RequestComplexityOption;
  rateLimit: readonly RateLimitRule[];
  idempotencyOptions: IdempotencyOptions | false;
  liveQuery: LiveQueryOptions | false;
  databasePoolSize: number;
  statementTimeoutMs: number;
  vacuumIntervalMs: number;
  sessionLength: number;
  expireInactiveSessions: boolean;
  extendSessionOnUse: boolean;
  revokeSessionOnPasswordReset: boolean;
  enforcePrivateUsers: boolean;
  protectedFields: types.ProtectedFieldsOption;
  allowGetLogin: boolean;
  verifyUserEmails: boolean;
  preventLoginWithUnverifiedEmail: boolean;
  emailAdapter: EmailAdapterOption | false;
  accountLockout: AccountLockoutPolicy | false;
  passwordPolicy: PasswordPolicy | false;
  auth: AuthOption;
  enableAnonymousUsers: boolean;
  push: PushOption;
  scheduledPush: boolean;
}

export type OptionName = keyof OptionValues;

export interface OptionSpec<T> {
  readonly type: ValueType<T>;
  /** undefined: no default (the option is optional, or derived/generated as `defaultText` says). */
  readonly default: T | undefined;
  /** What `parsec help` shows as the default when it is derived or generated rather than fixed. */
  readonly defaultText?: string;
  readonly env: string;
  readonly flag?: string;
  /** Other names accepted in a config file, for Parse spellings of the same setting. */
  readonly aliases?: readonly string[];
  /** `null` in a config file is a value for the type to read (e.g. "off"), not "not set, use the default". */
  readonly nullIsValue?: boolean;
  readonly help: string;
}

// Largest delay Node timers honour; a longer one fires immediately instead (TimeoutOverflowWarning).
// It is also PostgreSQL's upper bound for statement_timeout.
const MAX_TIMER_MS = 2_147_483_647;
const ANY = Number.MAX_SAFE_INTEGER;
const MIB = 1024 * 1024;

/**
 * Parsec locks accounts by default (Parse does not): five wrong passwords in a row lock an account for five
 * minutes, which stops online guessing (at most 1440 guesses a day per account) at little cost to a user
 * who mistypes.
 */
export const DEFAULT_ACCOUNT_LOCKOUT: AccountLockoutPolicy = Object.freeze({ duration: 5, threshold: 5, unlockOnPasswordReset: false });

export const OPTIONS: { readonly [K in OptionName]: OptionSpec<OptionValues[K]> } = {
  appId: {
    type: types.appId,
    default: undefined,
    defaultText: 'generated on first start, kept in .parsec/credentials.json',
    env: 'PARSEC_APP_ID',
    flag: '--app-id',
    help: 'Application id clients send as X-Parse-Application-Id.',
  },
  masterKey: {
    type: types.key,
    default: undefined,
    defaultText: 'generated on first start, kept in .parsec/credentials.json',
    env: 'PARSEC_MASTER_KEY',
    flag: '--master-key',
    help: 'Master key: bypasses ACLs and CLPs. Prefer the environment or config file: flags are visible in ps.',
  },
  readOnlyMasterKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_READ_ONLY_MASTER_KEY',
    help: 'Master read access, every write refused; same IP rule as the master key.',
  },
  maintenanceKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_MAINTENANCE_KEY',
    help: 'For maintenance scripts: objects without ACL or CLP checks and server-set fields (emailVerified), but no schema changes, /loginAs or master rights in cloud code; same IP rule as the master key.',
  },
  javascriptKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_JAVASCRIPT_KEY',
    flag: '--javascript-key',
    help: 'Client key for the JavaScript SDK. When no client key is set, the app id alone identifies the app.',
  },
  restAPIKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_REST_API_KEY',
    flag: '--rest-api-key',
    help: 'Client key for REST calls (X-Parse-REST-API-Key).',
  },
  clientKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_CLIENT_KEY',
    flag: '--client-key',
    help: 'Client key for the Apple SDKs (X-Parse-Client-Key).',
  },
  dotNetKey: {
    type: types.key,
    default: undefined,
    env: 'PARSEC_DOT_NET_KEY',
    aliases: ['windowsKey'],
    help: 'Client key for the .NET and Unity SDKs (X-Parse-Windows-Key; Parse also calls it windowsKey).',
  },
  masterKeyIps: {
    type: types.ipList,
    // Parse's default since 6.0: the master key works from this machine only.
    default: ['127.0.0.1', '::1'],
    env: 'PARSEC_MASTER_KEY_IPS',
    help: 'IPs/CIDRs allowed to use the master key; an empty list disables it over HTTP.',
  },
  databaseURI: {
    type: types.nonEmptyString,
    // Embedded PGlite, so `parsec start` works with nothing installed; resolved against the working directory.
    default: './.parsec/data',
    env: 'PARSEC_DATABASE_URI',
    flag: '--database',
    help: 'postgres://... for PostgreSQL, memory:// or a directory for embedded PGlite. MongoDB is not supported.',
  },
  redisURL: {
    type: types.nonEmptyString,
    default: undefined,
    env: 'PARSEC_REDIS_URL',
    flag: '--redis',
    help: 'redis://... (optional, several nodes on PostgreSQL): shared rate-limit counters, and LiveQuery changes fanned out between nodes through pub/sub instead of NOTIFY. The REST API never needs it to be correct.',
  },
  readReplicaURI: {
    type: types.nonEmptyString,
    default: undefined,
    defaultText: 'none (every read uses databaseURI)',
    env: 'PARSEC_READ_REPLICA_URI',
    flag: '--read-replica',
    help: 'postgres://... of a streaming replica of databaseURI (PostgreSQL only): client finds, gets, counts and aggregates may read there, each caller still reading its own writes; the primary answers whenever the replica is down or lags.',
  },
  readReplicaMaxLagMs: {
    type: types.integer(1, MAX_TIMER_MS),
    default: 1_000,
    env: 'PARSEC_READ_REPLICA_MAX_LAG_MS',
    help: 'With readReplicaURI: when the replica is further behind the primary than this, every read goes to the primary until it catches up.',
  },
  cloud: {
    type: types.nonEmptyString,
    default: undefined,
    env: 'PARSEC_CLOUD',
    flag: '--cloud',
    help: 'Cloud Code main file, resolved against the working directory as Parse does.',
  },
  cloudActsAsCaller: {
    type: types.boolean,
    default: true,
    env: 'PARSEC_CLOUD_ACTS_AS_CALLER',
    help: "Cloud code's Parse calls without useMasterKey or sessionToken act as the function's or trigger's caller; false acts as anonymous, as Parse Server does.",
  },
  requireFunctionAccess: {
    type: types.boolean,
    default: true,
    env: 'PARSEC_REQUIRE_FUNCTION_ACCESS',
    help: 'Every cloud function must declare who may call it (requireUser, requireMaster, roles, a validator function, public or internal); false allows undeclared functions to anyone with the app keys, as Parse Server does.',
  },
  ledgerRetentionDays: {
    type: types.integer(0, 36_500),
    default: 90,
    env: 'PARSEC_LEDGER_RETENTION_DAYS',
    help: 'Days the privilege ledger keeps its records (master-key requests and useMasterKey escalations); 0 keeps them forever.',
  },
  cloudTimeoutMs: {
    type: types.integer(1, MAX_TIMER_MS),
    default: 30_000,
    env: 'PARSEC_CLOUD_TIMEOUT_MS',
    help: 'Time limit of one cloud function or trigger; past it the request answers 124 TIMEOUT (the handler is not stopped).',
  },
  port: {
    type: types.integer(1, 65535),
    default: 1337,
    env: 'PARSEC_PORT',
    flag: '--port',
    help: 'TCP port to listen on.',
  },
  host: {
    type: types.host,
    // Parse Server listens on all interfaces, and that is what a Parse developer expects: the API exists to be
    // reached by phones and browsers, and inside a container a loopback-only server is unreachable. Access
    // control does not depend on the bind address: the master key is limited to loopback by masterKeyIps,
    // and data by ACLs/CLPs. `--host 127.0.0.1` keeps a development server private to the machine.
    default: '0.0.0.0',
    env: 'PARSEC_HOST',
    flag: '--host',
    help: 'Interface to listen on; 127.0.0.1 for this machine only.',
  },
  mountPath: {
    type: types.mountPath,
    default: '/parse',
    env: 'PARSEC_MOUNT_PATH',
    flag: '--mount',
    help: 'Path the API is served under.',
  },
  serverURL: {
    type: types.httpUrl,
    default: undefined,
    defaultText: 'http://localhost:<port><mountPath>',
    env: 'PARSEC_SERVER_URL',
    flag: '--server-url',
    help: 'URL Cloud Code uses to reach this server.',
  },
  defaultLimit: {
    type: types.integer(1, ANY),
    default: 100,
    env: 'PARSEC_DEFAULT_LIMIT',
    help: 'Results per query when the client gives no limit.',
  },
  maxLimit: {
    type: types.integer(1, ANY),
    // Stricter than Parse, whose maxLimit is unlimited by default: an unbounded `limit` lets any client
    // ask for a whole table in one response. Larger limits are clamped, as Parse does when maxLimit is set.
    default: 1000,
    env: 'PARSEC_MAX_LIMIT',
    help: 'Largest limit a query may ask for; larger values are clamped (Parse: unlimited).',
  },
  allowClientClassCreation: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_ALLOW_CLIENT_CLASS_CREATION',
    help: 'Let clients without the master key create classes.',
  },
  allowCustomObjectId: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_ALLOW_CUSTOM_OBJECT_ID',
    help: 'Let clients choose objectId on create.',
  },
  trustProxy: {
    type: trustProxyType,
    default: false,
    env: 'PARSEC_TRUST_PROXY',
    help: "Take the client IP from X-Forwarded-For: the proxies' IPs/CIDRs (or loopback, linklocal, uniquelocal) to read it from the right past them (safe), or true to believe the leftmost entry (only if your proxy overwrites the header).",
  },
  logLevel: {
    type: types.logLevel,
    default: 'info',
    env: 'PARSEC_LOG_LEVEL',
    flag: '--log-level',
    help: 'Log verbosity (Parse\'s "verbose" and "silly" mean debug).',
  },
  batchRequestLimit: {
    type: types.integer(1, ANY),
    default: 50,
    env: 'PARSEC_BATCH_REQUEST_LIMIT',
    help: 'Most sub-requests one /batch may contain.',
  },
  maxRequestBytes: {
    type: types.byteSize,
    default: 20 * MIB,
    defaultText: '20mb (20971520 bytes)',
    env: 'PARSEC_MAX_REQUEST_BYTES',
    // Parse's maxUploadSize is also its body limit for every route, so it means the same thing here.
    aliases: ['maxUploadSize'],
    help: 'Request body limit (Parse: maxUploadSize, e.g. "20mb"); also the largest file an upload may store.',
  },
  fileUpload: {
    type: fileUpload,
    default: DEFAULT_FILE_UPLOAD,
    defaultText: '{"enableForPublic": false, "enableForAnonymousUser": false, "enableForAuthenticatedUser": true}, active content refused',
    env: 'PARSEC_FILE_UPLOAD',
    help: 'Who may upload files (the master key always may) and, in fileExtensions, which extensions (regular expressions; "*" for all). Without fileExtensions, HTML, SVG, XML, scripts and other active content are refused (Parse refuses only HTML). JSON in the variable.',
  },
  filesAdapter: {
    type: filesAdapter,
    default: undefined,
    defaultText: 'the database',
    env: 'PARSEC_FILES_ADAPTER',
    help: 'Where files are stored: the database by default; "fs" ({"module": "fs", "options": {"filesSubDirectory": "..."}} for ./files/<dir>, or {"directory": "..."}); or a Parse files adapter module such as @parse/fs-files-adapter.',
  },
  queryDepth: {
    type: types.integer(1, ANY),
    default: 10,
    env: 'PARSEC_QUERY_DEPTH',
    help: 'Deepest nesting of $or/$and/$nor and sub-queries in a where, for every caller (Parse: requestComplexity.queryDepth).',
  },
  requestComplexity: {
    type: requestComplexity,
    default: DEFAULT_REQUEST_COMPLEXITY,
    env: 'PARSEC_REQUEST_COMPLEXITY',
    help: 'Limits on one client query, each a number or -1 for none; keys not named keep their default; the master and maintenance keys are not limited (Parse: off unless set). A limit exceeded answers 102 naming it. JSON in the variable.',
  },
  rateLimit: {
    type: rateLimit,
    default: DEFAULT_RATE_LIMIT,
    defaultText: DEFAULT_RATE_LIMIT_TEXT,
    env: 'PARSEC_RATE_LIMIT',
    // Parse reads a null rateLimit as "no rate limit"; a parse-server config saying so keeps its meaning.
    nullIsValue: true,
    help: 'Rate limit rules as in Parse, replacing the defaults; [] or false turns them off (Parse: none). Paths are matched without query string, case and trailing slash, methods after the _method override, each batch sub-request on its own. Past a limit: 429 with code 100. JSON in the variable.',
  },
  idempotencyOptions: {
    type: idempotencyOptions,
    default: undefined,
    defaultText: 'off',
    env: 'PARSEC_IDEMPOTENCY_OPTIONS',
    nullIsValue: true,
    help: 'Refuse a repeated X-Parse-Request-Id (159 "Duplicate request") on POST/PUT classes, users, installations and POST functions, jobs whose path (without the mount path) matches one of `paths` (regular expressions anchored at the start, e.g. "functions/.*"); ids are kept `ttl` seconds (default 300). JSON in the variable.',
  },
  liveQuery: {
    type: liveQuery,
    default: undefined,
    defaultText: 'off',
    env: 'PARSEC_LIVE_QUERY',
    nullIsValue: true,
    help: 'LiveQuery for `classNames`, on the REST port, or with `port` (and `host`, default: host) on that port only (Parse: liveQueryServerOptions.port); limits maxConnectionsPerIp (100), maxConnectionsPerUser (20), maxSubscriptionsPerConnection (100) and maxMessageBytes (65536); redisURL (as in Parse) for the fan-out between nodes through Redis pub/sub (default: the top-level redisURL, else PostgreSQL NOTIFY); every event is decided with the rules of a find by the subscriber. JSON in the variable.',
  },
  databasePoolSize: {
    type: types.integer(1, ANY),
    default: 20,
    env: 'PARSEC_DATABASE_POOL_SIZE',
    help: 'PostgreSQL connection pool size.',
  },
  statementTimeoutMs: {
    type: types.integer(1, MAX_TIMER_MS),
    default: 30_000,
    env: 'PARSEC_STATEMENT_TIMEOUT_MS',
    help: 'Per-statement time limit; a query past it answers 124 TIMEOUT.',
  },
  vacuumIntervalMs: {
    type: types.integer(0, MAX_TIMER_MS),
    default: 10 * 60 * 1000,
    env: 'PARSEC_VACUUM_INTERVAL_MS',
    help: 'Embedded PGlite only: how often VACUUM ANALYZE runs; 0 disables.',
  },
  sessionLength: {
    type: types.integer(1, ANY),
    default: 31_536_000,
    env: 'PARSEC_SESSION_LENGTH',
    help: 'Seconds a session lives (as Parse: one year).',
  },
  expireInactiveSessions: {
    type: types.boolean,
    default: true,
    env: 'PARSEC_EXPIRE_INACTIVE_SESSIONS',
    help: 'Sessions expire after sessionLength; false makes them last until revoked.',
  },
  extendSessionOnUse: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_EXTEND_SESSION_ON_USE',
    help: 'Move a session\'s expiry forward when it is used in the second half of its life.',
  },
  revokeSessionOnPasswordReset: {
    type: types.boolean,
    default: true,
    env: 'PARSEC_REVOKE_SESSION_ON_PASSWORD_RESET',
    help: "A password change ends the user's other sessions.",
  },
  enforcePrivateUsers: {
    type: types.boolean,
    default: true,
    env: 'PARSEC_ENFORCE_PRIVATE_USERS',
    help: 'New users get no public read access in their default ACL.',
  },
  protectedFields: {
    type: types.protectedFields,
    default: Object.freeze({ _User: Object.freeze({ '*': Object.freeze(['email']) }) }),
    env: 'PARSEC_PROTECTED_FIELDS',
    help: 'Per class, fields hidden from an audience and refused in its queries, added to each class\'s own protectedFields; JSON in the variable.',
  },
  allowGetLogin: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_ALLOW_GET_LOGIN',
    help: 'Also accept GET /login (it puts passwords in URLs and logs; the SDKs use POST).',
  },
  accountLockout: {
    type: types.accountLockout,
    default: DEFAULT_ACCOUNT_LOCKOUT,
    env: 'PARSEC_ACCOUNT_LOCKOUT',
    // Parse reads a null accountLockout as "no lockout"; a parse-server config saying so keeps its meaning.
    nullIsValue: true,
    help: 'Lock an account for `duration` minutes after `threshold` wrong passwords in a row; false (or null) turns it off (Parse: off). A locked account answers like a wrong password.',
  },
  passwordPolicy: {
    type: types.passwordPolicy,
    default: undefined,
    defaultText: 'none',
    env: 'PARSEC_PASSWORD_POLICY',
    help: 'Rules for new passwords (validatorPattern, validationError, doNotAllowUsername, maxPasswordHistory) and their maximum age in days (maxPasswordAge); JSON in the variable.',
  },
  verifyUserEmails: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_VERIFY_USER_EMAILS',
    help: 'Send a verification link on sign-up and when a user changes their email.',
  },
  preventLoginWithUnverifiedEmail: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL',
    help: 'With verifyUserEmails: refuse logins (205) until the email is verified; sign-up returns no session.',
  },
  emailAdapter: {
    type: types.emailAdapter,
    default: undefined,
    env: 'PARSEC_EMAIL_ADAPTER',
    help: 'Module sending account emails ("module" or {"module","options"}; its sendMail({to,subject,text}) as in Parse). Default: log them.',
  },
  auth: {
    type: auth,
    default: undefined,
    defaultText: 'anonymous only',
    env: 'PARSEC_AUTH',
    help: 'Third-party login providers (authData) as in Parse: built in anonymous, apple, google, facebook, github, oauth2 (OpenID Connect: JWKS or token introspection), or a Parse Server auth adapter ("module" or {"module","options"}). Every log-in is verified with the provider. JSON in the variable.',
  },
  enableAnonymousUsers: {
    type: types.boolean,
    // As Parse: anonymous accounts give nothing open sign-up does not (and pass the same CLP and rate limit).
    default: true,
    env: 'PARSEC_ENABLE_ANONYMOUS_USERS',
    help: 'Allow anonymous users (authData.anonymous, Parse.AnonymousUtils); false answers 252.',
  },
  push: {
    type: push,
    default: undefined,
    defaultText: 'none (POST /push answers 115)',
    env: 'PARSEC_PUSH',
    help: 'Push adapter as in Parse: {"adapter": "module" | {"module","options"}}, or Parse\'s {"ios": …, "android": …} form (loads @parse/push-adapter); "sendTimeoutMs" (default 60000) bounds one delivery. JSON in the variable.',
  },
  scheduledPush: {
    type: types.boolean,
    default: false,
    env: 'PARSEC_SCHEDULED_PUSH',
    help: 'A push with push_time is only recorded ("scheduled") for an external scheduler, as in Parse; false sends it at once.',
  },
};

/** Table order, which is also the order of `parsec help`. */
export const OPTION_NAMES: readonly OptionName[] = Object.keys(OPTIONS) as OptionName[];

/** The variable naming the config file; not an option itself. */
export const CONFIG_ENV = 'PARSEC_CONFIG';
export const CONFIG_FLAG = '--config';

/** Flags that are not options: they pick the config file or ask for help. */
export const EXTRA_FLAGS: readonly { readonly flag: string; readonly env?: string; readonly help: string }[] = [
  { flag: CONFIG_FLAG, env: CONFIG_ENV, help: 'JSON config file (a parse-server config.json works as is).' },
];
