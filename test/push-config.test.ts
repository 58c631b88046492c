/**
 * The `push` and `scheduledPush` options as a config file gives them: Parse's `{adapter}` forms (a module name,
 * `{module, options}`), Parse's built-in `{ios, android}` form (which loads @parse/push-adapter, as Parse
 * does), Parsec's `sendTimeoutMs`, and problems that never echo the value (it may hold APNs/FCM keys).
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, type LoadResult } from '../src/config/load.ts';

const MASTER = 'Str0ng-Master-Key-For-Tests-0123456789';

async function load(extra: Record<string, unknown>): Promise<LoadResult> {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-push-config-'));
  const file = join(cwd, 'config.json');
  await writeFile(file, JSON.stringify({ appId: 'a', masterKey: MASTER, ...extra }));
  return loadConfig({ argv: ['--config', file], env: {}, cwd });
}

const config = (result: LoadResult) => {
  if (!result.ok) assert.fail(result.problems.join('\n'));
  return result.config;
};
const problems = (result: LoadResult): string => {
  if (result.ok) assert.fail('expected problems');
  return result.problems.join('\n');
};

test('push: off by default; scheduledPush false by default', async () => {
  const loaded = config(await load({}));
  assert.equal(loaded.push, undefined);
  assert.equal(loaded.scheduledPush, false);
  assert.equal(config(await load({ scheduledPush: true })).scheduledPush, true);
});

test("push: Parse's adapter forms and the built-in {ios, android} form", async () => {
  assert.deepEqual(config(await load({ push: { adapter: 'my-push-adapter' } })).push, { adapter: { module: 'my-push-adapter', options: {} }, sendTimeoutMs: 60_000 });
  assert.deepEqual(config(await load({ push: { adapter: { module: './push.js', options: { key: 'k' } }, sendTimeoutMs: 5000 } })).push, {
    adapter: { module: './push.js', options: { key: 'k' } },
    sendTimeoutMs: 5000,
  });
  assert.deepEqual(config(await load({ push: { ios: { topic: 't' }, android: { apiKey: 'x' } } })).push, {
    adapter: { module: '@parse/push-adapter', options: { ios: { topic: 't' }, android: { apiKey: 'x' } } },
    sendTimeoutMs: 60_000,
  });
});

test('push: bad values are problems that never show the value', async () => {
  for (const bad of ['text', [], {}, { adapter: 3 }, { adapter: { module: '' } }, { adapter: { module: 'm', options: 'secret-key-text' } }, { adapter: { module: 'm', extra: 1 } }, { adapter: 'm', sendTimeoutMs: 0 }]) {
    const reported = problems(await load({ push: bad }));
    assert.match(reported, /push/, JSON.stringify(bad));
    assert.doesNotMatch(reported, /secret-key-text/);
  }
  assert.match(problems(await load({ scheduledPush: 'yes' })), /scheduledPush/);
});
