import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { assertClassName, PROTOTYPE_KEYS } from '../schema/names.ts';
import { MAX_DISTANCE_KEYS, parseBox, parseGeoIntersects, parseGeoWithin, parseNearSphere } from './geo.ts';
import { regexHazard } from './regex-guard.ts';
import { parseText } from './text-search.ts';
import { and, TRUE, type Condition, type FieldRef, type SubQuery } from './tree.ts';
import { decodePointer, decodeValue, isPlainObject, type JsonObject, type ParseValue } from './values.ts';

const TOP_FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;
const SUB_FIELD = /^[A-Za-z0-9_-]+$/;
const REGEX_OPTIONS = /^[imxs]*$/;
const COMPARISONS = new Map([
  ['$eq', '='],
  ['$ne', '<>'],
  ['$lt', '<'],
  ['$lte', '<='],
  ['$gt', '>'],
  ['$gte', '>='],
] as const);

function invalidQuery(message: string): never {
  throw new ParseError(ErrorCode.INVALID_QUERY, message);
}

export interface WhereOptions {
  /** Maximum nesting of `$or/$and/$nor` and sub-queries, for every caller. */
  readonly maxDepth: number;
  /** A client's limits (`requestComplexity`; Infinity for none); absent for the master keys, as in Parse. */
  readonly complexity?: WhereComplexity;
}

export interface WhereComplexity {
  readonly subqueryDepth: number;
  readonly queryArraySize: number;
  readonly regexLength: number;
}

/** Where a condition sits: its nesting under logical operators and sub-queries, and under sub-queries alone. */
interface Depth {
  readonly all: number;
  readonly subqueries: number;
}

/** Parses a field key such as `score` or `stats.level.max` into a column and a JSON path. */
export function parseFieldRef(key: string): FieldRef {
  const [field = '', ...path] = key.split('.');
  if (PROTOTYPE_KEYS.has(field) || path.some((segment) => PROTOTYPE_KEYS.has(segment))) {
    throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Prohibited keyword in request data: ${key}.`);
  }
  if (!TOP_FIELD.test(field) || !path.every((segment) => SUB_FIELD.test(segment))) {
    throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Invalid key name: ${key}`);
  }
  return { field, path };
}

/**
 * The SDKs quote literal text as `\Q…\E` (Perl/Java syntax, e.g. `startsWith`); PostgreSQL's regex engine
 * has no such quoting, so the quoted text is escaped character by character instead.
 */
