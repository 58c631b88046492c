/** The version from package.json, read at run time so it cannot drift from the published package. */
import { readFile } from 'node:fs/promises';

export async function readVersion(): Promise<string> {
  try {
    const pkg: unknown = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Fall through: a missing version must not stop the server from starting.
  }
  return 'unknown';
}
