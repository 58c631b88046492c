import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseFieldRef, parseWhere, type WhereOptions } from './parse-where.ts';
import { assertSafeJson } from './safe-json.ts';
import { TRUE, type Condition, type FieldRef } from './tree.ts';
import { isPlainObject, type JsonObject } from './values.ts';

/**
 * `GET /aggregate/:className` (master key only, reference §8.1): `distinct=<field>` with an optional
 * `where`, or a pipeline, parsed into typed stages that the SQL compiler turns into one statement. The
 * stages are the subset of MongoDB's that PostgreSQL answers exactly; any other is refused (102).
 */

export type AccumulatorOp = 'sum' | 'avg' | 'min' | 'max' | 'count';

export interface Accumulator {
  /** The output field's name (a validated field name). */
  readonly name: string;
  readonly op: AccumulatorOp;
  /** `$sum: '$field'`, `$avg`, `$min`, `$max`: the field; `$sum: <number>` and `$count` have none. */
  readonly field?: FieldRef;
  /** `$sum: <number>` adds this for every document (`$sum: 1` counts them). */
  readonly constant?: number;
}

export type AggregateStage =
  | { readonly kind: 'match'; readonly where: Condition }
  /** `key` undefined groups every document together (`_id: null`). */
  | { readonly kind: 'group'; readonly key: FieldRef | undefined; readonly accumulators: readonly Accumulator[] }
  | { readonly kind: 'sort'; readonly keys: readonly { readonly field: string; readonly descending: boolean }[] }
  | { readonly kind: 'limit'; readonly count: number }
  | { readonly kind: 'skip'; readonly count: number }
  | { readonly kind: 'project'; readonly fields: readonly string[] }
  | { readonly kind: 'count'; readonly name: string }
  /**
   * `$unwind`: one document per element of an Array field, the field holding the element. `preserveEmpty`
   * (`preserveNullAndEmptyArrays`) keeps documents without elements; `indexField` (`includeArrayIndex`)
   * adds the element's position.
   */
  | { readonly kind: 'unwind'; readonly field: string; readonly preserveEmpty: boolean; readonly indexField: string | undefined };

export type AggregateRequest =
  | { readonly kind: 'distinct'; readonly className: string; readonly where: Condition; readonly field: FieldRef }
  | { readonly kind: 'pipeline'; readonly className: string; readonly where: Condition; readonly stages: readonly AggregateStage[] };

/** Options that are not stages when the body itself is the pipeline (Parse's older form). */
const NOT_STAGES = new Set(['distinct', 'where', 'pipeline', 'hint', 'explain', 'comment', 'readPreference', 'rawValues', 'rawFieldNames']);
const SUPPORTED = '$match, $group, $sort, $limit, $skip, $project, $unwind and $count';

function invalid(message: string): never {
  throw new ParseError(ErrorCode.INVALID_QUERY, message);
}

/** URL values are JSON text; the SDK's POST form sends JSON values (already checked with the body). */
function jsonValue(name: string, raw: unknown): unknown {
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

/** A top-level field name given as a plain name (`name`); `$name` refers to a field inside expressions. */
function outputName(name: string): string {
  const ref = parseFieldRef(name);
  if (ref.path.length > 0) invalid(`Invalid field name in aggregate: ${name}`);
  return ref.field;
}

function fieldReference(raw: unknown, where: string): FieldRef {
  if (typeof raw !== 'string' || !raw.startsWith('$') || raw.length < 2) invalid(`${where} must name a field as "$field".`);
  return parseFieldRef(raw.slice(1));
}

function isEmptyKey(raw: unknown): boolean {
  return raw === null || raw === '' || (Array.isArray(raw) && raw.length === 0) || (isPlainObject(raw) && Object.keys(raw).length === 0);
}

function parseAccumulator(name: string, raw: unknown): Accumulator {
  if (!isPlainObject(raw) || Object.keys(raw).length !== 1) invalid(`$group field ${name} must be an object with one accumulator.`);
  const [operator = '', argument] = Object.entries(raw)[0] ?? [];
  switch (operator) {
    case '$sum':
      if (typeof argument === 'number' && Number.isFinite(argument)) return { name, op: 'sum', constant: argument };
      return { name, op: 'sum', field: fieldReference(argument, `$sum of ${name}`) };
    case '$avg':
    case '$min':
    case '$max':
      return { name, op: operator.slice(1) as AccumulatorOp, field: fieldReference(argument, `${operator} of ${name}`) };
    case '$count':
      if (!isPlainObject(argument) || Object.keys(argument).length > 0) invalid(`$count of ${name} takes {}.`);
      return { name, op: 'count' };
    default:
      return invalid(`Unsupported accumulator ${operator} in $group; use $sum, $avg, $min, $max or $count.`);
  }
}

function parseGroup(raw: unknown): AggregateStage {
  if (!isPlainObject(raw)) invalid('$group must be an object.');
  if (Object.hasOwn(raw, 'objectId')) invalid("Cannot use 'objectId' in aggregation stage $group.");
  if (!Object.hasOwn(raw, '_id')) invalid('Invalid parameter for query: group. Missing key _id');
  const id = raw._id;
  let key: FieldRef | undefined;
  if (!isEmptyKey(id)) {
    if (typeof id !== 'string' || !id.startsWith('$')) invalid('$group _id must be null or "$field"; expressions are not supported.');
    key = fieldReference(id, '$group _id');
  }
  const accumulators = Object.entries(raw)
    .filter(([name]) => name !== '_id')
    .map(([name, value]) => parseAccumulator(outputName(name), value));
  return { kind: 'group', key, accumulators };
}

function parseSort(raw: unknown): AggregateStage {
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) invalid('$sort must be an object of fields to 1 or -1.');
  const keys = Object.entries(raw).map(([name, direction]) => {
    if (direction !== 1 && direction !== -1) invalid(`$sort direction of ${name} must be 1 or -1.`);
    return { field: outputName(name), descending: direction === -1 };
  });
  return { kind: 'sort', keys };
}

