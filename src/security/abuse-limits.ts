/**
 * Start-up wiring of the abuse limits: the `rateLimit` rules become the router's guard, and a config given
 * in code (which has not been through the loader) has its `requestComplexity` checked like a config file's.
 */
import { requestComplexity } from '../config/request-complexity-option.ts';
import type { ParsecConfig } from '../config/types.ts';
import { rateLimitGuard, type RequestGuard } from './rate-limit-rules.ts';
import type { RateLimitStore } from './rate-limit-store.ts';

export function abuseLimits(config: ParsecConfig, store: RateLimitStore): RequestGuard | undefined {
  const complexity = requestComplexity.fromJson(config.requestComplexity);
  if (!complexity.ok) throw new Error(`Invalid requestComplexity configuration: requestComplexity ${complexity.reason}`);
  return rateLimitGuard(config.rateLimit, store);
}
