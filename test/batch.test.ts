import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`/batch (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { batchRequestLimit: 5 });
    });
    after(async () => server.stop());

    const count = async (className: string): Promise<number> =>
      (await call(server.url, `/classes/${className}${query({ count: 1, limit: 0 })}`, { master: true })).body.count ?? 0;

    test('results are aligned with requests; one failure does not stop the others', async () => {
      // Sub-requests run concurrently, so the field's type is fixed first: otherwise whichever of the two
      // creates commits first would decide it, and the test would depend on that race.
      await call(server.url, '/classes/Batched', { method: 'POST', body: { n: 0 } });
      const result = await call(server.url, '/batch', {
        method: 'POST',
        body: {
          requests: [
            { method: 'POST', path: '/parse/classes/Batched', body: { n: 1 } },
            { method: 'POST', path: '/parse/classes/Batched', body: { n: 'wrong type' } },
            { method: 'GET', path: '/parse/classes/Batched', body: { where: { n: 1 } } },
          ],
        },
      });
      assert.equal(result.status, 200);
      assert.equal(typeof result.body[0].success.objectId, 'string');
      assert.equal(result.body[1].error.code, 111);
      assert.ok(Array.isArray(result.body[2].success.results));
    });

    test('transaction: true is all or nothing', async () => {
      const before = await count('Txn');
      await call(server.url, '/classes/Txn', { method: 'POST', body: { n: 0 } });
      const result = await call(server.url, '/batch', {
        method: 'POST',
        body: {
          transaction: true,
          requests: [
            { method: 'POST', path: '/parse/classes/Txn', body: { n: 1 } },
            { method: 'POST', path: '/parse/classes/Txn', body: { n: 2, fresh: 'field' } },
            { method: 'POST', path: '/parse/classes/Txn', body: { n: 'not a number' } },
          ],
        },
      });
      assert.equal(result.status, 400);
      assert.equal(result.body[2].error.code, 111);
      assert.equal(await count('Txn'), before + 1, 'nothing from the failed transaction remains');
      const schema = await call(server.url, '/schemas/Txn', { master: true });
      assert.equal(schema.body.fields.fresh, undefined, 'the schema change rolled back too');
      const ok = await call(server.url, '/batch', {
        method: 'POST',
        body: { transaction: true, requests: [{ method: 'POST', path: '/parse/classes/Txn', body: { n: 3, fresh: 'yes' } }] },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal((await call(server.url, '/schemas/Txn', { master: true })).body.fields.fresh.type, 'String');
    });

    test('failing transactional batches run concurrently leave no poisoned connection', async () => {
      const failing = Array.from({ length: 8 }, (_, i) =>
        call(server.url, '/batch', {
          method: 'POST',
          body: {
            transaction: true,
            requests: [
              { method: 'POST', path: '/parse/classes/Poison', body: { i } },
              { method: 'PUT', path: '/parse/classes/Poison/doesNotExist', body: { i } },
            ],
          },
        }),
      );
      const results = await Promise.all(failing);
      for (const result of results) assert.equal(result.body[1].error.code, 101);
      assert.equal(await count('Poison'), 0);
      const healthy = await Promise.all(Array.from({ length: 8 }, (_, i) => call(server.url, '/classes/Poison', { method: 'POST', body: { i } })));
      assert.ok(healthy.every((r) => r.status === 201));
    });

    test('sub-requests pass exactly the checks they would pass alone', async () => {
      const result = await call(server.url, '/batch', {
        method: 'POST',
        body: {
          requests: [
            { method: 'GET', path: '/parse/schemas' },
            { method: 'POST', path: '/parse/classes/_Join:users:_Role', body: { relatedId: 'x', owningId: 'y' } },
            { method: 'POST', path: '/parse/classes/_Session', body: { user: { __type: 'Pointer', className: '_User', objectId: 'x' } } },
            { method: 'POST', path: '/parse/classes/_GlobalConfig', body: { params: {} } },
          ],
        },
      });
      assert.equal(result.body[0].error.code, 119);
      assert.equal(result.body[1].error.code, 119);
      assert.equal(result.body[2].error.code, 119);
      assert.equal(result.body[3].error.code, 119);
    });

    test('malformed batches are refused whole', async () => {
      const cases: unknown[] = [
        {},
        { requests: 'nope' },
        { requests: [{ method: 'POST', path: '/elsewhere/classes/X', body: {} }] },
        { requests: [{ method: 'PATCH', path: '/parse/classes/X', body: {} }] },
        { requests: [{ method: 'POST', path: '/parse/batch', body: { requests: [] } }] },
        { requests: [{ method: 'POST', path: '/parse/classes/X', body: {} }, 'not an object'] },
        { requests: Array.from({ length: 6 }, () => ({ method: 'POST', path: '/parse/classes/Limited', body: {} })) },
        { requests: [], transaction: 'yes' },
      ];
      for (const body of cases) {
        const result = await call(server.url, '/batch', { method: 'POST', body });
        assert.equal(result.status, 400, JSON.stringify(body));
        assert.equal(result.body.code, 107, JSON.stringify(body));
      }
      assert.equal(await count('Limited'), 0);
    });
  });
}
