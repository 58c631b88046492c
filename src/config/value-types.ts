/**
 * How one option value is read. Every option has a type that reads it from JSON (the config file) and from
 * text (environment variables and flags), so the rules are identical whichever layer a value comes from.
 * Text is parsed strictly: "8080 " or "0x1F" is a mistake to report, not something to guess at.
 */
import { BlockList, isIP } from 'node:net';
import { didYouMean } from './suggest.ts';
import type { EmailAdapterOption, AccountLockoutPolicy, ParsecConfig, PasswordPolicy } from './types.ts';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface ValueType<T> {
  /** Shown in `parsec help`, e.g. `integer 1..65535`. */
  readonly label: string;
  /** Keys and other secrets: problems never echo the value. */
  readonly secret: boolean;
  fromJson(value: unknown): Parsed<T>;
  fromText(text: string): Parsed<T>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

/** A value as it may appear in a message: secrets are never shown. */
function shown(value: unknown, secret: boolean): string {
  if (secret) return 'a value (hidden)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export function integer(min: number, max: number): ValueType<number> {
  const check = (n: number): Parsed<number> =>
    n < min || n > max ? fail(`must be between ${min} and ${max}, got ${n}`) : ok(n);
  return {
    label: max === Number.MAX_SAFE_INTEGER ? `integer >= ${min}` : `integer ${min}..${max}`,
    secret: false,
    fromJson: (value) =>
      typeof value === 'number' && Number.isSafeInteger(value) ? check(value) : fail(`must be an integer, got ${jsonKind(value)} ${shown(value, false)}`),
    fromText: (text) => {
      // Digits only: Number() would accept '', ' 1', '1e3', '0x10' and 'Infinity'.
      if (!/^(0|[1-9][0-9]*)$/.test(text)) return fail(`must be a whole number written in digits, got ${shown(text, false)}`);
      const n = Number(text);
      return Number.isSafeInteger(n) ? check(n) : fail(`is too large: ${text}`);
    },
  };
}

export const boolean: ValueType<boolean> = {
  label: 'true|false',
  secret: false,
  fromJson: (value) => (typeof value === 'boolean' ? ok(value) : fail(`must be true or false, got ${jsonKind(value)} ${shown(value, false)}`)),
  fromText: (text) => {
    if (text === 'true' || text === '1') return ok(true);
    if (text === 'false' || text === '0') return ok(false);
    return fail(`must be true, false, 1 or 0, got ${shown(text, false)}`);
  },
};

/** Builds a string type from a content check shared by the JSON and text readers. */
function stringType(label: string, secret: boolean, check: (text: string) => Parsed<string>): ValueType<string> {
  return {
    label,
    secret,
    fromJson: (value) => (typeof value === 'string' ? check(value) : fail(`must be a string, got ${jsonKind(value)}`)),
    fromText: check,
  };
}

// Control characters cannot travel in an HTTP header, and surrounding blanks are stripped from header values,
// so a key containing either could never match and would only fail confusingly at request time.
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function keyCheck(text: string): Parsed<string> {
  if (text.length === 0) return fail('must not be empty');
  if (text.trim() !== text) return fail('must not start or end with white space');
  if (hasControlChar(text)) return fail('must not contain control characters');
  return ok(text);
}

/** A key or other secret (masterKey, client keys). */
export const key: ValueType<string> = stringType('string (secret)', true, keyCheck);

// Names Object.prototype already carries: an app id equal to one of them would be looked up by accident
// wherever a plain object is used as a map (the prototype-pollution class of Parse advisories).
const PROTOTYPE_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

export const appId: ValueType<string> = stringType('string', false, (text) => {
  const checked = keyCheck(text);
  if (!checked.ok) return checked;
  if (PROTOTYPE_NAMES.has(text)) return fail(`must not be a JavaScript prototype name like ${JSON.stringify(text)}`);
  return ok(text);
});

export const nonEmptyString: ValueType<string> = stringType('string', false, (text) =>
  text.length === 0 ? fail('must not be empty') : ok(text),
);

/** A host name or IP address to listen on. */
export const host: ValueType<string> = stringType('host name or IP', false, (text) => {
  if (isIP(text) !== 0) return ok(text);
  // RFC 1123 host names: labels of letters, digits and inner hyphens.
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const valid = text.length > 0 && text.length <= 253 && text.split('.').every((part) => label.test(part));
  return valid ? ok(text) : fail(`must be a host name or an IP address, got ${shown(text, false)}`);
});

/** An absolute http(s) URL (serverURL). */
export const httpUrl: ValueType<string> = stringType('http(s) URL', false, (text) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`must be an absolute URL, got ${shown(text, false)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('must start with http:// or https://');
  // Credentials in serverURL would be sent along by Cloud Code's internal requests and printed in logs.
  if (url.username !== '' || url.password !== '') return fail('must not contain a user name or password');
  return ok(text);
});

/**
 * The mount path, normalised to a leading `/` and no trailing `/` as ParsecConfig promises. Only plain URL
 * path characters are accepted so the path can be compared and routed without decoding or escaping.
 */
export const mountPath: ValueType<string> = stringType('path like /parse', false, (text) => {
  const trimmed = text.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return fail('must name a path below the root, like /parse (mounting at / is not supported)');
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (!/^[A-Za-z0-9._~-]+$/.test(segment)) return fail(`must contain only letters, digits, '.', '_', '~', '-' and single '/', got ${shown(text, false)}`);
    if (segment === '.' || segment === '..') return fail('must not contain . or .. segments');
  }
  return ok(`/${segments.join('/')}`);
});

/** Adds one IP or CIDR to a BlockList; returns why it is invalid, or undefined. */
function ipOrCidrProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `${JSON.stringify(entry)} is not an IP address or CIDR range`;
  if (slash === -1) return undefined;
  const prefixText = entry.slice(slash + 1);
  const maxPrefix = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]*)$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return `${JSON.stringify(entry)} has an invalid prefix length (0..${maxPrefix})`;
  }
  try {
    // The same check the server's matcher will rely on: BlockList must accept it.
    new BlockList().addSubnet(address, Number(prefixText), family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return `${JSON.stringify(entry)} is not a valid CIDR range`;
  }
  return undefined;
}

/** A list of IPs or CIDRs (masterKeyIps). From text: comma-separated; an empty text is the empty list. */
export const ipList: ValueType<readonly string[]> = {
  label: 'comma-separated IPs/CIDRs',
  secret: false,
  fromJson: (value) => {
    if (!Array.isArray(value)) return fail(`must be an array of IP addresses or CIDR ranges, got ${jsonKind(value)}`);
    const entries: string[] = [];
    for (const item of value as unknown[]) {
      if (typeof item !== 'string') return fail(`must contain only strings, got ${jsonKind(item)}`);
      entries.push(item);
    }
    return checkIps(entries);
  },
  // An empty list is meaningful (master key unusable over HTTP), so '' is accepted here.
  fromText: (text) => checkIps(text.trim() === '' ? [] : text.split(',').map((part) => part.trim())),
};

function checkIps(entries: readonly string[]): Parsed<readonly string[]> {
  const problems = entries.map(ipOrCidrProblem).filter((p): p is string => p !== undefined);
  return problems.length > 0 ? fail(problems.join('; ')) : ok(Object.freeze([...entries]));
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size in bytes: an integer, or a Parse `maxUploadSize` string such as "20mb" (1024-based, like Parse). */
export const byteSize: ValueType<number> = {
  label: 'bytes, or size like 20mb',
  secret: false,
  fromJson: (value) => {
    if (typeof value === 'number') {
      return Number.isSafeInteger(value) && value >= 1 ? ok(value) : fail(`must be a positive whole number of bytes, got ${value}`);
    }
    if (typeof value === 'string') return parseByteSize(value);
    return fail(`must be a number of bytes or a size like "20mb", got ${jsonKind(value)}`);
  },
  fromText: (text) => parseByteSize(text),
};

function parseByteSize(text: string): Parsed<number> {
  const match = /^([0-9]+(?:\.[0-9]+)?) ?([kmg]?b)?$/i.exec(text.trim());
  const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match?.[1] || unit === undefined) return fail(`must be a number of bytes or a size like "20mb", got ${shown(text, false)}`);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) return fail(`must be at least 1 byte, got ${shown(text, false)}`);
  return ok(bytes);
}

export type LogLevel = ParsecConfig['logLevel'];
const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
// Parse (winston) levels without a Parsec equivalent map to the nearest more verbose one, so a
// parse-server config with `"logLevel": "verbose"` loads unchanged.
const LOG_LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = { verbose: 'debug', silly: 'debug' };

function parseLogLevel(text: string): Parsed<LogLevel> {
  const level = LOG_LEVELS.find((l) => l === text) ?? (Object.hasOwn(LOG_LEVEL_ALIASES, text) ? LOG_LEVEL_ALIASES[text] : undefined);
  return level === undefined ? fail(`must be one of ${LOG_LEVELS.join(', ')}, got ${shown(text, false)}`) : ok(level);
}

export const logLevel: ValueType<LogLevel> = {
  label: LOG_LEVELS.join('|'),
  secret: false,
  fromJson: (value) => (typeof value === 'string' ? parseLogLevel(value) : fail(`must be a string, got ${jsonKind(value)}`)),
  fromText: parseLogLevel,
};

/**
 * Object-valued options (accountLockout, passwordPolicy). From a config file they are JSON objects; from an
 * environment variable, the same object as JSON text. `false` (or `null`) turns the feature off. Every field
 * is checked and all of an object's problems are reported together, unknown fields included.
 */
function objectOption<T>(label: string, example: string, fields: readonly string[], read: (value: Record<string, unknown>, problems: string[]) => T): ValueType<T | false> {
  const fromJson = (value: unknown): Parsed<T | false> => {
    if (value === false || value === null) return ok(false);
    if (typeof value !== 'object' || Array.isArray(value)) return fail(`must be an object like ${example}, or false; got ${jsonKind(value)} ${shown(value, false)}`);
    const record = value as Record<string, unknown>;
    const problems = Object.keys(record)
      .filter((key) => !fields.includes(key))
      .map((key) => `${JSON.stringify(key)} is not one of its fields.${didYouMean(key, fields)}`);
    const result = read(record, problems);
    return problems.length > 0 ? fail(`is invalid: ${problems.join('; ')}`) : ok(result);
  };
  return {
    label,
    secret: false,
    fromJson,
    fromText: (text) => {
      if (text === 'false' || text === '0') return ok(false);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return fail(`must be JSON like ${example}, or false; got ${shown(text, false)}`);
      }
      return fromJson(value);
    },
  };
}

/** A field's value when present; `check` returns why it is invalid, or undefined. */
function field<T>(record: Record<string, unknown>, name: string, problems: string[], check: (value: unknown) => string | undefined): T | undefined {
  if (!Object.hasOwn(record, name) || record[name] === undefined) return undefined;
  const value = record[name];
  const problem = check(value);
  if (problem === undefined) return value as T;
  problems.push(`${name} ${problem}, got ${jsonKind(value)} ${shown(value, false)}`);
  return undefined;
}

const isBoolean = (value: unknown): string | undefined => (typeof value === 'boolean' ? undefined : 'must be true or false');
const numberIn = (what: string, low: number, lowIncluded: boolean, high: number) => (value: unknown): string | undefined => {
  const inRange = typeof value === 'number' && Number.isFinite(value) && (lowIncluded ? value >= low : value > low) && value <= high;
  return inRange ? undefined : `must be ${what} ${lowIncluded ? 'from' : 'above'} ${low} ${high === Number.MAX_VALUE ? 'upwards' : `to ${high}`}`;
};
const integerIn = (low: number, high: number) => (value: unknown): string | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= low && value <= high ? undefined : `must be an integer from ${low} to ${high}`;

/** Parse's bounds: 0 < duration (minutes) < 100000, 0 < threshold < 1000. */
export const accountLockout: ValueType<AccountLockoutPolicy | false> = objectOption(
  '{"duration":minutes,"threshold":n,"unlockOnPasswordReset":bool} or false',
  '{"duration": 5, "threshold": 5}',
  ['duration', 'threshold', 'unlockOnPasswordReset'],
  (record, problems) => {
    // Both numbers are required, as in Parse: a lockout without them has no meaning to default to.
    for (const name of ['duration', 'threshold']) {
      if (record[name] === undefined) problems.push(`${name} is required`);
    }
    const duration = field<number>(record, 'duration', problems, numberIn('a number of minutes', 0, false, 99999));
    const threshold = field<number>(record, 'threshold', problems, integerIn(1, 999));
    const unlockOnPasswordReset = field<boolean>(record, 'unlockOnPasswordReset', problems, isBoolean) ?? false;
    return Object.freeze({ duration: duration ?? 0, threshold: threshold ?? 0, unlockOnPasswordReset });
  },
);

const PASSWORD_POLICY_FIELDS = [
  'validatorPattern',
  'validatorCallback',
  'validationError',
  'doNotAllowUsername',
  'maxPasswordAge',
  'maxPasswordHistory',
  'resetTokenValidityDuration',
  'resetTokenReuseIfValid',
  'resetPasswordSuccessOnInvalidEmail',
];

/**
 * `validatorPattern` is compiled here, so a broken pattern stops the start instead of failing sign-ups.
 * It is trusted input: only the operator writes the config, as they write Cloud Code; no client can supply
 * or change a pattern. It is matched against client-chosen passwords, though, so a pattern with nested
 * quantifiers (catastrophic backtracking) would let a client stall the server: keep patterns simple.
 */
export const passwordPolicy: ValueType<PasswordPolicy | false> = objectOption(
  '{validatorPattern, validationError, doNotAllowUsername, maxPasswordAge, maxPasswordHistory, ...} or false',
  '{"validatorPattern": "^.{12,}$"}',
  PASSWORD_POLICY_FIELDS,
  (record, problems) => {
    const policy: { -readonly [K in keyof PasswordPolicy]: PasswordPolicy[K] } = {};
    const pattern = field<string>(record, 'validatorPattern', problems, (v) => (typeof v === 'string' ? undefined : 'must be a regular expression written as a string'));
    if (pattern !== undefined) {
      try {
        policy.validatorPattern = new RegExp(pattern);
      } catch (error) {
        problems.push(`validatorPattern is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    if (Object.hasOwn(record, 'validatorCallback')) {
      problems.push('validatorCallback cannot be given in a JSON config (it is a function): use validatorPattern, or pass passwordPolicy in a config object in code');
    }
    const validationError = field<string>(record, 'validationError', problems, (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'must be a non-empty string'));
    if (validationError !== undefined) policy.validationError = validationError;
    policy.doNotAllowUsername = field<boolean>(record, 'doNotAllowUsername', problems, isBoolean) ?? false;
    const maxPasswordAge = field<number>(record, 'maxPasswordAge', problems, numberIn('a number of days', 0, true, Number.MAX_VALUE));
    if (maxPasswordAge !== undefined && maxPasswordAge > 0) policy.maxPasswordAge = maxPasswordAge;
    policy.maxPasswordHistory = field<number>(record, 'maxPasswordHistory', problems, integerIn(0, 20)) ?? 0;
    const validity = field<number>(record, 'resetTokenValidityDuration', problems, numberIn('a number of seconds', 0, false, Number.MAX_VALUE));
    if (validity !== undefined) policy.resetTokenValidityDuration = validity;
    policy.resetTokenReuseIfValid = field<boolean>(record, 'resetTokenReuseIfValid', problems, isBoolean) ?? false;
    if (policy.resetTokenReuseIfValid && record['resetTokenValidityDuration'] === undefined) {
      problems.push('resetTokenReuseIfValid needs resetTokenValidityDuration (a link without an expiry would be reused forever)');
    }
    policy.resetPasswordSuccessOnInvalidEmail = field<boolean>(record, 'resetPasswordSuccessOnInvalidEmail', problems, isBoolean) ?? true;
    return Object.freeze(policy);
  },
);

