import type { Credentials } from '../../auth/authenticate.ts';
import { ANONYMOUS, type AuthContext } from '../../auth/context.ts';
import { FILE_CLASS, FileTriggers } from '../../cloud/file-triggers.ts';
import { ErrorCode, masterKeyRequired, ParseError } from '../../errors/parse-error.ts';
import { decideRange } from '../../files/range.ts';
import { assertExtensionAllowed, assertMayUpload, DEFAULT_FILE_UPLOAD } from '../../files/policy.ts';
import { assertUploadName, contentTypeFor, extensionForContentType, extensionOf, isActiveName, isStorableName, storedName } from '../../files/names.ts';
import { decodeUpload, FileTooLargeError } from '../../files/upload-body.ts';
import { fileBaseUrl } from '../../rest/find.ts';
import type { Caller, Services } from '../../rest/services.ts';
import { logSafely } from '../../errors/log-safely.ts';
import { ok, type ApiRequest, type ApiResponse, type Router } from '../router.ts';

/**
 * `/files`: upload (`POST /files/:filename`), download (`GET /files/:appId/:filename`, no keys: a file URL
 * is a bearer URL, as in Parse), metadata, and delete (master key only). Uploads are judged in this order:
 * who is calling (`fileUpload`), the name (122), the body (130, 413), the extension or content type (130),
 * then the beforeSave trigger, whose result is judged again.
 */
export function registerFileRoutes(router: Router): void {
  router
    .add('POST', '/files', () => Promise.reject(new ParseError(ErrorCode.INVALID_FILE_NAME, 'Filename not provided.')))
    .add('POST', '/files/:filename', upload)
    .add('GET', '/files/:appId/metadata/:filename', metadata)
    .add('GET', '/files/:appId/:filename', download)
    .add('DELETE', '/files/:filename', remove);
}

/** Files travel as HTTP bodies; a batch sub-request is JSON, so a batch cannot carry them (Parse neither). */
function refuseInBatch(request: ApiRequest): void {
  if (request.inBatch) throw new ParseError(ErrorCode.INVALID_JSON, `cannot route batch path ${request.path}`);
}

const fileUrl = (caller: Caller, name: string): string => `${fileBaseUrl(caller)}/${encodeURIComponent(name)}`;

/** Parse's rule: a name without an extension takes one from its content type, so the name alone decides how it is served. */
function withExtension(name: string, contentType: string | undefined): string {
  if (extensionOf(name) !== undefined) return name;
  const extension = extensionForContentType(contentType);
  return extension === undefined ? name : `${name}.${extension}`;
}

async function upload(request: ApiRequest, params: Readonly<Record<string, string>>): Promise<ApiResponse> {
  refuseInBatch(request);
  const { caller } = request;
  const { config, files, log } = caller.services;
  const options = config.fileUpload ?? DEFAULT_FILE_UPLOAD;
  const limit = config.maxRequestBytes;
  await assertMayUpload(caller, options);
  const requested = params.filename ?? '';
  assertUploadName(requested);
  const decoded = decodeUpload(request.body, limit);
  assertExtensionAllowed(caller, options, requested, decoded.contentType);
  let file = { name: requested, data: decoded.data, contentType: decoded.contentType, metadata: decoded.metadata, tags: decoded.tags };

  const triggers = FileTriggers.forSave(caller);
  if (triggers !== undefined) {
    const outcome = await triggers.beforeSave(file, decoded.contentLength);
    if (outcome.kind === 'saved') {
      // The trigger stored the file itself (Parse's contract): answer with what it returned, store nothing.
      return { status: 201, body: { url: outcome.url, name: outcome.name }, headers: { location: outcome.url } };
    }
    // What a trigger returns is judged like what a client sent: a name from user input stays a safe name.
    file = outcome.upload;
    assertUploadName(file.name);
    if (file.data.length === 0) throw new ParseError(ErrorCode.FILE_SAVE_ERROR, 'Invalid file upload: the file is empty.');
    if (file.data.length > limit) throw new FileTooLargeError(limit);
    assertExtensionAllowed(caller, options, file.name, file.contentType);
  }

  const name = storedName(withExtension(file.name, file.contentType));
  try {
    await files.createFile(name, file.data, contentTypeFor(name), { metadata: file.metadata, tags: file.tags });
  } catch (error) {
    logSafely(log, 'error', { err: error }, 'storing a file failed');
    throw new ParseError(ErrorCode.FILE_SAVE_ERROR, 'Could not store file.');
  }
  const url = fileUrl(caller, name);
  await triggers?.afterSave(file, name, url, decoded.contentLength);
  return { status: 201, body: { url, name }, headers: { location: url } };
}

