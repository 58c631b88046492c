/**
 * Refuses the shapes of `$regex` pattern whose matching time can grow exponentially with the input
 * (ReDoS, reference §7.6 GHSA-mf3j-86qx-cq5j): a quantifier applied to something that already contains one
 * (`(a+)+`, `(a*b?)*`, `((a{1,9}){1,9}){1,9}`) and backreferences (`(a*)\1`). PostgreSQL's engine is mostly
 * automaton-based and survives most of these, but not all (backreferences backtrack; nested bounded
 * repetitions blow up at compile time), and the same patterns will reach JavaScript engines once LiveQuery
 * matches events in process. `statement_timeout` remains the backstop for anything this scan misses.
 *
 * The scan is syntactic and conservative: it only has to recognise the dangerous shapes, not validate the
 * pattern; a pattern it cannot make sense of is left to the database, which refuses invalid ones (102).
 */

interface Group {
  /** A quantifier with a variable count appears somewhere inside this group (at any depth). */
  quantified: boolean;
}

/** What the last atom was, for the quantifier that may follow it. */
type Operand = { readonly containsQuantifier: boolean } | undefined;

/** Index just past the bracket expression starting at `start` (`[`), or the pattern's end if unclosed. */
function skipBracket(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++; // a leading `]` is literal
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\') i += 2;
    else if (pattern[i] === '[' && (pattern[i + 1] === ':' || pattern[i + 1] === '.' || pattern[i + 1] === '=')) {
      const close = pattern.indexOf(`${pattern[i + 1]}]`, i + 2);
      i = close === -1 ? pattern.length : close + 2;
    } else i++;
  }
  return i + 1;
}

/** A `{n}`, `{n,}` or `{n,m}` bound at `start`: its length and whether it allows more than one repetition. */
function boundAt(pattern: string, start: number): { length: number; repeats: boolean; variable: boolean } | undefined {
  const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(start, start + 24));
  if (match === null) return undefined;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : match[3] === '' ? Number.POSITIVE_INFINITY : Number(match[3]);
  return { length: match[0].length, repeats: max > 1, variable: max !== min };
}

/** Why the pattern is refused, or undefined when none of the dangerous shapes appears. */
export function regexHazard(pattern: string): string | undefined {
  const groups: Group[] = [{ quantified: false }];
  let operand: Operand;
  const current = (): Group => groups[groups.length - 1] as Group;
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i] as string;
    if (char === '\\') {
      if (/[1-9]/.test(pattern[i + 1] ?? '')) return 'uses a backreference (\\1 to \\9)';
      operand = { containsQuantifier: false };
      i += 2;
      continue;
    }
    if (char === '[') {
      operand = { containsQuantifier: false };
      i = skipBracket(pattern, i);
      continue;
    }
    if (char === '(') {
      groups.push({ quantified: false });
      operand = undefined;
      i++;
      // `(?:`, `(?=`, `(?!`: the group's own syntax, not a quantifier.
      if (pattern[i] === '?') i++;
      continue;
    }
    if (char === ')') {
      const closed = groups.length > 1 ? (groups.pop() as Group) : { quantified: false };
      if (closed.quantified) current().quantified = true;
      operand = { containsQuantifier: closed.quantified };
      i++;
      continue;
    }
    const bound = char === '{' ? boundAt(pattern, i) : undefined;
    if (char === '*' || char === '+' || char === '?' || bound !== undefined) {
      // Only a repeating quantifier multiplies the ways an inner one can match: `(ab*)?` is harmless,
      // `(a?){30}` is not. Without an operand (`a**`, a leading `*`) the pattern is malformed: the database says so.
      const repeats = char === '*' || char === '+' || bound?.repeats === true;
      if (repeats && operand?.containsQuantifier === true) return 'nests quantifiers, as in (a+)+';
      // A fixed count (`a{3}`) is the atom written out three times: nothing for an outer quantifier to multiply.
      if (operand !== undefined && bound?.variable !== false) current().quantified = true;
      operand = undefined;
      i += bound?.length ?? 1;
      if (pattern[i] === '?') i++; // a lazy quantifier (`*?`) is still one quantifier
      continue;
    }
    operand = char === '|' || char === '^' || char === '$' ? undefined : { containsQuantifier: false };
    i++;
  }
  return undefined;
}
