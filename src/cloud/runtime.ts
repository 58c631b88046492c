import type { RateLimitStore } from './rate-limit.ts';
import type { CloudRegistry } from './registry.ts';
import type { ParseSdk } from './sdk.ts';

/** A server's cloud code: what it registered, and the private SDK it runs with (absent without cloud code). */
export interface CloudRuntime {
  readonly registry: CloudRegistry;
  readonly sdk: ParseSdk | undefined;
  /** Counters of the validators' `rateLimit`s. */
  readonly rateLimits: RateLimitStore;
}