/** Unknown app: Parse's 403 with a code (not the `{error}` of the key checks). */
function wrongApp(request: ApiRequest, appId: string | undefined): ApiResponse | undefined {
  if (appId === request.caller.services.config.appId) return undefined;
  return { status: 403, body: { code: ErrorCode.OPERATION_FORBIDDEN, error: 'Invalid application ID.' } };
}

const notFound = (): ParseError => new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'File not found.');

/**
 * A download trigger's refusal, as Parse answers it: 403 with the trigger's code and message (a validator's
 * 142, a thrown Parse.Error's own code, 141 for anything else), before any byte of the file is sent.
 */
async function unlessRefused<T>(run: () => Promise<T>): Promise<{ value: T } | { refused: ApiResponse }> {
  try {
    return { value: await run() };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { refused: { status: 403, body: { code: error.code, error: error.message } } };
  }
}

/** `beforeFind` on Parse.File: may refuse, or name another stored file; that name is checked like a requested one. */
async function nameToServe(request: ApiRequest, triggers: FileTriggers | undefined, requested: string): Promise<{ value: string } | { refused: ApiResponse }> {
  if (triggers === undefined) return { value: requested };
  const chosen = await unlessRefused(() => triggers.beforeFind(requested, fileUrl(request.caller, requested)));
  if ('refused' in chosen) return chosen;
  if (!isStorableName(chosen.value)) throw notFound();
  return chosen;
}

