import type { FieldRef, TextSearch } from '../../query/tree.ts';
import type { CompileContext } from './context.ts';
import { resolveField } from './field-expression.ts';
import type { Scope } from './compile-condition.ts';

/**
 * `$text` with PostgreSQL full-text search. The configuration name comes from a fixed allow-list
 * (`query/text-search.ts`) and is written as a literal so that a GIN index on
 * `to_tsvector('<language>', "field")` matches the expression; the searched words are bound parameters.
 *
 * MongoDB's reading of `$term`, which Parse apps rely on: any plain word matches; when quoted phrases are
 * given every phrase must match instead; `-word` excludes.
 */

/** The document side: a String column, or a string inside an Object field; undefined for anything else. */
function documentText(target: FieldRef, scope: Scope, ctx: CompileContext): { text: string; guard: string } | undefined {
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  if (expr.form === 'scalar' && expr.field.type === 'String') return { text: expr.sql, guard: 'TRUE' };
  if (expr.form === 'json' && expr.nested) return { text: expr.text, guard: `jsonb_typeof(${expr.sql}) = 'string'` };
  return undefined;
}

/** The configuration as a SQL literal; the parser allows only listed names, this is the second line of defence. */
function configuration(search: TextSearch): string {
  if (!/^[a-z]+$/.test(search.language)) throw new Error(`text search configuration not from the allow-list: ${search.language}`);
  return `'${search.language}'::regconfig`;
}

function tsquery(search: TextSearch, ctx: CompileContext): string {
  const config = configuration(search);
  // websearch_to_tsquery never raises on odd input (unlike to_tsquery); " or " joins plain words.
  const anyOf = (words: readonly string[]): string =>
    `websearch_to_tsquery(${config}, ${ctx.params.add(words.filter((w) => w.toLowerCase() !== 'or').join(' or '), 'text')})`;
  const positive =
    search.phrases.length > 0
      ? search.phrases.map((phrase) => `phraseto_tsquery(${config}, ${ctx.params.add(phrase, 'text')})`).join(' && ')
      : anyOf(search.words);
  return search.negated.length > 0 ? `((${positive}) && !!(${anyOf(search.negated)}))` : `(${positive})`;
}

export function compileText(target: FieldRef, search: TextSearch, scope: Scope, ctx: CompileContext): string {
  const document = documentText(target, scope, ctx);
  if (document === undefined) return 'FALSE';
  return `(${document.guard} AND to_tsvector(${configuration(search)}, ${document.text}) @@ ${tsquery(search, ctx)})`;
}

/** The relevance Parse returns as `score` and sorts by for `order=$score` (higher is more relevant). */
export function textScore(target: FieldRef, search: TextSearch, scope: Scope, ctx: CompileContext): string {
  const document = documentText(target, scope, ctx);
  if (document === undefined) return '0::float8';
  return `ts_rank(to_tsvector(${configuration(search)}, ${document.text}), ${tsquery(search, ctx)})::float8`;
}
