import { ErrorCode, ParseError } from '../errors/parse-error.ts';

/**
 * Bounds password hashing. scrypt runs on libuv's small thread pool (4 threads), which file access and DNS
 * share; without a bound, anyone could queue unlimited hashes through `/login` (unknown users cost a full
 * hash by design) and starve the rest of the process. At most `concurrent` hashes run at once, at most
 * `queued` wait, and beyond that the request is refused at once with 100 (HTTP 429) rather than waiting.
 */
export class HashingLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queued: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queued) {
        throw new ParseError(ErrorCode.CONNECTION_FAILED, 'Too many password checks in progress; retry shortly.');
      }
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

/** Two of the pool's four threads at most; a few seconds of logins may wait, more are refused. */
export const passwordHashing = new HashingLimit(2, 128);
