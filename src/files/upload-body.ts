import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { extractRequest, header, type ExtractedRequest } from '../http/credentials.ts';
import { parseJsonBody } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';

/** An upload's bytes as they arrived over HTTP (not JSON): the body and its Content-Type header. */
export class RawUpload {
  constructor(
    readonly bytes: Buffer,
    readonly contentType: string | undefined,
  ) {}
}

/** A body over the limit: 413, as the transport answers for any other body that is too large. */
export class FileTooLargeError extends ParseError {
  constructor(limit: number) {
    super(ErrorCode.OBJECT_TOO_LARGE, `The file is larger than maxUploadSize (${limit} bytes).`);
  }
  override get status(): number {
    return 413;
  }
}

const UPLOAD_PATH = /^\/files(\/[^/]*)?\/?$/;

/**
 * The transport half of `POST /files/:name`. As in Parse, a request that names its app in a header (or
 * Basic auth) carries the file's bytes as its body; one that does not is the JS SDK's JSON form
 * (`{base64, _ContentType, fileData, _ApplicationId, …}`), whose credentials are read like any body's.
 * Undefined for every other request.
 */
export function fileUploadRequest(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | undefined): ExtractedRequest | undefined {
  if (method !== 'POST' || !UPLOAD_PATH.test(path)) return undefined;
  const authorization = header(headers, 'authorization');
  if (header(headers, 'x-parse-application-id') !== undefined || (authorization !== undefined && /^basic /i.test(authorization))) {
    const extracted = extractRequest(method, headers, undefined);
    return { ...extracted, body: new RawUpload(body ?? Buffer.alloc(0), header(headers, 'content-type')) };
  }
  const json = parseJsonBody(body);
  const extracted = extractRequest(method, headers, json);
  // `_ContentType` is a body field the generic extraction drops; for an upload it is the file's type.
  if (isPlainObject(json) && isPlainObject(extracted.body) && Object.hasOwn(json, '_ContentType')) {
    return { ...extracted, body: { ...extracted.body, _ContentType: json._ContentType } };
  }
  return extracted;
}

/** The decoded upload, whichever form it came in. */
export interface DecodedUpload {
  readonly data: Buffer;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly tags: Readonly<Record<string, unknown>>;
  /** Bytes received (the raw body, or the base64 text), Parse's `contentLength` for triggers. */
  readonly contentLength: number;
}

const invalid = (why: string): ParseError => new ParseError(ErrorCode.FILE_SAVE_ERROR, `Invalid file upload: ${why}.`);
const BASE64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/;

function optionalRecord(value: unknown, name: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalid(`${name} must be an object`);
  return value;
}

/**
 * Checks and decodes an upload body: bytes as sent, or the JSON form's base64 (standard or URL-safe
 * alphabet; line breaks allowed). Anything else — a missing or non-string `base64`, characters outside the
 * alphabet, a `_ContentType` that is not a string, an empty file — is 130 and nothing is stored. The size is
 * checked before base64 is decoded, so an oversized upload costs no memory beyond its body.
 */
export function decodeUpload(body: unknown, maxBytes: number): DecodedUpload {
  if (body instanceof RawUpload) {
    if (body.bytes.length === 0) throw invalid('the file is empty');
    if (body.bytes.length > maxBytes) throw new FileTooLargeError(maxBytes);
    return { data: body.bytes, contentType: body.contentType, metadata: {}, tags: {}, contentLength: body.bytes.length };
  }
  if (!isPlainObject(body)) throw invalid('expected the file as the body, or {"base64": "..."}');
  const { base64, _ContentType: contentType, fileData } = body;
  if (typeof base64 !== 'string') throw invalid('base64 must be a string');
  if (contentType !== undefined && typeof contentType !== 'string') throw invalid('_ContentType must be a string');
  const fileDetails = optionalRecord(fileData, 'fileData');
  const text = base64.replace(/[\r\n\t ]/g, '');
  if (text === '' ) throw invalid('the file is empty');
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) throw invalid('base64 is not valid');
  if (Math.floor((text.replace(/=+$/, '').length * 3) / 4) > maxBytes) throw new FileTooLargeError(maxBytes);
  const data = Buffer.from(text, 'base64');
  if (data.length === 0) throw invalid('the file is empty');
  return {
    data,
    contentType,
    metadata: optionalRecord(fileDetails.metadata, 'fileData.metadata'),
    tags: optionalRecord(fileDetails.tags, 'fileData.tags'),
    contentLength: base64.length,
  };
}
