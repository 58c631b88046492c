import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createAuthenticator } from '../auth/authenticate.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Caller, Services } from '../rest/services.ts';
import { parseCloudContext, scrubHeaders, type ClientInfo } from './client-info.ts';
import { callerAccess } from '../security/access.ts';
import { extractRequest, header } from './credentials.ts';
import { translateError } from './errors.ts';
import { Router, type ApiResponse } from './router.ts';
import { ANONYMOUS } from '../auth/context.ts';
import { loggingEmailAdapter, type EmailAdapter } from '../users/email.ts';
import { isTokenLinkPath, registerAccountEmailRoutes } from './routes/account-emails.ts';
import { registerBatchRoute } from './routes/batch.ts';
import { registerClassRoutes } from './routes/classes.ts';
import { registerFunctionRoutes } from './routes/functions.ts';
import { registerAggregateRoute } from './routes/aggregate.ts';
import { registerSchemaRoutes } from './routes/schemas.ts';
import { registerSecurityRoute } from './routes/security.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerUserRoutes } from './routes/users.ts';
import { parseJsonBody } from '../query/safe-json.ts';
import { abuseLimits } from '../security/abuse-limits.ts';

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET,PUT,POST,DELETE,OPTIONS',
  'access-control-allow-headers':
    'X-Parse-Master-Key, X-Parse-REST-API-Key, X-Parse-Javascript-Key, X-Parse-Application-Id, X-Parse-Client-Version, ' +
    'X-Parse-Session-Token, X-Requested-With, X-Parse-Revocable-Session, X-Parse-Request-Id, Content-Type, Pragma, Cache-Control',
  'access-control-expose-headers': 'X-Parse-Job-Status-Id, X-Parse-Push-Status-Id',
};

export function buildRouter(mountPaths: readonly string[]): Router {
  const router = new Router();
  registerClassRoutes(router);
  registerUserRoutes(router);
  registerSessionRoutes(router);
  registerAccountEmailRoutes(router);
  registerSchemaRoutes(router);
  registerBatchRoute(router, mountPaths);
  registerFunctionRoutes(router);
  registerSecurityRoute(router);
  registerAggregateRoute(router);
  return router;
}

function send(reply: FastifyReply, response: ApiResponse): FastifyReply {
  reply.code(response.status).headers(CORS_HEADERS).header('content-type', 'application/json; charset=utf-8');
  if (response.headers !== undefined) reply.headers(response.headers);
  return reply.send(JSON.stringify(response.body));
}

/** Fastify's own failures (body too large, aborted upload…) in Parse's shapes, never as a 5xx. */
function transportError(error: { code?: string; statusCode?: number; message: string }, maxRequestBytes: number): ApiResponse {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { code: ErrorCode.OBJECT_TOO_LARGE, error: `The request body is larger than maxRequestBytes (${maxRequestBytes} bytes).` } };
  }
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  return { status, body: { code: ErrorCode.INVALID_JSON, error: 'Malformed request.' } };
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a URL or headers over 16 KB, malformed
 * request lines) still get a Parse-shaped body rather than Node's bare status line.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({ code: ErrorCode.INVALID_JSON, error: tooLarge ? 'The request URL or headers are too large.' : 'Malformed request.' });
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The HTTP transport: body limits, credentials, identity, then the router. It decides nothing about data;
 * everything past identity happens in the shared pipeline that `/batch` uses too.
 */
export function buildApp(services: Omit<Services, 'log' | 'mail'> & { mail?: EmailAdapter }): { app: FastifyInstance; services: Services; router: Router } {
  const { config } = services;
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.maxRequestBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    // Per-request access logs would cost more than the requests themselves; errors are logged with an id.
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
  });
  const withLog: Services = { ...services, log: app.log, mail: services.mail ?? loggingEmailAdapter(app.log) };
  const mount = config.mountPath;
  const serverPath = new URL(config.serverURL).pathname.replace(/\/$/, '');
  const router = buildRouter([...new Set([mount, serverPath])]);
  router.guardWith(abuseLimits(config, services.cloud.rateLimits));
  const authenticate = createAuthenticator(config, services.sessions, services.roles);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, _request, reply) => {
    return send(reply, transportError(error, config.maxRequestBytes));
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (request.method === 'OPTIONS') return reply.code(200).headers(CORS_HEADERS).send();
    const rawPath = request.url.split('?', 1)[0] ?? '';
    const path = rawPath.slice(mount.length) || '/';
    if (request.method === 'GET' && /^\/health\/?$/.test(path)) return send(reply, { status: 200, body: { status: 'ok' } });
    try {
      const extracted = extractRequest(request.method, request.headers, parseJsonBody(request.body as Buffer | undefined));
      const auth = isTokenLinkPath(path) ? ANONYMOUS : await authenticate(extracted.credentials, request.ip, path);
      const client: ClientInfo = {
        ip: request.ip,
        headers: scrubHeaders(request.headers),
        installationId: extracted.installationId,
        context: parseCloudContext(header(request.headers, 'x-parse-cloud-context'), extracted.bodyContext),
      };
      const caller: Caller = { auth, access: callerAccess(auth, services), services: withLog, client };
      const query = request.query as Record<string, unknown>;
      return send(reply, await router.dispatch({ method: extracted.method, path, query, body: extracted.body, caller, inBatch: false }));
    } catch (error) {
      const translated = translateError(error, (cause) => request.log.error({ err: cause, reqId: request.id }, 'internal error'));
      if (translated instanceof ParseError) return send(reply, { status: translated.status, body: translated.toJSON() });
      return send(reply, { status: (translated).status, body: translated.toJSON() });
    }
  };
  app.all(mount, handle);
  app.all(`${mount}/*`, handle);
  return { app, services: withLog, router };
}
