/**
 * App id and master key for a server started without them: generated once, kept in
 * `<cwd>/.parsec/credentials.json` (directory 0700, file 0600) so a restart keeps working with the same
 * clients, and reused from then on. A configured value always wins over the stored one.
 *
 * Both values are generated together and the file is never rewritten: it is created atomically (written to a
 * private temporary file, then hard-linked into place, which fails rather than overwrites), so two servers
 * starting at once in the same directory end up with the same credentials.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { link, mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as types from './value-types.ts';

export interface Credentials {
  readonly appId: string;
  readonly masterKey: string;
}

export type CredentialsResult =
  | { readonly ok: true; readonly path: string; readonly credentials: Credentials | undefined }
  | { readonly ok: false; readonly problem: string };

export const CREDENTIALS_DIR = '.parsec';
const CREDENTIALS_FILE = 'credentials.json';

export function credentialsPath(cwd: string): string {
  return join(cwd, CREDENTIALS_DIR, CREDENTIALS_FILE);
}

// No 0/o/1/l: the app id is read off a terminal and typed into client code.
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Fresh credentials: a readable app id, and 32 random bytes (256 bits) as the master key. */
export function generateCredentials(): Credentials {
  const group = (): string => Array.from({ length: 4 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
  return {
    appId: `parsec-${group()}-${group()}-${group()}`,
    masterKey: randomBytes(32).toString('base64url'),
  };
}

function errorCode(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
}

/** The stored credentials, or undefined when none were generated yet. Never echoes their values. */
export async function readCredentials(cwd: string): Promise<CredentialsResult> {
  const path = credentialsPath(cwd);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { ok: true, path, credentials: undefined };
    return { ok: false, problem: `${path} cannot be read (${errorCode(err)})` };
  }
  try {
    // fstat on the opened file, so what is checked is what is read.
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, problem: `${path} is not a regular file` };
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8);
      return { ok: false, problem: `${path} holds the master key but other users may access it (mode ${mode}); run: chmod 600 ${path}` };
    }
    return parseCredentials(await handle.readFile('utf8'), path);
  } finally {
    await handle.close();
  }
}

function parseCredentials(text: string, path: string): CredentialsResult {
  const broken = (why: string): CredentialsResult => ({
    ok: false,
    problem: `${path} ${why}; fix it, or delete it to generate new credentials (clients using the old ones will stop working)`,
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return broken('is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return broken('must contain a JSON object');
  const record = data as Record<string, unknown>;
  const appId = Object.hasOwn(record, 'appId') ? types.appId.fromJson(record['appId']) : undefined;
  const masterKey = Object.hasOwn(record, 'masterKey') ? types.key.fromJson(record['masterKey']) : undefined;
  if (!appId?.ok) return broken(`has no valid appId${appId ? ` (it ${appId.reason})` : ''}`);
  if (!masterKey?.ok) return broken(`has no valid masterKey${masterKey ? ` (it ${masterKey.reason})` : ''}`);
  return { ok: true, path, credentials: { appId: appId.value, masterKey: masterKey.value } };
}

/**
 * Generates and stores credentials, unless another process stored some first, in which case those are
 * returned. Only called once the rest of the configuration is known to be valid, so a broken start never
 * leaves files behind.
 */
export async function createCredentials(cwd: string): Promise<CredentialsResult> {
  const path = credentialsPath(cwd);
  const dir = join(cwd, CREDENTIALS_DIR);
  const credentials = generateCredentials();
  const body = `${JSON.stringify({ ...credentials, createdAt: new Date().toISOString() }, null, 2)}\n`;
  const temporary = join(dir, `.${CREDENTIALS_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // 'wx' never follows or reuses an existing path; 0o600 so the key is private from the first byte.
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    return { ok: false, problem: `cannot store generated credentials in ${path} (${errorCode(err)}); set appId and masterKey instead` };
  }
  try {
    await link(temporary, path);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') return { ok: false, problem: `cannot store generated credentials in ${path} (${errorCode(err)})` };
    // Another process won the race: use what it stored.
    return await readCredentials(cwd);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return { ok: true, path, credentials };
}
