/** Collects bound parameters while SQL text is built; values never enter the text itself. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
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
