/**
 * Shared by the Parsec child and the bench: what the child's statement traces look like, and how it reports
 * the plan of Parsec's session lookup. (Nothing here may start a server: the parent imports it too.)
 */

/** Marks a transaction in a trace (its BEGIN and COMMIT are sent by the driver, not through `query`). */
export const TRANSACTION_MARK = '-- transaction';

/** One statement as Parsec sent it: its text and bound parameters (a transaction: TRANSACTION_MARK, none). */
export interface TracedStatement {
  readonly text: string;
  readonly params: readonly unknown[];
}

/** The session lookup reads `_Session`; nothing else a `/users/me` sends does. */
export const readsSessions = (text: string): boolean => /"_Session"/.test(text);
/** The role expansion reads `_Role` (and its join tables). */
export const readsRoles = (text: string): boolean => /"_Role"/.test(text);

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Index Name'?: string;
  readonly 'Relation Name'?: string;
  readonly 'Parent Relationship'?: string;
  readonly 'Subplan Name'?: string;
  readonly 'Total Cost'?: number;
  readonly 'Actual Total Time'?: number;
  readonly 'Actual Loops'?: number;
  readonly Plans?: PlanNode[];
}

/** What the role expansion inside the session lookup costs: the sub-plan(s) reading `_Role`. */
export interface RolesPart {
  /** The planner's estimated cost of one execution of the sub-plan(s), in its arbitrary units. */
  readonly cost: number;
  /** That cost over the whole statement's estimated cost. */
  readonly costShare: number;
  /** Measured (EXPLAIN ANALYZE): milliseconds spent in the sub-plan(s), all executions. */
  readonly actualMs: number;
}

export interface PlanSummary {
  /** The plan's top node, e.g. "Index Scan" or "Seq Scan". */
  readonly nodeType: string;
  /** How `_Session` is read, e.g. "Index Scan" or "Seq Scan". */
  readonly sessionScan: string;
  /** The index the read of `_Session` uses, if any (the claim wants `_Session_token_key`). */
  readonly indexName: string | null;
  /** Every node, depth first: "Index Scan on _Session using _Session_token_key". */
  readonly nodes: string[];
  /** The planner's estimated cost of the whole statement. */
  readonly totalCost: number;
  /** Measured (EXPLAIN ANALYZE): the statement's execution time in milliseconds. */
  readonly executionMs: number;
  /**
   * The role expansion's part (the sub-plan reading `_Role` and its join tables, in `nodes` after the read
   * of `_Session`); null when the statement does not read `_Role` at all.
   */
  readonly roles: RolesPart | null;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

function walk(node: PlanNode, visit: (node: PlanNode) => boolean | void): void {
  if (visit(node) === false) return;
  for (const child of node.Plans ?? []) walk(child, visit);
}

function describe(node: PlanNode): string {
  return (
    `${node['Node Type'] ?? '?'}${node['Relation Name'] === undefined ? '' : ` on ${node['Relation Name']}`}` +
    `${node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`}`
  );
}

const readsRole = (node: PlanNode): boolean => {
  let found = false;
  walk(node, (n) => {
    if (n['Relation Name']?.startsWith('_Role') === true || n['Relation Name']?.startsWith('_Join:') === true) found = true;
  });
  return found;
};

/** Summarizes `EXPLAIN (ANALYZE, FORMAT JSON)` of the session lookup. */
export function summarize(rows: Record<string, unknown>[]): PlanSummary {
  let document = rows[0]?.['QUERY PLAN'];
  if (typeof document === 'string') document = JSON.parse(document);
  const top = (document as { Plan?: PlanNode; 'Execution Time'?: number }[] | undefined)?.[0];
  const root = top?.Plan;
  if (root === undefined) throw new Error(`unexpected EXPLAIN output: ${JSON.stringify(rows)}`);
  const nodes: PlanNode[] = [];
  walk(root, (node) => {
    nodes.push(node);
  });
  const session = nodes.find((node) => node['Relation Name'] === '_Session');
  // The role expansion: the outermost sub-plans (SubPlan/InitPlan) that read the role tables.
  const rolesRoots: PlanNode[] = [];
  walk(root, (node) => {
    const relation = node['Parent Relationship'];
    if ((relation === 'SubPlan' || relation === 'InitPlan') && readsRole(node)) {
      rolesRoots.push(node);
      return false;
    }
    return undefined;
  });
  const totalCost = root['Total Cost'] ?? 0;
  let roles: RolesPart | null = null;
  if (rolesRoots.length > 0) {
    const cost = rolesRoots.reduce((sum, node) => sum + (node['Total Cost'] ?? 0), 0);
    const actualMs = rolesRoots.reduce((sum, node) => sum + (node['Actual Total Time'] ?? 0) * (node['Actual Loops'] ?? 1), 0);
    roles = { cost: round(cost, 2), costShare: totalCost > 0 ? round(cost / totalCost, 3) : Number.NaN, actualMs: round(actualMs, 3) };
  }
  return {
    nodeType: root['Node Type'] ?? 'unknown',
    sessionScan: session?.['Node Type'] ?? 'none',
    indexName: session?.['Index Name'] ?? null,
    nodes: nodes.map(describe),
    totalCost: round(totalCost, 2),
    executionMs: round(top?.['Execution Time'] ?? Number.NaN, 3),
    roles,
  };
}

export interface SessionLookupPlan extends PlanSummary {
  /** Rows in `_Session` when planned: on a table this small a sequential scan is the planner's right choice. */
  readonly sessionRows: number;
  /** The same lookup planned with 10,000 more sessions (added, analyzed, rolled back): a realistic table. */
  readonly atScale: PlanSummary & { readonly sessionRows: number };
}
