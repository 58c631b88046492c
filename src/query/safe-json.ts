import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { PROTOTYPE_KEYS } from '../schema/names.ts';

/** Deeper JSON than this is refused at the edge, so no recursive step below can overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/** UTF-16 surrogates without their pair: not Unicode text, so no database column can hold them as sent. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** PostgreSQL text and jsonb cannot store NUL or unpaired surrogates; refused here rather than failing as a 500. */
export function assertStorableText(text: string): void {
  if (text.includes('\u0000') || UNPAIRED_SURROGATE.test(text)) {
    throw new ParseError(ErrorCode.INVALID_JSON, 'Strings may not contain the NUL character or unpaired surrogates.');
  }
}

/**
 * Checks parsed request JSON in one iterative pass: refuses `__proto__`, `constructor` and `prototype` as
 * keys anywhere (they are how prototype pollution reaches an object), text the database cannot store, and
 * nesting deeper than the limit.
 */
export function assertSafeJson(value: unknown, maxDepth: number = MAX_JSON_DEPTH): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const current = pending.pop() as { value: unknown; depth: number };
    if (typeof current.value === 'string') assertStorableText(current.value);
    if (typeof current.value !== 'object' || current.value === null) continue;
    if (current.depth >= maxDepth) throw new ParseError(ErrorCode.INVALID_JSON, 'The request JSON is nested too deeply.');
    if (Array.isArray(current.value)) {
      for (const item of current.value as unknown[]) pending.push({ value: item, depth: current.depth + 1 });
      continue;
    }
    for (const [key, child] of Object.entries(current.value)) {
      if (PROTOTYPE_KEYS.has(key)) {
        throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Prohibited keyword in request data: {"key":"${key}"}.`);
      }
      assertStorableText(key);
      pending.push({ value: child, depth: current.depth + 1 });
    }
  }
}

/** Parses a request body as JSON whatever its content type (the JS SDK sends JSON as text/plain). */
export function parseJsonBody(raw: Buffer | string | undefined): unknown {
  const text = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ParseError(ErrorCode.INVALID_JSON, 'Invalid JSON');
  }
  assertSafeJson(parsed);
  return parsed;
}
