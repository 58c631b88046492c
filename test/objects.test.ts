import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`objects through the Parse JS SDK (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
    });
    after(async () => server.stop());

    test('save, fetch, update and destroy round-trip every Parse type', async () => {
      const target = await new Parse.Object('Target').save({ label: 'pointed at' });
      const date = new Date('2024-02-29T12:34:56.789Z');
      const object = new Parse.Object('Everything');
      await object.save({
        text: 'hello',
        number: 42.5,
        flag: true,
        when: date,
        nested: { a: 1, b: { c: [1, 2, 'x'] }, d: null },
        list: [1, 'two', { three: 3 }],
        pointer: target,
        place: new Parse.GeoPoint(40.5, -73.25),
        bytes: { __type: 'Bytes', base64: 'aGVsbG8=' },
        area: new Parse.Polygon([[0, 0], [0, 1], [1, 1]]),
        nothing: null,
      });
      assert.match(object.id, /^[A-Za-z0-9]{10}$/);
      const fetched = await new Parse.Query('Everything').get(object.id);
      assert.equal(fetched.get('text'), 'hello');
      assert.equal(fetched.get('number'), 42.5);
      assert.equal(fetched.get('flag'), true);
      assert.equal(fetched.get('when').toISOString(), date.toISOString());
      assert.deepEqual(fetched.get('nested'), { a: 1, b: { c: [1, 2, 'x'] }, d: null });
      assert.deepEqual(fetched.get('list'), [1, 'two', { three: 3 }]);
      assert.equal(fetched.get('pointer').id, target.id);
      assert.equal(fetched.get('pointer').className, 'Target');
      assert.equal(fetched.get('place').latitude, 40.5);
      assert.equal(fetched.get('place').longitude, -73.25);
      assert.deepEqual(fetched.get('bytes'), { __type: 'Bytes', base64: 'aGVsbG8=' });
      // Parse closes a polygon whose last point differs from its first.
      assert.deepEqual(fetched.get('area').coordinates, [[0, 0], [0, 1], [1, 1], [0, 0]]);
      assert.equal(fetched.get('nothing'), undefined);
      assert.equal(fetched.createdAt.getTime(), object.createdAt.getTime());

      fetched.set('text', 'changed');
      fetched.unset('flag');
      await fetched.save();
      const again = await new Parse.Query('Everything').get(object.id);
      assert.equal(again.get('text'), 'changed');
      assert.equal(again.get('flag'), undefined);
      assert.ok(again.updatedAt.getTime() >= again.createdAt.getTime());

      await again.destroy();
      await assert.rejects(new Parse.Query('Everything').get(object.id), (error: any) => error.code === 101);
    });

    test('field operations are computed by the database and returned to the SDK', async () => {
      const counter = await new Parse.Object('Counter').save({ n: 1, tags: ['a'], stats: { hits: 1 } });
      counter.increment('n', 4);
      counter.add('tags', 'b');
      await counter.save();
      counter.addUnique('tags', 'a');
      counter.addUnique('tags', 'c');
      await counter.save();
      assert.equal(counter.get('n'), 5);
      assert.deepEqual(counter.get('tags'), ['a', 'b', 'c']);
      counter.remove('tags', 'a');
      counter.increment('n', -10);
      await counter.save();
      const fetched = await new Parse.Query('Counter').get(counter.id);
      assert.equal(fetched.get('n'), -5);
      assert.deepEqual(fetched.get('tags'), ['b', 'c']);

      const nested = await call(server.url, `/classes/Counter/${counter.id}`, {
        method: 'PUT',
        body: { 'stats.hits': { __op: 'Increment', amount: 2 }, 'stats.deep.level': 7 },
      });
      assert.equal(nested.status, 200);
      assert.deepEqual(nested.body.stats, { hits: 3, deep: { level: 7 } });
    });

    test('concurrent increments never lose an update', async () => {
      const counter = await new Parse.Object('Counter').save({ n: 0 });
      await Promise.all(
        Array.from({ length: 25 }, () =>
          call(server.url, `/classes/Counter/${counter.id}`, { method: 'PUT', body: { n: { __op: 'Increment', amount: 1 } } }),
        ),
      );
      const fetched = await new Parse.Query('Counter').get(counter.id);
      assert.equal(fetched.get('n'), 25);
    });

    test('operations on a new object create the value', async () => {
      const created = await call(server.url, '/classes/Counter', {
        method: 'POST',
        body: { n: { __op: 'Increment', amount: 3 }, tags: { __op: 'AddUnique', objects: ['x', 'x', 'y'] }, 'meta.a.b': 1 },
      });
      assert.equal(created.status, 201);
      assert.match(created.headers.get('location') ?? '', new RegExp(`/classes/Counter/${created.body.objectId}$`));
      const fetched = await call(server.url, `/classes/Counter/${created.body.objectId}`);
      assert.equal(fetched.body.n, 3);
      assert.deepEqual(fetched.body.tags, ['x', 'y']);
      assert.deepEqual(fetched.body.meta, { a: { b: 1 } });
    });

    test('saveAll and destroyAll go through /batch', async () => {
      const objects = Array.from({ length: 30 }, (_, i) => new Parse.Object('Bulk').set('i', i));
      await Parse.Object.saveAll(objects);
      assert.ok(objects.every((o: any) => typeof o.id === 'string'));
      assert.equal(await new Parse.Query('Bulk').count(), 30);
      await Parse.Object.destroyAll(objects.slice(0, 20));
      assert.equal(await new Parse.Query('Bulk').count(), 10);
    });

    test('relations: add, query and remove', async () => {
      const members = await Parse.Object.saveAll([1, 2, 3].map((i) => new Parse.Object('Member').set('i', i)));
      const team = new Parse.Object('Team');
      team.relation('members').add(members);
      await team.save();
      const related = await team.relation('members').query().ascending('i').find();
      assert.deepEqual(related.map((m: any) => m.get('i')), [1, 2, 3]);
      team.relation('members').remove(members[1]);
      await team.save();
      const left = await team.relation('members').query().ascending('i').find();
      assert.deepEqual(left.map((m: any) => m.get('i')), [1, 3]);
      const fetched = await new Parse.Query('Team').get(team.id);
      assert.equal(fetched.get('members').targetClassName, 'Member');
    });

    test('include resolves pointers, arrays of pointers and dotted paths in one query per level', async () => {
      const author = await new Parse.Object('Author').save({ name: 'Ada' });
      const post = await new Parse.Object('Post').save({ title: 'Notes', author });
      const extra = await new Parse.Object('Post').save({ title: 'More', author });
      const comment = await new Parse.Object('Comment').save({ post, related: [post, extra], text: 'hi' });
      const found = await new Parse.Query('Comment').include('post.author').include('related').get(comment.id);
      assert.equal(found.get('post').get('title'), 'Notes');
      assert.equal(found.get('post').get('author').get('name'), 'Ada');
      assert.deepEqual(found.get('related').map((p: any) => p.get('title')), ['Notes', 'More']);
      const dotted = await call(server.url, `/classes/Comment/${comment.id}${query({ keys: 'post.title,text' })}`);
      assert.equal(dotted.body.post.title, 'Notes', 'a dotted key includes its pointer');
      assert.equal(dotted.body.related, undefined);
      const plain = await new Parse.Query('Comment').get(comment.id);
      assert.equal(plain.get('post').get('title'), undefined);
    });

    test('keys, excludeKeys, order, limit, skip and count', async () => {
      await Parse.Object.saveAll(
        Array.from({ length: 12 }, (_, i) => new Parse.Object('Row').set({ i, parity: i % 2 === 0 ? 'even' : 'odd', secret: `s${i}` })),
      );
      const page = await new Parse.Query('Row').descending('i').skip(2).limit(3).find();
      assert.deepEqual(page.map((r: any) => r.get('i')), [9, 8, 7]);
      const multi = await new Parse.Query('Row').ascending('parity').addDescending('i').limit(2).find();
      assert.deepEqual(multi.map((r: any) => r.get('i')), [10, 8]);
      const projected = await new Parse.Query('Row').select('i').ascending('i').first();
      assert.equal(projected.get('i'), 0);
      assert.equal(projected.get('secret'), undefined);
      const excluded = await call(server.url, `/classes/Row${query({ excludeKeys: 'secret', limit: 1 })}`);
      assert.equal(excluded.body.results[0].secret, undefined);
      assert.equal(typeof excluded.body.results[0].parity, 'string');
      const counted = await call(server.url, `/classes/Row${query({ where: { parity: 'odd' }, count: 1, limit: 0 })}`);
      assert.deepEqual(counted.body, { results: [], count: 6 });
      assert.equal(await new Parse.Query('Row').equalTo('parity', 'even').count(), 6);
    });

    test('ACLs are stored and returned; an unreadable object is "not found"', async () => {
      const hidden = new Parse.Object('Private');
      const acl = new Parse.ACL();
      acl.setPublicReadAccess(false);
      hidden.setACL(acl);
      await hidden.save(null, { useMasterKey: true });
      await assert.rejects(new Parse.Query('Private').get(hidden.id), (error: any) => error.code === 101);
      assert.equal((await new Parse.Query('Private').find()).length, 0);
      const asMaster = await new Parse.Query('Private').get(hidden.id, { useMasterKey: true });
      assert.deepEqual(asMaster.getACL().toJSON(), {});
      const update = await call(server.url, `/classes/Private/${hidden.id}`, { method: 'PUT', body: { x: 1 } });
      assert.equal(update.status, 404);
      assert.equal(update.body.code, 101);
      const remove = await call(server.url, `/classes/Private/${hidden.id}`, { method: 'DELETE' });
      assert.equal(remove.body.code, 101);
      assert.equal((await new Parse.Query('Private').get(hidden.id, { useMasterKey: true })).get('x'), undefined);

      const readOnly = new Parse.Object('Private');
      const readAcl = new Parse.ACL();
      readAcl.setPublicReadAccess(true);
      readOnly.setACL(readAcl);
      await readOnly.save(null, { useMasterKey: true });
      const seen = await new Parse.Query('Private').get(readOnly.id);
      assert.deepEqual(seen.getACL().toJSON(), { '*': { read: true } });
      await assert.rejects(seen.save({ x: 2 }), (error: any) => error.code === 101);
    });
  });
}
