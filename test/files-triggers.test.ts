/**
 * File triggers (`Parse.Cloud.beforeSave/afterSave/beforeDelete/afterDelete/beforeFind/afterFind(Parse.File, …)`):
 * what they see, refusing and renaming in beforeSave (what a trigger returns is judged again like a client's
 * upload, and a file from a URI is never fetched), refusing deletes, cloud code's own Parse.File calls staying
 * in process, and download triggers guarding whole, ranged and metadata downloads (GHSA-hwx8-q9cg-mqmc,
 * GHSA-hpm8-9qx6-jvwv) with their validators.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call } from './helpers/http.ts';
import { local, request, uploadRaw } from './helpers/files.ts';
import { APP_ID, MASTER_KEY, engines, startTestServer, type TestServer } from './helpers/server.ts';

const FILES = fileURLToPath(new URL('./fixtures/cloud/files.js', import.meta.url));
const FIND_TRIGGER = fileURLToPath(new URL('./fixtures/cloud/files-find-trigger.js', import.meta.url));
const FIND = fileURLToPath(new URL('./fixtures/cloud/files-find.js', import.meta.url));

for (const engine of engines()) {
  describe(`file triggers (${engine})`, () => {
    let server: TestServer;
    let user: { objectId: string; sessionToken: string };
    const events = async (): Promise<Record<string, unknown>[]> => (await call(server.url, '/functions/fileEvents', { method: 'POST', master: true, body: {} })).body.result;
    const asUser = () => ({ 'X-Parse-Session-Token': user.sessionToken });
    const storedCount = async () => (await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_Files"').catch(() => ({ rows: [{ n: 0 }] }))).rows[0]?.n;

    before(async () => {
      server = await startTestServer(engine, { cloud: FILES });
      user = (await call(server.url, '/users', { method: 'POST', body: { username: `filer-${engine}`, password: 'pw-123456' } })).body;
    });
    after(async () => server.stop());

    test('beforeSave and afterSave see the file, its size, the caller and the request', async () => {
      const uploaded = await uploadRaw(server, 'plain.txt', 'hello', { contentType: 'text/plain', headers: asUser() });
      assert.equal(uploaded.status, 201);
      const [beforeSave, afterSave] = await events();
      assert.deepEqual(beforeSave, { trigger: 'beforeSave', name: 'plain.txt', url: null, fileSize: 5, contentLength: 5, user: user.objectId, master: false, hasHeaders: true, ip: 'string' });
      assert.equal(afterSave?.trigger, 'afterSave');
      assert.equal(afterSave?.name, uploaded.body.name);
      assert.equal(afterSave?.url, uploaded.body.url);
    });

    test('beforeSave refusing stores nothing: a Parse.Error keeps its code, another throw is 141', async () => {
      const before = await storedCount();
      assert.deepEqual((await uploadRaw(server, 'refuse.txt', 'x', { contentType: 'text/plain', headers: asUser() })).body, { code: 130, error: 'No refused files.' });
      assert.deepEqual((await uploadRaw(server, 'crash.txt', 'x', { contentType: 'text/plain', headers: asUser() })).body, { code: 141, error: 'trigger bug' });
      assert.equal(await storedCount(), before);
      assert.deepEqual((await events()).map((event) => event.trigger), ['beforeSave', 'beforeSave'], 'no afterSave for a refused file');
    });

    test('beforeSave returning a new Parse.File renames it and replaces its data', async () => {
      const uploaded = await uploadRaw(server, 'rename-me.txt', 'original', { contentType: 'text/plain', headers: asUser() });
      assert.equal(uploaded.status, 201);
      assert.match(uploaded.body.name, /^[0-9a-f]{32}_renamed\.txt$/);
      assert.equal((await request(local(server, uploaded.body.url), { bare: true })).bytes.toString(), 'changed by trigger');
      await events();
    });

    test("what beforeSave returns is judged like the client's upload; a URI file is never fetched", async () => {
      const before = await storedCount();
      assert.deepEqual((await uploadRaw(server, 'evil-ish.txt', 'x', { contentType: 'text/plain', headers: asUser() })).body, { code: 130, error: 'File upload of extension html is disabled.' });
      assert.equal((await uploadRaw(server, 'traverse.txt', 'x', { contentType: 'text/plain', headers: asUser() })).body.code, 122);
      assert.equal((await uploadRaw(server, 'fetch.txt', 'x', { contentType: 'text/plain', headers: asUser() })).body.code, 130);
      assert.equal(await storedCount(), before);
      await events();
    });

    test('beforeDelete may refuse; afterDelete sees the deleted file', async () => {
      const kept = await uploadRaw(server, 'keep.txt', 'x', { contentType: 'text/plain', master: true });
      const refused = await request(`${server.url}/files/${kept.body.name}`, { method: 'DELETE', master: true });
      assert.deepEqual(refused.body, { code: 153, error: 'This file stays.' });
      assert.equal((await request(local(server, kept.body.url), { bare: true })).status, 200);
      const doomed = await uploadRaw(server, 'doomed.txt', 'x', { contentType: 'text/plain', master: true });
      await events();
      assert.equal((await request(`${server.url}/files/${doomed.body.name}`, { method: 'DELETE', master: true })).status, 200);
      const seen = await events();
      assert.deepEqual(seen.map((event) => event.trigger), ['beforeDelete', 'afterDelete']);
      assert.equal(seen[1]?.name, doomed.body.name);
      assert.equal(seen[1]?.master, true);
    });

    test("cloud code's Parse.File save and destroy run in process through the same triggers", async () => {
      const result = await call(server.url, '/functions/saveFromCloud', { method: 'POST', master: true, body: {} });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.match(result.body.result, /^[0-9a-f]{32}_cloud\.txt$/);
      assert.deepEqual((await events()).map((event) => event.trigger), ['beforeSave', 'afterSave', 'beforeDelete', 'afterDelete']);
    });
  });

  describe(`file download triggers (${engine})`, () => {
    let server: TestServer;
    let user: { objectId: string; sessionToken: string };
    const events = async (): Promise<Record<string, unknown>[]> => (await call(server.url, '/functions/findEvents', { method: 'POST', master: true, body: {} })).body.result;
    const stored = async (name: string, text: string): Promise<{ name: string; url: string }> => {
      const uploaded = await uploadRaw(server, name, text, { contentType: 'text/plain', master: true });
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      return uploaded.body;
    };
    /** A plain GET of the file URL, as a browser or the SDK makes it: no keys, no session. */
    const download = (url: string, headers: Record<string, string> = {}) => request(local(server, url), { bare: true, headers });
    const metadataUrl = (file: { name: string }) => `${server.url}/files/${APP_ID}/metadata/${file.name}`;

    before(async () => {
      server = await startTestServer(engine, { cloud: FIND });
      user = (await call(server.url, '/users', { method: 'POST', body: { username: `finder-${engine}`, password: 'pw-123456' } })).body;
    });
    after(async () => server.stop());

    test('beforeFind and afterFind see the file, the caller and the request; a plain GET has no user', async () => {
      const file = await stored('plain.txt', 'hello');
      await events();
      const plain = await download(file.url, { 'X-Probe': 'p1' });
      assert.equal(plain.status, 200);
      assert.equal(plain.bytes.toString(), 'hello');
      const [beforeFind, afterFind] = await events();
      assert.deepEqual(beforeFind, { trigger: 'beforeFind', name: file.name, url: file.url, user: null, master: false, ip: 'string', probe: 'p1', leaksToken: false });
      assert.equal(afterFind?.trigger, 'afterFind');
      // A download that presents a session token is made by that user; the token is not in request.headers.
      assert.equal((await download(file.url, { 'X-Parse-Session-Token': user.sessionToken })).status, 200);
      const [asUser] = await events();
      assert.equal(asUser?.user, user.objectId);
      assert.equal(asUser?.leaksToken, false);
      assert.equal((await download(file.url, { 'X-Parse-Master-Key': MASTER_KEY })).status, 200);
      assert.equal((await events())[0]?.master, true);
    });

    test('a refusing beforeFind sends no bytes, on whole, ranged and metadata downloads alike', async () => {
      const secret = await stored('secret.txt', 'the secret bytes');
      await events();
      for (const headers of [{}, { Range: 'bytes=0-2' }, { Range: 'bytes=-3' }] as Record<string, string>[]) {
        const refused = await download(secret.url, headers);
        assert.equal(refused.status, 403, JSON.stringify(headers));
        assert.deepEqual(refused.body, { code: 119, error: 'No secrets.' });
        assert.ok(!refused.bytes.toString().includes('secret bytes'));
      }
      const metadata = await request(metadataUrl(secret), { bare: true });
      assert.equal(metadata.status, 403);
      assert.deepEqual(metadata.body, { code: 119, error: 'No secrets.' });
      assert.deepEqual((await events()).map((event) => event.trigger), ['beforeFind', 'beforeFind', 'beforeFind', 'beforeFind'], 'afterFind never runs for a refused download');
      const crash = await stored('crash.txt', 'x');
      assert.deepEqual((await download(crash.url)).body, { code: 141, error: 'find trigger bug' });
      await events();
    });

    test('a trigger that needs a user refuses plain GETs and serves a session; a bad token is 209, never anonymous', async () => {
      const members = await stored('members.txt', 'for members');
      assert.deepEqual((await download(members.url)).body, { code: 119, error: 'Members only.' });
      const served = await download(members.url, { 'X-Parse-Session-Token': user.sessionToken });
      assert.equal(served.status, 200);
      assert.equal(served.bytes.toString(), 'for members');
      const forged = await download(members.url, { 'X-Parse-Session-Token': 'r:not-a-real-token' });
      assert.equal(forged.status, 400);
      assert.equal(forged.body.code, 209);
      await events();
    });

    test('afterFind refuses, replaces the data, or forces a download; a new name never changes the content type', async () => {
      const late = await stored('late.txt', 'late bytes');
      const refused = await download(late.url, { Range: 'bytes=0-1' });
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, { code: 119, error: 'Too late.' });
      const redacted = await stored('redact.txt', 'original');
      assert.equal((await download(redacted.url)).bytes.toString(), 'redacted');
      const ranged = await download(redacted.url, { Range: 'bytes=0-2' });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.bytes.toString(), 'red', 'a range applies to what afterFind serves');
      const renamed = await stored('rename.txt', 'plain');
      const page = await download(renamed.url);
      assert.match(page.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      const attached = await stored('attach.txt', 'x');
      assert.equal((await download(attached.url)).headers.get('content-disposition'), 'attachment');
      const peek = await stored('peek.txt', 'seen by afterFind');
      await events();
      await download(peek.url);
      assert.deepEqual((await events()).find((event) => event.trigger === 'data'), { trigger: 'data', text: 'seen by afterFind' });
    });

    test('beforeFind may serve another stored file, but a name that could not be stored is 404', async () => {
      const target = await stored('target.txt', 'the target');
      await call(server.url, '/functions/setAlias', { method: 'POST', master: true, body: { alias: 'shortcut', target: target.name } });
      const alias = await stored('shortcut.txt', 'the alias itself');
      assert.equal((await download(alias.url)).bytes.toString(), 'the target');
      const escape = await stored('escape.txt', 'x');
      const refused = await download(escape.url);
      assert.equal(refused.status, 404);
      assert.deepEqual(refused.body, { code: 101, error: 'File not found.' });
      await events();
    });
  });

  test(`a requireUser validator on a download trigger guards every download path (${engine})`, async () => {
    const server = await startTestServer(engine, { cloud: FIND_TRIGGER });
    try {
      const user = (await call(server.url, '/users', { method: 'POST', body: { username: `validated-${engine}`, password: 'pw-123456' } })).body;
      const file = (await uploadRaw(server, 'guarded.txt', 'guarded bytes', { contentType: 'text/plain', master: true })).body;
      for (const [label, url, headers] of [
        ['whole', local(server, file.url), {}],
        ['ranged', local(server, file.url), { Range: 'bytes=0-2' }],
        ['metadata', `${server.url}/files/${APP_ID}/metadata/${file.name}`, {}],
      ] as const) {
        const refused = await request(url, { bare: true, headers });
        assert.equal(refused.status, 403, label);
        assert.equal(refused.body.code, 142, label);
        assert.ok(!refused.bytes.toString().includes('guarded bytes'), label);
      }
      const allowed = await request(local(server, file.url), { bare: true, headers: { 'X-Parse-Session-Token': user.sessionToken } });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.bytes.toString(), 'guarded bytes');
    } finally {
      await server.stop();
    }
  });
}
