import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { assertSafeJson } from './safe-json.ts';
import { parseFieldRef, parseWhere, type WhereOptions } from './parse-where.ts';
import { INCLUDE_ALL, TEXT_SCORE, topLevelConditions, type FindQuery, type OrderKey, type WireQuery } from './tree.ts';

/**
 * Options Parse accepts that only steer MongoDB replicas or indexes; accepted and ignored on PostgreSQL
 * (`hint` only with the master key, see `MASTER_ONLY`).
 */
const IGNORED = new Set(['readPreference', 'includeReadPreference', 'subqueryReadPreference', 'hint', 'comment']);
const FIND_OPTIONS = new Set(['where', 'order', 'limit', 'skip', 'keys', 'excludeKeys', 'include', 'count', 'includeAll', 'explain', 'redirectClassNameForKey']);
const GET_OPTIONS = new Set(['keys', 'include', 'excludeKeys']);
/** A query plan, or an index chosen by the client, tells how the data is laid out and indexed: master only (Parse 9). */
const MASTER_ONLY = ['explain', 'hint'];

export interface FindLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly queryDepth: number;
  /**
   * A client's shape limits, -1 for none (a ParsecConfig has them); absent for the master keys and the
   * server's own queries, as Parse exempts the master key.
   */
  readonly requestComplexity?: {
    readonly includeDepth: number;
    readonly includeCount: number;
    readonly subqueryDepth: number;
    readonly queryArraySize: number;
    readonly regexLength: number;
  };
  /** `explain` and `hint` are accepted (the master keys); otherwise naming them is refused. */
  readonly allowMasterOptions?: boolean;
}

const limitOf = (value: number): number => (value < 0 ? Number.POSITIVE_INFINITY : value);

function whereOptions(limits: FindLimits): WhereOptions {
  const complexity = limits.requestComplexity;
  if (complexity === undefined) return { maxDepth: limits.queryDepth };
  return {
    maxDepth: limits.queryDepth,
    complexity: { subqueryDepth: limitOf(complexity.subqueryDepth), queryArraySize: limitOf(complexity.queryArraySize), regexLength: limitOf(complexity.regexLength) },
  };
}

/** Parse's message and code (102) for a client naming `explain`; `hint` alike. */
function checkMasterOnly(options: Readonly<Record<string, unknown>>, limits: FindLimits | undefined): void {
  if (limits?.allowMasterOptions === true) return;
  for (const name of MASTER_ONLY) if (Object.hasOwn(options, name)) invalid(`Using the ${name} query parameter requires the master key`);
}

/** How many include paths, and how long, a client may ask for in one query. */
function checkIncludes(paths: readonly (readonly string[])[], limits: FindLimits | undefined): void {
  const complexity = limits?.requestComplexity;
  if (complexity === undefined) return;
  const count = limitOf(complexity.includeCount);
  if (paths.length > count) invalid(`Number of include fields (${paths.length}) exceeds maximum allowed (${count}) (requestComplexity.includeCount).`);
  const depth = limitOf(complexity.includeDepth);
  const deepest = Math.max(0, ...paths.map((path) => path.length));
  if (deepest > depth) invalid(`Include depth of ${deepest} exceeds maximum allowed depth of ${depth} (requestComplexity.includeDepth).`);
}

function invalid(message: string): never {
  throw new ParseError(ErrorCode.INVALID_QUERY, message);
}

/**
 * URL values arrive as strings; the SDK's POST form sends JSON values (already checked with the body). JSON
 * from the URL gets the body's prototype-key check; its nesting is bounded by the URL size and `queryDepth`.
 */
function jsonOption(name: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw new ParseError(ErrorCode.INVALID_JSON, `Invalid JSON in ${name}.`);
  }
  assertSafeJson(parsed, Number.POSITIVE_INFINITY);
  return parsed;
}

