/**
 * The server's `rateLimit` rules, applied by the router to every request it dispatches: HTTP requests,
 * each `/batch` sub-request on its own, and (with `includeInternalRequests`) cloud code's in-process calls.
 * A rule sees the path as normalised by `request-path.ts` and the method after the `_method` override, so
 * neither spelling nor transport changes what is counted (reference §7.7).
 */
import { readRateLimit } from '../config/rate-limit-option.ts';
import type { RateLimitRule } from '../config/types.ts';
import type { Caller } from '../rest/services.ts';
import { enforceRateLimit, isCounted } from './rate-limit.ts';
import type { RateLimitStore } from './rate-limit-store.ts';
import { compileRequestPath, matchablePaths } from './request-path.ts';

/** The slice of a dispatched request a rule looks at (the router's `ApiRequest` has it). */
export interface LimitedRequest {
  readonly method: string;
  readonly path: string;
  readonly caller: Caller;
  readonly fromCloud?: boolean;
}

export type RequestGuard = (request: LimitedRequest) => Promise<void>;

interface CompiledRule {
  readonly rule: RateLimitRule;
  readonly path: RegExp;
  readonly methods: ReadonlySet<string> | undefined;
}

/**
 * Checks the rules (a config given in code has not been through the loader) and returns the guard, or
 * undefined when there are none. Each rule counts on its own, keyed by its position and the caller's zone.
 */
export function rateLimitGuard(rules: readonly RateLimitRule[], store: RateLimitStore): RequestGuard | undefined {
  const { problems } = readRateLimit(rules);
  if (problems.length > 0) throw new Error(`Invalid rateLimit configuration:\n${problems.join('\n')}`);
  if (rules.length === 0) return undefined;
  const compiled: CompiledRule[] = rules.map((rule) => ({
    rule,
    path: compileRequestPath(rule.requestPath),
    methods: rule.requestMethods === undefined ? undefined : new Set(rule.requestMethods.map((method) => method.toUpperCase())),
  }));
  let warnedAboutProxy = false;
  return async (request) => {
    const method = request.method.toUpperCase();
    const paths = matchablePaths(request.path);
    for (const [index, { rule, path, methods }] of compiled.entries()) {
      if (methods !== undefined && !methods.has(method)) continue;
      if (!paths.some((form) => path.test(form))) continue;
      const fromCloud = request.fromCloud === true;
      if (!warnedAboutProxy && isCounted(request.caller, rule, fromCloud)) warnedAboutProxy = warnBehindProxy(request.caller, rule);
      await enforceRateLimit(request.caller, store, `rule:${index}`, rule, fromCloud);
    }
  };
}

/**
 * A request that came through a proxy while `trustProxy` is off carries the proxy's address: every client
 * behind it then shares one per-IP budget. Said once, so an operator can set `trustProxy`.
 */
function warnBehindProxy(caller: Caller, rule: RateLimitRule): boolean {
  const { services, client } = caller;
  if ((rule.zone ?? 'ip') !== 'ip' || services.config.trustProxy || client?.headers['x-forwarded-for'] === undefined) return false;
  services.log.warn(
    { ip: client.ip },
    'rateLimit: requests carry X-Forwarded-For but trustProxy is off, so per-IP limits count every client behind the proxy as one; set trustProxy if a proxy you control sets that header',
  );
  return true;
}