function parseCount(name: string, raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) invalid(`${name} must be a non-negative integer.`);
  return raw;
}

function parseProject(raw: unknown): AggregateStage {
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) invalid('$project must be an object of fields to include.');
  const fields = Object.entries(raw).map(([name, include]) => {
    if (include !== 1 && include !== true) invalid('$project supports field inclusion (field: 1) only.');
    return outputName(name);
  });
  return { kind: 'project', fields };
}

/** `$unwind: "$field"` or `{path: "$field", preserveNullAndEmptyArrays?, includeArrayIndex?}`; top-level fields only. */
function parseUnwind(raw: unknown): AggregateStage {
  const options: JsonObject = isPlainObject(raw) ? raw : { path: raw };
  for (const key of Object.keys(options)) {
    if (key !== 'path' && key !== 'preserveNullAndEmptyArrays' && key !== 'includeArrayIndex') invalid(`Unsupported $unwind option ${key}.`);
  }
  const ref = fieldReference(options.path, '$unwind path');
  if (ref.path.length > 0) invalid('$unwind path must name a top-level field; nested paths are not supported.');
  const preserve = options.preserveNullAndEmptyArrays ?? false;
  if (typeof preserve !== 'boolean') invalid('$unwind preserveNullAndEmptyArrays must be a boolean.');
  const index = options.includeArrayIndex;
  if (index !== undefined && typeof index !== 'string') invalid('$unwind includeArrayIndex must be a field name.');
  const indexField = index === undefined ? undefined : outputName(index);
  if (indexField === 'objectId' || indexField === ref.field) invalid('$unwind includeArrayIndex must be another field than objectId and the unwound field.');
  return { kind: 'unwind', field: ref.field, preserveEmpty: preserve, indexField };
}

function parseStage(stage: unknown, whereOptions: WhereOptions): AggregateStage | undefined {
  if (!isPlainObject(stage)) invalid('Each pipeline stage must be an object.');
  const keys = Object.keys(stage);
  if (keys.length !== 1) invalid(`Pipeline stages should only have one key but found ${keys.join(', ')}.`);
  const name = keys[0] ?? '';
  const raw = stage[name];
  if (NOT_STAGES.has(name)) return undefined;
  if (!name.startsWith('$')) invalid(`Invalid aggregate stage '${name}'.`);
  switch (name) {
    case '$match':
      return { kind: 'match', where: parseWhere(raw, whereOptions) };
    case '$group':
      return parseGroup(raw);
    case '$sort':
      return parseSort(raw);
    case '$limit':
      return { kind: 'limit', count: parseCount('$limit', raw) };
    case '$skip':
      return { kind: 'skip', count: parseCount('$skip', raw) };
    case '$project':
      return parseProject(raw);
    case '$unwind':
      return parseUnwind(raw);
    case '$count':
      if (typeof raw !== 'string') invalid('$count must be the name of the output field.');
      return { kind: 'count', name: outputName(raw) };
    default:
      return invalid(`Unsupported aggregate stage '${name}': Parsec supports ${SUPPORTED}.`);
  }
}

/** The pipeline as an array of one-key stages: `pipeline` (array or object), or the body itself. */
function stagesOf(options: Readonly<Record<string, unknown>>): unknown[] {
  const source = options.pipeline === undefined ? options : jsonValue('pipeline', options.pipeline);
  if (Array.isArray(source)) return source;
  if (!isPlainObject(source)) invalid('pipeline must be an array or an object of stages.');
  return Object.entries(source)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]): JsonObject => ({ [key]: value }));
}

export function parseAggregate(className: string, options: Readonly<Record<string, unknown>>, whereOptions: WhereOptions): AggregateRequest {
  if (options.explain !== undefined && options.explain !== false && options.explain !== 'false') invalid('explain is not supported for aggregate queries yet.');
  for (const flag of ['rawValues', 'rawFieldNames']) {
    if (options[flag] === true || options[flag] === 'true') invalid(`${flag} is not supported: Parsec compiles pipelines to SQL, not MongoDB.`);
  }
  const where = options.where === undefined ? TRUE : parseWhere(jsonValue('where', options.where), whereOptions);
  if (options.distinct !== undefined) {
    if (typeof options.distinct !== 'string' || options.distinct === '') invalid('distinct must be a field name.');
    return { kind: 'distinct', className, where, field: parseFieldRef(options.distinct) };
  }
  const stages = stagesOf(options)
    .map((stage) => parseStage(stage, whereOptions))
    .filter((stage) => stage !== undefined);
  return { kind: 'pipeline', className, where, stages };
}
