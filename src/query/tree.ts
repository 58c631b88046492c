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
  readonly count: boolean;
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
