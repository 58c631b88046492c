/**
 * Property: random geo, text and aggregate shapes (valid, nearly valid and junk) never produce a 5xx or a
 * non-Parse error, and never change data. The seed is printed with every failure; replay with FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { assertAlive, assertWellFormed, describeResponse, fuzzParameters, send } from './helpers/fuzz.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const number = fc.oneof(
  fc.double(),
  fc.integer({ min: -200, max: 200 }),
  fc.constantFrom(0, -0, 90, -90, 90.0001, 180, -180, 181, Math.PI, 1e308, -1e308, 5e-324),
);
const junk = fc.oneof(fc.string({ maxLength: 6 }), number, fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([]));
const latLng = fc.record({ __type: fc.constantFrom('GeoPoint', 'GeoPoint', 'Polygon', 'x'), latitude: fc.oneof(number, junk), longitude: fc.oneof(number, junk) });
const pair = fc.oneof(fc.tuple(number, number), fc.array(fc.oneof(number, junk), { maxLength: 3 }));
const point = fc.oneof(latLng, pair, junk);
const polygon = fc.oneof(fc.array(point, { maxLength: 6 }), fc.record({ __type: fc.constant('Polygon'), coordinates: fc.array(pair, { maxLength: 6 }) }), junk);

const geo = fc.oneof(
  fc.record({ $nearSphere: point }, { requiredKeys: [] }).chain((base) =>
    fc.record({ $maxDistance: fc.oneof(number, junk), $maxDistanceInKilometers: number, $maxDistanceInMiles: number, $maxDistanceInRadians: number }, { requiredKeys: [] }).map((extra) => ({ ...base, ...extra })),
  ),
  fc.record({ $within: fc.oneof(fc.record({ $box: fc.array(point, { maxLength: 3 }) }), junk) }),
  fc.record({ $geoWithin: fc.oneof(fc.record({ $polygon: polygon }), fc.record({ $centerSphere: fc.oneof(fc.tuple(point, fc.oneof(number, junk)), junk) }), junk) }),
  fc.record({ $geoIntersects: fc.oneof(fc.record({ $point: point }), junk) }),
);
const text = fc.record({
  $text: fc.oneof(
    fc.record(
      {
        $search: fc.oneof(
          fc.record(
            {
              $term: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('coffee', '"a b" -c', "'&|!:*()", 'or', '-', '""'), junk),
              $language: fc.oneof(fc.constantFrom('english', 'es', 'none', 'klingon', 'simple', "x'; --"), junk),
              $caseSensitive: fc.oneof(fc.boolean(), junk),
              $diacriticSensitive: fc.oneof(fc.boolean(), junk),
            },
            { requiredKeys: [] },
          ),
          junk,
        ),
      },
      { requiredKeys: [] },
    ),
    junk,
  ),
});
const field = fc.constantFrom('location', 'shape', 'subject', 'n', 'missing', 'meta.x', '$score', 'tags');
const where = fc.dictionary(field, fc.oneof(geo, text, junk), { maxKeys: 2 });
const findOptions = fc.record({ where, order: fc.constantFrom(undefined, '$score', '-$score', 'n'), keys: fc.constantFrom(undefined, '$score', 'n,$score') }, { requiredKeys: ['where'] });

const fieldRef = fc.oneof(field.map((f) => `$${f}`), junk);
const accumulator = fc.oneof(
  fc.record({ $sum: fc.oneof(fieldRef, number) }),
  fc.record({ $avg: fieldRef }),
  fc.record({ $min: fieldRef }),
  fc.record({ $max: fieldRef }),
  fc.record({ $count: fc.oneof(fc.constant({}), junk) }),
  junk,
);
const stage = fc.oneof(
  fc.record({ $match: where }),
  fc.record({ $group: fc.record({ _id: fc.oneof(fieldRef, fc.constant(null)), total: accumulator, objectId: accumulator }, { requiredKeys: [] }) }),
  fc.record({ $sort: fc.dictionary(field, fc.oneof(fc.constantFrom(1, -1), junk), { maxKeys: 2 }) }),
  fc.record({ $limit: fc.oneof(fc.nat(5), junk) }),
  fc.record({ $skip: fc.oneof(fc.nat(5), junk) }),
  fc.record({ $project: fc.dictionary(field, fc.oneof(fc.constant(1), junk), { maxKeys: 2 }) }),
  fc.record({ $count: fc.oneof(fc.constantFrom('total', 'n'), junk) }),
  fc.record({
    $unwind: fc.oneof(
      fieldRef,
      fc.record({ path: fieldRef, preserveNullAndEmptyArrays: fc.oneof(fc.boolean(), junk), includeArrayIndex: fc.oneof(fc.constantFrom('i', 'n', 'tags', 'objectId'), junk) }, { requiredKeys: [] }),
      junk,
    ),
  }),
  fc.dictionary(fc.constantFrom('$lookup', '$unwind', 'group', '$facet', '$match'), junk, { maxKeys: 2 }),
  junk,
);
// What the SDK sends for relations, includes and containsAllStartingWith, and near misses of it.
const pointerTo = fc.record({ __type: fc.constant('Pointer'), className: fc.constantFrom('Place', 'Other', '_User', ''), objectId: fc.oneof(fc.constantFrom('aaaaaaaaaa', 'x'), junk) });
const sdkWhere = fc.dictionary(
  fc.constantFrom('rel', 'tags', 'n', 'missing', '$foo', '$relatedTo'),
  fc.oneof(
    pointerTo,
    fc.record({ $in: fc.array(fc.oneof(pointerTo, junk), { maxLength: 3 }) }),
    fc.record({ $nin: fc.array(pointerTo, { maxLength: 2 }) }),
    fc.record({ $ne: pointerTo }),
    fc.record({ $all: fc.array(fc.oneof(fc.record({ $regex: fc.oneof(fc.constantFrom('^\\Qa\\E', '^b', '(a+)+$'), junk) }, { requiredKeys: [] }), junk), { maxLength: 3 }) }),
    fc.record({ object: fc.oneof(pointerTo, fc.record({ __type: fc.constant('Pointer'), className: fc.constant('Place') }), junk), key: fc.oneof(fc.constantFrom('rel', 'n'), junk) }, { requiredKeys: [] }),
    junk,
  ),
  { maxKeys: 2 },
);
const sdkFind = fc.record(
  {
    where: sdkWhere,
    include: fc.oneof(fc.constantFrom('*', 'rel', '*,rel', 'tags.x'), junk),
    includeAll: fc.oneof(fc.boolean(), junk),
    redirectClassNameForKey: fc.oneof(fc.constantFrom('rel', 'n', 'missing', 'a.b'), junk),
    order: fc.constantFrom(undefined, '_created_at', '-_updated_at', '_other'),
  },
  { requiredKeys: ['where'] },
);

const aggregate = fc.oneof(
  fc.record({ pipeline: fc.oneof(fc.array(stage, { maxLength: 4 }), stage) }),
  fc.record({ distinct: fc.oneof(field, junk), where }, { requiredKeys: ['distinct'] }),
);

for (const engine of engines()) {
  describe(`geo, text and aggregate never fail badly (${engine})`, () => {
    let server: TestServer;
    const count = async (): Promise<number> => (await send(server.url, '/classes/Place?count=1&limit=0', { master: true })).body.count as number;
    before(async () => {
      server = await startTestServer(engine);
      const rows = [
        { location: { __type: 'GeoPoint', latitude: 1, longitude: 2 }, subject: 'coffee shop', n: 1, meta: { x: 'tea' } },
        { shape: { __type: 'Polygon', coordinates: [[0, 0], [0, 1], [1, 1]] }, subject: 'cake', n: 2 },
        { n: 3, tags: ['a', 1, { b: [2] }, null] },
        { tags: [] },
      ];
      for (const row of rows) assert.equal((await send(server.url, '/classes/Place', { method: 'POST', body: JSON.stringify(row) })).status, 201);
    });
    after(async () => server.stop());

    test('finds with geo and text operators', async () => {
      const before = await count();
      await fc.assert(
        fc.asyncProperty(findOptions, fc.boolean(), async (options, master) => {
          const body = JSON.stringify({ _method: 'GET', ...options });
          assertWellFormed(await send(server.url, '/classes/Place', { method: 'POST', body, master }), `find ${body}`);
        }),
        fuzzParameters(150),
      );
      assert.equal(await count(), before);
      await assertAlive(server.url);
    });

    test('relation comparisons, includeAll, redirectClassNameForKey and $all regexes', async () => {
      const related = await send(server.url, '/classes/Other', { method: 'POST', body: '{}' });
      const owner = await send(server.url, '/classes/Place', { method: 'POST', body: JSON.stringify({ n: 9 }) });
      const addRelation = { rel: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: 'Other', objectId: related.body.objectId as string }] } };
      assert.equal((await send(server.url, `/classes/Place/${String(owner.body.objectId)}`, { method: 'PUT', body: JSON.stringify(addRelation), master: true })).status, 200);
      const before = await count();
      await fc.assert(
        fc.asyncProperty(sdkFind, fc.boolean(), async (options, master) => {
          const body = JSON.stringify({ _method: 'GET', ...options });
          const response = await send(server.url, '/classes/Place', { method: 'POST', body, master });
          assertWellFormed(response, `find ${body}`);
          if (response.status === 200) assert.ok(Array.isArray(response.body.results), describeResponse(body, response));
        }),
        fuzzParameters(150),
      );
      assert.equal(await count(), before);
      await assertAlive(server.url);
    });

    test('polygons written by clients are stored closed or refused with a Parse error', async () => {
      const before = await count();
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.record({ __type: fc.constant('Polygon'), coordinates: fc.oneof(fc.array(pair, { maxLength: 6 }), junk) }), polygon), async (value) => {
          const body = JSON.stringify({ shape: value });
          const response = await send(server.url, '/classes/Place', { method: 'POST', body, master: true });
          assertWellFormed(response, `create ${body}`);
          if (response.status !== 201) return;
          const stored = await send(server.url, `/classes/Place/${String(response.body.objectId)}`, { master: true });
          await send(server.url, `/classes/Place/${String(response.body.objectId)}`, { method: 'DELETE', master: true });
          // null is a valid value (no polygon); anything else accepted must have been a polygon.
          if (value === null) return;
          const coordinates = stored.body.shape.coordinates as number[][];
          assert.deepEqual(coordinates[0], coordinates[coordinates.length - 1], describeResponse(body, stored));
          assert.ok(new Set(coordinates.map((p) => p.join())).size >= 3, describeResponse(body, stored));
        }),
        fuzzParameters(100),
      );
      // Every accepted polygon was checked above and removed again.
      assert.equal(await count(), before);
      await assertAlive(server.url);
    });

    test('aggregate pipelines and distinct', async () => {
      const before = await count();
      await fc.assert(
        fc.asyncProperty(aggregate, async (options) => {
          const body = JSON.stringify({ _method: 'GET', ...options });
          const response = await send(server.url, '/aggregate/Place', { method: 'POST', body, master: true });
          assertWellFormed(response, `aggregate ${body}`);
          if (response.status === 200) assert.ok(Array.isArray(response.body.results), describeResponse(body, response));
        }),
        fuzzParameters(150),
      );
      assert.equal(await count(), before);
      await assertAlive(server.url);
    });
  });
}
