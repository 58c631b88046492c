/**
 * `distinct` and `/aggregate/:className` through the official SDK and raw REST, on every engine: the
 * master key only, Parse's response shapes (`objectId` for the group key), each supported stage, and
 * Parse errors (102) for everything else, with nothing changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOk, assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const ROWS = [
  { score: 10, name: 'foo', sender: { group: 'A' }, views: 900, size: ['S', 'M'] },
  { score: 10, name: 'foo', sender: { group: 'A' }, views: 800, size: ['M', 'L'] },
  { score: 10, name: 'bar', sender: { group: 'B' }, views: 700, size: ['S'] },
  { score: 20, name: 'dpl', sender: { group: 'B' }, views: 700, size: ['S'] },
];

for (const engine of engines()) {
  describe(`aggregate and distinct (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll(ROWS.map((row) => new Parse.Object('Score').set(row)));
    });
    after(async () => server.stop());

    const aggregate = async (pipeline: unknown, extra: Record<string, unknown> = {}): Promise<any[]> =>
      assertOk(await call(server.url, `/aggregate/Score${query({ pipeline, ...extra })}`, { master: true }), JSON.stringify(pipeline)).results;

    test('SDK distinct: scalars, with a where, array elements, nested paths', async () => {
      assert.deepEqual((await new Parse.Query('Score').distinct('score')).sort(), [10, 20]);
      assert.deepEqual(await new Parse.Query('Score').equalTo('name', 'foo').distinct('score'), [10]);
      assert.deepEqual((await new Parse.Query('Score').distinct('size')).sort(), ['L', 'M', 'S']);
      assert.deepEqual((await new Parse.Query('Score').distinct('sender.group')).sort(), ['A', 'B']);
      assert.deepEqual(await new Parse.Query('Score').distinct('missing'), []);
    });

    test('SDK aggregate: $group by a field and by null with every accumulator', async () => {
      const byName = await new Parse.Query('Score').aggregate([{ $group: { _id: '$name', n: { $sum: 1 } } }]);
      assert.deepEqual(byName.map((r: any) => [r.objectId, r.n]).sort(), [['bar', 1], ['dpl', 1], ['foo', 2]]);
      const [all] = await new Parse.Query('Score').aggregate({
        $group: { _id: null, total: { $sum: '$score' }, avg: { $avg: '$score' }, min: { $min: '$score' }, max: { $max: '$views' }, n: { $count: {} } },
      });
      assert.deepEqual(all, { objectId: null, total: 50, avg: 12.5, min: 10, max: 900, n: 4 });
    });

    test('the SDK prepends its where as $match', async () => {
      const results = await new Parse.Query('Score').greaterThan('score', 15).aggregate([{ $group: { _id: null, n: { $sum: 1 } } }]);
      assert.deepEqual(results, [{ objectId: null, n: 1 }]);
    });

    test('$match, $sort, $skip, $limit and $project', async () => {
      const sorted = await aggregate([{ $sort: { views: -1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { views: 1 } }]);
      assert.deepEqual(sorted.map((r) => r.views), [800, 700]);
      assert.ok(sorted.every((r) => typeof r.objectId === 'string' && Object.keys(r).sort().join() === 'objectId,views'));
      const matched = await aggregate([{ $match: { score: { $gt: 5, $lt: 15 }, views: 900 } }]);
      assert.equal(matched.length, 1);
      assert.equal(matched[0].name, 'foo');
      assert.equal(typeof matched[0].createdAt, 'string');
    });

    test('stages after $group see its fields; the sort survives later stages', async () => {
      const results = await aggregate([
        { $group: { _id: '$name', views: { $sum: '$views' } } },
        { $sort: { views: -1 } },
        { $match: { views: { $gt: 700 } } },
        { $limit: 5 },
      ]);
      assert.deepEqual(results, [{ objectId: 'foo', views: 1700 }]);
      assert.deepEqual(await aggregate([{ $match: { name: 'foo' } }, { $count: 'total' }]), [{ total: 2 }]);
      assert.deepEqual(await aggregate([{ $match: { name: 'nobody' } }, { $group: { _id: null, n: { $sum: 1 } } }]), []);
    });

    test('pipeline as an object and where as a parameter', async () => {
      const results = await aggregate({ $group: { _id: '$score' } }, { where: { name: 'foo' } });
      assert.deepEqual(results, [{ objectId: 10 }]);
    });

    test('clients and signed-in users cannot aggregate: 403 as Parse, and nothing is read', async () => {
      const signUp = assertOk(await call(server.url, '/users', { method: 'POST', body: { username: 'agg-user', password: 'a long password 1' } }), 'sign up', 201);
      const asUser = { headers: { 'X-Parse-Session-Token': signUp.sessionToken as string } };
      const requests: [string, Parameters<typeof call>[2]][] = [
        [`/aggregate/Score${query({ distinct: 'score' })}`, {}],
        [`/aggregate/Score${query({ pipeline: [{ $count: 'n' }] })}`, asUser],
        // The SDK's form: POST with _method GET, and a pipeline that would be refused (the key is checked first).
        ['/aggregate/Score', { method: 'POST', body: { _method: 'GET', pipeline: [{ $lookup: {} }] } }],
      ];
      for (const [path, options] of requests) {
        const refused = await call(server.url, path, options);
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.deepEqual(refused.body, { error: 'unauthorized: master key is required' });
      }
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['unknown stage', { pipeline: [{ $lookup: { from: 'X' } }] }, /Unsupported aggregate stage '\$lookup'/],
      ['stage without $', { pipeline: [{ group: { _id: null } }] }, /Invalid aggregate stage 'group'/],
      ['two keys in a stage', { pipeline: [{ $match: {}, $limit: 1 }] }, /only have one key/],
      ['$group without _id', { pipeline: [{ $group: { n: { $sum: 1 } } }] }, /Missing key _id/],
      ['$group with objectId', { pipeline: [{ $group: { _id: null, objectId: { $sum: 1 } } }] }, /objectId/],
      ['$group expression key', { pipeline: [{ $group: { _id: { y: { $year: '$createdAt' } } } }] }, /expressions/],
      ['unknown accumulator', { pipeline: [{ $group: { _id: null, x: { $push: '$name' } } }] }, /accumulator/],
      ['$limit not a number', { pipeline: [{ $limit: 'ten' }] }, /\$limit/],
      ['$sort direction', { pipeline: [{ $sort: { name: 2 } }] }, /direction/],
      ['$project exclusion', { pipeline: [{ $project: { name: 0 } }] }, /inclusion/],
      ['$match on a field $group did not produce', { pipeline: [{ $group: { _id: '$name' } }, { $match: { score: 1 } }] }, /previous stage/],
      ['$match on the group key', { pipeline: [{ $group: { _id: '$score' } }, { $match: { objectId: 10 } }] }, /objectId/],
      ['bad operator inside $match', { pipeline: [{ $match: { score: { $where: '1' } } }] }, /Invalid query operator/],
      ['pipeline not JSON', { pipeline: '[{' }, /./],
      ['bad field name', { pipeline: [{ $group: { _id: '$na me' } }] }, /./],
      ['rawValues', { pipeline: [], rawValues: true }, /rawValues/],
    ];
    for (const [label, params, message] of bad) {
      test(`refused: ${label}`, async () => {
        const result = await call(server.url, `/aggregate/Score${query(params)}`, { master: true });
        assert.ok(result.status === 400, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
        assert.ok([102, 105, 107].includes(result.body.code), JSON.stringify(result.body));
        assert.match(result.body.error, message);
      });
    }

    test('a missing class answers no results; internal classes are refused', async () => {
      assert.deepEqual(await (async () => assertOk(await call(server.url, `/aggregate/Nothing${query({ distinct: 'x' })}`, { master: true }), 'missing').results)(), []);
      assertRefused(await call(server.url, `/aggregate/_Join:x:Score${query({ distinct: 'x' })}`, { master: true }), 119, undefined, '_Join');
    });
  });
}
