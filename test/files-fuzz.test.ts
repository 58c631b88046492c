/**
 * Property: no upload, download or delete of any name or body gets a 5xx. A refusal is a Parse error
 * (`{code, error}` with a known code, or the key checks' and router's `{error}`), and every file that was stored has a
 * name that can be looked up safely. The seed is printed with every failure; replay with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { fuzzParameters, PARSE_CODES } from './helpers/fuzz.ts';
import { request, uploadJson, uploadRaw, type RawResult } from './helpers/files.ts';
import { APP_ID, engines, startTestServer, type TestServer } from './helpers/server.ts';
import { isStorableName } from '../src/files/names.ts';

const nameFragment = fc.oneof(
  fc.constantFrom('..', '.', '/', '\\', '%2e', '%2E%2e', '%2F', '%5C', '%00', '%0A', '%25', '~', '@', ' ', '%20', 'a', 'x.txt', '.html', '.HTML', '.svg', 'é', '😀', '%C3%A9', '%E0%A4%A', '%'),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const name = fc.oneof(fc.array(nameFragment, { maxLength: 6 }).map((parts) => parts.join('')), fc.constant('a'.repeat(200)), fc.constant(`${'b'.repeat(124)}.txt`));
const contentType = fc.option(fc.constantFrom('text/plain', 'text/html', 'text/html; charset=utf-8', 'application/xhtml+xml;charset=utf-8', 'image/png', 'Image/SVG+XML', 'application/octet-stream', 'x', '/', ';', 'text/'), { nil: undefined });
const bytes = fc.uint8Array({ maxLength: 64 });
const jsonValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }));
const base64ish = fc.oneof(bytes.map((b) => Buffer.from(b).toString('base64')), fc.string({ maxLength: 20 }), fc.constantFrom('', '====', 'a', 'ab=c', '!!!!', 'YQ', 'YQ==', 'Y Q = =', 'data:text/plain;base64,YQ=='));
const jsonBody = fc.record(
  { base64: fc.oneof(base64ish, jsonValue), _ContentType: fc.oneof(contentType, jsonValue), fileData: fc.oneof(jsonValue, fc.record({ metadata: jsonValue, tags: jsonValue })) },
  { requiredKeys: [] },
);

const upload = fc.oneof(
  fc.record({ kind: fc.constant('raw' as const), name, contentType, body: bytes, master: fc.boolean() }),
  fc.record({ kind: fc.constant('json' as const), name, body: jsonBody, master: fc.boolean() }),
);

function assertParseShaped(result: RawResult, label: string): void {
  assert.ok(result.status < 500, `${label}: ${result.status} ${result.bytes.toString().slice(0, 200)}`);
  if (result.status < 400) return;
  assert.ok(typeof result.body === 'object' && result.body !== null, `${label}: not JSON`);
  // The key checks' 403 and the router's 404/405 (a name the client resolved to another path, e.g. `..`).
  if ([403, 404, 405].includes(result.status) && result.body.code === undefined && typeof result.body.error === 'string') return;
  assert.ok(PARSE_CODES.has(result.body.code), `${label}: unknown code ${JSON.stringify(result.body)}`);
  assert.equal(typeof result.body.error, 'string', label);
}

for (const engine of engines()) {
  describe(`files fuzz (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { fileUpload: { enableForPublic: true, enableForAnonymousUser: false, enableForAuthenticatedUser: true } });
    });
    after(async () => server.stop());

    test('uploads of any name and body: never a 5xx, and only safe names are ever stored', async () => {
      await fc.assert(
        fc.asyncProperty(upload, async (input) => {
          const result =
            input.kind === 'raw'
              ? await uploadRaw(server, input.name, input.body, { contentType: input.contentType, master: input.master })
              : await uploadJson(server, input.name, input.body, { master: input.master });
          assertParseShaped(result, `${input.kind} ${JSON.stringify(input.name)}`);
          if (result.status === 201) assert.ok(isStorableName(result.body.name), result.body.name);
        }),
        fuzzParameters(120),
      );
      const stored = await server.parsec.services.driver.query<{ name: string }>('SELECT "name" FROM "_Files"').catch(() => ({ rows: [] as { name: string }[] }));
      for (const row of stored.rows) assert.ok(isStorableName(row.name) && /^[0-9a-f]{32}_/.test(row.name), row.name);
    });

    test('downloads and deletes of any name: never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(name, fc.option(fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=x', 'bytes=9999999999999999999999-', 'bytes=0-0,1-1', ''), { nil: undefined }), async (target, range) => {
          const download = await request(`${server.url}/files/${APP_ID}/${target}`, { bare: true, headers: range === undefined ? {} : { Range: range } });
          assertParseShaped(download, `GET ${target}`);
          const removed = await request(`${server.url}/files/${target}`, { method: 'DELETE', master: true });
          assertParseShaped(removed, `DELETE ${target}`);
        }),
        fuzzParameters(80),
      );
    });
  });
}
