/**
 * Counting one call against one limit: the part shared by cloud validators' `rateLimit` and the server's
 * `rateLimit` rules, so both key callers by the same zones and exempt the same callers.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { NO_CLIENT } from '../http/client-info.ts';
import type { Caller } from '../rest/services.ts';
import type { RateLimitStore } from './rate-limit-store.ts';

export const RATE_LIMIT_ZONES = ['ip', 'user', 'session', 'global'] as const;
export type RateLimitZone = (typeof RATE_LIMIT_ZONES)[number];

/** What one limit says; a validator's `rateLimit` and a server rule both have this shape. */
export interface RateLimitPolicy {
  readonly requestTimeWindow: number;
  readonly requestCount: number;
  readonly errorResponseMessage?: string;
  readonly zone?: RateLimitZone;
  readonly includeMasterKey?: boolean;
  readonly includeInternalRequests?: boolean;
}

export const DEFAULT_RATE_LIMIT_MESSAGE = 'Too many requests.';

/** Who a call counts against: the zone decides (an unauthenticated caller falls back to the IP). */
function zoneKey(caller: Caller, zone: RateLimitZone | undefined): string {
  const { auth } = caller;
  const ip = `ip:${(caller.client ?? NO_CLIENT).ip}`;
  switch (zone ?? 'ip') {
    case 'global':
      return 'global';
    case 'user':
      return auth.kind === 'user' ? `user:${auth.userId}` : ip;
    case 'session':
      return auth.kind === 'user' ? `session:${createHash('sha256').update(auth.sessionToken).digest('hex')}` : ip;
    case 'ip':
      return ip;
  }
}

/** Whether this call is counted at all: the master keys only with `includeMasterKey`, cloud code's own calls only with `includeInternalRequests`. */
export function isCounted(caller: Caller, limit: RateLimitPolicy, fromCloud: boolean): boolean {
  const { kind } = caller.auth;
  const privileged = kind === 'master' || kind === 'readOnlyMaster' || kind === 'maintenance';
  if (privileged && limit.includeMasterKey !== true) return false;
  return !(fromCloud && limit.includeInternalRequests !== true);
}

/**
 * Counts one call against `limit` under `scope` and refuses it (HTTP 429, Parse code 100) past the limit.
 * Loopback callers are not exempt (Parse Server exempts 127.0.0.1, so anything behind a local reverse
 * proxy escaped every limit); cloud code's in-process calls are told apart by `fromCloud`, not by address.
 */
export async function enforceRateLimit(caller: Caller, store: RateLimitStore, scope: string, limit: RateLimitPolicy | undefined, fromCloud: boolean): Promise<void> {
  if (limit === undefined || !isCounted(caller, limit, fromCloud)) return;
  const count = await store.hit(`${scope}\u0000${zoneKey(caller, limit.zone)}`, limit.requestTimeWindow);
  if (count > limit.requestCount) throw new ParseError(ErrorCode.CONNECTION_FAILED, limit.errorResponseMessage ?? DEFAULT_RATE_LIMIT_MESSAGE);
}
