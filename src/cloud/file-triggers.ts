import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Caller } from '../rest/services.ts';
import type { CloudTrigger } from './registry.ts';
import type { ParseSdk } from './sdk.ts';
import { TriggerSession } from './triggers.ts';

/** The class name file triggers are registered under, as in Parse (`Parse.Cloud.beforeSave(Parse.File, …)`). */
export const FILE_CLASS = '@File';

/** What is about to be stored; a beforeSave trigger may replace any of it. */
export interface FileUpload {
  readonly name: string;
  readonly data: Buffer;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly tags: Readonly<Record<string, unknown>>;
}

/** A beforeSave trigger's verdict: store this (perhaps renamed or changed), or a file it already saved. */
export type BeforeSaveOutcome = { readonly kind: 'store'; readonly upload: FileUpload } | { readonly kind: 'saved'; readonly name: string; readonly url: string };

/** The SDK's Parse.File internals this module reads and writes (Parse Server's FilesRouter uses the same). */
interface SdkFile {
  _name?: unknown;
  _url?: unknown;
  _data?: unknown;
  _source?: { format?: unknown; base64?: unknown; buffer?: unknown; type?: unknown };
  _metadata?: unknown;
  _tags?: unknown;
}

const plainRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};

/**
 * The file a trigger left, read back without ever fetching anything: a Parse.File made from a URI (`{uri}`)
 * would need the server to download an address cloud code or a client chose, so it is refused (130).
 */
function readBack(sdk: ParseSdk, value: unknown, fallback: FileUpload): BeforeSaveOutcome {
  if (!(value instanceof (sdk.File as new (...args: never[]) => object))) return { kind: 'store', upload: fallback };
  const file = value as SdkFile;
  const name = typeof file._name === 'string' ? file._name : fallback.name;
  if (typeof file._url === 'string' && file._url !== '') return { kind: 'saved', name, url: file._url };
  const source = file._source ?? {};
  let data: Buffer | undefined;
  if (source.format === 'buffer' && Buffer.isBuffer(source.buffer)) data = source.buffer;
  else if (typeof file._data === 'string') data = Buffer.from(file._data, 'base64');
  else if (source.format === 'base64' && typeof source.base64 === 'string') data = Buffer.from(source.base64, 'base64');
  if (data === undefined) throw new ParseError(ErrorCode.FILE_SAVE_ERROR, 'The file returned by beforeSave has no data the server may store (a file from a URI is never fetched).');
  const contentType = typeof source.type === 'string' && source.type !== '' ? source.type : fallback.contentType;
  return { kind: 'store', upload: { name, data, contentType, metadata: plainRecord(file._metadata), tags: plainRecord(file._tags) } };
}

/**
 * The file triggers of one upload, delete or download (`beforeSave`/`afterSave`, `beforeDelete`/`afterDelete`,
 * `beforeFind`/`afterFind` on Parse.File), with Parse's request fields: `file`, `fileSize`, `contentLength`, plus the usual `user`,
 * `master`, `headers`, `ip`, `installationId`, `triggerName`. Absent when the app registered none.
 */
export class FileTriggers {
  private constructor(
    private readonly session: TriggerSession,
    private readonly before: CloudTrigger | undefined,
    private readonly after: CloudTrigger | undefined,
  ) {}

  static forSave(caller: Caller): FileTriggers | undefined {
    return FileTriggers.create(caller, 'beforeSave', 'afterSave');
  }

  static forDelete(caller: Caller): FileTriggers | undefined {
    return FileTriggers.create(caller, 'beforeDelete', 'afterDelete');
  }

  /** The download triggers (`beforeFind`/`afterFind` on Parse.File), run by every download path. */
  static forFind(caller: Caller): FileTriggers | undefined {
    return FileTriggers.create(caller, 'beforeFind', 'afterFind');
  }

  private static create(caller: Caller, beforeType: 'beforeSave' | 'beforeDelete' | 'beforeFind', afterType: 'afterSave' | 'afterDelete' | 'afterFind'): FileTriggers | undefined {
    const { registry, sdk } = caller.services.cloud;
    if (sdk === undefined) return undefined;
    const before = registry.trigger(beforeType, FILE_CLASS);
    const after = registry.trigger(afterType, FILE_CLASS);
    if (before === undefined && after === undefined) return undefined;
    return new FileTriggers(new TriggerSession(caller, sdk), before, after);
  }

  private fileObject(name: string, content: { data?: Buffer; contentType?: string; url?: string; metadata?: object; tags?: object }): SdkFile {
    const ParseFile = this.session.sdk.File as new (name: string, data?: unknown, type?: string) => SdkFile;
    const file = content.data === undefined ? new ParseFile(name) : new ParseFile(name, { base64: content.data.toString('base64') }, content.contentType);
    file._metadata = { ...content.metadata };
    file._tags = { ...content.tags };
    if (content.url !== undefined) file._url = content.url;
    return file;
  }

