/**
 * At most `concurrent` tasks run at once; the others wait in arrival order. With `queued`, at most that many
 * wait and a task beyond them is refused at once with `refuse()`'s error, rather than waiting without bound.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queued = Number.POSITIVE_INFINITY,
    private readonly refuse: () => Error = () => new Error('Too many tasks waiting.'),
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queued) throw this.refuse();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` only drops when nobody waits.
      if (next !== undefined) next();
      else this.running--;
    }
  }
}
