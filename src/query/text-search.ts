import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition, FieldRef, TextSearch } from './tree.ts';
import { isPlainObject } from './values.ts';

/**
 * `$text: {$search: {$term, $language, $caseSensitive, $diacriticSensitive}}` (reference §8.3), with
 * Parse's PostgreSQL adapter's messages (107). PostgreSQL full-text search folds case and keeps accents,
 * so, as in Parse on PostgreSQL, `$caseSensitive: true` and `$diacriticSensitive: false` are refused.
 */

/**
 * The text search configurations every supported PostgreSQL (15+) and PGlite ship with. The language is
 * compiled into the statement as a literal (so a GIN index on `to_tsvector('english', field)` can serve
 * the query), which is safe only because it comes from this fixed list, never from the request.
 */
const CONFIGURATIONS = new Set([
  'simple', 'arabic', 'armenian', 'basque', 'catalan', 'danish', 'dutch', 'english', 'finnish', 'french', 'german',
  'greek', 'hindi', 'hungarian', 'indonesian', 'irish', 'italian', 'lithuanian', 'nepali', 'norwegian', 'portuguese',
  'romanian', 'russian', 'serbian', 'spanish', 'swedish', 'tamil', 'turkish', 'yiddish',
]);

/** MongoDB's language codes and `none`, which apps written for Parse on MongoDB send. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['none', 'simple'], ['da', 'danish'], ['nl', 'dutch'], ['en', 'english'], ['fi', 'finnish'], ['fr', 'french'],
  ['de', 'german'], ['hu', 'hungarian'], ['it', 'italian'], ['nb', 'norwegian'], ['pt', 'portuguese'],
  ['ro', 'romanian'], ['ru', 'russian'], ['es', 'spanish'], ['sv', 'swedish'], ['tr', 'turkish'],
]);

/** A term longer than this is refused: nobody types it, and the text search parser's work grows with it. */
const MAX_TERM_LENGTH = 1000;

function badText(message: string): never {
  throw new ParseError(ErrorCode.INVALID_JSON, `bad $text: ${message}`);
}

/** Parse checks options only when they are truthy; `false`, `0` or `""` are ignored as in Parse. */
const given = (value: unknown): boolean => Boolean(value);

export function textConfiguration(raw: unknown): string {
  if (!given(raw)) return 'english';
  if (typeof raw !== 'string') badText('$language, should be string');
  const lower = raw.toLowerCase();
  const name = ALIASES.get(lower) ?? lower;
  if (!CONFIGURATIONS.has(name)) badText(`$language, ${JSON.stringify(raw)} is not a supported language`);
  return name;
}

/** Splits a term as MongoDB does: `"quoted phrases"`, `-negated` words and plain words. */
export function splitTerm(term: string): Omit<TextSearch, 'language'> {
  const phrases: string[] = [];
  const rest = term.replace(/"([^"]*)"/g, (_match, phrase: string) => {
    if (phrase.trim() !== '') phrases.push(phrase);
    return ' ';
  });
  const words: string[] = [];
  const negated: string[] = [];
  for (const token of rest.split(/\s+/)) {
    if (token.startsWith('-') && token.length > 1) negated.push(token.slice(1));
    else if (token !== '' && token !== '-') words.push(token);
  }
  return { words, phrases, negated };
}

export function parseText(target: FieldRef, raw: unknown): Condition {
  const search = isPlainObject(raw) ? raw.$search : undefined;
  if (!isPlainObject(search)) badText('$search, should be object');
  const term = search.$term;
  if (typeof term !== 'string' || term === '') badText('$term, should be string');
  if (term.length > MAX_TERM_LENGTH) badText(`$term, longer than ${MAX_TERM_LENGTH} characters`);
  const language = textConfiguration(search.$language);
  if (given(search.$caseSensitive)) {
    if (typeof search.$caseSensitive !== 'boolean') badText('$caseSensitive, should be boolean');
    badText('$caseSensitive not supported, please use $regex or create a separate lower case column.');
  }
  const diacritics = search.$diacriticSensitive;
  if (given(diacritics) && typeof diacritics !== 'boolean') badText('$diacriticSensitive, should be boolean');
  if (diacritics === false) badText('$diacriticSensitive - false not supported, install Postgres Unaccent Extension');
  const parts = splitTerm(term);
  if (parts.words.length === 0 && parts.phrases.length === 0) badText('$term, should contain a word to search for');
  return { type: 'text', target, search: { language, ...parts } };
}
