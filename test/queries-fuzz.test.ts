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
const field = fc.constantFrom('location', 'shape', 'subject', 'n', 'missing', 'meta.x', '$score');
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
  fc.dictionary(fc.constantFrom('$lookup', '$unwind', 'group', '$facet', '$match'), junk, { maxKeys: 2 }),
  junk,
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
        { n: 3 },
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
