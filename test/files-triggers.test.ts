/**
 * File triggers (`Parse.Cloud.beforeSave/afterSave/beforeDelete/afterDelete(Parse.File, …)`): what they see,
 * refusing and renaming in beforeSave (what a trigger returns is judged again like a client's upload, and a
 * file from a URI is never fetched), refusing deletes, and cloud code's own Parse.File calls staying in process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call } from './helpers/http.ts';
import { local, request, uploadRaw } from './helpers/files.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const FILES = fileURLToPath(new URL('./fixtures/cloud/files.js', import.meta.url));
const FIND_TRIGGER = fileURLToPath(new URL('./fixtures/cloud/files-find-trigger.js', import.meta.url));

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

  test(`a download trigger on Parse.File stops the start (${engine})`, async () => {
    await assert.rejects(startTestServer(engine, { cloud: FIND_TRIGGER }), /file download triggers are not supported/);
  });
}
