/**
 * The newest (or oldest) records first, without reading every batch: a page ordered by `createdAt` is
 * looked for in a window at that end of the ledger first, reaching back (forward) to the start (end) of
 * the newest (oldest) batch, then of the 8th, the 64th, … each time the page does not come back full. A
 * full page from a window is the answer, since every record the window leaves out sorts after all of the
 * page's: it is older (newer) than the window's edge, and the page has `skip + limit` records within it.
 * Windows counted in batches rather than in time fit a busy ledger and a quiet one alike: the Parse
 * Dashboard's default (the newest hundred, no `where`) reads one batch or eight, not a million records.
 */
import type { Condition, FindQuery } from '../query/tree.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import { BATCH_TABLE } from './ledger-storage.ts';

const GROWTH = 8;

const edge = (operator: '>=' | '<=', time: Date): Condition => ({
  type: 'compare',
  target: { field: 'createdAt', path: [] },
  operator,
  value: { kind: 'date', value: time },
});

/** The windows to try for `query`, nearest its order's end first; none when it is not a page ordered by time. */
export async function* timeWindows(query: FindQuery, db: SqlExecutor): AsyncGenerator<Condition> {
  const [first] = query.order;
  if (query.limit <= 0 || first === undefined || first.target.path.length > 0) return;
  if (first.target.field !== 'createdAt' && first.target.field !== 'updatedAt') return;
  // Newest first: back to the start of the n-th newest batch; oldest first: up to the end of the n-th oldest.
  const sql = first.descending
    ? `SELECT "firstAt" AS "edge" FROM "${BATCH_TABLE}" ORDER BY "lastAt" DESC OFFSET $1 LIMIT 1`
    : `SELECT "lastAt" AS "edge" FROM "${BATCH_TABLE}" ORDER BY "firstAt" ASC OFFSET $1 LIMIT 1`;
  for (let batches = 1; ; batches *= GROWTH) {
    const { rows } = await db.query<{ edge: Date }>(sql, [batches - 1]);
    const found = rows[0]?.edge;
    // Fewer batches than that: the window would be the whole ledger, and the query itself runs.
    if (found === undefined) return;
    yield edge(first.descending ? '>=' : '<=', found);
  }
}
