/**
 * Parse's `rateLimit` option: an array of rules (or one rule), read from a config file, from JSON in
 * `PARSEC_RATE_LIMIT`, or given in code. Every rule is checked strictly and every problem named at once:
 * a misspelt key would otherwise leave a route silently unlimited.
 */
import { didYouMean } from './suggest.ts';
import type { RateLimitRule } from './types.ts';
import type { Parsed, ValueType } from './value-types.ts';

const MINUTE = 60_000;

/**
 * On by default (Parse has no default rules). Per client IP; the master keys and cloud code's own calls
 * are not counted. Each bounds what one address can automate (password guessing across accounts, account
 * creation, email sending) at a rate a person, or a household or office behind one address, does not reach:
 * - `/login` and `/verifyPassword` (both check a password): 20 a minute. Account lockout already limits
 *   guesses per account; this limits one address trying one password on many accounts.
 * - sign-up (`POST /users`, and `POST /classes/_User`, the same route): 20 per 10 minutes.
 * - `/requestPasswordReset` and `/verificationEmailRequest` (each sends an email): 5 per 15 minutes.
 */
export const DEFAULT_RATE_LIMIT: readonly RateLimitRule[] = Object.freeze(
  [
    { requestPath: '/login', requestTimeWindow: MINUTE, requestCount: 20 },
    { requestPath: '/verifyPassword', requestTimeWindow: MINUTE, requestCount: 20 },
    { requestPath: '/users', requestMethods: ['POST'], requestTimeWindow: 10 * MINUTE, requestCount: 20 },
    { requestPath: '/requestPasswordReset', requestTimeWindow: 15 * MINUTE, requestCount: 5 },
    { requestPath: '/verificationEmailRequest', requestTimeWindow: 15 * MINUTE, requestCount: 5 },
  ].map((rule) => Object.freeze(rule)),
);

export const DEFAULT_RATE_LIMIT_TEXT =
  'per client IP: /login and /verifyPassword 20 a minute, sign-up (POST /users) 20 per 10 minutes, /requestPasswordReset and /verificationEmailRequest 5 per 15 minutes';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const ZONES = ['ip', 'user', 'session', 'global'];
