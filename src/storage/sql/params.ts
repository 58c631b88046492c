/** Collects bound parameters while SQL text is built; values never enter the text itself. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }

  /**
   * The statement as sent. A branch that folds to TRUE/FALSE (an absent field, an empty `$in`, a value that
   * can never compare) may leave parameters it registered unreferenced, and PostgreSQL refuses a parameter
   * it cannot type (42P18); those are dropped and the rest renumbered. Placeholders are the only `$n::` in
   * the text: identifiers are validated names and literals are the compiler's own.
   */
  bind(text: string): { text: string; params: unknown[] } {
    const renumbered = new Map<number, number>();
    const params: unknown[] = [];
    const bound = text.replace(/\$(\d+)::/g, (_match, index: string) => {
      const original = Number(index);
      let next = renumbered.get(original);
      if (next === undefined) {
        params.push(this.values[original - 1]);
        next = params.length;
        renumbered.set(original, next);
      }
      return `$${next}::`;
    });
    return { text: bound, params };
  }
}

/** Quotes an identifier. Names are validated before they get here; quoting is the second line of defence. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Aliases for nested sub-queries, so an inner table's column never shadows an outer reference. */
export class Aliases {
  private next: number;
  constructor(first = 0) {
    this.next = first;
  }
  create(): string {
    return `t${this.next++}`;
  }
}
