/**
 * What a query of the ledger implies about the batches its records came in, which the database cannot
 * work out through the view: a record's `createdAt` lies within its batch's span, and a record id starts
 * with its `createdAt` (ledger-batch.ts). Added to the query, these conditions let PostgreSQL read only
 * the batches whose span can hold a result (by the indexes on `firstAt` and `lastAt`), instead of
 * expanding every batch to test each record.
 */
import { and, topLevelConditions, TRUE, type Condition } from '../query/tree.ts';
import type { ParseValue } from '../query/values.ts';
import { recordIdTime } from './ledger-batch.ts';
import { BATCH_FIRST, BATCH_LAST } from './ledger-storage.ts';

function idTime(value: ParseValue): number | undefined {
  return value.kind === 'string' ? recordIdTime(value.value) : undefined;
}

function dateTime(value: ParseValue): number | undefined {
  return value.kind === 'date' ? value.value.getTime() : undefined;
}

/** The record times one top-level condition allows, as [earliest, latest] (either may be open). */
function timeRange(condition: Condition): [number | undefined, number | undefined] {
  if (condition.type === 'compare' && condition.target.path.length === 0) {
    const { field } = condition.target;
    const time = field === 'createdAt' || field === 'updatedAt' ? dateTime(condition.value) : field === 'objectId' && condition.operator === '=' ? idTime(condition.value) : undefined;
    if (time === undefined) return [undefined, undefined];
    switch (condition.operator) {
      case '=':
        return [time, time];
      case '>':
      case '>=':
        return [time, undefined];
      case '<':
      case '<=':
        return [undefined, time];
      default:
        return [undefined, undefined];
    }
  }
  if (condition.type === 'in' && !condition.negate && condition.target.field === 'objectId' && condition.target.path.length === 0) {
    const times = condition.values.map(idTime);
    if (times.length === 0 || times.some((time) => time === undefined)) return [undefined, undefined];
    const known = times as number[];
    return [Math.min(...known), Math.max(...known)];
  }
  return [undefined, undefined];
}

const atLeast = (field: string, time: number): Condition => ({ type: 'compare', target: { field, path: [] }, operator: '>=', value: { kind: 'date', value: new Date(time) } });
const atMost = (field: string, time: number): Condition => ({ type: 'compare', target: { field, path: [] }, operator: '<=', value: { kind: 'date', value: new Date(time) } });

/**
 * The batch conditions `where` implies: its records are no earlier than `from`, so their batch ended no
 * earlier than `from`; no later than `to`, so it began no later than `to`. TRUE when nothing bounds them.
 */
export function batchBounds(where: Condition): Condition {
  let from: number | undefined;
  let to: number | undefined;
  for (const condition of topLevelConditions(where)) {
    const [earliest, latest] = timeRange(condition);
    if (earliest !== undefined) from = from === undefined ? earliest : Math.max(from, earliest);
    if (latest !== undefined) to = to === undefined ? latest : Math.min(to, latest);
  }
  return and(from === undefined ? TRUE : atLeast(BATCH_LAST, from), to === undefined ? TRUE : atMost(BATCH_FIRST, to));
}
