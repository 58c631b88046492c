/**
 * Files adapters: the built-in file system adapter round-trips in a folder and never leaves it (traversal
 * by name over HTTP and by direct call); an adapter object given in code and an adapter module given by path
 * are used as Parse Server uses them (createFile with the stored name, data and content type).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { local, rawGet, request, uploadRaw } from './helpers/files.ts';
import { APP_ID, engines, startTestServer, type TestServer } from './helpers/server.ts';
import { filesystemFilesAdapter } from '../src/files/fs-adapter.ts';
import type { FilesAdapter } from '../src/files/adapter.ts';

for (const engine of engines()) {
  describe(`fs files adapter (${engine})`, () => {
    let server: TestServer;
    let root: string;
    let folder: string;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'parsec-files-'));
      folder = join(root, 'store');
      // A file next to the folder: no name may reach it.
      await writeFile(join(root, 'secret.txt'), 'do not serve');
      server = await startTestServer(engine, { filesAdapter: { module: 'fs', options: { directory: folder } } });
    });
    after(async () => server.stop());

    test('upload, read back from disk and over HTTP, delete removes it', async () => {
      const bytes = Buffer.from([7, 7, 7, 0, 255]);
      const uploaded = await uploadRaw(server, 'disk.bin', bytes, { contentType: 'application/octet-stream', master: true });
      assert.equal(uploaded.status, 201);
      assert.deepEqual(await readFile(join(folder, uploaded.body.name)), bytes);
      assert.deepEqual((await request(local(server, uploaded.body.url), { bare: true })).bytes, bytes);
      assert.equal((await request(`${server.url}/files/${uploaded.body.name}`, { method: 'DELETE', master: true })).status, 200);
      assert.deepEqual(await readdir(folder), []);
    });

    test('traversal names are refused on upload (122), and never read or delete outside the folder', async () => {
      for (const name of ['..%2Fescape.txt', '%2e%2e%2Fescape.txt', '..%5Cescape.txt', 'a%2Fb.txt', '.hidden.txt', '%00x.txt', 'x%0A.txt', `${'a'.repeat(125)}.txt`, 'x.txt.', 'x.txt%20']) {
        const result = await uploadRaw(server, name, 'x', { contentType: 'text/plain', master: true });
        assert.equal(result.status, 400, name);
        assert.ok(result.body.code === 122 || result.body.code === 107, `${name}: ${JSON.stringify(result.body)}`);
      }
      for (const path of ['..%2Fsecret.txt', '%2e%2e%2Fsecret.txt', '..', '%2e%2e', '..%5Csecret.txt']) {
        assert.equal((await rawGet(server, `/files/${APP_ID}/${path}`)).status, 404, path);
        const deleted = await request(`${server.url}/files/${path}`, { method: 'DELETE', master: true });
        assert.ok(deleted.status === 400 || deleted.status === 404 || deleted.status === 405, `${path}: ${deleted.status}`);
      }
      assert.equal(await readFile(join(root, 'secret.txt'), 'utf8'), 'do not serve');
      assert.deepEqual((await readdir(root)).sort(), ['secret.txt', 'store']);
    });

    test('the adapter itself refuses a path-like name whatever its caller checked', async () => {
      const adapter = filesystemFilesAdapter({ directory: folder }, root);
      for (const name of ['../secret.txt', '..', '/etc/passwd', 'a/b', 'a\\b', 'x\u0000', '']) {
        await assert.rejects(adapter.getFileData(name), name);
        await assert.rejects(adapter.createFile(name, Buffer.from('x')), name);
        await assert.rejects(adapter.deleteFile(name), name);
      }
      assert.throws(() => filesystemFilesAdapter({ filesSubDirectory: '../..' }, root), /inside/);
    });
  });

  describe(`custom files adapters (${engine})`, () => {
    test('an adapter object given in code stores what the server hands it', async () => {
      const stored = new Map<string, { data: Buffer; contentType: string | undefined }>();
      const adapter: FilesAdapter = {
        createFile: (name, data, contentType) => Promise.resolve(void stored.set(name, { data, contentType })),
        deleteFile: (name) => (stored.delete(name) ? Promise.resolve() : Promise.reject(new Error('missing'))),
        getFileData: (name) => {
          const entry = stored.get(name);
          return entry === undefined ? Promise.reject(new Error('missing')) : Promise.resolve(entry.data);
        },
      };
      const server = await startTestServer(engine, { filesAdapter: adapter });
      try {
        const uploaded = await uploadRaw(server, 'mem.png', Buffer.from([1, 2]), { contentType: 'image/png', master: true });
        assert.equal(uploaded.status, 201);
        assert.deepEqual(stored.get(uploaded.body.name), { data: Buffer.from([1, 2]), contentType: 'image/png' });
        assert.deepEqual((await request(local(server, uploaded.body.url), { bare: true })).bytes, Buffer.from([1, 2]));
      } finally {
        await server.stop();
      }
    });

    test('a module path with options is loaded as Parse loads adapters (a class constructed with its options)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'parsec-adapter-'));
      const module = join(dir, 'adapter.mjs');
      await writeFile(
        module,
        `const files = new Map();
export default class MemoryAdapter {
  constructor(options) { this.prefix = options.prefix; }
  async createFile(name, data) { files.set(name, Buffer.concat([Buffer.from(this.prefix), data])); }
  async deleteFile(name) { files.delete(name); }
  async getFileData(name) { if (!files.has(name)) throw new Error('missing'); return files.get(name); }
}
`,
      );
      const server = await startTestServer(engine, { filesAdapter: { module, options: { prefix: '>' } } });
      try {
        const uploaded = await uploadRaw(server, 'm.txt', 'hi', { contentType: 'text/plain', master: true });
        assert.equal((await request(local(server, uploaded.body.url), { bare: true })).bytes.toString(), '>hi');
      } finally {
        await server.stop();
      }
      await assert.rejects(startTestServer(engine, { filesAdapter: { module: join(dir, 'missing.mjs'), options: {} } }));
    });
  });
}