/**
 * Parse's `emailAdapter`: a module (path or package name) whose default export is a factory taking
 * `options` (or an object with `sendMail`), written as `"module"` or `{"module": "...", "options": {...}}`.
 */
const emailAdapterObject = objectOption<EmailAdapterOption>(
  '{"module":"path or package","options":{...}} or false',
  '{"module": "./mail-adapter.js", "options": {}}',
  ['module', 'options'],
  (record, problems) => {
    const module = field<string>(record, 'module', problems, (value) => (typeof value === 'string' && value !== '' ? undefined : 'must be a non-empty string'));
    if (record.module === undefined) problems.push('module is required');
    const options = field<Record<string, unknown>>(record, 'options', problems, (value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'must be an object',
    );
    return Object.freeze({ module: module ?? '', options: options ?? {} });
  },
);

export const emailAdapter: ValueType<EmailAdapterOption | false> = {
  ...emailAdapterObject,
  fromJson: (value) => (typeof value === 'string' && value !== '' ? ok({ module: value, options: {} }) : emailAdapterObject.fromJson(value)),
  fromText: (text) => (text.trim().startsWith('{') || text === 'false' ? emailAdapterObject.fromText(text) : ok({ module: text, options: {} })),
};

export type ProtectedFieldsOption = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

const CLASS_NAME = /^(_?[A-Za-z][A-Za-z0-9_]*)$/;
const AUDIENCE = /^(\*|authenticated|role:[A-Za-z0-9_ -]+|userField:[A-Za-z][A-Za-z0-9_]*|[A-Za-z0-9_-]{1,64})$/;

function readProtectedFields(value: unknown): Parsed<ProtectedFieldsOption> {
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value)) return fail(`must be an object like {"_User": {"*": ["email"]}}, got ${jsonKind(value)} ${shown(value, false)}`);
  const problems: string[] = [];
  const result: Record<string, Record<string, readonly string[]>> = {};
  for (const [className, rules] of Object.entries(value)) {
    if (!CLASS_NAME.test(className)) problems.push(`${JSON.stringify(className)} is not a class name`);
    if (!isRecord(rules)) {
      problems.push(`${className} must map audiences to field lists`);
      continue;
    }
    const audiences: Record<string, readonly string[]> = {};
    for (const [audience, list] of Object.entries(rules)) {
      if (!AUDIENCE.test(audience)) problems.push(`${JSON.stringify(audience)} in ${className} is not "*", "authenticated", "role:Name", "userField:field" or a user id`);
      if (!Array.isArray(list) || !list.every((f) => typeof f === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(f))) {
        problems.push(`${className}.${audience} must be an array of field names`);
        continue;
      }
      audiences[audience] = Object.freeze([...(list as string[])]);
    }
    result[className] = Object.freeze(audiences);
  }
  return problems.length > 0 ? fail(`is invalid: ${problems.join('; ')}`) : ok(Object.freeze(result));
}

/**
 * An option written as JSON: the config file's value and the environment's text go through the same
 * reader. `example` shows the expected shape when the text is not JSON (a secret's text is never echoed).
 */
export function jsonOption<T>(label: string, secret: boolean, read: (value: unknown) => Parsed<T>, example: string): ValueType<T> {
  return {
    label,
    secret,
    fromJson: read,
    fromText: (text) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return fail(`must be JSON like ${example}${secret ? '' : `; got ${shown(text, false)}`}`);
      }
      return read(value);
    },
  };
}

/** Parse's `protectedFields`: fields hidden from (and not queryable by) an audience, per class. */
export const protectedFields: ValueType<ProtectedFieldsOption> = {
  label: '{"Class": {"*"|"authenticated"|"role:Name"|"userField:f"|userId: ["field", ...]}}',
  secret: false,
  fromJson: readProtectedFields,
  fromText: (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail(`must be JSON like {"_User": {"*": ["email"]}}; got ${shown(text, false)}`);
    }
    return readProtectedFields(value);
  },
};
