/**
 * Files over HTTP and with the official SDK: upload (raw bytes and the SDK's base64 JSON form), download
 * with a content type decided by the stored name and `nosniff`, ranges, deletion by the master key only,
 * File values in objects, and limits. Permissions, adapters, triggers and fuzzing have their own files.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { local, rawGet, request, uploadJson, uploadRaw } from './helpers/files.ts';
import { parseSdk } from './helpers/sdk.ts';
import { APP_ID, engines, startTestServer, type TestServer } from './helpers/server.ts';

const READ_ONLY_KEY = 'test-read-only-master-key-0123456789';
const STORED_NAME = /^[0-9a-f]{32}_/;

for (const engine of engines()) {
  describe(`files (${engine})`, () => {
    let server: TestServer;
    let session: { objectId: string; sessionToken: string };
    const asUser = (): Record<string, string> => ({ 'X-Parse-Session-Token': session.sessionToken });

    before(async () => {
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY });
      session = (await call(server.url, '/users', { method: 'POST', body: { username: `files-${engine}`, password: 'pw-123456' } })).body;
    });
    after(async () => server.stop());

    test('SDK: a base64 Parse.File saves, is stored in an object, comes back with its URL, and downloads byte for byte', async () => {
      const Parse = parseSdk(server.url);
      const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
      const file = new Parse.File('a.txt', { base64: bytes.toString('base64') });
      await file.save({ sessionToken: session.sessionToken });
      assert.match(file.name(), /^[0-9a-f]{32}_a\.txt$/);
      assert.equal(file.url(), `${server.config.serverURL}/files/${APP_ID}/${file.name()}`);
      const doc = await new Parse.Object('Doc').save({ attachment: file }, { sessionToken: session.sessionToken });
      const fetched = await new Parse.Query('Doc').get(doc.id, { sessionToken: session.sessionToken });
      const attachment = fetched.get('attachment');
      assert.ok(attachment instanceof Parse.File);
      assert.equal(attachment.name(), file.name());
      assert.equal(attachment.url(), file.url());
      const downloaded = await request(local(server, attachment.url()), { bare: true });
      assert.equal(downloaded.status, 200);
      assert.deepEqual(downloaded.bytes, bytes);
      assert.equal(downloaded.headers.get('content-type'), 'text/plain');
    });

    test('SDK: a Buffer Parse.File uploads as raw bytes; destroy needs the master key', async () => {
      const Parse = parseSdk(server.url);
      const bytes = Buffer.from('%PDF-1.4 not really');
      const file = new Parse.File('report.pdf', bytes, 'application/pdf');
      await file.save({ sessionToken: session.sessionToken });
      const downloaded = await request(local(server, file.url()), { bare: true });
      assert.deepEqual(downloaded.bytes, bytes);
      assert.equal(downloaded.headers.get('content-type'), 'application/pdf');
      await assert.rejects(file.destroy({ useMasterKey: false }), 'without the master key');
      assert.equal((await request(local(server, file.url()), { bare: true })).status, 200, 'still there');
      await file.destroy({ useMasterKey: true });
      assert.equal((await request(local(server, file.url()), { bare: true })).status, 404);
    });

    test('raw upload: 201 {url, name} with Location; the name gets a random prefix; nosniff; no keys to download', async () => {
      const uploaded = await uploadRaw(server, 'hello.txt', 'hello world', { contentType: 'text/plain', headers: asUser() });
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      assert.deepEqual(Object.keys(uploaded.body).sort(), ['name', 'url']);
      assert.match(uploaded.body.name, STORED_NAME);
      assert.equal(uploaded.headers.get('location'), uploaded.body.url);
      const again = await uploadRaw(server, 'hello.txt', 'hello world', { contentType: 'text/plain', headers: asUser() });
      assert.notEqual(again.body.name, uploaded.body.name, 'two uploads of one name are two files');
      const downloaded = await request(local(server, uploaded.body.url), { bare: true });
      assert.equal(downloaded.status, 200);
      assert.equal(downloaded.bytes.toString(), 'hello world');
      assert.equal(downloaded.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(downloaded.headers.get('accept-ranges'), 'bytes');
    });

    test('the served type comes from the stored name, never from what the uploader claimed', async () => {
      const lying = await uploadRaw(server, 'evil.txt', '<script>alert(1)</script>', { contentType: 'text/html', headers: asUser() });
      assert.equal(lying.status, 201);
      assert.equal((await request(local(server, lying.body.url), { bare: true })).headers.get('content-type'), 'text/plain');
      const viaJson = await uploadJson(server, 'evil2.txt', { base64: Buffer.from('<b>x</b>').toString('base64'), _ContentType: 'text/html', _SessionToken: session.sessionToken });
      assert.equal(viaJson.status, 201, JSON.stringify(viaJson.body));
      assert.equal((await request(local(server, viaJson.body.url), { bare: true })).headers.get('content-type'), 'text/plain');
      // A name without an extension takes one from its content type, as Parse does; unknown types get none.
      const png = await uploadRaw(server, 'photo', Buffer.from([0x89, 0x50, 0x4e, 0x47]), { contentType: 'image/png', headers: asUser() });
      assert.match(png.body.name, /_photo\.png$/);
      assert.equal((await request(local(server, png.body.url), { bare: true })).headers.get('content-type'), 'image/png');
      const unknown = await uploadRaw(server, 'blob', Buffer.from([1, 2, 3]), { contentType: 'application/x-made-up', headers: asUser() });
      assert.match(unknown.body.name, /_blob$/);
      assert.equal((await request(local(server, unknown.body.url), { bare: true })).headers.get('content-type'), 'application/octet-stream');
    });

    test('ranges: one range is 206; suffix, open-ended and clamped; bad or unsatisfiable is 416; several ranges get the whole file', async () => {
      const uploaded = await uploadRaw(server, 'digits.txt', '0123456789', { contentType: 'text/plain', headers: asUser() });
      const url = local(server, uploaded.body.url);
      const get = (range: string) => request(url, { bare: true, headers: { Range: range } });
      const partial = async (range: string, text: string, contentRange: string) => {
        const response = await get(range);
        assert.equal(response.status, 206, range);
        assert.equal(response.bytes.toString(), text, range);
        assert.equal(response.headers.get('content-range'), contentRange, range);
        assert.equal(response.headers.get('x-content-type-options'), 'nosniff', range);
        assert.equal(response.headers.get('content-type'), 'text/plain', range);
      };
      await partial('bytes=0-3', '0123', 'bytes 0-3/10');
      await partial('bytes=-3', '789', 'bytes 7-9/10');
      await partial('bytes=6-', '6789', 'bytes 6-9/10');
      await partial('bytes=8-100', '89', 'bytes 8-9/10');
      await partial('bytes=-100', '0123456789', 'bytes 0-9/10');
      for (const range of ['bytes=10-', 'bytes=100-200', 'bytes=abc-', 'bytes=5-2', 'bytes=-', 'bytes=-0', 'bytes=1-x', 'bytes=--1']) {
        const response = await get(range);
        assert.equal(response.status, 416, range);
        assert.equal(response.headers.get('content-range'), 'bytes */10', range);
        assert.equal(response.headers.get('x-content-type-options'), 'nosniff', range);
      }
      for (const range of ['bytes=0-1,4-5', 'bytes=0-0,0-0,0-0', 'items=0-3', 'nonsense']) {
        const response = await get(range);
        assert.equal(response.status, 200, range);
        assert.equal(response.bytes.toString(), '0123456789', range);
      }
    });

    test('downloads: an unknown app is 403 with code 119; an unknown or impossible name is 404', async () => {
      const uploaded = await uploadRaw(server, 'x.txt', 'x', { contentType: 'text/plain', headers: asUser() });
      const wrongApp = await request(`${server.url}/files/other-app/${uploaded.body.name}`, { bare: true });
      assert.equal(wrongApp.status, 403);
      assert.deepEqual(wrongApp.body, { code: 119, error: 'Invalid application ID.' });
      // Sent as written (fetch would resolve `..` and `%2e%2e` before sending).
      for (const name of ['0123456789abcdef0123456789abcdef_missing.txt', '..', '%2e%2e', '.%2E', '..%2F..%2Fetc%2Fpasswd', '.env', 'a%5Cb', '%2E%2E%5Cx']) {
        const response = await rawGet(server, `/files/${APP_ID}/${name}`);
        assert.equal(response.status, 404, name);
        assert.equal(response.body.code, 101, name);
      }
      assert.equal((await rawGet(server, `/files/${APP_ID}/a%00b`)).status, 400, 'NUL is a malformed URL');
      const metadata = await request(`${server.url}/files/${APP_ID}/metadata/${uploaded.body.name}`, { bare: true });
      assert.deepEqual(metadata.body, {});
    });

    test('delete: master key only (clients 403, read-only master 119); unknown file 153', async () => {
      const uploaded = await uploadRaw(server, 'doomed.txt', 'bye', { contentType: 'text/plain', headers: asUser() });
      const path = `${server.url}/files/${uploaded.body.name}`;
      const client = await request(path, { method: 'DELETE' });
      assert.equal(client.status, 403);
      assert.deepEqual(client.body, { error: 'unauthorized: master key is required' });
      assert.equal((await request(path, { method: 'DELETE', headers: asUser() })).status, 403);
      const readOnly = await request(path, { method: 'DELETE', headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } });
      assert.equal(readOnly.status, 400);
      assert.equal(readOnly.body.code, 119);
      assert.equal((await request(local(server, uploaded.body.url), { bare: true })).status, 200, 'nothing was deleted');
      const deleted = await request(path, { method: 'DELETE', master: true });
      assert.equal(deleted.status, 200);
      assert.equal((await request(local(server, uploaded.body.url), { bare: true })).status, 404);
      const twice = await request(path, { method: 'DELETE', master: true });
      assert.deepEqual(twice.body, { code: 153, error: 'Could not delete file.' });
    });

    test('the read-only master key uploads nothing (119)', async () => {
      const refused = await uploadRaw(server, 'ro.txt', 'x', { contentType: 'text/plain', headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 119);
    });

    test('File values: stored by name, the URL is made on read; a URL from the client is never fetched', async () => {
      let hits = 0;
      const bait = createServer((_req, res) => {
        hits += 1;
        res.end('secret');
      });
      await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
      const baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}/internal`;
      try {
        const created = await call(server.url, '/classes/Doc', {
          method: 'POST',
          body: { file: { __type: 'File', name: 'abc_x.txt', url: baitUrl } },
          headers: asUser(),
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const read = await call(server.url, `/classes/Doc/${created.body.objectId}`, { headers: asUser() });
        assert.deepEqual(read.body.file, { __type: 'File', name: 'abc_x.txt', url: `${server.config.serverURL}/files/${APP_ID}/abc_x.txt` });
        const urlOnly = await call(server.url, '/classes/Doc', { method: 'POST', body: { file: { __type: 'File', url: baitUrl } }, headers: asUser() });
        assert.equal(urlOnly.status, 400);
        assert.equal(urlOnly.body.code, 111);
        assert.equal(hits, 0, 'the server fetched a client-supplied URL');
      } finally {
        await new Promise((resolve) => bait.close(resolve));
      }
    });

    test('a batch cannot carry files; missing names are 122', async () => {
      const batch = await call(server.url, '/batch', {
        method: 'POST',
        body: { requests: [{ method: 'POST', path: '/parse/files/a.txt', body: { base64: 'eA==' } }] },
        master: true,
      });
      assert.equal(batch.status, 200);
      assert.equal(batch.body[0].error.code, 107);
      const noName = await uploadRaw(server, '', 'x', { contentType: 'text/plain', master: true });
      assert.deepEqual(noName.body, { code: 122, error: 'Filename not provided.' });
    });
  });

  describe(`files size limit (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { maxRequestBytes: 1000 });
    });
    after(async () => server.stop());

    test('maxUploadSize (maxRequestBytes) bounds the file in both forms: 413, nothing stored', async () => {
      const exact = await uploadRaw(server, 'fits.bin', Buffer.alloc(1000, 1), { contentType: 'application/octet-stream', master: true });
      assert.equal(exact.status, 201);
      const raw = await uploadRaw(server, 'big.bin', Buffer.alloc(1001, 1), { contentType: 'application/octet-stream', master: true });
      assert.equal(raw.status, 413);
      assert.equal(raw.body.code, 116);
      // The base64 form of a 1001-byte file fits the upload route's body limit, so the decoded size decides.
      const json = await uploadJson(server, 'big.bin', { base64: Buffer.alloc(1001, 1).toString('base64') }, { master: true });
      assert.equal(json.status, 413);
      assert.equal(json.body.code, 116);
      const huge = await uploadRaw(server, 'huge.bin', Buffer.alloc(10_000, 1), { contentType: 'application/octet-stream', master: true });
      assert.equal(huge.status, 413);
      const stored = await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_Files"');
      assert.equal(stored.rows[0]?.n, 1);
    });
  });
}