function integerOption(name: string, raw: unknown, min: number): number {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) invalid(`Invalid ${name}: must be an integer >= ${min}.`);
  return value;
}

/** `keys`, `excludeKeys`, `include` and `order` are comma lists, or (since Parse 5) arrays of strings. */
function listOption(name: string, raw: unknown): string[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) invalid(`Invalid ${name}.`);
  return (items).map((item) => item.trim()).filter((item) => item !== '');
}

/** Parse's storage names for the dates, which it accepts in `order` (the SDK's own tests sort by them). */
const STORED_DATE_NAMES: ReadonlyMap<string, string> = new Map([
  ['_created_at', 'createdAt'],
  ['_updated_at', 'updatedAt'],
]);

function parseOrder(raw: unknown): OrderKey[] {
  return listOption('order', raw).map((key) => {
    const descending = key.startsWith('-');
    const name = descending ? key.slice(1) : key;
    if (name === TEXT_SCORE) return { target: { field: TEXT_SCORE, path: [] }, descending };
    return { target: parseFieldRef(STORED_DATE_NAMES.get(name) ?? name), descending };
  });
}

function parseBoolean(name: string, raw: unknown): boolean {
  if (raw === true || raw === 1 || raw === '1' || raw === 'true') return true;
  if (raw === false || raw === 0 || raw === '0' || raw === 'false' || raw === undefined) return false;
  return invalid(`Invalid ${name}.`);
}

function checkNames(options: Readonly<Record<string, unknown>>, allowed: ReadonlySet<string>, message: (key: string) => string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.has(key) && !IGNORED.has(key)) invalid(message(key));
  }
}

function keySet(name: string, raw: unknown): Set<string> {
  const keys = new Set<string>();
  for (const key of listOption(name, raw)) keys.add(key === TEXT_SCORE && name === 'keys' ? TEXT_SCORE : parseFieldRef(key).field);
  return keys;
}

/** The dotted `keys` as paths: `post.author.name` → ['post', 'author', 'name']. */
function dottedKeys(rawKeys: unknown): string[][] {
  if (rawKeys === undefined) return [];
  return listOption('keys', rawKeys)
    .filter((key) => key !== TEXT_SCORE)
    .map((key) => parseFieldRef(key))
    .filter((ref) => ref.path.length > 0)
    .map((ref) => [ref.field, ...ref.path]);
}

/**
 * `keys=post.title` selects `post` and, as in Parse, includes it: a dotted key names a field of the
 * pointed-to object, and only the fields so named are kept in it (`nestedKeys`, applied by the find).
 */
function impliedIncludes(rawKeys: unknown): string[][] {
  return dottedKeys(rawKeys).map((path) => path.slice(0, -1));
}

/** `nestedKeys` of a query, absent when no key is dotted. */
function nestedKeysOf(rawKeys: unknown): { nestedKeys?: string[][] } {
  const paths = dottedKeys(rawKeys);
  return paths.length === 0 ? {} : { nestedKeys: paths };
}

