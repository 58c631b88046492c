import { ErrorCode, HttpError, ParseError } from '../errors/parse-error.ts';
import type { AuthContext } from '../auth/context.ts';
import type { Caller } from '../rest/services.ts';

/** A request after transport: identity decided, body parsed, credentials removed. */
export interface ApiRequest {
  readonly method: string;
  /** The path below the mount point, e.g. `/classes/Note/abc`. */
  readonly path: string;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly caller: Caller;
  /** True for the sub-requests of a `/batch`. */
  readonly inBatch: boolean;
  /** True for calls cloud code makes through the in-process SDK (they may reach `internal` functions). */
  readonly fromCloud?: boolean;
  /** A cloud code call made with `useMasterKey`: which code escalated, for whom (the privilege ledger). */
  readonly escalation?: { readonly origin: string | undefined; readonly onBehalfOf: AuthContext | undefined };
}

/** What happened to one dispatched request, for observers such as the privilege ledger. */
export interface Dispatched {
  readonly request: ApiRequest;
  /** The route's pattern, e.g. `/classes/:className/:objectId`. */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
  readonly body: unknown;
}

export type DispatchObserver = (dispatched: Dispatched) => void;

/** Runs before the handler of every dispatched request; throws to refuse it (the rate-limit rules). */
export type DispatchGuard = (request: ApiRequest) => Promise<void>;

/**
 * Awaited after the handler of every dispatched request that may have written (any method but GET), whether
 * it answered or threw, before the response is returned; must not throw (read-your-own-writes notes the
 * caller's write position here, so it is known before the client can send its next request).
 */
export type WriteHook = (request: ApiRequest) => Promise<void>;

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (request: ApiRequest, params: Readonly<Record<string, string>>) => Promise<ApiResponse>;

interface Route {
  readonly method: string;
  readonly path: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** The literal first segment (`classes`, `functions`…), undefined when it is a parameter. */
  readonly first: string | undefined;
  readonly handler: Handler;
}

/** `/functions/ping` → `functions`: the segment a route's literal first segment must equal for its pattern to match. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return path.slice(1, end < 0 ? path.length : end);
}

export const ok = (body: unknown): ApiResponse => ({ status: 200, body });

/**
 * The one routing table. HTTP requests and `/batch` sub-requests are both dispatched here, so a
 * sub-request passes exactly the checks it would pass if sent alone.
 */
export class Router {
  private readonly routes: Route[] = [];
  private observer: DispatchObserver | undefined;
  private guard: DispatchGuard | undefined;
  private writeHook: WriteHook | undefined;

  /**
   * Called after every dispatched request (HTTP, batch sub-request or cloud code's), answered or refused.
   * Returns the observer it replaces (the bench switches the ledger off and back on with it).
   */
  observe(observer: DispatchObserver | undefined): DispatchObserver | undefined {
    const previous = this.observer;
    this.observer = observer;
    return previous;
  }

  /** Checked for every dispatched request, after its route is found and before its handler runs. */
  guardWith(guard: DispatchGuard | undefined): void {
    this.guard = guard;
  }

  /** Called after every request that may have written; see WriteHook. */
  afterWrites(hook: WriteHook | undefined): void {
    this.writeHook = hook;
  }

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    const first = firstSegment(path);
    this.routes.push({ method, path, pattern: new RegExp(`^${source}/?$`), names, first: first.startsWith(':') ? undefined : first, handler });
    return this;
  }

  async dispatch(request: ApiRequest): Promise<ApiResponse> {
    let pathMatched = false;
    // Routes whose literal first segment differs cannot match: skipping them spares most pattern tests.
    const first = firstSegment(request.path);
    for (const route of this.routes) {
      if (route.first !== undefined && route.first !== first) continue;
      const match = route.pattern.exec(request.path);
      if (match === null) continue;
      pathMatched = true;
      if (route.method !== request.method) continue;
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      route.names.forEach((name, index) => {
        params[name] = decodeSegment(match[index + 1] ?? '');
      });
      const { observer, guard, writeHook } = this;
      const run = async (): Promise<ApiResponse> => {
        if (guard !== undefined) await guard(request);
        if (writeHook === undefined || request.method === 'GET') return route.handler(request, params);
        try {
          return await route.handler(request, params);
        } finally {
          await writeHook(request);
        }
      };
      if (observer === undefined) return run();
      try {
        const response = await run();
        observer({ request, route: route.path, params, status: response.status, body: response.body });
        return response;
      } catch (error) {
        const status = error instanceof ParseError || error instanceof HttpError ? error.status : 500;
        observer({ request, route: route.path, params, status, body: undefined });
        throw error;
      }
    }
    throw new HttpError(pathMatched ? 405 : 404, pathMatched ? `Cannot ${request.method} ${request.path}` : `Cannot route ${request.path}`);
  }
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ParseError(ErrorCode.INVALID_JSON, 'Malformed URL.');
  }
  // No class name or object id contains NUL, and the database refuses it in any text it is compared with.
  if (decoded.includes('\u0000')) throw new ParseError(ErrorCode.INVALID_JSON, 'Malformed URL.');
  return decoded;
}
