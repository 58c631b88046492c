import type { IncomingHttpHeaders } from 'node:http';
import type { Credentials } from '../auth/authenticate.ts';
import { isPlainObject } from '../query/values.ts';

/** The JS SDK's body fields, removed from the body before routing whatever their values. */
const BODY_FIELDS = {
  _ApplicationId: 'appId',
  _MasterKey: 'masterKey',
  _JavaScriptKey: 'javascriptKey',
  _ClientKey: 'clientKey',
  _RESTAPIKey: 'restAPIKey',
  _SessionToken: 'sessionToken',
} as const;
const DISCARDED_BODY_FIELDS = ['_InstallationId', '_ClientVersion', '_RevocableSession', '_context', '_ContentType', '_method'];
/** Client metadata (not credentials) the SDK sends in the body; kept for cloud code, then removed. */
const CLIENT_BODY_FIELDS = ['_InstallationId', '_context'] as const;

/** A value that is present but not a string (e.g. `{"$regex": …}`): it can never match any secret. */
const NOT_A_STRING = '\u0000not-a-string';

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : NOT_A_STRING;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function basicAuth(headers: IncomingHttpHeaders): { appId?: string; masterKey?: string; javascriptKey?: string } {
  const authorization = header(headers, 'authorization');
  if (authorization === undefined || !/^basic /i.test(authorization)) return {};
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return {};
  const appId = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (secret.startsWith('javascript-key=')) return { appId, javascriptKey: secret.slice('javascript-key='.length) };
  return { appId, masterKey: secret };
}

/** A credential: its header, else Basic auth's (`fallback`), else the SDK's body field. A function, not a closure made per request. */
function pick(headers: IncomingHttpHeaders, fromBody: Readonly<Record<string, string | undefined>>, headerName: string, name: string, fallback?: string): string | undefined {
  return header(headers, headerName) ?? fallback ?? fromBody[name];
}

export interface ExtractedRequest {
  readonly credentials: Credentials;
  /** The method after the SDK's `_method` override (POST only). */
  readonly method: string;
  /** The body without credential fields. */
  readonly body: unknown;
  readonly installationId: string | undefined;
  /** The raw `_context` body field, parsed later with the cloud context header. */
  readonly bodyContext: unknown;
}

/**
 * Collects credentials from headers, HTTP Basic auth, or the JS SDK's body fields (headers win), strips the
 * credential fields from the body and applies the `_method` override.
 */
export function extractRequest(method: string, headers: IncomingHttpHeaders, body: unknown): ExtractedRequest {
  const fromBody: Record<string, string | undefined> = {};
  let effectiveMethod = method;
  let cleanBody = body;
  const client: Record<string, unknown> = {};
  if (isPlainObject(body)) {
    const copy: Record<string, unknown> = { ...body };
    for (const field of CLIENT_BODY_FIELDS) if (Object.hasOwn(copy, field)) client[field] = copy[field];
    for (const [field, name] of Object.entries(BODY_FIELDS)) {
      if (field in copy) fromBody[name] = text(copy[field]);
      delete copy[field];
    }
    if (method === 'POST' && typeof copy._method === 'string') effectiveMethod = copy._method.toUpperCase();
    for (const field of DISCARDED_BODY_FIELDS) delete copy[field];
    cleanBody = copy;
  }
  const basic = basicAuth(headers);
  const credentials: Credentials = {
    appId: pick(headers, fromBody, 'x-parse-application-id', 'appId', basic.appId),
    masterKey: pick(headers, fromBody, 'x-parse-master-key', 'masterKey', basic.masterKey),
    // Header only: no SDK sends it, so there is no body form to accept.
    maintenanceKey: header(headers, 'x-parse-maintenance-key'),
    javascriptKey: pick(headers, fromBody, 'x-parse-javascript-key', 'javascriptKey', basic.javascriptKey),
    restAPIKey: pick(headers, fromBody, 'x-parse-rest-api-key', 'restAPIKey'),
    clientKey: pick(headers, fromBody, 'x-parse-client-key', 'clientKey'),
    dotNetKey: pick(headers, fromBody, 'x-parse-windows-key', 'dotNetKey'),
    sessionToken: pick(headers, fromBody, 'x-parse-session-token', 'sessionToken'),
  };
  const installationId = header(headers, 'x-parse-installation-id') ?? (typeof client._InstallationId === 'string' ? client._InstallationId : undefined);
  return { credentials, method: effectiveMethod, body: cleanBody, installationId, bodyContext: client._context };
}
