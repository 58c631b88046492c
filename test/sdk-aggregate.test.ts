/**
 * Aggregate behaviours the official JS SDK relies on (its integration suite ParseQueryAggregateTest), and
 * `$unwind`, written for Parsec and run on every engine. The SDK's older pipeline spelling (`group` without
 * `$`, `objectId` as the group key) is refused as modern Parse Server refuses it; `$lookup` and `$project`
 * expressions are not supported and say so (102), with nothing changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOk, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`SDK aggregate (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll([
        new Parse.Object('SdkAgg', { score: 10, name: 'foo', tags: ['a', 'b'] }),
        new Parse.Object('SdkAgg', { score: 10, name: 'foo', tags: ['b'] }),
        new Parse.Object('SdkAgg', { score: 10, name: 'bar', tags: [] }),
        new Parse.Object('SdkAgg', { score: 20, name: 'dpl' }),
      ]);
    });
    after(async () => server.stop());

    const master = { useMasterKey: true };
    const aggregate = async (pipeline: unknown): Promise<any[]> =>
      assertOk(await call(server.url, `/aggregate/SdkAgg${query({ pipeline })}`, { master: true }), JSON.stringify(pipeline)).results;

    test('a $group pipeline as an object or an array, alone or on top of a query', async () => {
      assert.equal((await new Parse.Query('SdkAgg').aggregate({ $group: { _id: '$name' } }, master)).length, 3);
      assert.equal((await new Parse.Query('SdkAgg').aggregate([{ $group: { _id: '$name' } }], master)).length, 3);
      assert.deepEqual(await new Parse.Query('SdkAgg').equalTo('name', 'foo').aggregate({ $group: { _id: '$name' } }, master), [{ objectId: 'foo' }]);
      assert.deepEqual(await new Parse.Query('SdkAgg').equalTo('score', 20).aggregate({ $group: { _id: '$name' } }, master), [{ objectId: 'dpl' }]);
      assert.throws(() => new Parse.Query('SdkAgg').aggregate(1234, master));
    });

    test('distinct, alone and with a where', async () => {
      assert.deepEqual((await new Parse.Query('SdkAgg').distinct('score', master)).sort(), [10, 20]);
      assert.deepEqual(await new Parse.Query('SdkAgg').equalTo('name', 'foo').distinct('score', master), [10]);
    });

    test('$unwind: one result per element, then grouped and counted', async () => {
      const unwound = await aggregate([{ $unwind: '$tags' }, { $sort: { name: 1 } }, { $project: { name: 1, tags: 1 } }]);
      assert.deepEqual(unwound.map((r) => [r.name, r.tags]).sort(), [['foo', 'a'], ['foo', 'b'], ['foo', 'b']]);
      const perTag = await aggregate([{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { n: -1 } }]);
      assert.deepEqual(perTag, [{ objectId: 'b', n: 2 }, { objectId: 'a', n: 1 }]);
      assert.deepEqual(await aggregate([{ $unwind: { path: '$tags' } }, { $count: 'elements' }]), [{ elements: 3 }]);
      assert.deepEqual(await aggregate([{ $unwind: '$tags' }, { $match: { tags: 'a' } }, { $project: { name: 1 } }]).then((r) => r.map((x) => x.name)), ['foo']);
    });

    test('$unwind options: preserveNullAndEmptyArrays and includeArrayIndex', async () => {
      const kept = await aggregate([{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } }, { $project: { name: 1, tags: 1, i: 1 } }]);
      const rows = kept.map((r) => `${r.name as string}:${String(r.tags)}:${String(r.i)}`).sort();
      assert.deepEqual(rows, ['bar:undefined:undefined', 'dpl:undefined:undefined', 'foo:a:0', 'foo:b:0', 'foo:b:1']);
      // A field that is not an Array is one value, as in MongoDB; a missing field unwinds to nothing.
      assert.equal((await aggregate([{ $unwind: '$name' }])).length, 4);
      assert.deepEqual(await aggregate([{ $unwind: '$missing' }]), []);
      assert.equal((await aggregate([{ $unwind: { path: '$missing', preserveNullAndEmptyArrays: true } }])).length, 4);
    });

    const refused: [string, unknown, RegExp][] = [
      ['the pre-Parse 6 spelling without $', { group: { objectId: '$name' } }, /Invalid aggregate stage 'group'/],
      ['objectId as the group key', [{ $group: { objectId: '$name' } }], /objectId/],
      ['$lookup', [{ $lookup: { from: 'SdkAgg', localField: 'x', foreignField: '_id', as: 'y' } }], /Unsupported aggregate stage '\$lookup'/],
      ['a $project expression', [{ $project: { tempPointer: { $substr: ['$_p_pointer', 11, -1] } } }], /inclusion/],
      ['$unwind of a nested path', [{ $unwind: '$a.b' }], /top-level/],
      ['$unwind without $', [{ $unwind: 'tags' }], /\$field/],
      ['$unwind with an unknown option', [{ $unwind: { path: '$tags', sort: 1 } }], /option/],
      ['$unwind with a bad preserveNullAndEmptyArrays', [{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: 'yes' } }], /boolean/],
      ['$unwind index named objectId', [{ $unwind: { path: '$tags', includeArrayIndex: 'objectId' } }], /includeArrayIndex/],
    ];
    for (const [label, pipeline, message] of refused) {
      test(`refused with 102: ${label}`, async () => {
        const before = await new Parse.Query('SdkAgg').count(master);
        const response = await call(server.url, `/aggregate/SdkAgg${query({ pipeline })}`, { master: true });
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.equal(response.body.code, 102, JSON.stringify(response.body));
        assert.match(response.body.error, message);
        assert.equal(await new Parse.Query('SdkAgg').count(master), before);
      });
    }
  });
}