async function download(request: ApiRequest, params: Readonly<Record<string, string>>): Promise<ApiResponse> {
  refuseInBatch(request);
  const refused = wrongApp(request, params.appId);
  if (refused !== undefined) return refused;
  const requested = params.filename ?? '';
  // A name that could not have been stored is not looked up at all (`..`, separators, NUL, `%2e%2e`).
  if (!isStorableName(requested)) throw notFound();
  // Every download, ranged or whole, runs the download triggers (GHSA-hpm8-9qx6-jvwv).
  const triggers = FileTriggers.forFind(request.caller);
  const served = await nameToServe(request, triggers, requested);
  if ('refused' in served) return served.refused;
  const name = served.value;
  let data: Buffer;
  try {
    const stored = await request.caller.services.files.getFileData(name);
    data = Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  } catch {
    throw notFound();
  }
  let forceDownload = false;
  if (triggers !== undefined) {
    const after = await unlessRefused(() => triggers.afterFind(name, fileUrl(request.caller, name), data));
    if ('refused' in after) return after.refused;
    data = after.value.data ?? data;
    forceDownload = after.value.forceDownload;
  }
  const headers: Record<string, string> = {
    // From the stored name only, never from what the uploader said; nosniff stops browsers guessing otherwise.
    'content-type': contentTypeFor(name),
    'x-content-type-options': 'nosniff',
    'accept-ranges': 'bytes',
  };
  if (forceDownload) headers['content-disposition'] = 'attachment';
  if (isActiveName(name)) {
    // Active content is only stored by the master key (or an app's own fileExtensions); opened from its URL it
    // must still not run as this origin, so it is a download, and sandboxed if a browser renders it anyway.
    headers['content-disposition'] = 'attachment';
    headers['content-security-policy'] = "default-src 'none'; sandbox";
  }
  const range = decideRange(rangeHeader(request), data.length);
  if (range.kind === 'whole') return { status: 200, body: data, headers };
  if (range.kind === 'unsatisfiable') {
    return { status: 416, body: { error: 'Requested range not satisfiable.' }, headers: { 'x-content-type-options': 'nosniff', 'content-range': `bytes */${data.length}` } };
  }
  return {
    status: 206,
    body: data.subarray(range.start, range.end + 1),
    headers: { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${data.length}` },
  };
}

function rangeHeader(request: ApiRequest): string | undefined {
  const value = request.caller.client?.headers.range;
  return Array.isArray(value) ? value.join(',') : value;
}

async function metadata(request: ApiRequest, params: Readonly<Record<string, string>>): Promise<ApiResponse> {
  refuseInBatch(request);
  const refused = wrongApp(request, params.appId);
  if (refused !== undefined) return refused;
  const requested = params.filename ?? '';
  const { files } = request.caller.services;
  if (!isStorableName(requested)) return ok({});
  // The metadata path runs the download triggers too, so it cannot be used around them (GHSA-hwx8-q9cg-mqmc).
  const triggers = FileTriggers.forFind(request.caller);
  const served = await nameToServe(request, triggers, requested);
  if ('refused' in served) return served.refused;
  const name = served.value;
  if (triggers !== undefined) {
    const after = await unlessRefused(() => triggers.afterFind(name, fileUrl(request.caller, name), undefined));
    if ('refused' in after) return after.refused;
  }
  if (files.getMetadata === undefined) return ok({});
  try {
    const found = await files.getMetadata(name);
    return ok(typeof found === 'object' && found !== null ? found : {});
  } catch {
    // Parse answers {} whatever went wrong, so the answer says nothing about which names exist.
    return ok({});
  }
}

async function remove(request: ApiRequest, params: Readonly<Record<string, string>>): Promise<ApiResponse> {
  refuseInBatch(request);
  const { caller } = request;
  if (caller.auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to delete a file.");
  if (caller.auth.kind !== 'master') throw masterKeyRequired();
  const name = params.filename ?? '';
  if (!isStorableName(name)) throw new ParseError(ErrorCode.INVALID_FILE_NAME, 'Filename contains invalid characters.');
  const url = fileUrl(caller, name);
  const triggers = FileTriggers.forDelete(caller);
  await triggers?.beforeDelete(name, url);
  try {
    await caller.services.files.deleteFile(name);
  } catch {
    throw new ParseError(ErrorCode.FILE_DELETE_ERROR, 'Could not delete file.');
  }
  await triggers?.afterDelete(name, url);
  return ok({});
}

const DOWNLOAD_PATH = /^\/files\/[^/]+\/(?:metadata\/)?[^/]+\/?$/;

/** `GET /files/:appId/…`: served without keys, as Parse serves file URLs. */
export function isFileDownload(method: string, path: string): boolean {
  return method === 'GET' && DOWNLOAD_PATH.test(path);
}

/**
 * Who a download is made by. File URLs are bearer URLs: without download triggers nobody is identified and
 * no credential is looked at. With a `beforeFind`/`afterFind` on Parse.File, a download that presents a
 * session token, master key or maintenance key is authenticated like any request (an unknown token is 209,
 * never anonymous), so the triggers see `request.user` / `request.master`; the app id comes from the path
 * (the route refuses another) and no client key is needed, as for any download. A browser `<img src>` and
 * the SDKs send no credentials, so `request.user` is then undefined.
 */
export function downloadAuth(services: Services, credentials: Credentials, authenticate: (credentials: Credentials) => Promise<AuthContext>): Promise<AuthContext> {
  const { registry } = services.cloud;
  const triggered = registry.trigger('beforeFind', FILE_CLASS) !== undefined || registry.trigger('afterFind', FILE_CLASS) !== undefined;
  const presented = [credentials.sessionToken, credentials.masterKey, credentials.maintenanceKey].some((value) => value !== undefined && value !== '');
  if (!triggered || !presented) return Promise.resolve(ANONYMOUS);
  const { appId, clientKeys } = services.config;
  return authenticate({ ...credentials, appId, ...clientKeys });
}

/** The body limit of `/files`: a file of maxRequestBytes in base64 (line breaks allowed) plus the JSON around it. */
export function uploadBodyLimit(maxRequestBytes: number): number {
  return Math.ceil(maxRequestBytes * 1.4) + 64 * 1024;
}