function allIncludes(options: Readonly<Record<string, unknown>>): string[][] {
  const explicit = options.include === undefined ? [] : includePaths(options.include);
  if (parseBoolean('includeAll', options.includeAll)) explicit.push([INCLUDE_ALL]);
  const seen = new Set<string>();
  return [...explicit, ...impliedIncludes(options.keys)].filter((path) => {
    const key = path.join('.');
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function includePaths(raw: unknown): string[][] {
  return listOption('include', raw).map((path) => {
    if (path === INCLUDE_ALL) return [INCLUDE_ALL];
    const ref = parseFieldRef(path);
    return [ref.field, ...ref.path];
  });
}

/** Parses find options (`GET /classes/X?…` or the SDK's POST form) into a query for `className`. */
export function parseFindOptions(className: string, options: Readonly<Record<string, unknown>>, limits: FindLimits): FindQuery {
  checkNames(options, FIND_OPTIONS, (key) => `Invalid parameter for query: ${key}`);
  checkMasterOnly(options, limits);
  const where = options.where === undefined ? {} : jsonOption('where', options.where);
  const explicitLimit = options.limit === undefined ? undefined : integerOption('limit', options.limit, -1);
  const requestedLimit = explicitLimit ?? limits.defaultLimit;
  // Parse treats a negative limit as "no explicit limit"; the configured ceiling still applies.
  const limit = Math.min(requestedLimit < 0 ? limits.maxLimit : requestedLimit, limits.maxLimit);
  const include = allIncludes(options);
  checkIncludes(include, limits);
  const query: FindQuery = {
    className,
    where: parseWhere(where, whereOptions(limits)),
    order: options.order === undefined ? [] : parseOrder(options.order),
    limit,
    skip: options.skip === undefined ? 0 : integerOption('skip', options.skip, 0),
    keys: options.keys === undefined ? undefined : keySet('keys', options.keys),
    excludeKeys: options.excludeKeys === undefined ? new Set() : keySet('excludeKeys', options.excludeKeys),
    include,
    ...nestedKeysOf(options.keys),
    count: parseBoolean('count', options.count),
    wire: wireForm(where, options, explicitLimit),
    ...(options.redirectClassNameForKey === undefined ? {} : { redirectClassNameForKey: redirectKey(options.redirectClassNameForKey) }),
  };
  checkTextScore(query);
  return parseBoolean('explain', options.explain) ? { ...query, explain: true } : query;
}

function redirectKey(raw: unknown): string {
  if (typeof raw !== 'string') invalid('Invalid redirectClassNameForKey.');
  const ref = parseFieldRef(raw);
  if (ref.path.length > 0) invalid('Invalid redirectClassNameForKey.');
  return ref.field;
}

/** `$score` (order or keys) is the relevance of a `$text` search that every result matches. */
function checkTextScore(query: FindQuery): void {
  const named = query.order.some((key) => key.target.field === TEXT_SCORE) || query.keys?.has(TEXT_SCORE) === true;
  if (named && !topLevelConditions(query.where).some((condition) => condition.type === 'text')) invalid('$score requires a $text query.');
}

/** The options as `Parse.Query.fromJSON` takes them, after they passed the checks above. */
function wireForm(where: unknown, options: Readonly<Record<string, unknown>>, limit: number | undefined): WireQuery {
  const wire: WireQuery = { where };
  if (limit !== undefined && limit >= 0) wire.limit = limit;
  if (options.skip !== undefined) wire.skip = integerOption('skip', options.skip, 0);
  for (const name of ['order', 'keys', 'excludeKeys', 'include'] as const) {
    if (options[name] !== undefined) wire[name] = listOption(name, options[name]).join(',');
  }
  if (parseBoolean('count', options.count)) wire.count = 1;
  return wire;
}

/**
 * `GET /classes/X/:id` accepts only projection options (Parse answers 102 for anything else). `limits` is
 * given for a client's request (its include limits apply); the server's own reads leave it out.
 */
export function parseGetOptions(className: string, objectId: string, options: Readonly<Record<string, unknown>>, limits?: FindLimits): FindQuery {
  if (limits !== undefined) checkMasterOnly(options, limits);
  checkNames(options, GET_OPTIONS, () => 'Improper encode of parameter');
  const include = allIncludes(options);
  checkIncludes(include, limits);
  return {
    className,
    where: { type: 'compare', target: { field: 'objectId', path: [] }, operator: '=', value: { kind: 'string', value: objectId } },
    order: [],
    limit: 1,
    skip: 0,
    keys: options.keys === undefined ? undefined : keySet('keys', options.keys),
    excludeKeys: options.excludeKeys === undefined ? new Set() : keySet('excludeKeys', options.excludeKeys),
    include,
    ...nestedKeysOf(options.keys),
    count: false,
    wire: wireForm({ objectId }, options, 1),
  };
}
