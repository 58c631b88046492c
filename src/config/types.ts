import type { IdempotencyOptions } from './idempotency-option.ts';
import type { LiveQueryOptions } from './live-query-option.ts';
import type { FilesAdapter, FilesAdapterOption } from '../files/adapter.ts';
import type { FileUploadOptions } from '../files/policy.ts';
import type { PushOption } from '../push/adapter.ts';
import type { AuthOption } from '../auth-providers/load.ts';
import type { TrustProxy } from './trust-proxy-option.ts';

/** Parse's `accountLockout`: failed logins in a row lock an account for a while. */
export interface AccountLockoutPolicy {
  /** Minutes an account stays locked (fractions allowed, as in Parse). */
  readonly duration: number;
  /** Failed logins in a row that lock the account. */
  readonly threshold: number;
  /** A password change (or reset) unlocks the account and clears its failed-login count. */
  readonly unlockOnPasswordReset: boolean;
}

/**
 * Parse's `passwordPolicy`. Every field is optional so a config object written in code can name only what
 * it uses; a config file's policy is validated and completed by the loader.
 */
export interface PasswordPolicy {
  /** New passwords must match it. Written by the operator (trusted), matched against client input. */
  readonly validatorPattern?: RegExp;
  /** New passwords must make it return true. Only from a config object in code: JSON cannot hold a function. */
  readonly validatorCallback?: (password: string) => boolean | Promise<boolean>;
  /** The 142 message when the pattern or callback refuses a password. */
  readonly validationError?: string;
  /** Refuse passwords that contain the username. */
  readonly doNotAllowUsername?: boolean;
  /** Days a password is valid; a login with an older one answers 101. */
  readonly maxPasswordAge?: number;
  /** Refuse a new password equal to one of the last N (0 or absent: off). */
  readonly maxPasswordHistory?: number;
  /** Password-reset link lifetime in seconds. */
  readonly resetTokenValidityDuration?: number;
  /** Send the same reset link again while it is valid. */
  readonly resetTokenReuseIfValid?: boolean;
  /** `/requestPasswordReset` answers `{}` for unknown emails (Parse's default, true). */
  readonly resetPasswordSuccessOnInvalidEmail?: boolean;
}

