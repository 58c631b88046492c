/**
 * Index management through `/schemas` (reference §8.6) on each engine: an index added by `PUT` exists in the
 * database, `{"__op":"Delete"}` drops it, a duplicate name or a missing index is 102 and changes nothing,
 * and only the full master key may change indexes (403 for clients, 119 for the read-only master key).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const MASTER: RequestOptions = { master: true };
const READ_ONLY_KEY = 'read-only-key-0123456789abcdef';

for (const engine of engines()) {
  describe(`schema indexes (${engine})`, () => {
    let server: TestServer;
    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);
    const physical = async (className: string): Promise<string[]> => {
      const { rows } = await server.parsec.services.driver.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1::text ORDER BY indexname', [className]);
      return rows.map((row) => row.indexname);
    };
    const change = (body: unknown, options: RequestOptions = MASTER): Promise<HttpResult> => request('/schemas/Indexed', { method: 'PUT', body, ...options });

    before(async () => {
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY });
      assertOk(await request('/schemas/Indexed', { method: 'POST', body: { fields: { title: { type: 'String' }, rank: { type: 'Number' } } }, ...MASTER }), 'create class');
    });
    after(async () => {
      await server.stop();
    });

    test('PUT adds a compound index that exists in the database; Delete drops it', async () => {
      const added = assertOk(await change({ indexes: { byTitleRank: { title: 1, rank: -1 } } }), 'add');
      assert.deepEqual(added.indexes.byTitleRank, { title: 1, rank: -1 });
      assert.ok((await physical('Indexed')).includes('Indexed_byTitleRank'));
      const dropped = assertOk(await change({ indexes: { byTitleRank: { __op: 'Delete' } } }), 'drop');
      assert.equal(dropped.indexes.byTitleRank, undefined);
      assert.ok(!(await physical('Indexed')).includes('Indexed_byTitleRank'));
    });

    test('a duplicate name or a missing index is 102 and changes nothing', async () => {
      assertOk(await change({ indexes: { byRank: { rank: 1 } } }), 'add');
      const before = await physical('Indexed');
      assertRefused(await change({ indexes: { byRank: { title: 1 } } }), 102, /exists/, 'duplicate');
      assertRefused(await change({ indexes: { nothing: { __op: 'Delete' } } }), 102, /does not exist/, 'missing');
      assertRefused(await change({ indexes: { onMissing: { nope: 1 } } }), 102, /does not exist/, 'missing field');
      assert.deepEqual(await physical('Indexed'), before);
      assert.deepEqual(assertOk(await request('/schemas/Indexed', MASTER), 'schema').indexes.byRank, { rank: 1 });
    });

    test('clients (403) and the read-only master key (119) cannot change indexes', async () => {
      const before = await physical('Indexed');
      const client = await change({ indexes: { byClient: { title: 1 } } }, {});
      assert.equal(client.status, 403);
      assertRefused(await change({ indexes: { byReadOnly: { title: 1 } } }, { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 119, undefined, 'read-only');
      assert.deepEqual(await physical('Indexed'), before);
    });
  });
}
