/**
 * One process at a time on an embedded database directory. PGlite has no lock of its own (its
 * postmaster.pid is a placeholder), and two processes writing one directory corrupt it: a second
 * `parsec start`, or `parsec audit` next to a running server, must be refused instead.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'parsec.lock';

export class DirectoryInUseError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock (a stale one, left by a process that died, is taken over); returns its release. */
export function lockDirectory(directory: string): () => void {
  const path = join(directory, LOCK_FILE);
  const mine = String(process.pid);
  try {
    writeFileSync(path, mine, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new DirectoryInUseError(
        `the embedded database in ${directory} is already open in process ${holder} (one process at a time): stop it first, or delete ${path} if no Parsec runs there`,
      );
    }
    writeFileSync(path, mine, { mode: 0o600 });
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}