/** Parse's `emailAdapter`: a module to load at start and the options its factory receives. */
export interface EmailAdapterOption {
  readonly module: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * One of Parse's `rateLimit` rules: at most `requestCount` requests to `requestPath` per `requestTimeWindow`
 * milliseconds and zone (per client IP unless `zone` says otherwise).
 */
export interface RateLimitRule {
  /** Relative to the mount path: `/login`, `/functions/*`, `/classes/:className`, or `*` for every path. */
  readonly requestPath: string;
  readonly requestTimeWindow: number;
  readonly requestCount: number;
  /** Upper-case methods (after the `_method` override); absent: every method. */
  readonly requestMethods?: readonly string[];
  readonly errorResponseMessage?: string;
  /** Count master, read-only master and maintenance key requests too (default: they are not limited). */
  readonly includeMasterKey?: boolean;
  /** Count cloud code's own in-process calls too (default: they are not limited). */
  readonly includeInternalRequests?: boolean;
  readonly zone?: 'ip' | 'user' | 'session' | 'global';
}

/**
 * Parse's `requestComplexity` (Parse names; `queryArraySize` and `regexLength` are Parsec's). Each is a
 * positive integer, or -1 for no limit. They bound what one client query may ask of the server; the master
 * key (read-only too) and the maintenance key are not limited by them, as in Parse.
 */
export interface RequestComplexity {
  /** Longest `include` path (`a.b.c` is 3). */
  readonly includeDepth: number;
  /** Most `include` paths in one query (explicit, and implied by dotted `keys`). */
  readonly includeCount: number;
  /** Deepest nesting of `$inQuery`/`$notInQuery`/`$select`/`$dontSelect`. */
  readonly subqueryDepth: number;
  /** Most values in one `$in`, `$nin`, `$all` or `$containedBy` list. */
  readonly queryArraySize: number;
  /** Longest `$regex` pattern, in characters. */
  readonly regexLength: number;
}

/**
 * The validated configuration every other module receives. Option names follow Parse Server's where the
 * concept is the same, so a parse-server config.json reads the same here.
 */
export interface ParsecConfig {
  readonly appId: string;
  readonly masterKey: string;
  /** Read-only master key: master reads, every write answers 119. Same IP rule as the master key. */
  readonly readOnlyMasterKey: string | undefined;
  /** Bypasses ACLs and CLPs for objects, sets server fields; never schema changes or master rights. */
  readonly maintenanceKey: string | undefined;
  /** Client keys; when none is configured the app id alone identifies the app (Parse's default). */
  readonly clientKeys: Readonly<{
    javascriptKey?: string;
    restAPIKey?: string;
    clientKey?: string;
    dotNetKey?: string;
  }>;
  /** IPs or CIDRs allowed to use the master key (default loopback only). */
  readonly masterKeyIps: readonly string[];
  /** `postgres://…` for PostgreSQL, otherwise a directory for embedded PGlite. */
  readonly databaseURI: string;
  /** Optional Redis for a cluster on PostgreSQL: shared rate-limit counters and invalidation messages. */
  readonly redisURL: string | undefined;
  /** A streaming replica of `databaseURI` for client reads (PostgreSQL only); absent: every read uses the primary. */
  readonly readReplicaURI?: string;
  /** Beyond this replica lag every read goes to the primary (default 1000). */
  readonly readReplicaMaxLagMs?: number;
  readonly cloud: string | undefined;
  /** Cloud code's Parse calls without useMasterKey/sessionToken act as the current caller (false: anonymous). */
  readonly cloudActsAsCaller: boolean;
  /** Every cloud function must declare who may call it. */
  readonly requireFunctionAccess: boolean;
  readonly cloudTimeoutMs: number;
  /** Days the privilege ledger keeps records; 0 keeps them forever. */
  readonly ledgerRetentionDays: number;
  readonly port: number;
  readonly host: string;
  /** Always starts with `/` and has no trailing slash, e.g. `/parse`. */
  readonly mountPath: string;
  readonly serverURL: string;
  readonly defaultLimit: number;
  /** Upper bound for `limit`; larger values are clamped as Parse does. */
  readonly maxLimit: number;
  readonly allowClientClassCreation: boolean;
  readonly allowCustomObjectId: boolean;
  /** Maximum number of sub-requests in one `/batch`. */
  readonly batchRequestLimit: number;
  /** Request body limit in bytes (Parse: maxUploadSize); also the largest file an upload may store. */
  readonly maxRequestBytes: number;
  /** Parse's `fileUpload`: who may upload which files. Absent: the defaults (users only, no active content). */
  readonly fileUpload?: FileUploadOptions;
  /** Where files are stored. Absent: the database; `{module: "fs"}`, another module, or an adapter object in code. */
  readonly filesAdapter?: FilesAdapterOption | FilesAdapter;
  /** Nesting depth limit for `where` (`$or/$and/$nor`, sub-queries), for every caller. */
  readonly queryDepth: number;
  /** Limits on one client query's shape (include, sub-queries, lists, regular expressions). */
  readonly requestComplexity: RequestComplexity;
  /** Server-level rate limits, matched on the normalised path and effective method; [] turns them off. */
  readonly rateLimit: readonly RateLimitRule[];
  /** Duplicate-request detection by X-Parse-Request-Id; undefined: off (Parse's default). */
  readonly idempotencyOptions: IdempotencyOptions | undefined;
  /** LiveQuery (`liveQuery: {classNames}`); absent: off, no upgrade is accepted. */
  readonly liveQuery?: LiveQueryOptions;
  /** Whose `X-Forwarded-For` is believed for the client IP: nobody, everybody, or the listed proxies (see trust-proxy-option.ts). */
  readonly trustProxy: TrustProxy;
  /** Database connection pool size (PostgreSQL only). */
  readonly databasePoolSize: number;
  /** Per-statement time limit in milliseconds; a query past it answers 124 TIMEOUT. */
  readonly statementTimeoutMs: number;
  /** Embedded mode only: how often `VACUUM ANALYZE` runs (PGlite has no autovacuum). 0 disables. */
  readonly vacuumIntervalMs: number;
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Seconds a session lives. */
  readonly sessionLength: number;
  /** false: sessions never expire. */
  readonly expireInactiveSessions: boolean;
  readonly extendSessionOnUse: boolean;
  /** A password change deletes the user's other sessions. */
  readonly revokeSessionOnPasswordReset: boolean;
  /** New users' default ACL has no public read. */
  readonly enforcePrivateUsers: boolean;
  /** Parse's `protectedFields` option, merged into every class's own rules. */
  readonly protectedFields: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Accept `GET /login` (passwords in URLs); off by default. */
  readonly allowGetLogin: boolean;
  /** undefined: accounts are never locked (`accountLockout: false`). */
  readonly accountLockout: AccountLockoutPolicy | undefined;
  /** undefined: no policy beyond a non-empty password. */
  readonly passwordPolicy: PasswordPolicy | undefined;
  /** Send a verification link on sign-up and email change. */
  readonly verifyUserEmails: boolean;
  /** Refuse logins (205) until the email is verified; sign-up then returns no session. */
  readonly preventLoginWithUnverifiedEmail: boolean;
  /** undefined: the development adapter, which logs messages instead of sending them. */
  readonly emailAdapter: EmailAdapterOption | undefined;
  /** Parse's `auth`: third-party login providers (in code, a provider may be an adapter object). Absent: anonymous only. */
  readonly auth?: AuthOption;
  /** Parse's `enableAnonymousUsers`; absent means true (Parse's default). */
  readonly enableAnonymousUsers?: boolean;
  /** Parse's `push`: the adapter `POST /push` sends through (a module or, in code, an object). Absent: 115. */
  readonly push?: PushOption;
  /** A push with `push_time` is only recorded as `scheduled` (Parse's `scheduledPush`); default false: sent at once. */
  readonly scheduledPush?: boolean;
}