export function expandLiteralQuotes(pattern: string): string {
  return pattern.replace(/\\Q([\s\S]*?)(?:\\E|$)/g, (_match, literal: string) => literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
}

function parseArray(operator: string, raw: unknown, options: WhereOptions): ParseValue[] {
  if (!Array.isArray(raw)) invalidQuery(`bad ${operator} value`);
  const limit = options.complexity?.queryArraySize ?? Number.POSITIVE_INFINITY;
  if (raw.length > limit) invalidQuery(`${operator} has ${raw.length} values; the limit is ${limit} (requestComplexity.queryArraySize).`);
  return raw.map((item) => decodeValue(item));
}

/** A client's pattern is bounded in length and refused in the shapes that can take exponential time. */
function checkPattern(pattern: string, options: WhereOptions): void {
  const { complexity } = options;
  if (complexity === undefined) return;
  if (pattern.length > complexity.regexLength) {
    invalidQuery(`$regex pattern is ${pattern.length} characters long; the limit is ${complexity.regexLength} (requestComplexity.regexLength).`);
  }
  const hazard = regexHazard(pattern);
  if (hazard !== undefined) invalidQuery(`$regex pattern refused by the regular expression guard: it ${hazard}, which can take exponential time to match.`);
}

function parseSubQuery(operator: string, raw: unknown, depth: Depth, options: WhereOptions): SubQuery {
  if (!isPlainObject(raw) || typeof raw.className !== 'string') invalidQuery(`improper usage of ${operator}`);
  assertClassName(raw.className);
  const limit = options.complexity?.subqueryDepth ?? Number.POSITIVE_INFINITY;
  if (depth.subqueries + 1 > limit) invalidQuery(`Subquery nesting depth exceeds maximum allowed depth of ${limit} (requestComplexity.subqueryDepth).`);
  return { className: raw.className, where: parseWhereAt(raw.where ?? {}, { all: depth.all + 1, subqueries: depth.subqueries + 1 }, options) };
}

function parseOperators(target: FieldRef, ops: JsonObject, depth: Depth, options: WhereOptions): Condition {
  const conditions: Condition[] = [];
  for (const [operator, raw] of Object.entries(ops)) {
    const comparison = COMPARISONS.get(operator as never);
    if (comparison !== undefined) {
      conditions.push({ type: 'compare', target, operator: comparison, value: decodeValue(raw) });
      continue;
    }
    switch (operator) {
      case '$in':
      case '$nin':
        conditions.push({ type: 'in', target, values: parseArray(operator, raw, options), negate: operator === '$nin' });
        break;
      case '$all':
        conditions.push(parseAll(target, raw, options));
        break;
      case '$containedBy':
        conditions.push({ type: 'containedBy', target, values: parseArray(operator, raw, options) });
        break;
      case '$exists':
        if (typeof raw !== 'boolean') invalidQuery('$exists must be a boolean');
        conditions.push({ type: 'exists', target, exists: raw });
        break;
      case '$regex':
        conditions.push(parseRegex(target, raw, ops.$options, options));
        break;
      case '$options':
        if (!('$regex' in ops)) invalidQuery('$options requires $regex');
        break;
      case '$inQuery':
      case '$notInQuery':
        conditions.push({
          type: 'inQuery',
          target,
          query: parseSubQuery(operator, raw, depth, options),
          negate: operator === '$notInQuery',
        });
        break;
      case '$select':
      case '$dontSelect': {
        if (!isPlainObject(raw) || typeof raw.key !== 'string') invalidQuery(`improper usage of ${operator}`);
        const key = parseFieldRef(raw.key);
        if (key.path.length > 0) invalidQuery(`improper usage of ${operator}`);
        conditions.push({
          type: 'select',
          target,
          key: key.field,
          query: parseSubQuery(operator, raw.query, depth, options),
          negate: operator === '$dontSelect',
        });
        break;
      }
      case '$nearSphere':
        conditions.push(parseNearSphere(target, raw, ops));
        break;
      case '$within':
        conditions.push(parseBox(target, raw));
        break;
      case '$geoWithin':
        conditions.push(parseGeoWithin(target, raw, options.complexity?.queryArraySize ?? Number.POSITIVE_INFINITY));
        break;
      case '$geoIntersects':
        conditions.push(parseGeoIntersects(target, raw));
        break;
      case '$text':
        conditions.push(parseText(target, raw));
        break;
      default:
        // `$maxDistance*` only qualify a `$nearSphere` (read there); alone they mean nothing.
        if (MAX_DISTANCE_KEYS.has(operator)) {
          if (!Object.hasOwn(ops, '$nearSphere')) invalidQuery(`${operator} requires $nearSphere`);
          break;
        }
        invalidQuery(`Invalid query operator: ${operator}`);
    }
  }
  return and(...conditions);
}

function parseLogical(key: '$or' | '$and' | '$nor', raw: unknown, depth: Depth, options: WhereOptions): Condition {
  if (!Array.isArray(raw) || raw.length === 0) invalidQuery(`Bad ${key} format - use an array of at least 1 value.`);
  const conditions = raw.map((item) => parseWhereAt(item, { ...depth, all: depth.all + 1 }, options));
  const type = key === '$or' ? 'or' : key === '$and' ? 'and' : 'nor';
  return { type, conditions };
}

function parseRegex(target: FieldRef, raw: unknown, regexOptions: unknown, options: WhereOptions): Condition {
  if (typeof raw !== 'string') invalidQuery('$regex must be a string');
  const flags = regexOptions ?? '';
  if (typeof flags !== 'string' || !REGEX_OPTIONS.test(flags)) invalidQuery('Only the i, m, x and s options are supported for $regex');
  const pattern = expandLiteralQuotes(raw);
  checkPattern(pattern, options);
  return { type: 'regex', target, pattern, options: flags };
}

const isRegexValue = (value: unknown): value is JsonObject => isPlainObject(value) && Object.hasOwn(value, '$regex');

/**
 * `$all`: values the array must all hold, or (the SDK's `containsAllStartingWith`) `{$regex}` values that
 * must each match an element; Parse refuses a mix of the two.
 */
function parseAll(target: FieldRef, raw: unknown, options: WhereOptions): Condition {
  if (!Array.isArray(raw) || !raw.some(isRegexValue)) return { type: 'all', target, values: parseArray('$all', raw, options) };
  if (!raw.every(isRegexValue)) invalidQuery('All $all values must be of regex type or none.');
  const limit = options.complexity?.queryArraySize ?? Number.POSITIVE_INFINITY;
  if (raw.length > limit) invalidQuery(`$all has ${raw.length} values; the limit is ${limit} (requestComplexity.queryArraySize).`);
  return and(
    ...raw.map((value) => {
      const keys = Object.keys(value);
      if (keys.some((key) => key !== '$regex' && key !== '$options')) invalidQuery('$all regex values take only $regex and $options.');
      return parseRegex(target, value.$regex, value.$options, options);
    }),
  );
}

function parseRelatedTo(raw: unknown): Condition {
  if (!isPlainObject(raw) || !isPlainObject(raw.object) || typeof raw.key !== 'string') {
    invalidQuery('improper usage of $relatedTo');
  }
  const key = parseFieldRef(raw.key);
  if (key.path.length > 0) invalidQuery('improper usage of $relatedTo');
  if (raw.object.objectId === undefined && typeof raw.object.className === 'string') {
    // The SDK's query of a relation on an unsaved object (e.g. a clone) names no owner: it has no members.
    assertClassName(raw.object.className);
    return { type: 'in', target: { field: 'objectId', path: [] }, values: [], negate: false };
  }
  const owner = decodePointer(raw.object);
  assertClassName(owner.className);
  return { type: 'relatedTo', owner: { className: owner.className, objectId: owner.objectId }, key: key.field };
}

function hasOperatorKeys(value: JsonObject): boolean {
  return Object.keys(value).some((key) => key.startsWith('$'));
}

function parseWhereAt(raw: unknown, depth: Depth, options: WhereOptions): Condition {
  if (depth.all > options.maxDepth) invalidQuery(`Query condition nesting depth exceeds maximum allowed depth of ${options.maxDepth} (queryDepth).`);
  if (!isPlainObject(raw)) invalidQuery('Invalid where: expected an object');
  const conditions: Condition[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$or' || key === '$and' || key === '$nor') {
      conditions.push(parseLogical(key, value, depth, options));
    } else if (key === '$relatedTo') {
      conditions.push(parseRelatedTo(value));
    } else if (key === 'ACL') {
      invalidQuery('Cannot query on ACL.');
    } else if (key.startsWith('$')) {
      // Parse reads a top-level `$name` as a field name it cannot have (105), not as an operator.
      throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Invalid key name: ${key}`);
    } else {
      const target = parseFieldRef(key);
      if (isPlainObject(value) && hasOperatorKeys(value)) {
        conditions.push(parseOperators(target, value, depth, options));
      } else {
        conditions.push({ type: 'compare', target, operator: '=', value: decodeValue(value) });
      }
    }
  }
  return conditions.length === 0 ? TRUE : and(...conditions);
}

/** Parses a wire `where` object into a condition tree; every malformed shape is a 102/105/106 error. */
export function parseWhere(raw: unknown, options: WhereOptions): Condition {
  return parseWhereAt(raw, { all: 0, subqueries: 0 }, options);
}
