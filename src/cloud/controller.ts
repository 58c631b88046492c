import { sessionAuth } from '../auth/authenticate.ts';
import { ANONYMOUS, MASTER, type AuthContext } from '../auth/context.ts';
import { ErrorCode, HttpError, ParseError } from '../errors/parse-error.ts';
import { NO_CLIENT, type ClientInfo } from '../http/client-info.ts';
import type { Router } from '../http/router.ts';
import { assertSafeJson } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';
import type { Caller, Services } from '../rest/services.ts';
import { callerAccess } from '../security/access.ts';
import { activeScope, type ParseSdk } from './sdk.ts';

interface RequestOptions {
  readonly useMasterKey?: boolean;
  readonly sessionToken?: unknown;
  readonly installationId?: unknown;
  readonly context?: unknown;
  readonly returnStatus?: boolean;
}

/**
 * Who a call from cloud code acts as: `useMasterKey` escalates, `sessionToken` acts as that user, and
 * otherwise — Parsec's default — the caller of the running function or trigger (Parse acts as anonymous;
 * `cloudActsAsCaller: false` restores that).
 */
async function authFor(options: RequestOptions, services: Services, current: Caller | undefined): Promise<AuthContext> {
  if (options.useMasterKey === true) return MASTER;
  if (options.sessionToken !== undefined && options.sessionToken !== null) return sessionAuth(options.sessionToken, services.sessions, services.roles);
  if (services.config.cloudActsAsCaller && current !== undefined) return current.auth;
  return ANONYMOUS;
}

function clientFor(options: RequestOptions, current: Caller | undefined): ClientInfo {
  const base = current?.client ?? NO_CLIENT;
  const context = isPlainObject(options.context) ? { ...options.context } : base.context;
  const installationId = typeof options.installationId === 'string' ? options.installationId : base.installationId;
  return { ...base, context, installationId };
}

/** Our errors as the SDK's own `Parse.Error`, which is what cloud code catches and inspects. */
function toSdkError(sdk: ParseSdk, error: unknown): unknown {
  const ParseSdkError = sdk.Error as new (code: number, message: string) => Error;
  if (error instanceof ParseError) return new ParseSdkError(error.code, error.message);
  if (error instanceof HttpError) return new ParseSdkError(ErrorCode.INVALID_JSON, error.message);
  return error;
}

/**
 * The SDK's REST controller, replaced so that cloud code's `Parse.Query`, `save`, `Parse.Cloud.run`… are
 * dispatched in process through the same router as HTTP requests: same authentication rules, permission
 * plan, triggers and validation, and no HTTP round trip. The request data is passed through JSON exactly as
 * it would travel on the wire, so nothing cloud code holds is shared with the pipeline.
 */
export function inProcessController(sdk: ParseSdk, router: Router, services: Services): Record<string, unknown> {
  const original = (sdk.CoreManager as { getRESTController(): Record<string, unknown> }).getRESTController();
  return {
    ...original,
    async request(method: string, path: string, data: unknown, options: RequestOptions = {}): Promise<unknown> {
      try {
        const scope = activeScope.getStore();
        const current = scope?.caller;
        const auth = await authFor(options, services, current);
        const caller: Caller = { auth, access: callerAccess(auth, services), services, client: clientFor(options, current) };
        const body: unknown = data === undefined ? {} : JSON.parse(JSON.stringify(data));
        assertSafeJson(body);
        const response = await router.dispatch({
          method: method.toUpperCase(),
          path: `/${path.replace(/^\/+/, '')}`,
          query: {},
          body,
          caller,
          inBatch: false,
          fromCloud: true,
          escalation: options.useMasterKey === true ? { origin: scope?.origin, onBehalfOf: current?.auth } : undefined,
        });
        // Response bodies are built fresh for each request (nothing in them is shared with a cache), so the
        // SDK may keep them as they are; only the request side needs the wire's detachment.
        const result: unknown = response.body ?? {};
        return options.returnStatus === true && isPlainObject(result) ? { ...result, _status: response.status, _headers: response.headers ?? {} } : result;
      } catch (error) {
        throw toSdkError(sdk, error);
      }
    },
  };
}