  /** `beforeSave`: may throw to refuse, return a new Parse.File (renamed, new data), or change `request.file`. */
  async beforeSave(upload: FileUpload, contentLength: number): Promise<BeforeSaveOutcome> {
    if (this.before === undefined) return { kind: 'store', upload };
    const file = this.fileObject(upload.name, upload);
    const { request, result, skipped } = await this.session.run(this.before, { file, fileSize: upload.data.length, contentLength });
    if (skipped) return { kind: 'store', upload };
    return readBack(this.session.sdk, result ?? request.file, upload);
  }

  /** `afterSave`, once stored; its failure is logged, never returned (the file exists). */
  async afterSave(upload: FileUpload, name: string, url: string, contentLength: number): Promise<void> {
    if (this.after === undefined) return;
    const file = this.fileObject(name, { ...upload, url });
    await this.session.runAfter(this.after, { file, fileSize: upload.data.length, contentLength });
  }

  /** `beforeDelete`: throwing refuses the delete. */
  async beforeDelete(name: string, url: string): Promise<void> {
    if (this.before === undefined) return;
    await this.session.run(this.before, { file: this.fileObject(name, { url }), fileSize: null });
  }

  async afterDelete(name: string, url: string): Promise<void> {
    if (this.after === undefined) return;
    await this.session.runAfter(this.after, { file: this.fileObject(name, { url }), fileSize: null });
  }

  /**
   * `beforeFind` on a download (before any bytes are read): throwing refuses it. It may name another stored
   * file to serve instead (Parse's contract: return a Parse.File, or rename `request.file`); the route checks
   * that name like any other.
   */
  async beforeFind(name: string, url: string): Promise<string> {
    if (this.before === undefined) return name;
    const file = this.fileObject(name, { url });
    const { request, result, skipped } = await this.session.run(this.before, { file, fileSize: null });
    if (skipped) return name;
    const chosen = (result instanceof (this.session.sdk.File as new (...args: never[]) => object) ? result : request.file) as SdkFile | undefined;
    return typeof chosen?._name === 'string' && chosen._name !== '' ? chosen._name : name;
  }

  /**
   * `afterFind` on a download, with the file's data: throwing refuses it (no bytes are sent); it may replace
   * the data (return or set a Parse.File with data) and ask for `forceDownload`. A new name is not taken:
   * the content type stays the one the stored name gives, so a trigger cannot turn a file into a page.
   */
  async afterFind(name: string, url: string, data: Buffer | undefined): Promise<{ data: Buffer | undefined; forceDownload: boolean }> {
    if (this.after === undefined) return { data, forceDownload: false };
    const file = this.fileObject(name, { url, data });
    const { request, result, skipped } = await this.session.run(this.after, { file, fileSize: data?.length ?? null, forceDownload: false });
    if (skipped) return { data, forceDownload: false };
    const forceDownload = request.forceDownload === true || (typeof result === 'object' && result !== null && (result as { forceDownload?: unknown }).forceDownload === true);
    const returned = typeof result === 'object' && result !== null && !(result instanceof (this.session.sdk.File as new (...args: never[]) => object)) ? (result as { file?: unknown }).file : result;
    const chosen = returned instanceof (this.session.sdk.File as new (...args: never[]) => object) ? returned : request.file;
    return { data: data === undefined ? undefined : (fileData(chosen as SdkFile | undefined) ?? data), forceDownload };
  }
}

/** The bytes a Parse.File a trigger handed back holds, if any (never fetched from a URI). */
function fileData(file: SdkFile | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  const source = file._source ?? {};
  if (source.format === 'buffer' && Buffer.isBuffer(source.buffer)) return source.buffer;
  if (typeof file._data === 'string') return Buffer.from(file._data, 'base64');
  if (source.format === 'base64' && typeof source.base64 === 'string') return Buffer.from(source.base64, 'base64');
  return undefined;
}

/**
 * Cloud code's own `Parse.File` calls, kept in process like its other calls: a Buffer upload goes through the
 * base64 form (the SDK's binary upload and its delete would open an HTTP connection to serverURL), and
 * `destroy` goes through the REST controller, which is the in-process router.
 */
export function installFileController(sdk: ParseSdk): void {
  const core = sdk.CoreManager as { getFileController(): Record<string, unknown>; setFileController(c: unknown): void; getRESTController(): { request(...args: unknown[]): Promise<unknown> } };
  const original = core.getFileController();
  core.setFileController({
    ...original,
    saveBinary: undefined,
    deleteFile: (name: string, options: { useMasterKey?: boolean } = {}) =>
      core.getRESTController().request('DELETE', `files/${encodeURIComponent(name)}`, {}, { useMasterKey: options.useMasterKey }),
  });
}
