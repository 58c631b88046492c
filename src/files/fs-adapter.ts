import { constants } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FilesAdapter } from './adapter.ts';
import { isStorableName } from './names.ts';

/**
 * Files in a directory, laid out as @parse/fs-files-adapter does (`<cwd>/files/<filesSubDirectory>/<name>`),
 * so an app moving from Parse Server keeps its files where they are. `directory` names the folder directly.
 */
export function filesystemFilesAdapter(options: Readonly<Record<string, unknown>>, cwd: string): FilesAdapter {
  const { directory, filesSubDirectory } = options;
  const filesRoot = path.resolve(cwd, 'files');
  let home: string;
  if (typeof directory === 'string' && directory !== '') home = path.resolve(cwd, directory);
  else if (typeof filesSubDirectory === 'string' && filesSubDirectory !== '') {
    home = path.resolve(filesRoot, filesSubDirectory);
    // The sub-directory is the operator's, but `../..` in it would still put files somewhere unexpected.
    if (!home.startsWith(filesRoot + path.sep)) throw new Error('filesAdapter: filesSubDirectory must stay inside ./files');
  } else home = filesRoot;

  let created: Promise<unknown> | undefined;
  const ensureHome = (): Promise<unknown> => (created ??= mkdir(home, { recursive: true, mode: 0o700 }));

  /**
   * The one way from a name to a path: the name must be a plain file name (no separator, no `..`, no control
   * character, checked again here whatever the caller did) and the result must sit directly in the folder.
   */
  const fileFor = (filename: string): string => {
    const full = path.join(home, filename);
    if (!isStorableName(filename) || path.dirname(full) !== home) throw new Error('invalid file name');
    return full;
  };
  // Never follow a symbolic link planted in the folder (where the platform can tell).
  const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

  return {
    async createFile(filename, data) {
      const full = fileFor(filename);
      await ensureHome();
      // `wx`: never overwrite; the random prefix makes a collision a bug, not something to paper over.
      const handle = await open(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    },
    async deleteFile(filename) {
      await unlink(fileFor(filename));
    },
    async getFileData(filename) {
      const handle = await open(fileFor(filename), constants.O_RDONLY | NOFOLLOW);
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
  };
}
