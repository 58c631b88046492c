import { ConcurrencyLimit } from '../async/concurrency-limit.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';

/**
 * Bounds password hashing. scrypt runs on libuv's small thread pool (4 threads), which file access and DNS
 * share; without a bound, anyone could queue unlimited hashes through `/login` (unknown users cost a full
 * hash by design) and starve the rest of the process. At most `concurrent` hashes run at once, at most
 * `queued` wait, and beyond that the request is refused at once with 100 (HTTP 429) rather than waiting.
 */
export class HashingLimit extends ConcurrencyLimit {
  constructor(concurrent: number, queued: number) {
    super(concurrent, queued, () => new ParseError(ErrorCode.CONNECTION_FAILED, 'Too many password checks in progress; retry shortly.'));
  }
}

/** Two of the pool's four threads at most; a few seconds of logins may wait, more are refused. */
export const passwordHashing = new HashingLimit(2, 128);
