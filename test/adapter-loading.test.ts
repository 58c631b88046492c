import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { instantiateAdapter, loadAdapterModule } from '../src/adapters/load-module.ts';

/** The shapes Parse Server's loadAdapter accepts, which published files, push, email and auth adapters use. */
describe('adapter modules', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parsec-adapters-'));
    await writeFile(path.join(dir, 'class.mjs'), 'export default class Adapter { constructor(options) { this.options = options; } }\n');
    await writeFile(path.join(dir, 'factory.cjs'), 'module.exports = (options) => ({ made: "factory", options });\n');
    await writeFile(path.join(dir, 'object.mjs'), 'export const shape = "object"; export function send() { return 1; }\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a class is constructed with the options', async () => {
    const adapter = (await loadAdapterModule('./class.mjs', { key: 1 }, dir)) as { options: unknown };
    assert.equal(adapter.constructor.name, 'Adapter');
    assert.deepEqual(adapter.options, { key: 1 });
  });

  test('a factory (CommonJS, by absolute path) is called with the options', async () => {
    assert.deepEqual(await loadAdapterModule(path.join(dir, 'factory.cjs'), { key: 2 }, '/'), { made: 'factory', options: { key: 2 } });
  });

  test('a module without a default export is used as it is', async () => {
    const adapter = (await loadAdapterModule('./object.mjs', {}, dir)) as { shape: string; send: () => number };
    assert.equal(adapter.shape, 'object');
    assert.equal(adapter.send(), 1);
  });

  test('an old-style constructor that refuses to be called without new is constructed', () => {
    function Legacy(this: { options?: unknown }, options: unknown) {
      if (!(this instanceof Legacy)) throw new TypeError('Class constructor cannot be invoked without new');
      this.options = options;
    }
    const built = instantiateAdapter(Legacy, { key: 3 }) as { options: unknown };
    assert.ok(built instanceof Legacy);
    assert.deepEqual(built.options, { key: 3 });
  });

  test('an error other than a TypeError from a factory is not swallowed', () => {
    assert.throws(() => instantiateAdapter(() => {
      throw new RangeError('bad options');
    }, {}), RangeError);
  });

  test('a missing module rejects (the start fails, nothing is half-loaded)', async () => {
    await assert.rejects(loadAdapterModule('./missing.mjs', {}, dir));
  });
});
