/**
 * The `fileUpload` and `filesAdapter` options: Parse's keys and defaults, partial objects keep the
 * defaults, broken patterns and unknown keys stop the start, JSON in the environment.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, type LoadResult } from '../src/config/load.ts';
import { UNSUPPORTED_OPTIONS } from '../src/config/unsupported.ts';

const MASTER = 'Str0ng-Master-Key-For-Tests-0123456789';

async function load(content: Record<string, unknown>, env: Record<string, string> = {}): Promise<LoadResult> {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-files-config-'));
  const file = join(cwd, 'config.json');
  await writeFile(file, JSON.stringify({ appId: 'a', masterKey: MASTER, ...content }));
  return loadConfig({ argv: ['--config', file], env, cwd });
}

function config(result: LoadResult) {
  if (!result.ok) assert.fail(result.problems.join('\n'));
  return result.config;
}

function problems(result: LoadResult): string {
  if (result.ok) assert.fail('expected problems');
  return result.problems.join('\n');
}

test('fileUpload: Parse defaults; a partial object keeps the others; fileExtensions kept as given', async () => {
  assert.deepEqual(config(await load({})).fileUpload, { enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: true });
  const partial = config(await load({ fileUpload: { enableForPublic: true, fileExtensions: ['^(png|jpe?g)$', '*'] } })).fileUpload;
  assert.deepEqual(partial, { enableForPublic: true, enableForAnonymousUser: false, enableForAuthenticatedUser: true, fileExtensions: ['^(png|jpe?g)$', '*'] });
  const fromEnv = config(await load({}, { PARSEC_FILE_UPLOAD: '{"enableForAuthenticatedUser": false}' })).fileUpload;
  assert.equal(fromEnv?.enableForAuthenticatedUser, false);
  assert.equal(UNSUPPORTED_OPTIONS.has('fileUpload'), false);
  assert.equal(UNSUPPORTED_OPTIONS.has('filesAdapter'), false);
});

test('fileUpload: wrong types, unknown keys and broken patterns stop the start', async () => {
  assert.match(problems(await load({ fileUpload: { enableForPublic: 'yes' } })), /enableForPublic must be true or false/);
  assert.match(problems(await load({ fileUpload: { enableForPublik: true } })), /enableForPublik is not a fileUpload key.*enableForPublic/);
  assert.match(problems(await load({ fileUpload: { fileExtensions: ['(unclosed'] } })), /not a valid regular expression/);
  assert.match(problems(await load({ fileUpload: { fileExtensions: 'png' } })), /fileExtensions must be an array/);
  assert.match(problems(await load({ fileUpload: true })), /fileUpload/);
});

test('filesAdapter: a module name, {module, options}, or JSON in the environment', async () => {
  assert.equal(config(await load({})).filesAdapter, undefined);
  assert.deepEqual(config(await load({ filesAdapter: 'fs' })).filesAdapter, { module: 'fs', options: {} });
  assert.deepEqual(config(await load({ filesAdapter: { module: '@parse/fs-files-adapter', options: { filesSubDirectory: 'app' } } })).filesAdapter, {
    module: '@parse/fs-files-adapter',
    options: { filesSubDirectory: 'app' },
  });
  assert.deepEqual(config(await load({}, { PARSEC_FILES_ADAPTER: '{"module":"fs","options":{"directory":"/tmp/x"}}' })).filesAdapter, { module: 'fs', options: { directory: '/tmp/x' } });
  assert.match(problems(await load({ filesAdapter: { options: {} } })), /module must be a non-empty string/);
  assert.match(problems(await load({ filesAdapter: 42 })), /filesAdapter/);
});
