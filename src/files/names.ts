import { randomBytes } from 'node:crypto';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';

/**
 * File names and content types. A name is checked before anything else happens to an upload, and again
 * by every adapter before it touches storage, so no name can ever become a path outside the files' home.
 */

/** Parse's rule (FilesAdapter.validateFilename): no separators, no `%`, no control characters, no leading dot. */
const UPLOAD_NAME = /^[_a-zA-Z0-9][a-zA-Z0-9@. ~_-]*$/;
export const MAX_NAME_LENGTH = 128;
/** The random prefix Parse puts in front of every stored name: 32 hex digits and `_`. */
const PREFIX_LENGTH = 33;

function invalidName(message: string): ParseError {
  return new ParseError(ErrorCode.INVALID_FILE_NAME, message);
}

/** A name a client may upload under (122 otherwise), in Parse's words. */
export function assertUploadName(name: string): void {
  if (name === '') throw invalidName('Filename not provided.');
  if (name.length > MAX_NAME_LENGTH) throw invalidName('Filename too long.');
  // A trailing dot or blank is dropped by some file systems, which would turn `x.html.` into `x.html` on disk.
  if (!UPLOAD_NAME.test(name) || /[. ]$/.test(name)) throw invalidName('Filename contains invalid characters.');
}

/** True for a name that may be looked up in storage: an upload name, with or without its stored prefix. */
export function isStorableName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH + PREFIX_LENGTH && UPLOAD_NAME.test(name) && !/[. ]$/.test(name);
}

/** The stored name: a random prefix makes names unguessable and lets two users upload `photo.jpg`. */
export function storedName(name: string): string {
  return `${randomBytes(16).toString('hex')}_${name}`;
}

/** The lower-case extension after the last dot, or undefined when there is none. */
export function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

/** `Text/HTML ; charset=utf-8` → `text/html`: parameters and blanks (tabs included) say nothing about the type. */
export function baseContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const base = contentType.split(';', 1)[0]?.replace(/\s+/g, '').toLowerCase() ?? '';
  return base === '' ? undefined : base;
}

/** Extension → content type. Served types come only from this table, never from what a client sent. */
const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  md: 'text/markdown',
  css: 'text/css',
  ics: 'text/calendar',
  vcf: 'text/vcard',
  vtt: 'text/vtt',
  json: 'application/json',
  geojson: 'application/geo+json',
  pdf: 'application/pdf',
  rtf: 'application/rtf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar',
  bin: 'application/octet-stream',
  wasm: 'application/wasm',
  epub: 'application/epub+zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  ico: 'image/vnd.microsoft.icon',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  heif: 'image/heif',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/opus',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  // Active content: refused by default, but the master key (or an app's own fileExtensions) may store it.
  html: 'text/html',
  htm: 'text/html',
  xhtml: 'application/xhtml+xml',
  svg: 'image/svg+xml',
  xml: 'application/xml',
  js: 'text/javascript',
  mjs: 'text/javascript',
};

const OCTET_STREAM = 'application/octet-stream';

/** The content type a stored name is served with. */
export function contentTypeFor(name: string): string {
  const extension = extensionOf(name);
  return (extension !== undefined && Object.hasOwn(TYPES, extension) ? TYPES[extension] : undefined) ?? OCTET_STREAM;
}

const PREFERRED: Readonly<Record<string, string>> = { 'text/plain': 'txt', 'image/jpeg': 'jpg', 'text/html': 'html', 'text/javascript': 'js', 'audio/ogg': 'ogg', 'video/mp4': 'mp4', 'image/tiff': 'tiff' };

/**
 * The extension Parse appends to a name without one, from the upload's content type (`photo` sent as
 * image/png is stored as `…_photo.png`), so that what is served is decided by the name alone. Unknown types
 * add nothing and the file is served as application/octet-stream.
 */
export function extensionForContentType(contentType: string | undefined): string | undefined {
  const base = baseContentType(contentType);
  if (base === undefined || base === OCTET_STREAM) return undefined;
  if (Object.hasOwn(PREFERRED, base)) return PREFERRED[base];
  return Object.keys(TYPES).find((extension) => TYPES[extension] === base);
}

/**
 * Extensions a browser may run as active content on the API's origin (or that another web server would
 * execute, should the files directory ever be served by one): HTML and its XML relatives, SVG, XSLT, MathML,
 * scripts. CSS is not here: opened on its own it runs nothing, and any origin can host a stylesheet anyway.
 */
export const ACTIVE_EXTENSIONS: ReadonlySet<string> = new Set([
  'html', 'htm', 'shtml', 'shtm', 'xhtml', 'xht', 'mht', 'mhtml', 'hta',
  'svg', 'svgz', 'xml', 'xsl', 'xslt', 'xsd', 'rng', 'rdf', 'owl', 'mathml', 'mml', 'xul',
  'js', 'mjs', 'cjs', 'jsx', 'vbs', 'wsf', 'swf', 'appcache',
  'php', 'php3', 'php4', 'php5', 'php7', 'phtml', 'phar', 'asp', 'aspx', 'jsp', 'cgi',
]);

/** A content type whose document a browser would run: any HTML, XML (`+xml` included), script or SVG type. */
export function isActiveContentType(base: string): boolean {
  return /html|xml|javascript|ecmascript|jscript|svg|xsl|php|flash|mathml/.test(base);
}

/** True when a stored file must not be rendered by a browser on this origin (stored by the master key). */
export function isActiveName(name: string): boolean {
  const extension = extensionOf(name);
  return extension !== undefined && ACTIVE_EXTENSIONS.has(extension);
}
