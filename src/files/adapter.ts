import { loadAdapterModule } from '../adapters/load-module.ts';
import type { Driver } from '../storage/driver.ts';
import { databaseFilesAdapter } from './database-adapter.ts';
import { filesystemFilesAdapter } from './fs-adapter.ts';

/**
 * Parse Server's files adapter shape, so published adapters (@parse/fs-files-adapter, S3, GCS…) plug in
 * unchanged. Parsec calls only these; names it passes are already validated and carry the random prefix.
 */
export interface FilesAdapter {
  createFile(filename: string, data: Buffer, contentType?: string, options?: Readonly<Record<string, unknown>>): Promise<unknown>;
  deleteFile(filename: string): Promise<unknown>;
  /** The whole file; a missing file rejects (Parsec answers 404). */
  getFileData(filename: string): Promise<Buffer | Uint8Array>;
  /** Parse asks adapters for a URL; Parsec serves every file through its own route (nosniff, ranges, types). */
  getFileLocation?(config: unknown, filename: string): unknown;
  getMetadata?(filename: string): Promise<unknown>;
}

/** `filesAdapter` as a config file gives it: a module (or `fs` / `database`, built in) and its options. */
export interface FilesAdapterOption {
  readonly module: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export function isFilesAdapter(value: unknown): value is FilesAdapter {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.createFile === 'function' && typeof candidate.deleteFile === 'function' && typeof candidate.getFileData === 'function';
}

/**
 * The adapter a server stores files with: the database by default (embedded mode needs nothing else), the
 * built-in file system adapter for `fs`, an adapter object given in code, or a module loaded at start.
 * Anything that is not a complete adapter stops the start.
 */
export async function openFilesAdapter(option: FilesAdapterOption | FilesAdapter | undefined, driver: Driver, cwd: string): Promise<FilesAdapter> {
  if (option === undefined) return databaseFilesAdapter(driver);
  if (isFilesAdapter(option)) return option;
  const { module, options } = option;
  if (module === 'database') return databaseFilesAdapter(driver);
  if (module === 'fs') return filesystemFilesAdapter(options, cwd);
  const adapter = await loadAdapterModule(module, options, cwd);
  if (!isFilesAdapter(adapter)) throw new Error(`filesAdapter ${module} has no createFile, deleteFile and getFileData functions`);
  return adapter;
}
