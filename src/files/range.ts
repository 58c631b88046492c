/**
 * One `Range` header against a file of `size` bytes (RFC 9110 §14). Parsec serves a single byte range:
 *
 * - no header, another unit, or several ranges (`bytes=0-1,4-5`): the whole file, 200. Several ranges would
 *   need a multipart answer, and a list of overlapping ranges is a known way to make a server send a file
 *   many times over; RFC 9110 lets a server ignore Range, and clients then simply get everything.
 * - `bytes=a-b`, `bytes=a-`, `bytes=-n`: that range, 206 (the end is clamped to the file).
 * - a malformed or inverted bytes range (`bytes=abc-`, `bytes=5-2`, `bytes=-`), a start past the end, a
 *   zero-length suffix, or any range of an empty file: 416 with `Content-Range: bytes * /size`.
 */
export type RangeDecision =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const WHOLE: RangeDecision = { kind: 'whole' };
const UNSATISFIABLE: RangeDecision = { kind: 'unsatisfiable' };
const SPEC = /^(\d*)-(\d*)$/;

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return WHOLE;
  const trimmed = header.trim();
  const equals = trimmed.indexOf('=');
  if (equals < 0 || trimmed.slice(0, equals).trim().toLowerCase() !== 'bytes') return WHOLE;
  const specs = trimmed.slice(equals + 1).split(',');
  if (specs.length > 1) return WHOLE;
  const match = SPEC.exec((specs[0] ?? '').trim());
  if (match === null) return UNSATISFIABLE;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return UNSATISFIABLE;
  if (size === 0) return UNSATISFIABLE;
  if (first === '') {
    // A suffix: the last n bytes.
    const length = Number(last);
    if (length === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (end < start || start >= size) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
