/**
 * Who may upload (`fileUpload`: public, anonymous users, users, each on or off; the master key always) and
 * which files: by default nothing a browser would run as active content (HTML, SVG, XML, scripts), judged
 * on the extension in any case, or, without one, on the content type stripped of its parameters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { local, request, uploadJson, uploadRaw } from './helpers/files.ts';
import { engines, startTestServer } from './helpers/server.ts';
import type { FileUploadOptions } from '../src/files/policy.ts';

type Who = 'public' | 'anonymous' | 'user' | 'master';

/** A server with `fileUpload`, a user and an anonymous user (authData.anonymous, set in the database: no sign-up path makes one yet). */
async function serverWith(engine: 'pglite' | 'postgres', fileUpload: FileUploadOptions | undefined) {
  const server = await startTestServer(engine, fileUpload === undefined ? {} : { fileUpload });
  const signUp = async (username: string) => (await call(server.url, '/users', { method: 'POST', body: { username, password: 'pw-123456' } })).body as { objectId: string; sessionToken: string };
  const user = await signUp('uploader');
  const anonymous = await signUp('anon');
  await server.parsec.services.driver.query(`UPDATE "_User" SET "authData" = '{"anonymous":{"id":"x"}}'::jsonb WHERE "objectId" = $1`, [anonymous.objectId]);
  const headers: Record<Who, { headers?: Record<string, string>; master?: boolean }> = {
    public: {},
    anonymous: { headers: { 'X-Parse-Session-Token': anonymous.sessionToken } },
    user: { headers: { 'X-Parse-Session-Token': user.sessionToken } },
    master: { master: true },
  };
  // Bytes (not a string), so that no content type is sent unless one is given.
  const upload = (who: Who, name = 'note.txt', contentType: string | undefined = 'text/plain') => uploadRaw(server, name, Buffer.from('content'), { contentType, ...headers[who] });
  return { server, upload };
}

const MATRIX: { label: string; fileUpload: FileUploadOptions | undefined; allowed: Who[] }[] = [
  { label: 'defaults', fileUpload: undefined, allowed: ['user', 'master'] },
  { label: 'public on', fileUpload: { enableForPublic: true, enableForAnonymousUser: false, enableForAuthenticatedUser: true }, allowed: ['public', 'user', 'master'] },
  { label: 'anonymous on', fileUpload: { enableForPublic: false, enableForAnonymousUser: true, enableForAuthenticatedUser: true }, allowed: ['anonymous', 'user', 'master'] },
  { label: 'all off', fileUpload: { enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: false }, allowed: ['master'] },
];

const MESSAGES: Record<Exclude<Who, 'master'>, string> = {
  public: 'File upload by public is disabled.',
  anonymous: 'File upload by anonymous user is disabled.',
  user: 'File upload by authenticated user is disabled.',
};

