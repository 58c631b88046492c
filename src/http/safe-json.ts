import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { PROTOTYPE_KEYS } from '../schema/names.ts';

/** Deeper JSON than this is refused at the edge, so no recursive step below can overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Checks parsed request JSON in one iterative pass: refuses `__proto__`, `constructor` and `prototype` as
 * keys anywhere (they are how prototype pollution reaches an object) and nesting deeper than the limit.
 */
export function assertSafeJson(value: unknown): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const current = pending.pop() as { value: unknown; depth: number };
    if (typeof current.value !== 'object' || current.value === null) continue;
    if (current.depth >= MAX_JSON_DEPTH) throw new ParseError(ErrorCode.INVALID_JSON, 'The request JSON is nested too deeply.');
    if (Array.isArray(current.value)) {
      for (const item of current.value as unknown[]) pending.push({ value: item, depth: current.depth + 1 });
      continue;
    }
    for (const [key, child] of Object.entries(current.value)) {
      if (PROTOTYPE_KEYS.has(key)) {
        throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Prohibited keyword in request data: {"key":"${key}"}.`);
      }
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
