/**
 * Parse's `requestComplexity` option: limits on the shape of one client query. Parse (8.6/9.x) applies none
 * unless the option is set; Parsec applies these defaults unless told otherwise, and a partial object keeps
 * the defaults for the keys it does not name, as in Parse.
 */
import { didYouMean } from './suggest.ts';
import type { RequestComplexity } from './types.ts';
import type { Parsed, ValueType } from './value-types.ts';

/**
 * - includeDepth 5 and subqueryDepth 5: Parse's values when the option is set; each level is one more
 *   query per class, and real apps rarely go past three.
 * - includeCount 20: what Parsec allowed before the option existed (Parse: 50).
 * - queryArraySize 1000: a list built from one page of results (maxLimit, 1000) still fits.
 * - regexLength 1000: far above a search box; a pattern is compiled and run against every row it scans.
 */
export const DEFAULT_REQUEST_COMPLEXITY: RequestComplexity = Object.freeze({
  includeDepth: 5,
  includeCount: 20,
  subqueryDepth: 5,
  queryArraySize: 1000,
  regexLength: 1000,
});

/** The option as read: Parse also lets it carry `queryDepth` and `batchRequestLimit`, which are top-level options here. */
export type RequestComplexityOption = RequestComplexity & { readonly queryDepth?: number; readonly batchRequestLimit?: number };

const LIMITS = Object.keys(DEFAULT_REQUEST_COMPLEXITY) as (keyof RequestComplexity)[];
/** Parse's GraphQL limits: accepted so a parse-server config loads; Parsec serves no GraphQL. */
const GRAPHQL = ['graphQLDepth', 'graphQLFields'];
/** Always bounded in Parsec, so -1 (Parse's "off") is not accepted for them. */
const ALWAYS_BOUNDED = ['queryDepth', 'batchRequestLimit'] as const;
const FIELDS = [...LIMITS, ...GRAPHQL, ...ALWAYS_BOUNDED];

const isLimit = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && (value >= 1 || value === -1);
const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

function read(value: unknown): Parsed<RequestComplexityOption> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `must be an object like {"includeDepth": 5, "subqueryDepth": 5}, got ${shown(value)}` };
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const result: Record<string, number> = { ...DEFAULT_REQUEST_COMPLEXITY };
  for (const [key, raw] of Object.entries(record)) {
    if (!FIELDS.includes(key)) {
      problems.push(`${JSON.stringify(key)} is not one of its fields.${didYouMean(key, FIELDS)}`);
    } else if ((ALWAYS_BOUNDED as readonly string[]).includes(key)) {
      if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 1) result[key] = raw;
      else problems.push(`${key} must be a whole number >= 1 (Parsec always bounds it; -1 is not accepted), got ${shown(raw)}`);
    } else if (!isLimit(raw)) {
      problems.push(`${key} must be a whole number >= 1, or -1 for no limit, got ${shown(raw)}`);
    } else if (!GRAPHQL.includes(key)) {
      result[key] = raw;
    }
  }
  return problems.length > 0 ? { ok: false, reason: `is invalid: ${problems.join('; ')}` } : { ok: true, value: Object.freeze(result) as unknown as RequestComplexityOption };
}

export const requestComplexity: ValueType<RequestComplexityOption> = {
  label: '{"includeDepth","includeCount","subqueryDepth","queryArraySize","regexLength": n or -1}',
  secret: false,
  fromJson: read,
  fromText: (text) => {
    try {
      return read(JSON.parse(text));
    } catch {
      return { ok: false, reason: `must be JSON like {"includeDepth": 5}; got ${shown(text)}` };
    }
  },
};

/** Reads a limit: -1 means none. */
export const limitOf = (value: number): number => (value < 0 ? Number.POSITIVE_INFINITY : value);