for (const engine of engines()) {
  describe(`file upload permissions (${engine})`, () => {
    for (const { label, fileUpload, allowed } of MATRIX) {
      test(`${label}: ${allowed.join(', ')} may upload`, async () => {
        const { server, upload } = await serverWith(engine, fileUpload);
        try {
          for (const who of ['public', 'anonymous', 'user', 'master'] as const) {
            const result = await upload(who);
            if (allowed.includes(who)) assert.equal(result.status, 201, `${who}: ${JSON.stringify(result.body)}`);
            else assert.deepEqual(result.body, { code: 130, error: MESSAGES[who as Exclude<Who, 'master'>] }, who);
          }
          const stored = await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_Files"');
          assert.equal(stored.rows[0]?.n, allowed.length, 'refused uploads store nothing');
        } finally {
          await server.stop();
        }
      });
    }
  });

  describe(`file extensions (${engine})`, () => {
    let defaults: Awaited<ReturnType<typeof serverWith>>;
    before(async () => {
      defaults = await serverWith(engine, undefined);
    });
    after(async () => defaults.server.stop());

    test('active content is refused by extension, in any case', async () => {
      for (const name of ['a.html', 'a.HTML', 'a.Htm', 'a.shtml', 'a.xhtml', 'a.xht', 'a.svg', 'a.SVGZ', 'a.xml', 'a.xsl', 'a.xslt', 'a.js', 'a.mjs', 'a.cjs', 'a.jsx', 'a.php', 'a.mathml', 'x.txt.html']) {
        const result = await defaults.upload('user', name, 'text/plain');
        assert.equal(result.status, 400, name);
        assert.deepEqual(result.body, { code: 130, error: `File upload of extension ${name.slice(name.lastIndexOf('.') + 1).toLowerCase()} is disabled.` }, name);
      }
    });

    test('without an extension the content type is judged, whatever its parameters, case or blanks', async () => {
      for (const contentType of ['text/html', 'TEXT/HTML', 'text/html; charset=utf-8', 'text/html ;charset=utf-8', 'application/xhtml+xml;charset=utf-8', 'image/svg+xml', 'Image/SVG+XML', 'text/xml', 'application/javascript', 'text/javascript; charset=x']) {
        const result = await defaults.upload('user', 'payload', contentType);
        assert.equal(result.status, 400, contentType);
        assert.equal(result.body.code, 130, contentType);
      }
      const viaJson = await uploadJson(defaults.server, 'payload', { base64: Buffer.from('<x/>').toString('base64'), _ContentType: 'application/xhtml+xml;charset=utf-8' }, { master: false });
      // The JSON form without a session is public: refused for who it is before what it is; with a session, for what.
      assert.equal(viaJson.body.code, 130);
      const session = await call(defaults.server.url, '/login', { method: 'POST', body: { username: 'uploader', password: 'pw-123456' } });
      const asUser = await uploadJson(defaults.server, 'payload', { base64: Buffer.from('<x/>').toString('base64'), _ContentType: 'application/xhtml+xml;charset=utf-8', _SessionToken: session.body.sessionToken });
      assert.deepEqual(asUser.body, { code: 130, error: 'File upload of extension xhtml+xml is disabled.' });
    });

    test('ordinary files pass: text, images, PDF, CSS, no extension with a harmless or no type', async () => {
      for (const [name, contentType] of [['a.txt', 'text/plain'], ['a.PNG', 'image/png'], ['a.pdf', 'application/pdf'], ['a.css', 'text/css'], ['a.json', 'application/json'], ['noext', 'application/octet-stream'], ['noext2', undefined]] as const) {
        const result = await defaults.upload('user', name, contentType);
        assert.equal(result.status, 201, `${name}: ${JSON.stringify(result.body)}`);
      }
    });

    test('the master key may store active content; it is then served as a sandboxed download', async () => {
      const result = await defaults.upload('master', 'page.html', 'text/html');
      assert.equal(result.status, 201);
      const served = await request(local(defaults.server, result.body.url), { bare: true });
      assert.equal(served.headers.get('content-type'), 'text/html');
      assert.equal(served.headers.get('content-disposition'), 'attachment');
      assert.match(served.headers.get('content-security-policy') ?? '', /sandbox/);
      assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    });
  });

  describe(`fileExtensions (${engine})`, () => {
    test('an allow-list replaces the default and matches the lower-case extension; "*" allows everything', async () => {
      const { server, upload } = await serverWith(engine, { enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: true, fileExtensions: ['^(png|jpe?g)$'] });
      try {
        assert.equal((await upload('user', 'a.png', 'image/png')).status, 201);
        assert.equal((await upload('user', 'a.JPEG', 'image/jpeg')).status, 201);
        assert.deepEqual((await upload('user', 'a.txt')).body, { code: 130, error: 'File upload of extension txt is disabled.' });
        assert.equal((await upload('user', 'photo', 'image/png')).status, 201, 'no extension: the subtype is judged');
        assert.equal((await upload('master', 'a.txt')).status, 201, 'the master key is exempt');
      } finally {
        await server.stop();
      }
      const open = await serverWith(engine, { enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: true, fileExtensions: ['*'] });
      try {
        const html = await open.upload('user', 'a.html', 'text/html');
        assert.equal(html.status, 201, 'the operator allowed it');
        assert.equal((await request(local(open.server, html.body.url), { bare: true })).headers.get('content-disposition'), 'attachment');
      } finally {
        await open.server.stop();
      }
    });
  });
}
