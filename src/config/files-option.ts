/**
 * Parse's `fileUpload` and `filesAdapter` options. `fileUpload` takes Parse's keys; keys not given keep
 * their default (Parse merges the same way). `fileExtensions` patterns are compiled here, so a broken one
 * stops the start instead of failing uploads.
 */
import type { FilesAdapterOption } from '../files/adapter.ts';
import { DEFAULT_FILE_UPLOAD, type FileUploadOptions } from '../files/policy.ts';
import { didYouMean } from './suggest.ts';
import type { Parsed, ValueType } from './value-types.ts';

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const BOOLEAN_KEYS = ['enableForPublic', 'enableForAnonymousUser', 'enableForAuthenticatedUser'] as const;
const KEYS: readonly string[] = [...BOOLEAN_KEYS, 'fileExtensions'];

function readFileUpload(value: unknown): Parsed<FileUploadOptions> {
  if (!isRecord(value)) return { ok: false, reason: `must be an object like {"enableForAuthenticatedUser": true, "fileExtensions": ["^(png|jpe?g)$"]}, got ${shown(value)}` };
  const problems: string[] = [];
  const result: { -readonly [K in keyof FileUploadOptions]: FileUploadOptions[K] } = { ...DEFAULT_FILE_UPLOAD };
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) problems.push(`${key} is not a fileUpload key${didYouMean(key, KEYS)}`);
  }
  for (const key of BOOLEAN_KEYS) {
    const given = value[key];
    if (given === undefined) continue;
    if (typeof given === 'boolean') result[key] = given;
    else problems.push(`${key} must be true or false, got ${shown(given)}`);
  }
  const extensions = value.fileExtensions;
  if (extensions !== undefined) {
    if (!Array.isArray(extensions) || !extensions.every((item): item is string => typeof item === 'string' && item !== '')) {
      problems.push('fileExtensions must be an array of regular expressions written as strings ("*" allows every extension)');
    } else {
      for (const source of extensions) {
        if (source === '*') continue;
        try {
          new RegExp(source);
        } catch (error) {
          problems.push(`fileExtensions: ${JSON.stringify(source)} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`);
        }
      }
      result.fileExtensions = Object.freeze([...extensions]);
    }
  }
  return problems.length > 0 ? { ok: false, reason: `is invalid: ${problems.join('; ')}` } : { ok: true, value: Object.freeze(result) };
}

function parseText<T>(text: string, read: (value: unknown) => Parsed<T>): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `must be JSON, got ${shown(text)}` };
  }
  return read(value);
}

export const fileUpload: ValueType<FileUploadOptions> = {
  label: '{enableForPublic, enableForAnonymousUser, enableForAuthenticatedUser, fileExtensions}',
  secret: false,
  fromJson: readFileUpload,
  fromText: (text) => parseText(text, readFileUpload),
};

function readFilesAdapter(value: unknown): Parsed<FilesAdapterOption> {
  if (typeof value === 'string' && value !== '') return { ok: true, value: Object.freeze({ module: value, options: {} }) };
  if (!isRecord(value)) return { ok: false, reason: `must be "fs", "database", a module, or {"module": "...", "options": {...}}, got ${shown(value)}` };
  const problems: string[] = [];
  for (const key of Object.keys(value)) if (key !== 'module' && key !== 'options') problems.push(`${key} is not a filesAdapter key (module, options)`);
  const { module, options } = value;
  if (typeof module !== 'string' || module === '') problems.push('module must be a non-empty string');
  if (options !== undefined && !isRecord(options)) problems.push('options must be an object');
  if (problems.length > 0) return { ok: false, reason: `is invalid: ${problems.join('; ')}` };
  return { ok: true, value: Object.freeze({ module: module as string, options: Object.freeze({ ...(options as Record<string, unknown> | undefined) }) }) };
}

export const filesAdapter: ValueType<FilesAdapterOption> = {
  label: '"fs", "database", a module, or {"module","options"}',
  secret: false,
  fromJson: readFilesAdapter,
  fromText: (text) => (text.trim().startsWith('{') ? parseText(text, readFilesAdapter) : readFilesAdapter(text)),
};
