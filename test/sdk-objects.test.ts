/**
 * Object behaviours the official JS SDK relies on (its integration suites ParseObjectTest, IncrementTest,
 * ArrayOperationsTest and DirtyTest), written for Parsec and run on every engine: saves, fetches, nested
 * field operations and the values the server answers for them, atomic counters and array operations,
 * unset/clear, batches (saveAll/destroyAll/fetchAll) and their per-object errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`SDK objects (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
    });
    after(async () => server.stop());

    const fresh = (className: string, id: string): Promise<any> => new Parse.Query(className).get(id);
    const rejectsWith = async (promise: Promise<unknown>, code: number): Promise<void> => {
      await assert.rejects(promise, (error: any) => {
        assert.equal(error.code, code, String(error.message));
        return true;
      });
    };

    test('create, update through a second instance, get, exists and destroy', async () => {
      const object = await new Parse.Object('SdkThing', { test: 'test' }).save();
      assert.match(object.id, /^[A-Za-z0-9]{10}$/);
      const other = new Parse.Object('SdkThing', { objectId: object.id });
      other.set('test', 'changed');
      await other.save();
      assert.equal((await fresh('SdkThing', object.id)).get('test'), 'changed');
      assert.equal(await object.exists(), true);
      await object.destroy();
      assert.equal(await object.exists(), false);
      await rejectsWith(object.fetch(), 101);
    });

    test('a save adds only createdAt and updatedAt, with a createdAt close to now', async () => {
      const start = Date.now();
      const object = await new Parse.Object('SdkThing').save();
      assert.deepEqual(Object.keys(object.attributes).sort(), ['createdAt', 'updatedAt']);
      assert.ok(Math.abs(object.createdAt.getTime() - start) < 5000);
      assert.equal(object.createdAt.getTime(), object.updatedAt.getTime());
      const again = await new Parse.Object('SdkThing', { objectId: object.id }).fetch();
      assert.equal(again.createdAt.getTime(), object.createdAt.getTime());
    });

    test('cycles, recursive saves and children in arrays are saved', async () => {
      const a = new Parse.Object('SdkNode');
      const b = new Parse.Object('SdkNode');
      a.set('b', b);
      await a.save();
      b.set('a', a);
      await b.save();
      assert.equal((await fresh('SdkNode', a.id)).get('b').id, b.id);
      assert.equal((await fresh('SdkNode', b.id)).get('a').id, a.id);

      const parent = new Parse.Object('SdkParent', { children: [new Parse.Object('SdkChild', { name: 'jaime' }), new Parse.Object('SdkChild', { name: 'cersei' })] });
      await parent.save();
      const children = await new Parse.Query('SdkChild').ascending('name').find();
      assert.deepEqual(children.map((c: any) => c.get('name')), ['cersei', 'jaime']);
      const stored = await fresh('SdkParent', parent.id);
      assert.deepEqual(stored.get('children').map((c: any) => c.id).sort(), children.map((c: any) => c.id).sort());
    });

    test('nested fields: set, increment (one and two levels, new keys) and unset answer and store the new values', async () => {
      const object = await new Parse.Object('SdkNested', { objectField: { number: 5, foo: { bar: 5 }, string: 'hello' } }).save();
      object.increment('objectField.number', 15);
      object.increment('objectField.foo.bar', 15);
      object.increment('objectField.unknown', 3);
      await object.save();
      // The SDK keeps what the server answered: a wrong nested Increment response would show here.
      assert.equal(object.get('objectField').number, 20);
      assert.equal(object.get('objectField').foo.bar, 20);
      assert.equal(object.get('objectField').unknown, 3);
      let stored = await fresh('SdkNested', object.id);
      assert.deepEqual(stored.get('objectField'), { number: 20, foo: { bar: 20 }, string: 'hello', unknown: 3 });

      object.set('objectField.number', 1);
      object.set('objectField.foo.bar', 2);
      object.set('objectField.added', 'x');
      object.unset('objectField.string');
      object.unset('objectField.missing');
      await object.save();
      stored = await fresh('SdkNested', object.id);
      assert.deepEqual(stored.get('objectField'), { number: 1, foo: { bar: 2 }, unknown: 3, added: 'x' });
    });

    test('raw REST: a nested Increment answers the new value at its path', async () => {
      const object = await new Parse.Object('SdkNested', { stats: { n: 1 } }).save();
      const response = await call(server.url, `/classes/SdkNested/${object.id as string}`, { method: 'PUT', body: { 'stats.n': { __op: 'Increment', amount: 2 } } });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(typeof response.body.updatedAt, 'string');
      const answered = response.body['stats.n'] ?? response.body.stats?.n;
      assert.equal(answered, 3, JSON.stringify(response.body));
      assert.deepEqual((await fresh('SdkNested', object.id)).get('stats'), { n: 3 });
    });

    test('a nested increment inside a String field is refused and changes nothing', async () => {
      const object = await new Parse.Object('SdkNested', { hello: 'world' }).save();
      const response = await call(server.url, `/classes/SdkNested/${object.id as string}`, { method: 'PUT', body: { 'hello.dot': { __op: 'Increment', amount: 15 } } });
      assert.ok(response.status >= 400 && response.status < 500, JSON.stringify(response.body));
      assert.equal(typeof response.body.code, 'number');
      assert.equal((await fresh('SdkNested', object.id)).get('hello'), 'world');
    });

    test('increments: by one, by a value, negative, floats, on a missing or deleted field, and atomically', async () => {
      const object = await new Parse.Object('SdkCounter', { score: 1 }).save();
      object.increment('score');
      await object.save();
      assert.equal(object.get('score'), 2);
      object.increment('score', 10);
      object.increment('score', -1.5);
      await object.save();
      assert.equal((await fresh('SdkCounter', object.id)).get('score'), 10.5);

      // Two copies incrementing the same counter: neither update is lost, and each sees the server's value.
      const copy = await fresh('SdkCounter', object.id);
      object.increment('score');
      copy.increment('score');
      copy.set('name', 'parse');
      await copy.save();
      assert.equal(copy.get('score'), 11.5);
      await object.save();
      assert.equal(object.get('score'), 12.5);
      const stored = await fresh('SdkCounter', object.id);
      assert.equal(stored.get('score'), 12.5);
      assert.equal(stored.get('name'), 'parse');

      object.unset('score');
      object.increment('score');
      await object.save();
      assert.equal((await fresh('SdkCounter', object.id)).get('score'), 1);

      const empty = new Parse.Object('SdkCounter');
      empty.increment('fresh');
      await empty.save();
      assert.equal((await fresh('SdkCounter', empty.id)).get('fresh'), 1);
    });

    test('incrementing fixes the type: a String afterwards is refused (111) and not stored', async () => {
      const object = new Parse.Object('SdkTyped');
      object.increment('numeric');
      await object.save();
      object.set('numeric', 'x');
      await rejectsWith(object.save(), 111);
      assert.equal((await fresh('SdkTyped', object.id)).get('numeric'), 1);
      const other = new Parse.Object('SdkTyped', { numeric: 'two' });
      await rejectsWith(other.save(), 111);
      other.set('numeric', 2);
      await other.save();
      assert.equal((await fresh('SdkTyped', other.id)).get('numeric'), 2);
    });

    test('array operations: add, addUnique, remove, on fresh objects, after a set, and atomically', async () => {
      const object = await new Parse.Object('SdkArray', { strings: ['foo'] }).save();
      object.add('strings', 'foo');
      object.addAll('strings', ['bar', 'baz']);
      await object.save();
      assert.deepEqual((await fresh('SdkArray', object.id)).get('strings'), ['foo', 'foo', 'bar', 'baz']);

      object.set('strings', ['bar']);
      object.add('strings', 'bar');
      await object.save();
      assert.deepEqual((await fresh('SdkArray', object.id)).get('strings'), ['bar', 'bar']);

      // Concurrent copies: both additions survive; addUnique keeps one of each.
      const copy = await fresh('SdkArray', object.id);
      copy.addUnique('strings', 'baz');
      copy.addUnique('strings', 'bat');
      object.addUnique('strings', 'bat');
      object.addUnique('strings', 'foo');
      await copy.save();
      await object.save();
      assert.deepEqual([...(await fresh('SdkArray', object.id)).get('strings')].sort(), ['bar', 'bar', 'bat', 'baz', 'foo']);

      const other = await fresh('SdkArray', object.id);
      other.remove('strings', 'bar');
      other.remove('strings', 'zzz');
      object.remove('strings', 'baz');
      await other.save();
      await object.save();
      assert.deepEqual([...(await fresh('SdkArray', object.id)).get('strings')].sort(), ['bat', 'foo']);

      const created = new Parse.Object('SdkArray');
      created.addUnique('strings', 'foo');
      created.addUnique('strings', 'foo');
      created.add('others', 'x');
      created.remove('gone', 'x');
      await created.save();
      const createdAgain = await fresh('SdkArray', created.id);
      assert.deepEqual(createdAgain.get('strings'), ['foo']);
      assert.deepEqual(createdAgain.get('others'), ['x']);
      assert.deepEqual(createdAgain.get('gone'), []);
    });

    test('objects in arrays: addUnique and remove compare pointers by id; include resolves them', async () => {
      const flake = await new Parse.Object('SdkFlake', { color: 'white' }).save();
      const pocket = new Parse.Object('SdkPocket', { flakes: [flake] });
      await pocket.save();
      pocket.addUnique('flakes', await fresh('SdkFlake', flake.id));
      await pocket.save();
      const stored = await new Parse.Query('SdkPocket').include('flakes').get(pocket.id);
      assert.equal(stored.get('flakes').length, 1);
      assert.equal(stored.get('flakes')[0].get('color'), 'white');

      const eggs = await Parse.Object.saveAll([new Parse.Object('SdkEgg', { q: 'rotten' }), new Parse.Object('SdkEgg', { q: 'good' })]);
      const shelf = await new Parse.Object('SdkShelf', { eggs }).save();
      const copy = await fresh('SdkShelf', shelf.id);
      copy.remove('eggs', Parse.Object.fromJSON({ className: 'SdkEgg', objectId: eggs[0].id }));
      await copy.save();
      await shelf.fetch();
      assert.deepEqual(shelf.get('eggs').map((e: any) => e.id), [eggs[1].id]);
    });

    test('unset, clear and set after unset; keys set to null; booleans; bytes', async () => {
      const object = await new Parse.Object('SdkUnset', { x: 3, foo: 'bar', child: new Parse.Object('SdkChild') }).save();
      object.unset('x');
      object.unset('x');
      object.unset('child');
      object.unset('never');
      await object.save();
      let stored = await fresh('SdkUnset', object.id);
      assert.equal(stored.has('x'), false);
      assert.equal(stored.has('child'), false);
      assert.equal(stored.get('foo'), 'bar');
      object.unset('foo');
      object.set('foo', 'baz');
      await object.save();
      assert.equal((await fresh('SdkUnset', object.id)).get('foo'), 'baz');
      object.clear();
      await object.save();
      stored = await fresh('SdkUnset', object.id);
      assert.equal(stored.has('foo'), false);

      const values = await new Parse.Object('SdkUnset', { nothing: null, yes: true, no: false, bytes: { __type: 'Bytes', base64: 'ZnJveW8=' } }).save();
      stored = await fresh('SdkUnset', values.id);
      assert.equal(stored.get('nothing'), undefined);
      assert.equal(stored.get('yes'), true);
      assert.equal(stored.get('no'), false);
      assert.deepEqual(stored.get('bytes'), { __type: 'Bytes', base64: 'ZnJveW8=' });
    });

    test('invalid dates, class names and key names are refused with their codes, and nothing is created', async () => {
      const before = await new Parse.Query('SdkInvalid').count({ useMasterKey: true }).catch(() => 0);
      // The SDK refuses to encode an invalid Date itself; the same value sent raw is 111.
      const invalidDate = await call(server.url, '/classes/SdkInvalid', { method: 'POST', body: { when: { __type: 'Date', iso: 'not a date' } } });
      assert.equal(invalidDate.body.code, 111, JSON.stringify(invalidDate.body));
      // Dates JavaScript holds but PostgreSQL cannot read back from their ISO form (years past 9999, before 1):
      // 111 for a write, from the SDK too, and for a query, never a 500.
      await rejectsWith(new Parse.Object('SdkInvalid').save({ when: new Date(8.64e15) }), 111);
      for (const iso of ['+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '10000-01-01T00:00:00.000Z', '0000-12-31T23:59:59.999Z']) {
        const write = await call(server.url, '/classes/SdkInvalid', { method: 'POST', body: { when: { __type: 'Date', iso } } });
        assert.equal(write.body.code, 111, `${iso}: ${JSON.stringify(write.body)}`);
        for (const className of ['SdkInvalid', '_PrivilegeLedger']) {
          const read = await call(server.url, `/classes/${className}${query({ where: { createdAt: { $gt: { __type: 'Date', iso } } } })}`, { master: true });
          assert.equal(read.body.code, 111, `${className} ${iso}: ${JSON.stringify(read.body)}`);
        }
      }
      const edges = await new Parse.Object('SdkDateEdges', { first: new Date('0001-01-01T00:00:00.000Z'), last: new Date('9999-12-31T23:59:59.999Z') }).save();
      const storedEdges = await fresh('SdkDateEdges', edges.id);
      assert.deepEqual([storedEdges.get('first').toISOString(), storedEdges.get('last').toISOString()], ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']);
      await rejectsWith(new Parse.Object('Foo^Bar').save(), 103);
      await rejectsWith(new Parse.Object('SdkInvalid').save({ 'foo^bar': 'baz' }), 105);
      assert.equal(await new Parse.Query('SdkInvalid').count({ useMasterKey: true }).catch(() => 0), before);
    });

    test('two saves of one new object at the same time create one object', async () => {
      const object = new Parse.Object('SdkDouble');
      await Promise.all([object.save({ cat: 'meow', test: 'doublesave' }), object.save({ dog: 'bark', test: 'doublesave' })]);
      const results = await new Parse.Query('SdkDouble').equalTo('test', 'doublesave').find();
      assert.equal(results.length, 1);
      assert.equal(results[0].get('cat'), 'meow');
      assert.equal(results[0].get('dog'), 'bark');
    });

    test('fetch refreshes other instances, keeps unset fields unset, and leaves the object clean', async () => {
      const object = await new Parse.Object('SdkFetch', { foo: 'bar', test: 'foo' }).save();
      const first = await fresh('SdkFetch', object.id);
      const second = await fresh('SdkFetch', object.id);
      second.unset('test');
      await second.save();
      await first.fetch();
      assert.equal(first.get('test'), undefined);
      assert.equal(first.get('foo'), 'bar');
      first.set('content', 'x');
      assert.equal(first.dirty('content'), true);
      await first.fetch();
      assert.equal(first.dirty('content'), false);
      assert.equal(first.dirty(), false);
    });

    test('saveAll, destroyAll in several batches, and per-object errors (600 with 101 for the missing ones)', async () => {
      const objects = Array.from({ length: 21 }, (_, i) => new Parse.Object('SdkBulk', { i }));
      await Parse.Object.saveAll(objects);
      assert.equal(await new Parse.Query('SdkBulk').count(), 21);
      await Parse.Object.destroyAll([]);
      await Parse.Object.destroyAll([new Parse.Object('SdkBulk')]);
      const missing = [0, 19, 20];
      for (const i of missing) objects[i].id = `fakeobject${i}`;
      await assert.rejects(Parse.Object.destroyAll(objects), (error: any) => {
        assert.equal(error.code, 600);
        assert.deepEqual(error.errors.map((e: any) => e.code), [101, 101, 101]);
        assert.deepEqual(error.errors.map((e: any) => e.object.id), missing.map((i) => `fakeobject${i}`));
        return true;
      });
      assert.equal(await new Parse.Query('SdkBulk').count(), 3);
    });

    test('fetchAll, fetchAllIfNeeded and the include variants', async () => {
      const pointer = await new Parse.Object('SdkLeaf', { foo: 'bar' }).save();
      const items = await Parse.Object.saveAll(Array.from({ length: 11 }, (_, x) => new Parse.Object('SdkItem', { x, pointer })));
      const container = await new Parse.Object('SdkContainer', { items }).save();
      const again = (await fresh('SdkContainer', container.id)).get('items');
      assert.equal(again.length, 11);
      again.forEach((item: any, i: number) => item.set('x', i * 2));
      await Parse.Object.saveAll(again);
      await Parse.Object.fetchAll(items);
      assert.deepEqual(items.map((i: any) => i.get('x')), again.map((_: unknown, i: number) => i * 2));
      assert.deepEqual(await Parse.Object.fetchAll([]), []);

      const shells = items.slice(0, 2).map((i: any) => Parse.Object.fromJSON({ className: 'SdkItem', objectId: i.id }));
      const included = await Parse.Object.fetchAllWithInclude(shells, ['pointer']);
      assert.equal(included[1].get('pointer').get('foo'), 'bar');
      const one = await Parse.Object.fromJSON({ className: 'SdkItem', objectId: items[0].id }).fetchWithInclude('pointer');
      assert.equal(one.get('pointer').get('foo'), 'bar');

      const deleted = await new Parse.Object('SdkItem').save();
      await deleted.destroy();
      await rejectsWith(Parse.Object.fetchAll([Parse.Object.fromJSON({ className: 'SdkItem', objectId: deleted.id }), items[1]]), 101);
      await rejectsWith(Parse.Object.fetchAll([new Parse.Object('SdkItem')]), 104);
      await rejectsWith(Parse.Object.fetchAll([items[0], container]), 103);
    });

    test('fetchWithInclude follows dotted paths', async () => {
      const grandchild = new Parse.Object('SdkTree', { field: 'isGrandchild' });
      const child = new Parse.Object('SdkTree', { grandchild });
      const parent = new Parse.Object('SdkTree', { child });
      await Parse.Object.saveAll([parent, child, grandchild]);
      const shell = Parse.Object.fromJSON({ className: 'SdkTree', objectId: parent.id });
      await shell.fetchWithInclude(['child.grandchild']);
      assert.equal(shell.get('child').get('grandchild').get('field'), 'isGrandchild');
    });

    test('dirty tracking: arrays, objects and GeoPoints changed in place are saved; saveAll leaves objects clean', async () => {
      const scores = [1];
      const map: Record<string, number> = { player1: 1 };
      const location = new Parse.GeoPoint(5, 5);
      const object = await new Parse.Object('SdkDirty', { scores, map, location }).save();
      scores.push(2);
      map.player2 = 2;
      location.latitude = 10;
      await object.save();
      let stored = await fresh('SdkDirty', object.id);
      assert.deepEqual([stored.get('scores'), stored.get('map'), stored.get('location').latitude], [[1, 2], { player1: 1, player2: 2 }, 10]);
      stored.get('scores').push(3);
      stored.get('map').player3 = 3;
      await stored.save();
      stored = await fresh('SdkDirty', object.id);
      assert.deepEqual([stored.get('scores'), Object.keys(stored.get('map')).length], [[1, 2, 3], 3]);

      const child = await new Parse.Object('SdkDirtyChild').save();
      const parent = new Parse.Object('SdkDirtyParent', { children: [child] });
      child.set({ property: 'x', parent });
      const saved = await Parse.Object.saveAll([parent, child]);
      assert.deepEqual(saved.map((o: any) => o.dirty()), [false, false]);
      assert.equal((await fresh('SdkDirtyChild', child.id)).get('parent').id, parent.id);
      const plain = await new Parse.Object('SdkDirty').save({ foo: 'bar' });
      plain.unset('foo');
      assert.equal(plain.dirty(), true);
      await plain.save();
      assert.equal(plain.dirty(), false);
      assert.equal((await fresh('SdkDirty', plain.id)).has('foo'), false);
    });

    test('saveEventually and destroyEventually reach a server that is up', async () => {
      const object = new Parse.Object('SdkEventually', { n: 1 });
      await object.saveEventually();
      assert.ok(object.id);
      assert.equal((await fresh('SdkEventually', object.id)).get('n'), 1);
      await object.destroyEventually();
      await rejectsWith(fresh('SdkEventually', object.id), 101);
    });

    test('a cloned object shares the relation target but not its members', async () => {
      const member = await new Parse.Object('SdkMember').save();
      const owner = await new Parse.Object('SdkOwner').save();
      owner.relation('members').add(member);
      await owner.save();
      const clone = owner.clone();
      assert.equal(clone.relation('members').targetClassName, 'SdkMember');
      assert.equal((await owner.relation('members').query().find()).length, 1);
      assert.equal((await clone.relation('members').query().find()).length, 0);
    });
  });
}
