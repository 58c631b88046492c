import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Caller } from '../rest/services.ts';
import { readOwnUser } from '../users/login.ts';
import { ACTIVE_EXTENSIONS, baseContentType, extensionOf, isActiveContentType } from './names.ts';

/** Parse's `fileUpload` option. */
export interface FileUploadOptions {
  /** Callers without a session may upload (Parse default: false). */
  readonly enableForPublic: boolean;
  /** Anonymous users (authData.anonymous) may upload (Parse default: false). */
  readonly enableForAnonymousUser: boolean;
  /** Users with a session may upload (Parse default: true). */
  readonly enableForAuthenticatedUser: boolean;
  /**
   * Parse's allow-list: regular expressions, one of which must match the (lower-case) extension; `*` allows
   * all. Undefined: Parsec's default, which refuses active content (see ACTIVE_EXTENSIONS).
   */
  readonly fileExtensions?: readonly string[];
}

export const DEFAULT_FILE_UPLOAD: FileUploadOptions = Object.freeze({ enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: true });

const refused = (message: string): ParseError => new ParseError(ErrorCode.FILE_SAVE_ERROR, message);

/** An anonymous user is a user whose authData is only the anonymous provider (Parse's test). */
async function isAnonymousUser(caller: Caller, userId: string): Promise<boolean> {
  const user = await caller.services.users.get(userId, () => readOwnUser(caller, userId));
  const authData = (user as { authData?: unknown }).authData;
  return typeof authData === 'object' && authData !== null && Object.hasOwn(authData, 'anonymous');
}

/**
 * Who may upload: the master key always; everyone else per `fileUpload`, with Parse's messages (130). The
 * read-only master key stores nothing (119), as every other write.
 */
export async function assertMayUpload(caller: Caller, options: FileUploadOptions): Promise<void> {
  const { auth } = caller;
  if (auth.kind === 'master') return;
  if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to create a file.");
  if (auth.kind !== 'user') {
    if (!options.enableForPublic) throw refused('File upload by public is disabled.');
    return;
  }
  if (await isAnonymousUser(caller, auth.userId)) {
    if (!options.enableForAnonymousUser) throw refused('File upload by anonymous user is disabled.');
    return;
  }
  if (!options.enableForAuthenticatedUser) throw refused('File upload by authenticated user is disabled.');
}

const compiled = new Map<string, RegExp>();
function pattern(source: string): RegExp {
  let regex = compiled.get(source);
  if (regex === undefined) {
    regex = new RegExp(source);
    compiled.set(source, regex);
  }
  return regex;
}

/**
 * Whether a name (or, without an extension, its content type) may be uploaded by a caller other than the
 * master key. What is judged is the extension, in lower case, or else the content type without parameters
 * or blanks: `text/html; charset=utf-8` is `text/html`. 130 "File upload of extension X is disabled."
 */
export function assertExtensionAllowed(caller: Caller, options: FileUploadOptions, name: string, contentType: string | undefined): void {
  if (caller.auth.kind === 'master') return;
  const extension = extensionOf(name);
  const base = extension === undefined ? baseContentType(contentType) : undefined;
  // Parse names the content type's subtype in its message (`xhtml+xml`), and matches its patterns against it.
  const judged = extension ?? base?.slice(base.indexOf('/') + 1);
  if (judged === undefined || judged === '') return;
  if (!extensionAllowed(options, judged, base)) throw refused(`File upload of extension ${judged} is disabled.`);
}

/**
 * Whether `fileUpload` lets a caller other than the master key upload a file judged by `judged` (its
 * lower-case extension, or its content type's subtype) whose content type is `base` when it has no extension.
 */
export function extensionAllowed(options: FileUploadOptions, judged: string, base?: string): boolean {
  return options.fileExtensions === undefined
    ? !ACTIVE_EXTENSIONS.has(judged) && !(base !== undefined && isActiveContentType(base))
    : options.fileExtensions.some((source) => source === '*' || pattern(source).test(judged));
}
