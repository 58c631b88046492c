/**
 * Query behaviours the official JS SDK relies on (its integration suite ParseQueryTest), written for Parsec
 * and run on every engine: comparisons, counts, order, containment on arrays (element equality included),
 * regexes, existence, includes, sub-queries, logical combinations, select/exclude (a selected field that
 * is null or missing on some objects included), each/map/filter/reduce, and the errors bad queries get.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`SDK queries (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [] });
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll(Array.from({ length: 10 }, (_, number) => new Parse.Object('SdkBoxed', { number })));
    });
    after(async () => server.stop());

    const boxed = (): any => new Parse.Query('SdkBoxed');
    const numbers = (results: any[]): number[] => results.map((o) => o.get('number'));
    const rejectsWith = async (promise: Promise<unknown>, code: number): Promise<void> => {
      await assert.rejects(promise, (error: any) => {
        assert.equal(error.code, code, String(error.message));
        return true;
      });
    };

    test('comparisons, containedIn/notContainedIn, objectId, undefined and no results', async () => {
      assert.equal((await boxed().equalTo('number', 3).find()).length, 1);
      assert.equal((await boxed().equalTo('number', undefined).find()).length, 0);
      assert.equal((await boxed().lessThan('number', 7).find()).length, 7);
      assert.equal((await boxed().lessThanOrEqualTo('number', 7).find()).length, 8);
      assert.equal((await boxed().greaterThan('number', 7).find()).length, 2);
      assert.equal((await boxed().greaterThanOrEqualTo('number', 7).find()).length, 3);
      assert.equal((await boxed().lessThanOrEqualTo('number', 7).greaterThanOrEqualTo('number', 7).find()).length, 1);
      assert.equal((await boxed().lessThan('number', 9).greaterThan('number', 3).find()).length, 5);
      assert.equal((await boxed().notEqualTo('number', 5).find()).length, 9);
      assert.equal((await boxed().containedIn('number', [3, 5, 7, 9, 11]).find()).length, 4);
      assert.equal((await boxed().notContainedIn('number', [3, 5, 7, 9, 11]).find()).length, 6);
      const all = await boxed().ascending('number').find();
      assert.deepEqual(numbers(await boxed().containedIn('objectId', [all[2].id, all[3].id, 'nonsense']).ascending('number').find()), [2, 3]);
      assert.deepEqual(numbers(await boxed().equalTo('objectId', all[5].id).find()), [5]);
      assert.deepEqual(await boxed().equalTo('number', 15).find(), []);
    });

    test('first, get, count (skip ignored), withCount, limit and skip', async () => {
      assert.equal((await boxed().ascending('number').first()).get('number'), 0);
      assert.equal(await boxed().equalTo('number', 20).first(), undefined);
      const some = await boxed().ascending('number').first();
      assert.equal((await boxed().get(some.id)).get('number'), 0);
      await rejectsWith(boxed().get('doesNotExist'), 101);
      assert.equal(await boxed().greaterThan('number', 1).count(), 8);
      assert.equal(await boxed().greaterThan('number', 1).skip(3).count(), 8);
      const counted = await boxed().withCount(true).limit(2).find();
      assert.equal(counted.count, 10);
      assert.equal(counted.results.length, 2);
      const skipped = await boxed().withCount().skip(8).find();
      assert.deepEqual([skipped.count, skipped.results.length], [10, 2]);
      const empty = await new Parse.Query('SdkNothingHere').withCount(true).find();
      assert.deepEqual([empty.count, empty.results.length], [0, 0]);
      assert.equal((await boxed().withCount(false).find()).length, 10);
      assert.equal((await boxed().limit(1).find()).length, 1);
      assert.equal((await boxed().skip(10).find()).length, 0);
    });

    test('order: ascending, descending, several keys in every SDK spelling, and by dates', async () => {
      assert.deepEqual(numbers(await boxed().ascending('number').find()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(numbers(await boxed().descending('number').find()), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      // One at a time, so that their creation times differ.
      for (const [string, number] of [['a', 3], ['b', 1], ['c', 3], ['d', 2]]) await new Parse.Object('SdkOrder', { string, number }).save();
      const pairs = (results: any[]): string => results.map((o) => `${o.get('number') as number}${o.get('string') as string}`).join(' ');
      assert.equal(pairs(await new Parse.Query('SdkOrder').ascending('number').addDescending('string').find()), '1b 2d 3c 3a');
      assert.equal(pairs(await new Parse.Query('SdkOrder').descending('number').addAscending('string').find()), '3a 3c 2d 1b');
      for (const spelling of [['number,string'], ['number, string'], [['number', 'string']], ['number', 'string']]) {
        assert.equal(pairs(await new Parse.Query('SdkOrder').descending(...spelling).find()), '3c 3a 2d 1b', JSON.stringify(spelling));
      }
      const byCreated = await new Parse.Query('SdkOrder').ascending('_created_at').find();
      const byCreatedDesc = await new Parse.Query('SdkOrder').descending('createdAt').find();
      assert.deepEqual(byCreated.map((o: any) => o.id), byCreatedDesc.map((o: any) => o.id).reverse());
      const byUpdated = await new Parse.Query('SdkOrder').ascending('_updated_at').find();
      assert.ok(byUpdated.every((o: any, i: number) => i === 0 || byUpdated[i - 1].updatedAt <= o.updatedAt));
      await rejectsWith(boxed().ascending('_password').find(), 105);
    });

    test('dates: equality and inequality on createdAt', async () => {
      const objects = [];
      for (const name of ['item1', 'item2', 'item3', 'item4']) objects.push(await new Parse.Object('SdkTimed', { name }).save());
      const [, , third, last] = objects;
      assert.deepEqual((await new Parse.Query('SdkTimed').equalTo('createdAt', last.createdAt).find()).map((o: any) => o.get('name')), ['item4']);
      const earlier = await new Parse.Query('SdkTimed').lessThan('createdAt', third.createdAt).ascending('createdAt').find();
      assert.deepEqual(earlier.map((o: any) => o.get('name')), ['item1', 'item2']);
      assert.deepEqual((await new Parse.Query('SdkTimed').greaterThan('createdAt', third.createdAt).find()).map((o: any) => o.get('name')), ['item4']);
    });

    test('arrays: element equality, whole-array equality, containsAll, containedBy, containedIn', async () => {
      const dates = (days: number[]): Date[] => days.map((d) => new Date(Date.UTC(2013, 1, d)));
      const members = await Parse.Object.saveAll(Array.from({ length: 4 }, (_, i) => new Parse.Object('SdkMember', { i })));
      await Parse.Object.saveAll([
        new Parse.Object('SdkSet', { name: 'A', numbers: [1, 2, 3, 4, 5], strings: ['a', 'b', 'c', 'd', 'e'], dates: dates([1, 2, 3]), members }),
        new Parse.Object('SdkSet', { name: 'B', numbers: [1, 3, 4, 5], strings: ['a', 'c', 'd'], dates: dates([1, 3, 4]), members: [members[0], members[1], members[3]] }),
        new Parse.Object('SdkSet', { name: 'C', numbers: [2, 0], strings: [], nested: [[1, 2], [3]] }),
      ]);
      const names = async (q: any): Promise<string[]> => (await q.find()).map((o: any) => o.get('name')).sort();
      const sets = (): any => new Parse.Query('SdkSet');
      assert.deepEqual(await names(sets().equalTo('numbers', 2)), ['A', 'C']);
      assert.deepEqual(await names(sets().equalTo('strings', 'e')), ['A']);
      assert.deepEqual(await names(sets().equalTo('members', members[2])), ['A']);
      assert.deepEqual(await names(sets().equalTo('numbers', [2, 0])), ['C']);
      assert.deepEqual(await names(sets().equalTo('numbers', [0, 2])), []);
      assert.deepEqual(await names(sets().equalTo('nested', [3])), ['C']);
      assert.deepEqual(await names(sets().notEqualTo('numbers', 2)), ['B']);
      assert.deepEqual(await names(sets().containsAll('numbers', [1, 2, 3])), ['A']);
      assert.deepEqual(await names(sets().containsAll('strings', ['a', 'b', 'c'])), ['A']);
      assert.deepEqual(await names(sets().containsAll('dates', dates([1, 2, 3]))), ['A']);
      assert.deepEqual(await names(sets().containsAll('members', [members[0], members[2]])), ['A']);
      assert.deepEqual(await names(sets().containsAllStartingWith('strings', ['a', 'b'])), ['A']);
      assert.deepEqual(await names(sets().containsAllStartingWith('strings', ['c', 'd'])), ['A', 'B']);
      const mixed = await call(server.url, `/classes/SdkSet${query({ where: { strings: { $all: ['a', { $regex: '^b' }] } } })}`);
      assert.deepEqual([mixed.status, mixed.body.code], [400, 102]);
      assert.deepEqual(await names(sets().containedBy('numbers', [1, 2, 3, 4, 5])), ['A', 'B']);
      assert.deepEqual(await names(sets().containedBy('numbers', [0, 1, 2, 3, 4])), ['C']);
      assert.deepEqual(await names(sets().containedBy('members', members.slice(0, 2).concat(members[3]))), ['B', 'C']);
      assert.deepEqual(await names(sets().containedIn('numbers', [0, 9])), ['C']);
      assert.deepEqual(await names(sets().containedIn('members', [members[2]])), ['A']);
    });

    test('pointers: containedIn, notEqualTo, exists and doesNotExist', async () => {
      const messages: any[] = [];
      for (let i = 0; i < 4; i++) messages.push(new Parse.Object('SdkMessage', i > 0 ? { prior: messages[i - 1], i } : { i }));
      await Parse.Object.saveAll(messages);
      assert.equal((await new Parse.Query('SdkMessage').containedIn('prior', [messages[0], messages[2]]).find()).length, 2);
      assert.equal((await new Parse.Query('SdkMessage').notEqualTo('prior', messages[0]).find()).length, 3);
      assert.equal((await new Parse.Query('SdkMessage').exists('prior').find()).length, 3);
      assert.deepEqual((await new Parse.Query('SdkMessage').doesNotExist('prior').find()).map((o: any) => o.get('i')), [0]);
    });

    test('strings: regexes with options and modifiers, startsWith/endsWith/contains with any ASCII', async () => {
      const ascii = "\\E' !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'";
      await Parse.Object.saveAll([
        new Parse.Object('SdkText', { s: 'football' }),
        new Parse.Object('SdkText', { s: 'hockey' }),
        new Parse.Object('SdkText', { s: 'PArSe\nCom' }),
        new Parse.Object('SdkText', { s: '\n\nbuffer\n\nparse.COM' }),
        new Parse.Object('SdkText', { s: `zax${ascii}qub` }),
        new Parse.Object('SdkText', { s: `start${ascii}` }),
        new Parse.Object('SdkText', { s: `${ascii}end` }),
        new Parse.Object('SdkText', { s: ascii }),
      ]);
      const count = async (q: any): Promise<number> => (await q.find()).length;
      const text = (): any => new Parse.Query('SdkText');
      assert.equal(await count(text().matches('s', '^fo*\\wb[^o]l+$')), 1);
      assert.equal(await count(text().matches('s', /^fo*\wb[^o]l+$/)), 1);
      assert.equal(await count(text().matches('s', 'Hockey', 'i')), 1);
      assert.equal(await count(text().matches('s', 'parse # a comment\n.com  # another\n', 'mixs')), 2);
      assert.equal(await count(text().matches('s', /^parse\.com$/im)), 1);
      assert.equal(await count(text().matches('s', /^parse\.com$/i)), 0);
      assert.equal(await count(text().startsWith('s', ascii)), 2);
      assert.equal(await count(text().endsWith('s', ascii)), 2);
      assert.equal(await count(text().contains('s', ascii)), 4);
      await rejectsWith(text().matches('s', 'football', 'some invalid thing').find(), 102);
      await rejectsWith(text().equalTo('$foo', 'bar').find(), 105);
      await rejectsWith(text().equalTo('$foo', 'bar').first(), 105);
    });

    test('includes: not by default, single, array, nested paths, includeAll, users, and without dirtying', async () => {
      const child = new Parse.Object('SdkKid', { foo: 'bar' });
      const other = new Parse.Object('SdkKid', { foo: 'baz' });
      const parent = await new Parse.Object('SdkHolder', { child, other }).save();
      const plain = await new Parse.Query('SdkHolder').get(parent.id);
      assert.equal(plain.get('child').id, child.id);
      assert.equal(plain.get('child').get('foo'), undefined);
      const included = await new Parse.Query('SdkHolder').include('child').get(parent.id);
      assert.equal(included.get('child').get('foo'), 'bar');
      assert.equal(included.dirty(), false);
      assert.equal(included.get('child').dirty(), false);
      assert.equal((await new Parse.Query('SdkHolder').include(['child']).get(parent.id)).get('child').get('foo'), 'bar');
      const all = await new Parse.Query('SdkHolder').includeAll().get(parent.id);
      assert.deepEqual([all.get('child').get('foo'), all.get('other').get('foo')], ['bar', 'baz']);
      let seen = 0;
      await new Parse.Query('SdkHolder').includeAll().each((o: any) => {
        seen += 1;
        assert.equal(o.get('other').get('foo'), 'baz');
      });
      assert.equal(seen, 1);

      await Parse.Object.saveAll(
        Array.from({ length: 3 }, (_, i) => new Parse.Object('SdkGrand', { z: i, parent: new Parse.Object('SdkMid', { y: i, child: new Parse.Object('SdkLeaf', { x: i }) }) })),
      );
      const grands = await new Parse.Query('SdkGrand').include('parent.child').find();
      assert.equal(grands.length, 3);
      for (const g of grands) assert.equal(g.get('parent').get('child').get('x'), g.get('z'));

      const user = await Parse.User.signUp('sdk-query-owner', 'a long password 1', { age: 21 });
      const owned = await new Parse.Object('SdkOwned', { owner: user }).save();
      // Parsec's default enforcePrivateUsers (as Parse 6+): a user is readable by itself only.
      const withOwner = await new Parse.Query('SdkOwned').include('owner').get(owned.id, { sessionToken: user.getSessionToken() });
      assert.equal((await new Parse.Query('SdkOwned').include('owner').get(owned.id)).get('owner').get('age'), undefined);
      assert.ok(withOwner.get('owner') instanceof Parse.User);
      assert.equal(withOwner.get('owner').get('age'), 21);
      await Parse.User.logOut();
    });

    test('sub-queries: matchesQuery, doesNotMatchQuery, matchesKeyInQuery, doesNotMatchKeyInQuery', async () => {
      await Parse.Object.saveAll(Array.from({ length: 10 }, (_, i) => new Parse.Object('SdkParentQ', { x: 10 + i, child: new Parse.Object('SdkChildQ', { x: i }) })));
      const big = new Parse.Query('SdkChildQ').greaterThan('x', 5);
      const matched = await new Parse.Query('SdkParentQ').matchesQuery('child', big).find();
      assert.equal(matched.length, 4);
      assert.ok(matched.every((o: any) => o.get('x') > 15));
      const unmatched = await new Parse.Query('SdkParentQ').doesNotMatchQuery('child', big).find();
      assert.equal(unmatched.length, 6);
      assert.ok(unmatched.every((o: any) => o.get('x') <= 15));

      await Parse.Object.saveAll([
        new Parse.Object('SdkRestaurant', { rating: 5, location: 'Djibouti' }),
        new Parse.Object('SdkRestaurant', { rating: 3, location: 'Ouagadougou' }),
        new Parse.Object('SdkPerson', { name: 'Bob', hometown: 'Djibouti' }),
        new Parse.Object('SdkPerson', { name: 'Tom', hometown: 'Ouagadougou' }),
        new Parse.Object('SdkPerson', { name: 'Billy', hometown: 'Detroit' }),
      ]);
      const good = new Parse.Query('SdkRestaurant').greaterThan('rating', 4);
      assert.deepEqual((await new Parse.Query('SdkPerson').matchesKeyInQuery('hometown', 'location', good).find()).map((o: any) => o.get('name')), ['Bob']);
      const others = await new Parse.Query('SdkPerson').doesNotMatchKeyInQuery('hometown', 'location', good).ascending('name').find();
      assert.deepEqual(others.map((o: any) => o.get('name')), ['Billy', 'Tom']);
    });

    test('or, and, nor, also around sub-queries', async () => {
      await Parse.Object.saveAll(Array.from({ length: 10 }, (_, i) => new Parse.Object('SdkLogic', { x: i, y: i, child: new Parse.Object('SdkLogicChild', { x: i }) })));
      const logic = (): any => new Parse.Query('SdkLogic');
      const xs = async (q: any): Promise<number[]> => (await q.find()).map((o: any) => o.get('x')).sort((a: number, b: number) => a - b);
      assert.deepEqual(await xs(Parse.Query.or(logic().lessThan('x', 2), logic().greaterThan('x', 5))), [0, 1, 6, 7, 8, 9]);
      assert.deepEqual(await xs(Parse.Query.and(logic().greaterThan('x', 2), logic().lessThan('x', 5))), [3, 4]);
      assert.deepEqual(await xs(Parse.Query.nor(logic().greaterThan('x', 5), logic().lessThan('x', 3))), [3, 4, 5]);
      const four = new Parse.Query('SdkLogicChild').equalTo('x', 4);
      assert.deepEqual(await xs(Parse.Query.or(logic().matchesQuery('child', four), logic().lessThan('y', 2))), [0, 1, 4]);
      assert.deepEqual(await xs(Parse.Query.and(logic().matchesQuery('child', four), logic().equalTo('y', 4))), [4]);
      assert.equal((await xs(Parse.Query.nor(logic().matchesQuery('child', four), logic().equalTo('y', 5)))).length, 8);
    });

    test('select of a dotted key includes the object with only the selected fields, at any depth', async () => {
      const country = await new Parse.Object('SdkCountry', { name: 'Norway', code: 'NO' }).save();
      const author = await new Parse.Object('SdkAuthor', { name: 'Ibsen', born: 1828, country }).save();
      const co = await new Parse.Object('SdkAuthor', { name: 'Bjornson', born: 1832, country }).save();
      const book = await new Parse.Object('SdkBook', { title: 'Peer Gynt', pages: 300, author, editors: [author, co] }).save();
      const found = await new Parse.Query('SdkBook').select('title', 'author.name').get(book.id);
      assert.equal(found.get('title'), 'Peer Gynt');
      assert.equal(found.get('pages'), undefined);
      const included = found.get('author');
      assert.equal(included.id, author.id);
      assert.equal(included.get('name'), 'Ibsen');
      assert.equal(included.get('born'), undefined, 'an unselected field of the included object is left out');
      assert.equal(included.get('country'), undefined);
      const deep = await new Parse.Query('SdkBook').select('author.country.name', 'author.born').equalTo('objectId', book.id).first();
      assert.equal(deep.get('author').get('born'), 1828);
      assert.equal(deep.get('author').get('name'), undefined);
      assert.equal(deep.get('author').get('country').get('name'), 'Norway');
      assert.equal(deep.get('author').get('country').get('code'), undefined);
      const listed = await new Parse.Query('SdkBook').select('editors.name').get(book.id);
      assert.deepEqual(listed.get('editors').map((editor: any) => [editor.get('name'), editor.get('born')]), [['Ibsen', undefined], ['Bjornson', undefined]]);
      // Without a dotted key, an include is whole.
      const whole = await new Parse.Query('SdkBook').include('author').get(book.id);
      assert.equal(whole.get('author').get('born'), 1828);
    });

    test('select and exclude, including a selected field that is null or missing on some objects', async () => {
      const object = await new Parse.Object('SdkSelect', { foo: 'baz', bar: 1, slice: 'pizza', length: 5 }).save();
      await new Parse.Object('SdkSelect', { foo: null, bar: 2 }).save();
      await new Parse.Object('SdkSelect', { bar: 3 }).save();
      const selected = await new Parse.Query('SdkSelect').equalTo('objectId', object.id).select('foo').first();
      assert.ok(selected.id && selected.createdAt && selected.updatedAt);
      assert.equal(selected.dirty(), false);
      assert.equal(selected.get('foo'), 'baz');
      assert.equal(selected.get('bar'), undefined);
      // Every object comes back, with only the selected field where it has a value.
      const all = await new Parse.Query('SdkSelect').select('foo').ascending('createdAt').find();
      assert.equal(all.length, 3);
      assert.deepEqual(all.map((o: any) => o.get('foo') ?? 'none'), ['baz', 'none', 'none']);
      assert.ok(all.every((o: any) => o.get('bar') === undefined));
      const raw = await call(server.url, `/classes/SdkSelect${query({ keys: 'foo,bar', order: 'bar' })}`);
      assert.deepEqual(raw.body.results.map((r: any) => [r.foo, r.bar]), [['baz', 1], [undefined, 2], [undefined, 3]]);
      let seen = 0;
      await new Parse.Query('SdkSelect').select('foo').each((o: any) => {
        seen += 1;
        assert.equal(o.get('bar'), undefined);
      });
      assert.equal(seen, 3);
      const excluded = await new Parse.Query('SdkSelect').exclude('foo').get(object.id);
      assert.deepEqual([excluded.get('foo'), excluded.get('bar'), excluded.get('slice')], [undefined, 1, 'pizza']);
      const excludedTwo = await new Parse.Query('SdkSelect').exclude(['foo', 'slice']).get(object.id);
      assert.deepEqual([excludedTwo.get('foo'), excludedTwo.get('slice'), excludedTwo.get('bar')], [undefined, undefined, 1]);
      assert.equal((await new Parse.Query('SdkSelect').equalTo('length', 5).first()).get('length'), 5);
    });

    test('each, map, filter and reduce; each refuses order, limit and skip', async () => {
      await Parse.Object.saveAll(Array.from({ length: 30 }, (_, x) => new Parse.Object('SdkEach', { x })));
      const seen = new Map<number, number>();
      await new Parse.Query('SdkEach').lessThan('x', 25).each((o: any) => seen.set(o.get('x'), (seen.get(o.get('x')) ?? 0) + 1), { batchSize: 7 });
      assert.equal(seen.size, 25);
      assert.ok([...seen.values()].every((n) => n === 1));
      for (const q of [new Parse.Query('SdkEach').ascending('x'), new Parse.Query('SdkEach').limit(20), new Parse.Query('SdkEach').skip(20)]) {
        await assert.rejects(q.each(() => undefined));
      }
      const mapped = await new Parse.Query('SdkEach').lessThan('x', 3).map((o: any) => o.get('x'));
      assert.deepEqual([...mapped].sort(), [0, 1, 2]);
      const filtered = await new Parse.Query('SdkEach').filter((o: any) => o.get('x') === 7);
      assert.equal(filtered.length, 1);
      assert.equal(await new Parse.Query('SdkEach').lessThan('x', 4).reduce((sum: number, o: any) => sum + (o.get('x') as number), 0), 6);
    });

    test('findAll and eachBatch walk every object once, in batches', async () => {
      await Parse.Object.saveAll(Array.from({ length: 23 }, (_, x) => new Parse.Object('SdkBatch', { x })));
      const all = await new Parse.Query('SdkBatch').findAll({ batchSize: 5 });
      assert.deepEqual(all.map((o: any) => o.get('x')).sort((a: number, b: number) => a - b), Array.from({ length: 23 }, (_, x) => x));
      const sizes: number[] = [];
      await new Parse.Query('SdkBatch').greaterThanOrEqualTo('x', 3).eachBatch((batch: any[]) => {
        sizes.push(batch.length);
      }, { batchSize: 8 });
      assert.deepEqual(sizes, [8, 8, 4]);
    });

    test('dot notation into Object fields: equality, comparisons, existence, order and dates', async () => {
      const day = (d: number): Date => new Date(Date.UTC(2020, 0, d));
      await Parse.Object.saveAll([
        new Parse.Object('SdkNestedQuery', { name: 'a', meta: { level: 1, tag: 'x', when: day(1) } }),
        new Parse.Object('SdkNestedQuery', { name: 'b', meta: { level: 5, tag: 'y', when: day(5) } }),
        new Parse.Object('SdkNestedQuery', { name: 'c', meta: {} }),
      ]);
      const names = async (q: any): Promise<string[]> => (await q.find()).map((o: any) => o.get('name'));
      const nested = (): any => new Parse.Query('SdkNestedQuery');
      assert.deepEqual(await names(nested().equalTo('meta.tag', 'y')), ['b']);
      assert.deepEqual(await names(nested().greaterThan('meta.level', 2)), ['b']);
      assert.deepEqual(await names(nested().exists('meta.level').descending('meta.level')), ['b', 'a']);
      assert.deepEqual(await names(nested().doesNotExist('meta.level')), ['c']);
      assert.deepEqual(await names(nested().lessThan('meta.when', day(3))), ['a']);
      assert.deepEqual(await names(nested().equalTo('meta.when', day(5))), ['b']);
    });

    test('full text search: matches, $score order and select, language, and refused options', async () => {
      const subjects = ['coffee', 'Coffee Shopping', 'Baking a cake', 'baking', 'Café Con Leche', 'Сырники', 'coffee and cream', 'Cafe con Leche'];
      await Parse.Object.saveAll(subjects.map((subject) => new Parse.Object('SdkFullText', { subject })));
      assert.equal((await new Parse.Query('SdkFullText').fullText('subject', 'coffee').find()).length, 3);
      const scored = await new Parse.Query('SdkFullText').fullText('subject', 'coffee').ascending('$score').select('$score').find();
      assert.equal(scored.length, 3);
      const scores = scored.map((o: any) => o.get('score'));
      assert.ok(scores.every((s: unknown) => typeof s === 'number'));
      assert.ok(scores[0] >= scores[1] && scores[1] >= scores[2], JSON.stringify(scores));
      await new Parse.Object('SdkFullText', { pt: 'preparar' }).save();
      await new Parse.Object('SdkFullText', { pt: 'loja de café' }).save();
      assert.equal((await new Parse.Query('SdkFullText').fullText('pt', 'preparar', { language: 'portuguese' }).find()).length, 1);
      // Parse on PostgreSQL refuses these too.
      await rejectsWith(new Parse.Query('SdkFullText').fullText('subject', 'Coffee', { caseSensitive: true }).find(), 107);
      await rejectsWith(new Parse.Query('SdkFullText').fullText('subject', 'cafe', { diacriticSensitive: false }).find(), 107);
      await rejectsWith(new Parse.Query('SdkFullText').fullText('subject', 'cafe', { language: 'klingon' }).find(), 107);
    });

    test('hint and explain are master-only, as in Parsec\'s defaults', async () => {
      const refused = await call(server.url, `/classes/SdkBoxed${query({ explain: true })}`);
      assert.ok(refused.status >= 400 && refused.status < 500, JSON.stringify(refused.body));
      const explained = await boxed().explain().find({ useMasterKey: true });
      assert.ok(explained !== undefined && explained !== null);
    });
  });
}
