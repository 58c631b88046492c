/**
 * Shared by the Parsec child and the bench: how the child reports the plan of Parsec's session lookup, and
 * the marker its statement traces use for a transaction. (Nothing here may start a server: the parent
 * imports it too.)
 */

/** Marks a transaction in a trace (its BEGIN and COMMIT are sent by the driver, not through `query`). */
export const TRANSACTION_MARK = '-- transaction';

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Index Name'?: string;
  readonly 'Relation Name'?: string;
  readonly Plans?: PlanNode[];
}

export interface PlanSummary {
  /** The plan's top node, e.g. "Index Scan" or "Seq Scan". */
  readonly nodeType: string;
  /** The index the plan reads, if any. */
  readonly indexName: string | null;
  /** Every node, depth first: "Index Scan on _Session using _Session_token_key". */
  readonly nodes: string[];
}

export function summarize(rows: Record<string, unknown>[]): PlanSummary {
  let document = rows[0]?.['QUERY PLAN'];
  if (typeof document === 'string') document = JSON.parse(document);
  const root = (document as { Plan?: PlanNode }[] | undefined)?.[0]?.Plan;
  if (root === undefined) throw new Error(`unexpected EXPLAIN output: ${JSON.stringify(rows)}`);
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode): void => {
    nodes.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(root);
  return {
    nodeType: root['Node Type'] ?? 'unknown',
    indexName: nodes.find((node) => node['Index Name'] !== undefined)?.['Index Name'] ?? null,
    nodes: nodes.map(
      (node) =>
        `${node['Node Type'] ?? '?'}${node['Relation Name'] === undefined ? '' : ` on ${node['Relation Name']}`}` +
        `${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`}`,
    ),
  };
}

export interface SessionLookupPlan extends PlanSummary {
  /** Rows in `_Session` when planned: on a table this small a sequential scan is the planner's right choice. */
  readonly sessionRows: number;
  /** The same lookup planned with 10,000 more sessions (added, analyzed, rolled back): a realistic table. */
  readonly atScale: PlanSummary & { readonly sessionRows: number };
}
