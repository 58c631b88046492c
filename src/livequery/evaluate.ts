/**
 * Decides, in the database, which subscriptions an object matched before and after a write: every distinct
 * (where, caller) question is compiled by the one query compiler — the same SQL a find of that caller would
 * run, read permissions included — and all of them are evaluated together against the two images of the
 * row in one statement. LiveQuery therefore cannot disagree with a find: there is no second matcher.
 */
import type { Condition } from '../query/tree.ts';
import type { ClassSchema } from '../schema/types.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import { storedColumns } from '../storage/sql/columns.ts';
import { compileCondition, type Scope } from '../storage/sql/compile-condition.ts';
import type { CompileContext, ReadAccess } from '../storage/sql/context.ts';
import { Aliases, ident, Params } from '../storage/sql/params.ts';

/** A row as `to_jsonb` gives it, without the server-owned columns (password hashes and the like). */
export type RowImage = Readonly<Record<string, unknown>>;

/** One question: does the row satisfy `condition`, compiled with `access` for any table it reads besides the row? */
export interface Probe {
  readonly condition: Condition;
  readonly access: ReadAccess;
}

export interface SideResult {
  /** The row in the shape a find's SELECT returns it (dates formatted), for `encodeRow`. */
  readonly row: Readonly<Record<string, unknown>>;
  /** One answer per probe; a probe that could not be compiled (the class is no longer readable…) is false. */
  readonly answers: readonly boolean[];
}

const ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/** Keeps only what a class's table shows through the API: `_rperm`/`_wperm`, never other server-owned columns. */
export function publicImage(doc: Readonly<Record<string, unknown>>): RowImage {
  const image: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!key.startsWith('_') || key === '_rperm' || key === '_wperm') image[key] = value;
  }
  return image;
}

function selectList(schema: ClassSchema, alias: string): string {
  return storedColumns(schema)
    .map((column) => {
      const sql = `${alias}.${ident(column)}`;
      const isDate = column === 'createdAt' || column === 'updatedAt' || schema.fields.get(column)?.type === 'Date';
      return isDate ? `to_char(${sql} AT TIME ZONE 'UTC', '${ISO_FORMAT}') AS ${ident(column)}` : sql;
    })
    .join(', ');
}

/**
 * Evaluates every probe against `before` and `after` (either may be absent: a create, a delete) in one
 * statement. The images are turned back into rows of the class's own type (`jsonb_populate_record`), so
 * each compiled condition reads them exactly as it reads a stored row.
 */
/** PostgreSQL allows 1664 columns in a select list: larger batches are split. */
const PROBES_PER_STATEMENT = 1000;

export async function evaluateProbes(
  db: SqlExecutor,
  className: string,
  schema: ClassSchema,
  schemaOf: (className: string) => ClassSchema | undefined,
  images: { readonly before?: RowImage; readonly after?: RowImage },
  probes: readonly Probe[],
): Promise<{ before?: SideResult; after?: SideResult }> {
  if (probes.length <= PROBES_PER_STATEMENT) return evaluateBatch(db, className, schema, schemaOf, images, probes);
  const parts: { before?: SideResult; after?: SideResult }[] = [];
  for (let start = 0; start < probes.length; start += PROBES_PER_STATEMENT) {
    parts.push(await evaluateBatch(db, className, schema, schemaOf, images, probes.slice(start, start + PROBES_PER_STATEMENT)));
  }
  const merge = (side: 'before' | 'after'): SideResult | undefined => {
    const first = parts[0]?.[side];
    return first === undefined ? undefined : { row: first.row, answers: parts.flatMap((part) => part[side]?.answers ?? []) };
  };
  const result: { before?: SideResult; after?: SideResult } = {};
  const before = merge('before');
  const after = merge('after');
  if (before !== undefined) result.before = before;
  if (after !== undefined) result.after = after;
  return result;
}

async function evaluateBatch(
  db: SqlExecutor,
  className: string,
  schema: ClassSchema,
  schemaOf: (className: string) => ClassSchema | undefined,
  images: { readonly before?: RowImage; readonly after?: RowImage },
  probes: readonly Probe[],
): Promise<{ before?: SideResult; after?: SideResult }> {
  const params = new Params();
  const aliases = new Aliases();
  const scope: Scope = { className, schema, alias: aliases.create() };
  const before = params.add(images.before === undefined ? null : JSON.stringify(images.before), 'jsonb');
  const after = params.add(images.after === undefined ? null : JSON.stringify(images.after), 'jsonb');
  const answers = probes.map((probe, index) => {
    const ctx: CompileContext = { params, aliases, schemaOf, access: probe.access, operation: 'find' };
    let sql: string;
    try {
      sql = compileCondition(probe.condition, scope, ctx);
    } catch {
      // What a find would refuse (a sub-query on a class no longer readable) matches nothing.
      sql = 'FALSE';
    }
    return `COALESCE((${sql}), FALSE) AS ${ident(`#${index}`)}`;
  });
  const columns = [selectList(schema, scope.alias), ...answers].join(', ');
  const text =
    `SELECT s.side, ${columns} FROM (VALUES (0, ${before}), (1, ${after})) AS s(side, doc) ` +
    `CROSS JOIN LATERAL jsonb_populate_record(NULL::${ident(className)}, s.doc) AS ${scope.alias} WHERE s.doc IS NOT NULL`;
  const statement = params.bind(text);
  const { rows } = await db.query<Record<string, unknown>>(statement.text, statement.params);
  const result: { before?: SideResult; after?: SideResult } = {};
  for (const row of rows) {
    const side: SideResult = { row, answers: probes.map((_probe, index) => row[`#${index}`] === true) };
    if (Number(row.side) === 0) result.before = side;
    else result.after = side;
  }
  return result;
}
