import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { passwordHashing } from './hashing-limit.ts';

/**
 * Password hashing. New hashes use scrypt from Node's crypto (memory-hard; runs on the libuv thread pool,
 * so it never blocks the event loop). The parameters travel inside the stored string, so they can be
 * raised later without breaking existing hashes. bcrypt hashes (as Parse Server stores them) still verify
 * and are reported as needing a rehash, so a migrated database upgrades itself at each user's next login.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const PREFIX = '$scrypt$';

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return passwordHashing.run(
    () =>
      new Promise((resolve, reject) => {
        scryptCallback(password.normalize('NFKC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
      }),
  );
}

const memoryFor = (N: number, r: number, p: number): number => 128 * N * r * p + 8 * 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: memoryFor(PARAMS.N, PARAMS.r, PARAMS.p) });
  return `${PREFIX}N=${PARAMS.N},r=${PARAMS.r},p=${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export interface Verification {
  readonly ok: boolean;
  /** The hash uses an older algorithm or weaker parameters: store a new one after a successful login. */
  readonly needsRehash: boolean;
}

const SCRYPT_HASH = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

async function verifyScrypt(password: string, match: RegExpExecArray): Promise<Verification> {
  const [, n, r, p, salt = '', expected = ''] = match;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // Stored parameters are bounded so a tampered row cannot make one login allocate gigabytes.
  if (!(N >= 2 ** 10 && N <= 2 ** 20 && R >= 1 && R <= 32 && P >= 1 && P <= 16)) return { ok: false, needsRehash: false };
  const expectedKey = Buffer.from(expected, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expectedKey.length, { N, r: R, p: P, maxmem: memoryFor(N, R, P) });
  const ok = key.length === expectedKey.length && timingSafeEqual(key, expectedKey);
  return { ok, needsRehash: ok && (N < PARAMS.N || R < PARAMS.r || P < PARAMS.p) };
}

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<Verification> {
  if (typeof stored === 'string') {
    const scryptMatch = SCRYPT_HASH.exec(stored);
    if (scryptMatch !== null) return verifyScrypt(password, scryptMatch);
    if (BCRYPT_HASH.test(stored)) {
      const ok = await passwordHashing.run(() => bcrypt.compare(password, stored));
      return { ok, needsRehash: ok };
    }
  }
  await burnEquivalentWork(password);
  return { ok: false, needsRehash: false };
}

let dummyHash: Promise<string> | undefined;

/**
 * The work of one verification against a throw-away hash: a login for an unknown user (or one without a
 * password) costs the same as a wrong password, so response time does not reveal which accounts exist.
 */
export async function burnEquivalentWork(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const match = SCRYPT_HASH.exec(await dummyHash);
  if (match !== null) await verifyScrypt(password, match);
}
