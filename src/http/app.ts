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
import { downloadAuth, isFileDownload, registerFileRoutes, uploadBodyLimit } from './routes/files.ts';
import { fileUploadRequest } from '../files/upload-body.ts';
import { registerSchemaRoutes } from './routes/schemas.ts';
import { registerSecurityRoute } from './routes/security.ts';
import { registerAggregateRoute } from './routes/aggregate.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerUserRoutes } from './routes/users.ts';
import { parseJsonBody } from '../query/safe-json.ts';
import { readiness } from './readiness.ts';
import { abuseLimits } from '../security/abuse-limits.ts';
import { allGuards, idempotencyGuard } from '../security/idempotency.ts';
import { registerConfigRoutes } from './routes/config.ts';
import { registerInstallationRoutes } from './routes/installations.ts';
import { registerPurgeRoute } from './routes/purge.ts';
import { registerPushRoute } from './routes/push.ts';

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
  registerInstallationRoutes(router);
  registerConfigRoutes(router);
  registerPurgeRoute(router);
  registerAggregateRoute(router);
  registerFileRoutes(router);
  registerPushRoute(router);
  return router;
}

function send(reply: FastifyReply, response: ApiResponse): FastifyReply {
  // nosniff on every answer: a browser must never read a JSON error (or a file) as anything but its type.
  reply.code(response.status).headers(CORS_HEADERS).header('content-type', 'application/json; charset=utf-8').header('x-content-type-options', 'nosniff');
  if (response.headers !== undefined) reply.headers(response.headers);
  // File downloads answer bytes, with their own content type among the response's headers.
  return reply.send(Buffer.isBuffer(response.body) ? response.body : JSON.stringify(response.body));
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
    // A list is the proxies' addresses (Fastify reads X-Forwarded-For from the right past them).
    trustProxy: config.trustProxy === false ? false : config.trustProxy === true ? true : [...config.trustProxy],
    requestIdHeader: false,
    // Per-request access logs would cost more than the requests themselves; errors are logged with an id.
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
    // A URL Fastify cannot decode (`/files/%E0%A4%A`) would otherwise get Fastify's own body, not Parse's.
    frameworkErrors: (error, _request, reply) => {
      void send(reply, transportError(error, config.maxRequestBytes));
    },
  });
  const withLog: Services = { ...services, log: app.log, mail: services.mail ?? loggingEmailAdapter(app.log) };
  const mount = config.mountPath;
  const serverPath = new URL(config.serverURL).pathname.replace(/\/$/, '');
  const router = buildRouter([...new Set([mount, serverPath])]);
  router.guardWith(allGuards(abuseLimits(config, services.cloud.rateLimits), idempotencyGuard(config.idempotencyOptions, services.driver)));
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
    if (request.method === 'GET' && /^\/ready\/?$/.test(path)) return send(reply, await readiness(withLog));
    try {
      const extracted =
        fileUploadRequest(request.method, path, request.headers, request.body as Buffer | undefined) ??
        extractRequest(request.method, request.headers, parseJsonBody(request.body as Buffer | undefined));
      // A file URL is a bearer URL, as in Parse: downloads need no keys (the app id is in the path); with
      // download triggers, the credentials a download presents identify its caller (routes/files.ts).
      const authenticated = (credentials: typeof extracted.credentials) => authenticate(credentials, request.ip, path);
      const auth = isTokenLinkPath(path)
        ? ANONYMOUS
        : isFileDownload(request.method, path)
          ? await downloadAuth(withLog, extracted.credentials, authenticated)
          : await authenticated(extracted.credentials);
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
  // Uploads may use the JS SDK's base64 JSON form, a third larger than the file maxRequestBytes allows.
  app.all(`${mount}/files/*`, { bodyLimit: uploadBodyLimit(config.maxRequestBytes) }, handle);
  return { app, services: withLog, router };
}
