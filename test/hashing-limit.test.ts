import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashingLimit } from '../src/auth/hashing-limit.ts';

test('password hashing: at most N run at once, a bounded queue waits, the rest is refused with 100', async () => {
  const limit = new HashingLimit(2, 3);
  let running = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<string>((resolve) => {
      running++;
      peak = Math.max(peak, running);
      releases.push(() => {
        running--;
        resolve('done');
      });
    });
  const accepted = Array.from({ length: 5 }, () => limit.run(work));
  await assert.rejects(limit.run(work), (error: { code?: number }) => error.code === 100, 'the sixth is refused at once');
  while (releases.length > 0 || running > 0) {
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
  }
  assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done', 'done', 'done']);
  assert.equal(peak, 2);
  assert.equal(await limit.run(() => Promise.resolve('free again')), 'free again');
});

test('a failing hash releases its slot', async () => {
  const limit = new HashingLimit(1, 0);
  await assert.rejects(limit.run(() => Promise.reject(new Error('boom'))));
  assert.equal(await limit.run(() => Promise.resolve(1)), 1);
});
