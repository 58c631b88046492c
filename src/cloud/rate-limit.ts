/**
 * The limiter behind a validator's `rateLimit` is the server's shared one (src/security): cloud functions
 * and triggers count and exempt callers exactly as the server's `rateLimit` rules do.
 */
export { MemoryRateLimitStore, type RateLimitStore } from '../security/rate-limit-store.ts';
export { enforceRateLimit } from '../security/rate-limit.ts';
