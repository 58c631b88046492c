import type { ParseValue } from './values.ts';

/**
 * The typed query tree: wire `where` JSON is parsed into it once at the edge; the SQL compiler is the only
 * consumer. Security predicates are nodes of the same tree, so they compile into the same statement.
 */

/** `field` is a top-level column; `path` addresses inside an Object field (`"a.b.c"` → a, [b, c]). */
export interface FieldRef {
  readonly field: string;
  readonly path: readonly string[];
}

export type Comparison = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
}

/**
 * A `$text` search, split the way MongoDB reads `$term`: quoted phrases (all required when present),
 * plain words (any one matches otherwise) and `-negated` words (none may match).
 */
export interface TextSearch {
  readonly language: string;
  readonly words: readonly string[];
  readonly phrases: readonly string[];
  readonly negated: readonly string[];
}

/** `order=$score` / `keys=$score`: the relevance of the query's `$text` search, returned as `score`. */
export const TEXT_SCORE = '$score';

/**
 * `include=*` / `includeAll=true`: a path made of this one segment stands for every Pointer and Array field
 * of the class, as in Parse; the find expands it with the class's schema.
 */
export const INCLUDE_ALL = '*';

export interface SubQuery {
  readonly className: string;
  readonly where: Condition;
}

export type Condition =
  | { readonly type: 'true' }
  | { readonly type: 'and'; readonly conditions: readonly Condition[] }
  | { readonly type: 'or'; readonly conditions: readonly Condition[] }
  | { readonly type: 'nor'; readonly conditions: readonly Condition[] }
  | { readonly type: 'compare'; readonly target: FieldRef; readonly operator: Comparison; readonly value: ParseValue }
  | { readonly type: 'in'; readonly target: FieldRef; readonly values: readonly ParseValue[]; readonly negate: boolean }
  | { readonly type: 'all'; readonly target: FieldRef; readonly values: readonly ParseValue[] }
  | { readonly type: 'containedBy'; readonly target: FieldRef; readonly values: readonly ParseValue[] }
  | { readonly type: 'exists'; readonly target: FieldRef; readonly exists: boolean }
  | { readonly type: 'regex'; readonly target: FieldRef; readonly pattern: string; readonly options: string }
  | { readonly type: 'inQuery'; readonly target: FieldRef; readonly query: SubQuery; readonly negate: boolean }
  | {
      readonly type: 'select';
      readonly target: FieldRef;
      readonly query: SubQuery;
      readonly key: string;
      readonly negate: boolean;
    }
  | {
      readonly type: 'relatedTo';
      readonly owner: { readonly className: string; readonly objectId: string };
      readonly key: string;
    }
  /**
   * A GeoPoint field within `maxRadians` of `center` on the unit sphere (`$nearSphere` + `$maxDistance*`,
   * `$geoWithin.$centerSphere`); `sorted` (`$nearSphere`) also orders the results by distance.
   */
  | { readonly type: 'geoDistance'; readonly target: FieldRef; readonly center: GeoPoint; readonly maxRadians: number | undefined; readonly sorted: boolean }
  /** A GeoPoint field inside a latitude/longitude rectangle, edges included (`$within.$box`). */
  | { readonly type: 'geoBox'; readonly target: FieldRef; readonly southwest: GeoPoint; readonly northeast: GeoPoint }
  /** A GeoPoint field inside or on a polygon (`$geoWithin.$polygon`); vertices in order, open or closed. */
  | { readonly type: 'geoPolygon'; readonly target: FieldRef; readonly vertices: readonly GeoPoint[] }
  /** A Polygon field that contains the point, edges included (`$geoIntersects.$point`). */
  | { readonly type: 'polygonContains'; readonly target: FieldRef; readonly point: GeoPoint }
  /** Full-text search of a String field (`$text.$search`); `language` is a text search configuration name. */
  | { readonly type: 'text'; readonly target: FieldRef; readonly search: TextSearch }
  /** Row-level permission: the row's `_rperm`/`_wperm` must overlap the caller's principals. */
  | { readonly type: 'access'; readonly column: '_rperm' | '_wperm'; readonly principals: readonly string[] };

export interface OrderKey {
  readonly target: FieldRef;
  readonly descending: boolean;
}

export interface FindQuery {
  readonly className: string;
  readonly where: Condition;
  readonly order: readonly OrderKey[];
  readonly limit: number;
  readonly skip: number;
  /** Top-level fields to return; undefined means all. */
  readonly keys: ReadonlySet<string> | undefined;
  readonly excludeKeys: ReadonlySet<string>;
  /** Pointer paths to replace with the objects they point at, e.g. [['post','author']]. */
  readonly include: readonly (readonly string[])[];
  /** Dotted `keys` (`post.title`, `post.author.name`): within the objects they include, only these fields are kept. */
  readonly nestedKeys?: readonly (readonly string[])[];
  readonly count: boolean;
  /**
   * `redirectClassNameForKey`: the SDK's query of a relation whose target class it does not know (an
   * unfetched parent) names the parent class and the relation field; the find runs on the field's target.
   */
  readonly redirectClassNameForKey?: string;
  /** Answer with the database's plan for the query instead of its rows (master key only). */
  readonly explain?: boolean;
  /**
   * The query in the SDK's JSON form (`where` as an object, lists as comma strings), kept for cloud code:
   * `beforeFind` receives it as a `Parse.Query`. Absent for queries the server builds itself.
   */
  readonly wire?: Readonly<WireQuery>;
}

export interface WireQuery {
  where: unknown;
  limit?: number;
  skip?: number;
  order?: string;
  keys?: string;
  excludeKeys?: string;
  include?: string;
  count?: number;
}

export const TRUE: Condition = { type: 'true' };

export function and(...conditions: Condition[]): Condition {
  const kept = conditions.filter((c) => c.type !== 'true');
  if (kept.length === 0) return TRUE;
  if (kept.length === 1) return kept[0] as Condition;
  return { type: 'and', conditions: kept };
}

/** The conditions every result must satisfy on its own: the root's, through nested `and`s (not `or`/`nor`). */
export function topLevelConditions(where: Condition): Condition[] {
  return where.type === 'and' ? where.conditions.flatMap(topLevelConditions) : [where];
}
