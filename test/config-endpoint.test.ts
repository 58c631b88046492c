/**
 * `GET /config` and `PUT /config` (reference §8.1), over HTTP and with the official SDK's `Parse.Config`, on
 * each engine: clients see the params without the master-only ones, the master key sees them all with
 * `masterKeyOnly`; only the master key saves (403 otherwise, 119 for the read-only master key) and a
 * refused save changes nothing; `{"__op":"Delete"}` and null delete a param; bad shapes and prototype keys
 * are refused; the stored row is shared by every node (nothing cached).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const MASTER: RequestOptions = { master: true };
const READ_ONLY_KEY = 'read-only-key-0123456789abcdef';

for (const engine of engines()) {
  describe(`config endpoint (${engine})`, () => {
    let server: TestServer;
    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);
    const save = (body: unknown, options: RequestOptions = MASTER): Promise<HttpResult> => request('/config', { method: 'PUT', body, ...options });
    const masterView = async (): Promise<any> => assertOk(await request('/config', MASTER), 'master get');

    before(async () => {
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY });
    });
    after(async () => {
      await server.stop();
    });

    test('an empty config is {params: {}}', async () => {
      assert.deepEqual(assertOk(await request('/config'), 'client get'), { params: {} });
      assert.deepEqual(await masterView(), { params: {}, masterKeyOnly: {} });
    });

    test('the master key saves params; clients do not see master-only ones', async () => {
      const saved = save({ params: { welcome: 'hi', limits: { max: 3 }, secret: 's3cr3t' }, masterKeyOnly: { secret: true, welcome: false } });
      assert.deepEqual(assertOk(await saved, 'save'), { result: true });
      assert.deepEqual(assertOk(await request('/config'), 'client get'), { params: { welcome: 'hi', limits: { max: 3 } } });
      const master = await masterView();
      assert.deepEqual(master.params, { welcome: 'hi', limits: { max: 3 }, secret: 's3cr3t' });
      assert.deepEqual(master.masterKeyOnly, { secret: true });
      // Saving a param again without its flag makes it public, as in Parse.
      assertOk(await save({ params: { secret: 'public now' } }), 'unflag');
      assert.equal(assertOk(await request('/config'), 'client get').params.secret, 'public now');
      assertOk(await save({ params: { secret: 'hidden', welcome: 'hello' }, masterKeyOnly: { secret: true } }), 'flag again');
      assert.equal(assertOk(await request('/config'), 'client get').params.secret, undefined);
    });

    test('{"__op":"Delete"} and null delete a param and its flag; other params stay', async () => {
      assertOk(await save({ params: { a: 1, b: 2, c: 3 }, masterKeyOnly: { c: true } }), 'save');
      assertOk(await save({ params: { a: { __op: 'Delete' }, c: null } }), 'delete');
      const master = await masterView();
      assert.equal(master.params.a, undefined);
      assert.equal(master.params.c, undefined);
      assert.equal(master.params.b, 2);
      assert.equal(master.masterKeyOnly.c, undefined);
    });

    test('clients (403), the read-only master key (119) and bad shapes are refused, and nothing changes', async () => {
      const before = await masterView();
      const client = await save({ params: { welcome: 'pwned' } }, {});
      assert.equal(client.status, 403);
      assert.deepEqual(client.body, { error: 'unauthorized: master key is required' });
      assertRefused(await save({ params: { welcome: 'pwned' } }, { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 119, "read-only masterKey isn't allowed to update the config.", 'read-only');
      for (const [body, code] of [
        [{ params: ['x'] }, 107],
        [{ params: 'x' }, 107],
        [{ params: { x: 1 }, masterKeyOnly: { x: 'yes' } }, 107],
        [{ params: { x: 1 }, masterKeyOnly: [] }, 107],
        [{ params: { x: { __op: 'Increment', amount: 1 } } }, 107],
        [{ params: { ['k'.repeat(300)]: 1 } }, 105],
      ] as const) {
        assertRefused(await save(body), code, undefined, `bad shape ${JSON.stringify(body).slice(0, 60)}`);
      }
      for (const raw of ['{"params":{"__proto__":{"polluted":true}}}', '{"params":{"x":{"constructor":{"prototype":{"a":1}}}}}']) {
        assertRefused(await request('/config', { method: 'PUT', rawBody: raw, master: true, headers: { 'Content-Type': 'application/json' } }), 105, undefined, `prototype key ${raw}`);
      }
      const deep = JSON.parse(`{"params":{"x":${'['.repeat(80)}${']'.repeat(80)}}}`);
      assertRefused(await save(deep), 107, undefined, 'too deep');
      assert.deepEqual(await masterView(), before);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    test('the read-only master key reads every param with masterKeyOnly', async () => {
      assertOk(await save({ params: { hidden: 1 }, masterKeyOnly: { hidden: true } }), 'save');
      const view = assertOk(await request('/config', { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 'read-only get');
      assert.equal(view.params.hidden, 1);
      assert.equal(view.masterKeyOnly.hidden, true);
    });

    test('a /classes route never reaches _GlobalConfig (119), master key included', async () => {
      assertRefused(await request('/classes/_GlobalConfig'), 119, undefined, 'client find');
      assertRefused(await request('/classes/_GlobalConfig', { method: 'POST', body: { params: {} }, ...MASTER }), 119, undefined, 'master create');
    });

    test('another server on the same database sees a change at once (nothing cached)', async (t) => {
      if (engine !== 'postgres') return t.skip('needs a shared PostgreSQL database');
      // 'pglite' only means "no fresh database": the override points the second server at the first one's.
      const second = await startTestServer('pglite', { databaseURI: server.config.databaseURI });
      try {
        assertOk(await save({ params: { shared: 'v1' } }), 'save v1');
        assert.equal(assertOk(await call(second.url, '/config'), 'second get').params.shared, 'v1');
        assertOk(await save({ params: { shared: 'v2' } }), 'save v2');
        assert.equal(assertOk(await call(second.url, '/config'), 'second get').params.shared, 'v2');
      } finally {
        await second.stop();
      }
    });

    test('the JS SDK: Parse.Config.save (master) and Parse.Config.get decode Parse types', async () => {
      const Parse = parseSdk(server.url);
      const saved = await Parse.Config.save({ when: new Date('2024-01-02T03:04:05.000Z'), point: new Parse.GeoPoint(10, -20), plan: 'pro', key: 'k' }, { key: true });
      assert.equal(saved.get('plan'), 'pro');
      const config = await Parse.Config.get();
      assert.equal(config.get('plan'), 'pro');
      assert.equal(config.get('when').toISOString(), '2024-01-02T03:04:05.000Z');
      assert.equal(config.get('point').latitude, 10);
      assert.equal(config.get('key'), undefined);
      assert.equal((await Parse.Config.get({ useMasterKey: true })).get('key'), 'k');
    });
  });
}
