/**
 * A subscription's regular expressions are compiled by the database once, when it subscribes: an invalid
 * one (`"[abc"`) is the subscriber's 102 then, instead of an error in the middle of the statement that
 * decides every subscriber's events. (Catastrophic patterns never get this far for clients: the where
 * parser's regex guard refuses them, as for a find; PostgreSQL's engine does not backtrack exponentially
 * anyway, and every statement runs under `statementTimeoutMs`.)
 */
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassSchema } from '../schema/types.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import { compileCondition } from '../storage/sql/compile-condition.ts';
import { Aliases, Params } from '../storage/sql/params.ts';
import { sqlState } from '../storage/driver.ts';

/** Every `$regex` of a where, sub-queries included. */
function regexesOf(condition: Condition, found: { pattern: string; options: string }[] = []): { pattern: string; options: string }[] {
  switch (condition.type) {
    case 'and':
    case 'or':
    case 'nor':
      for (const child of condition.conditions) regexesOf(child, found);
      break;
    case 'regex':
      found.push({ pattern: condition.pattern, options: condition.options });
      break;
    case 'inQuery':
    case 'select':
      regexesOf(condition.query.where, found);
      break;
    default:
      break;
  }
  return found;
}

/** A one-field String class: the regex is compiled exactly as the compiler compiles it on any String field. */
const PROBE_SCHEMA: ClassSchema = { className: 'Probe', fields: new Map([['value', { type: 'String' }]]), classLevelPermissions: {}, indexes: {} };

/** Throws 102 unless the database accepts every regular expression in `where`. */
export async function assertRegexesCompile(db: SqlExecutor, where: Condition): Promise<void> {
  const regexes = regexesOf(where);
  if (regexes.length === 0) return;
  const params = new Params();
  const ctx = { params, aliases: new Aliases(1), schemaOf: () => undefined, access: { readFilter: () => undefined } };
  const tests = regexes.map(({ pattern, options }) =>
    compileCondition({ type: 'regex', target: { field: 'value', path: [] }, pattern, options }, { className: 'Probe', schema: PROBE_SCHEMA, alias: 't0' }, ctx),
  );
  const statement = params.bind(`SELECT ${tests.map((test) => `(${test})`).join(', ')} FROM (SELECT ''::text AS "value") AS t0`);
  try {
    await db.query(statement.text, statement.params);
  } catch (error) {
    if (sqlState(error) === '2201B') throw new ParseError(ErrorCode.INVALID_QUERY, 'Invalid regular expression.');
    throw error;
  }
}