const FIELDS = ['requestPath', 'requestTimeWindow', 'requestCount', 'requestMethods', 'errorResponseMessage', 'includeMasterKey', 'includeInternalRequests', 'zone'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** Why a `requestPath` cannot be used, or undefined. Paths are relative to the mount path, as in Parse. */
function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return 'must be a path such as "/login" or "/functions/*"';
  if (path === '*') return undefined;
  if (!path.startsWith('/')) return `must start with "/" (or be "*"), got ${shown(path)}`;
  if (/[?#\s]/.test(path) || [...path].some((char) => char.charCodeAt(0) < 0x20)) return `must be a path without query string, fragment or blanks, got ${shown(path)}`;
  for (const segment of path.split('/')) {
    if (segment.startsWith(':') && !/^:[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return `has an invalid parameter segment ${shown(segment)} (write :name for one whole segment)`;
  }
  return undefined;
}

/** `["POST"]`, or Parse's string form (`"POST"`, `"POST|PUT"`); upper-cased, only the methods the API routes. */
function readMethods(value: unknown, where: string, problems: string[]): string[] | undefined {
  const list = typeof value === 'string' ? value.split('|') : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string')) {
    problems.push(`${where}.requestMethods must be a non-empty array of methods like ["POST"], got ${shown(value)}`);
    return undefined;
  }
  const methods = list.map((method) => method.trim().toUpperCase());
  const unknown = methods.filter((method) => !METHODS.includes(method));
  if (unknown.length > 0) {
    problems.push(`${where}.requestMethods may only contain ${METHODS.join(', ')}, got ${shown(unknown)}`);
    return undefined;
  }
  return [...new Set(methods)];
}

function readRule(raw: unknown, where: string, problems: string[]): RateLimitRule | undefined {
  if (!isRecord(raw)) {
    problems.push(`${where} must be an object like {"requestPath": "/login", "requestTimeWindow": 60000, "requestCount": 10}, got ${shown(raw)}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if (key === 'redisUrl') {
      problems.push(`${where}.redisUrl: not a per-rule setting in Parsec: set the top-level redisURL option (counters are shared through PostgreSQL anyway when the database is PostgreSQL)`);
    } else if (!FIELDS.includes(key)) {
      problems.push(`${where}: ${JSON.stringify(key)} is not one of its fields.${didYouMean(key, FIELDS)}`);
    }
  }
  const path = pathProblem(raw.requestPath);
  if (path !== undefined) problems.push(`${where}.requestPath ${raw.requestPath === undefined ? 'is required' : path}`);
  const window = raw.requestTimeWindow;
  if (typeof window !== 'number' || !Number.isFinite(window) || window <= 0) {
    problems.push(`${where}.requestTimeWindow ${window === undefined ? 'is required' : `must be a positive number of milliseconds, got ${shown(window)}`}`);
  }
  const count = raw.requestCount;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    problems.push(`${where}.requestCount ${count === undefined ? 'is required' : `must be a whole number >= 1, got ${shown(count)}`}`);
  }
  const methods = raw.requestMethods === undefined ? undefined : readMethods(raw.requestMethods, where, problems);
  const message = raw.errorResponseMessage;
  if (message !== undefined && (typeof message !== 'string' || message.trim() === '')) problems.push(`${where}.errorResponseMessage must be a non-empty string`);
  for (const flag of ['includeMasterKey', 'includeInternalRequests'] as const) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') problems.push(`${where}.${flag} must be true or false, got ${shown(raw[flag])}`);
  }
  if (raw.zone !== undefined && !ZONES.includes(raw.zone as string)) problems.push(`${where}.zone must be one of ${ZONES.join(', ')}, got ${shown(raw.zone)}`);
  if (problems.length > before) return undefined;
  const rule: { -readonly [K in keyof RateLimitRule]: RateLimitRule[K] } = {
    requestPath: raw.requestPath as string,
    requestTimeWindow: window as number,
    requestCount: count as number,
  };
  if (methods !== undefined) rule.requestMethods = Object.freeze(methods);
  if (message !== undefined) rule.errorResponseMessage = message as string;
  if (raw.includeMasterKey !== undefined) rule.includeMasterKey = raw.includeMasterKey as boolean;
  if (raw.includeInternalRequests !== undefined) rule.includeInternalRequests = raw.includeInternalRequests as boolean;
  if (raw.zone !== undefined) rule.zone = raw.zone as RateLimitRule['zone'];
  return Object.freeze(rule);
}

/**
 * Reads a `rateLimit` value: `false`, `null` or `[]` is no rules; one rule object or an array of them.
 * Used for config files and the environment, and again at start for a config given in code.
 */
export function readRateLimit(value: unknown): { rules: readonly RateLimitRule[]; problems: string[] } {
  if (value === false || value === null) return { rules: Object.freeze([]), problems: [] };
  const problems: string[] = [];
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const rules = list.map((raw, index) => readRule(raw, Array.isArray(value) ? `rateLimit[${index}]` : 'rateLimit', problems));
  return { rules: Object.freeze(rules.filter((rule): rule is RateLimitRule => rule !== undefined)), problems };
}

function fromJson(value: unknown): Parsed<readonly RateLimitRule[]> {
  const { rules, problems } = readRateLimit(value);
  return problems.length > 0 ? { ok: false, reason: `is invalid: ${problems.join('; ')}` } : { ok: true, value: rules };
}

export const rateLimit: ValueType<readonly RateLimitRule[]> = {
  label: '[{"requestPath","requestTimeWindow":ms,"requestCount","requestMethods","zone","errorResponseMessage","includeMasterKey","includeInternalRequests"}, ...] or false',
  secret: false,
  fromJson,
  fromText: (text) => {
    if (text === 'false' || text === '0') return { ok: true, value: Object.freeze([]) };
    try {
      return fromJson(JSON.parse(text));
    } catch {
      return { ok: false, reason: `must be JSON like [{"requestPath": "/login", "requestTimeWindow": 60000, "requestCount": 10}], or false; got ${shown(text)}` };
    }
  },
};
