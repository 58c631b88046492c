import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`schemas (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { allowClientClassCreation: false });
    });
    after(async () => server.stop());

    const master = { master: true };

    test('the first write of a field fixes its type; another type is 111 and changes nothing', async () => {
      await call(server.url, '/schemas/Typed', { method: 'POST', body: {}, ...master });
      const created = await call(server.url, '/classes/Typed', { method: 'POST', body: { score: 1 } });
      assert.equal(created.status, 201);
      const wrong = await call(server.url, '/classes/Typed', { method: 'POST', body: { score: 'one', other: 2 } });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.code, 111);
      const update = await call(server.url, `/classes/Typed/${created.body.objectId}`, { method: 'PUT', body: { score: { __op: 'Add', objects: [1] } } });
      assert.equal(update.body.code, 111);
      const schema = await call(server.url, '/schemas/Typed', master);
      assert.deepEqual(Object.keys(schema.body.fields).sort(), ['ACL', 'createdAt', 'objectId', 'score', 'updatedAt']);
      const all = await call(server.url, '/classes/Typed');
      assert.equal(all.body.results.length, 1);
    });

    test('pointers keep their target class', async () => {
      await call(server.url, '/schemas/Pointing', { method: 'POST', body: { fields: { owner: { type: 'Pointer', targetClass: 'Typed' } } }, ...master });
      const wrong = await call(server.url, '/classes/Pointing', {
        method: 'POST',
        body: { owner: { __type: 'Pointer', className: 'Other', objectId: 'abc' } },
      });
      assert.equal(wrong.body.code, 111);
    });

    test('clients cannot create classes when allowClientClassCreation is off (the default)', async () => {
      const result = await call(server.url, '/classes/Brand', { method: 'POST', body: { x: 1 } });
      assert.equal(result.status, 400);
      assert.equal(result.body.code, 119);
      const read = await call(server.url, '/classes/Brand');
      assert.equal(read.body.code, 119);
      const schema = await call(server.url, '/schemas/Brand', master);
      assert.equal(schema.body.code, 103);
      const withMaster = await call(server.url, '/classes/Brand', { method: 'POST', body: { x: 1 }, ...master });
      assert.equal(withMaster.status, 201);
    });

    test('create a class with fields, CLP and indexes; then change and delete it', async () => {
      const created = await call(server.url, '/schemas', {
        method: 'POST',
        ...master,
        body: {
          className: 'Managed',
          fields: { title: { type: 'String' }, tags: { type: 'Array' }, items: { type: 'Relation', targetClass: 'Typed' } },
          classLevelPermissions: { find: { '*': true }, get: { '*': true }, create: { 'role:Admin': true }, protectedFields: { '*': ['tags'] } },
          indexes: { byTitle: { title: 1 } },
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.fields.title.type, 'String');
      assert.deepEqual(created.body.fields.items, { type: 'Relation', targetClass: 'Typed' });
      assert.deepEqual(created.body.classLevelPermissions.create, { 'role:Admin': true });
      assert.deepEqual(created.body.indexes.byTitle, { title: 1 });

      const duplicate = await call(server.url, '/schemas/Managed', { method: 'POST', body: {}, ...master });
      assert.equal(duplicate.body.code, 103);

      const changed = await call(server.url, '/schemas/Managed', {
        method: 'PUT',
        ...master,
        body: { fields: { tags: { __op: 'Delete' }, count: { type: 'Number' } }, indexes: { byTitle: { __op: 'Delete' } } },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.fields.tags, undefined);
      assert.equal(changed.body.fields.count.type, 'Number');
      assert.equal(changed.body.indexes.byTitle, undefined);

      const listed = await call(server.url, '/schemas', master);
      assert.ok(listed.body.results.some((s: { className: string }) => s.className === 'Managed'));

      await call(server.url, '/classes/Managed', { method: 'POST', body: { title: 'x' }, ...master });
      const notEmpty = await call(server.url, '/schemas/Managed', { method: 'DELETE', ...master });
      assert.equal(notEmpty.body.code, 255);
      await call(server.url, '/schemas/Empty', { method: 'POST', body: {}, ...master });
      const dropped = await call(server.url, '/schemas/Empty', { method: 'DELETE', ...master });
      assert.deepEqual(dropped.body, {});
      assert.equal((await call(server.url, '/schemas/Empty', master)).body.code, 103);
    });

    test('invalid schema bodies are refused whole, with Parse codes', async () => {
      const cases: [unknown, number][] = [
        [{ fields: { 'bad-name': { type: 'String' } } }, 105],
        [{ fields: { ok: { type: 'Nope' } } }, 111],
        [{ fields: { ok: { type: 'Pointer' } } }, 135],
        [{ classLevelPermissions: { find: { '*': true }, explode: {} } }, 107],
        [{ classLevelPermissions: { find: { '*': 'yes' } } }, 107],
        [{ classLevelPermissions: { protectedFields: { '*': ['objectId'] } } }, 107],
        [{ indexes: { idx: { missing: 1 } } }, 102],
        [{ className: 'Mismatch' }, 103],
        [{ fields: { constructor: { type: 'String' } } }, 105],
      ];
      for (const [body, code] of cases) {
        const result = await call(server.url, '/schemas/Invalid', { method: 'POST', body, ...master });
        assert.equal(result.body.code, code, JSON.stringify(body));
      }
      assert.equal((await call(server.url, '/schemas/Invalid', master)).body.code, 103, 'nothing was created');
      const internal = await call(server.url, '/schemas/_User', { method: 'POST', body: {}, ...master });
      assert.equal(internal.body.code, 119);
    });

    test('defaultValue fills a create; required fields must be set and cannot be cleared (142)', async () => {
      const created = await call(server.url, '/schemas/Defaults', {
        method: 'POST',
        ...master,
        body: { fields: { status: { type: 'String', defaultValue: 'new' }, title: { type: 'String', required: true } } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const missing = await call(server.url, '/classes/Defaults', { method: 'POST', body: { other: 1 } });
      assert.equal(missing.body.code, 142);
      assert.equal((await call(server.url, '/schemas/Defaults', master)).body.fields.other, undefined, 'a refused create adds no field');
      const ok = await call(server.url, '/classes/Defaults', { method: 'POST', body: { title: 't' } });
      assert.equal(ok.status, 201);
      const fetched = await call(server.url, `/classes/Defaults/${ok.body.objectId}`);
      assert.equal(fetched.body.status, 'new');
      const explicit = await call(server.url, '/classes/Defaults', { method: 'POST', body: { title: 't', status: 'set' } });
      assert.equal((await call(server.url, `/classes/Defaults/${explicit.body.objectId}`)).body.status, 'set');
      for (const body of [{ title: null }, { title: { __op: 'Delete' } }]) {
        const cleared = await call(server.url, `/classes/Defaults/${ok.body.objectId}`, { method: 'PUT', body });
        assert.equal(cleared.body.code, 142);
      }
      assert.equal((await call(server.url, `/classes/Defaults/${ok.body.objectId}`)).body.title, 't');
      const badDefault = await call(server.url, '/schemas/BadDefault', {
        method: 'POST',
        ...master,
        body: { fields: { n: { type: 'Number', defaultValue: 'seven' } } },
      });
      assert.equal(badDefault.body.code, 111);
    });

    test('schemas survive a restart', async () => {
      // The schema cache is loaded from the database; a second server on the same data sees the same classes.
      const listed = await call(server.url, '/schemas', master);
      const names = listed.body.results.map((s: { className: string }) => s.className);
      await server.parsec.services.schemas.reload();
      const again = await call(server.url, '/schemas', master);
      assert.deepEqual(again.body.results.map((s: { className: string }) => s.className), names);
    });
  });
}
