import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

interface Fixture {
  name: string;
  score?: number;
  tags?: string[];
  meta?: Record<string, unknown>;
  born?: { __type: 'Date'; iso: string };
  active?: boolean;
}

const FIXTURES: Fixture[] = [
  { name: 'alpha', score: 10, tags: ['a', 'b'], meta: { level: 1, kind: 'x' }, born: { __type: 'Date', iso: '2020-01-01T00:00:00.000Z' }, active: true },
  { name: 'beta', score: 20, tags: ['b', 'c'], meta: { level: 2, kind: 'y' }, born: { __type: 'Date', iso: '2021-01-01T00:00:00.000Z' }, active: false },
  { name: 'gamma', score: 30, tags: ['c'], meta: { level: 3 }, born: { __type: 'Date', iso: '2022-01-01T00:00:00.000Z' } },
  { name: 'Delta\nline', score: 40, tags: [] },
  { name: 'epsilon' },
];

for (const engine of engines()) {
  describe(`where operators (${engine})`, () => {
    let server: TestServer;
    const ids = new Map<string, string>();
    before(async () => {
      server = await startTestServer(engine);
      for (const fixture of FIXTURES) {
        const created = await call(server.url, '/classes/Item', { method: 'POST', body: fixture });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        ids.set(fixture.name, created.body.objectId);
      }
    });
    after(async () => server.stop());

    async function names(where: unknown, extra: Record<string, unknown> = {}): Promise<string[]> {
      const result = await call(server.url, `/classes/Item${query({ where, order: 'name', ...extra })}`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.results.map((r: { name: string }) => r.name).sort();
    }

    const cases: [string, unknown, string[]][] = [
      ['equality', { name: 'beta' }, ['beta']],
      ['$eq', { score: { $eq: 20 } }, ['beta']],
      ['$ne includes rows without the field', { score: { $ne: 20 } }, ['Delta\nline', 'alpha', 'epsilon', 'gamma']],
      ['$lt/$gte range', { score: { $gte: 20, $lt: 40 } }, ['beta', 'gamma']],
      ['$in', { name: { $in: ['alpha', 'gamma', 'nobody'] } }, ['alpha', 'gamma']],
      ['$nin includes rows without the field', { score: { $nin: [10, 20] } }, ['Delta\nline', 'epsilon', 'gamma']],
      ['$exists true', { meta: { $exists: true } }, ['alpha', 'beta', 'gamma']],
      ['$exists false', { score: { $exists: false } }, ['epsilon']],
      ['equality with null matches missing', { score: null }, ['epsilon']],
      ['array contains element', { tags: 'c' }, ['beta', 'gamma']],
      ['array equality with an array', { tags: ['c'] }, ['gamma']],
      ['$all', { tags: { $all: ['b', 'c'] } }, ['beta']],
      ['$in on an array field matches any element', { tags: { $in: ['a', 'c'] } }, ['alpha', 'beta', 'gamma']],
      ['$containedBy', { tags: { $containedBy: ['a', 'b', 'c'] } }, ['Delta\nline', 'alpha', 'beta', 'epsilon', 'gamma']],
      ['$regex', { name: { $regex: '^[ab]' } }, ['alpha', 'beta']],
      ['$regex with i', { name: { $regex: '^delta', $options: 'i' } }, ['Delta\nline']],
      ['$regex without m anchors the whole string', { name: { $regex: '^line' } }, []],
      ['$regex with m anchors lines', { name: { $regex: '^line$', $options: 'm' } }, ['Delta\nline']],
      ['dot notation equality', { 'meta.kind': 'x' }, ['alpha']],
      ['dot notation range', { 'meta.level': { $gte: 2 } }, ['beta', 'gamma']],
      ['dot notation $exists', { 'meta.kind': { $exists: true } }, ['alpha', 'beta']],
      ['dates', { born: { $gt: { __type: 'Date', iso: '2020-06-01T00:00:00.000Z' } } }, ['beta', 'gamma']],
      ['booleans', { active: false }, ['beta']],
      ['$or', { $or: [{ name: 'alpha' }, { score: { $gt: 35 } }] }, ['Delta\nline', 'alpha']],
      ['$and', { $and: [{ score: { $gt: 5 } }, { score: { $lt: 25 } }] }, ['alpha', 'beta']],
      ['$nor', { $nor: [{ name: 'alpha' }, { score: { $exists: false } }] }, ['Delta\nline', 'beta', 'gamma']],
      ['unknown field never equals a value', { missing: 'x' }, []],
      ['unknown field $exists false matches all', { missing: { $exists: false } }, ['Delta\nline', 'alpha', 'beta', 'epsilon', 'gamma']],
      ['type mismatch never matches', { score: 'ten' }, []],
      ['objectId', {}, ['Delta\nline', 'alpha', 'beta', 'epsilon', 'gamma']],
    ];
    for (const [label, where, expected] of cases) {
      test(label, async () => {
        assert.deepEqual(await names(where), [...expected].sort());
      });
    }

    test('objectId and createdAt are queryable', async () => {
      assert.deepEqual(await names({ objectId: ids.get('beta') }), ['beta']);
      assert.equal((await names({ createdAt: { $lte: { __type: 'Date', iso: new Date().toISOString() } } })).length, 5);
    });

    test('sub-queries: $inQuery, $notInQuery, $select, $dontSelect', async () => {
      const Parse = parseSdk(server.url);
      const teams = await Parse.Object.saveAll([
        new Parse.Object('Team').set({ city: 'Paris', open: true }),
        new Parse.Object('Team').set({ city: 'Oslo', open: false }),
      ]);
      await Parse.Object.saveAll([
        new Parse.Object('Player').set({ name: 'p1', team: teams[0], hometown: 'Oslo' }),
        new Parse.Object('Player').set({ name: 'p2', team: teams[1], hometown: 'Rome' }),
      ]);
      const openTeams = new Parse.Query('Team').equalTo('open', true);
      const inQuery = await new Parse.Query('Player').matchesQuery('team', openTeams).find();
      assert.deepEqual(inQuery.map((p: any) => p.get('name')), ['p1']);
      const notInQuery = await new Parse.Query('Player').doesNotMatchQuery('team', openTeams).find();
      assert.deepEqual(notInQuery.map((p: any) => p.get('name')), ['p2']);
      const select = await new Parse.Query('Player').matchesKeyInQuery('hometown', 'city', new Parse.Query('Team')).find();
      assert.deepEqual(select.map((p: any) => p.get('name')), ['p1']);
      const dontSelect = await new Parse.Query('Player').doesNotMatchKeyInQuery('hometown', 'city', new Parse.Query('Team')).find();
      assert.deepEqual(dontSelect.map((p: any) => p.get('name')), ['p2']);
    });

    test('the SDK query API compiles to the same operators', async () => {
      const Parse = parseSdk(server.url);
      const q = new Parse.Query('Item').containedIn('name', ['alpha', 'beta', 'gamma']).greaterThan('score', 10).ascending('score');
      assert.deepEqual((await q.find()).map((o: any) => o.get('name')), ['beta', 'gamma']);
      const startsWith = await new Parse.Query('Item').startsWith('name', 'gam').find();
      assert.deepEqual(startsWith.map((o: any) => o.get('name')), ['gamma']);
      const or = Parse.Query.or(new Parse.Query('Item').equalTo('score', 10), new Parse.Query('Item').equalTo('score', 30));
      assert.equal(await or.count(), 2);
      const first = await new Parse.Query('Item').descending('score').first();
      assert.equal(first.get('name'), 'Delta\nline');
    });

    test('limit is capped by maxLimit and a negative limit means the default ceiling', async () => {
      const capped = await call(server.url, `/classes/Item${query({ limit: 5000 })}`);
      assert.equal(capped.status, 200);
      assert.equal(capped.body.results.length, 5);
      const none = await call(server.url, `/classes/Item${query({ limit: 0 })}`);
      assert.deepEqual(none.body, { results: [] });
    });

    test('sorting puts missing values first ascending and last descending', async () => {
      const ascending = await call(server.url, `/classes/Item${query({ order: 'score', keys: 'name' })}`);
      assert.equal(ascending.body.results[0].name, 'epsilon');
      const descending = await call(server.url, `/classes/Item${query({ order: '-score', keys: 'name' })}`);
      assert.equal(descending.body.results.at(-1).name, 'epsilon');
    });
  });
}
