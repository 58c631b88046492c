/**
 * The hashing limit: how many password verifications per second this machine does, run inside Parsec's
 * child (same process, same libuv thread pool as its logins) while no HTTP load is applied. Each operation
 * is Parsec's own `verifyPassword` of the right password against a hash made by its own `hashPassword`,
 * exactly the hashing work of one successful login.
 */
import { hashPassword, verifyPassword } from '../src/auth/password.ts';
import { measureLoops } from './loops.ts';

export interface HashLimit {
  readonly verificationsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly verifications: number;
  /** Failed verifications, warm-up included: any is a bench bug. */
  readonly errors: number;
  /** libuv's thread pool size in the child (UV_THREADPOOL_SIZE, default 4): scrypt runs there. */
  readonly threadPool: number;
}

export interface HashLimitRequest {
  readonly concurrency: number;
  readonly warmupSec: number;
  readonly durationSec: number;
}

const PASSWORD = 'bench-password-hash-limit';
let stored: Promise<string> | undefined;

/** One verification; it queues behind every hash already submitted to the (FIFO) thread pool. */
export async function verifyOnce(): Promise<void> {
  stored ??= hashPassword(PASSWORD);
  const { ok } = await verifyPassword(PASSWORD, await stored);
  if (!ok) throw new Error('verifyPassword rejected the right password');
}

export async function measureHashLimit({ concurrency, warmupSec, durationSec }: HashLimitRequest): Promise<HashLimit> {
  await verifyOnce();
  const summary = await measureLoops('hashing limit', concurrency, warmupSec, durationSec, verifyOnce);
  const pool = Number(process.env.UV_THREADPOOL_SIZE);
  return {
    verificationsPerSec: summary.perSec,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    verifications: summary.completed,
    errors: summary.errors,
    threadPool: Number.isInteger(pool) && pool > 0 ? pool : 4,
  };
}
