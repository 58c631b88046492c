/**
 * Geo queries through the official SDK and raw REST, on every engine: distances (sorted and not), boxes,
 * polygons (both directions), validation of bad input as Parse errors, and ACLs still applied.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const CITIES: [string, number, number][] = [
  ['San Francisco', 37.75, -122.68],
  ['Sacramento', 38.52, -121.5],
  ['Honolulu', 21.35, -157.93],
];
const SFO = { latitude: 37.6189722, longitude: -122.3748889 };

for (const engine of engines()) {
  describe(`geo queries (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll(CITIES.map(([name, lat, lng]) => new Parse.Object('City').set({ name, location: new Parse.GeoPoint(lat, lng) })));
      // A city without a location and one nobody but its owner may read.
      await new Parse.Object('City').save({ name: 'Nowhere' });
      const hidden = new Parse.Object('City').set({ name: 'Secret Oakland', location: new Parse.GeoPoint(37.8, -122.27) });
      hidden.setACL(new Parse.ACL());
      await hidden.save(null, { useMasterKey: true });
    });
    after(async () => server.stop());

    const names = (results: any[]): string[] => results.map((o) => o.get('name'));
    const sfo = (): any => new Parse.GeoPoint(SFO);

    test('near orders by distance and leaves out rows without a point', async () => {
      const results = await new Parse.Query('City').near('location', sfo()).find();
      assert.deepEqual(names(results), ['San Francisco', 'Sacramento', 'Honolulu']);
    });

    test('explicit order wins over $nearSphere distance order', async () => {
      const results = await new Parse.Query('City').near('location', sfo()).descending('name').find();
      assert.deepEqual(names(results), ['San Francisco', 'Sacramento', 'Honolulu']);
      const byName = await new Parse.Query('City').near('location', sfo()).ascending('name').find();
      assert.deepEqual(names(byName), ['Honolulu', 'Sacramento', 'San Francisco']);
    });

    for (const sorted of [true, false]) {
      test(`withinKilometers / withinMiles / withinRadians (sorted: ${sorted})`, async () => {
        const km = async (d: number): Promise<string[]> => names(await new Parse.Query('City').withinKilometers('location', sfo(), d, sorted).find());
        assert.deepEqual((await km(4800)).length, 3);
        const california = await km(3700);
        // Sorted means nearest first; unsorted promises no order.
        assert.deepEqual(sorted ? california : california.sort(), sorted ? ['San Francisco', 'Sacramento'] : ['Sacramento', 'San Francisco']);
        assert.deepEqual(await km(100), ['San Francisco']);
        assert.deepEqual(await km(10), []);
        const miles = async (d: number): Promise<number> => (await new Parse.Query('City').withinMiles('location', sfo(), d, sorted).find()).length;
        assert.equal(await miles(2600), 3);
        assert.equal(await miles(62), 1);
        assert.equal(await miles(10), 0);
        const radians = async (d: number): Promise<number> => (await new Parse.Query('City').withinRadians('location', sfo(), d, sorted).find()).length;
        assert.equal(await radians(Math.PI), 3);
        assert.equal(await radians(100 / 6371), 1);
      });
    }

    test('$maxDistanceInKilometers and count', async () => {
      const where = { location: { $nearSphere: { __type: 'GeoPoint', ...SFO }, $maxDistanceInKilometers: 200 } };
      const result = await call(server.url, `/classes/City${query({ where, count: 1 })}`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.count, 2);
      assert.deepEqual(result.body.results.map((r: any) => r.name), ['San Francisco', 'Sacramento']);
    });

    test('withinGeoBox includes its edges', async () => {
      const box = await new Parse.Query('City').withinGeoBox('location', new Parse.GeoPoint(37.75, -123), new Parse.GeoPoint(39, -121.5)).find();
      assert.deepEqual(names(box).sort(), ['Sacramento', 'San Francisco']);
    });

    test('withinPolygon with GeoPoints (open and closed) and [lng, lat] pairs', async () => {
      const open = [new Parse.GeoPoint(37, -123), new Parse.GeoPoint(39, -123), new Parse.GeoPoint(39, -121), new Parse.GeoPoint(37, -121)];
      assert.deepEqual(names(await new Parse.Query('City').withinPolygon('location', open).find()).sort(), ['Sacramento', 'San Francisco']);
      const closed = [...open, open[0]];
      assert.deepEqual(names(await new Parse.Query('City').withinPolygon('location', closed).find()).sort(), ['Sacramento', 'San Francisco']);
      // A triangle with Sacramento on its edge and San Francisco outside.
      const triangle = [[-121.5, 38], [-121.5, 39], [-120, 38.5]];
      const where = { location: { $geoWithin: { $polygon: triangle } } };
      const result = await call(server.url, `/classes/City${query({ where })}`);
      assert.deepEqual(result.body.results.map((r: any) => r.name), ['Sacramento']);
    });

    test('polygonContains on Polygon fields, edges included', async () => {
      await Parse.Object.saveAll([
        new Parse.Object('Area').set({ name: 'unit', shape: new Parse.Polygon([[0, 0], [0, 1], [1, 1], [1, 0]]) }),
        new Parse.Object('Area').set({ name: 'double', shape: new Parse.Polygon([[0, 0], [0, 2], [2, 2], [2, 0]]) }),
        new Parse.Object('Area').set({ name: 'far', shape: new Parse.Polygon([[10, 10], [10, 15], [15, 15], [15, 10], [10, 10]]) }),
      ]);
      const at = async (lat: number, lng: number): Promise<string[]> => names(await new Parse.Query('Area').polygonContains('shape', new Parse.GeoPoint(lat, lng)).find()).sort();
      assert.deepEqual(await at(0.5, 0.5), ['double', 'unit']);
      assert.deepEqual(await at(1.5, 0.5), ['double']);
      assert.deepEqual(await at(1, 1), ['double', 'unit']);
      assert.deepEqual(await at(12, 14), ['far']);
      assert.deepEqual(await at(-1, -1), []);
    });

    test('ACLs still apply: the hidden city is found only with the master key', async () => {
      const nearOakland = { location: { $nearSphere: { __type: 'GeoPoint', latitude: 37.8, longitude: -122.27 }, $maxDistanceInKilometers: 5 } };
      const client = await call(server.url, `/classes/City${query({ where: nearOakland })}`);
      assert.deepEqual(client.body.results, []);
      const master = await call(server.url, `/classes/City${query({ where: nearOakland })}`, { master: true });
      assert.deepEqual(master.body.results.map((r: any) => r.name), ['Secret Oakland']);
    });

    test('a geo operator on a field of another type or a missing field matches nothing', async () => {
      for (const field of ['name', 'missing']) {
        const where = { [field]: { $nearSphere: { __type: 'GeoPoint', latitude: 0, longitude: 0 } } };
        const result = await call(server.url, `/classes/City${query({ where })}`);
        assert.deepEqual(result.body.results, [], field);
      }
    });

    const point = (latitude: unknown, longitude: unknown): unknown => ({ __type: 'GeoPoint', latitude, longitude });
    const bad: [string, unknown, number][] = [
      ['latitude 91', { location: { $nearSphere: point(91, 0) } }, 107],
      ['longitude -181', { location: { $nearSphere: point(0, -181) } }, 107],
      ['$nearSphere not a point', { location: { $nearSphere: [0, 0] } }, 107],
      ['negative $maxDistance', { location: { $nearSphere: point(0, 0), $maxDistance: -1 } }, 107],
      ['$maxDistance alone', { location: { $maxDistance: 1 } }, 102],
      ['$box of one corner', { location: { $within: { $box: [point(0, 0)] } } }, 107],
      ['polygon of 2 points', { location: { $geoWithin: { $polygon: [point(0, 0), point(1, 1)] } } }, 107],
      ['Polygon object of 2 points', { location: { $geoWithin: { $polygon: { __type: 'Polygon', coordinates: [[0, 0], [10, 0]] } } } }, 107],
      ['polygon not an array', { location: { $geoWithin: { $polygon: 1234 } } }, 107],
      ['polygon of junk', { location: { $geoWithin: { $polygon: [{}, {}, {}] } } }, 107],
      ['polygon point out of bounds', { location: { $geoWithin: { $polygon: [[0, 0], [181, 0], [0, 10]] } } }, 107],
      ['$centerSphere without distance', { location: { $geoWithin: { $centerSphere: [[0, 0]] } } }, 107],
      ['$centerSphere negative distance', { location: { $geoWithin: { $centerSphere: [[0, 0], -1] } } }, 107],
      ['$geoWithin empty', { location: { $geoWithin: {} } }, 107],
      ['$geoIntersects without $point', { shape: { $geoIntersects: { point: point(0, 0) } } }, 107],
      ['$geoIntersects point out of bounds', { shape: { $geoIntersects: { $point: point(-91, 0) } } }, 107],
    ];
    for (const [label, where, code] of bad) {
      test(`refused: ${label}`, async () => {
        assertRefused(await call(server.url, `/classes/City${query({ where })}`), code, undefined, label);
      });
    }

    test('a client polygon is bounded by requestComplexity.queryArraySize', async () => {
      const vertices = Array.from({ length: 1001 }, (_, i) => [Math.cos(i) * 10, Math.sin(i) * 10]);
      const where = { location: { $geoWithin: { $polygon: vertices } } };
      const refused = await call(server.url, `/classes/City`, { method: 'POST', body: { _method: 'GET', where } });
      assertRefused(refused, 102, /queryArraySize/, 'large polygon');
      const master = await call(server.url, `/classes/City`, { method: 'POST', body: { _method: 'GET', where }, master: true });
      assert.equal(master.status, 200, JSON.stringify(master.body));
    });
  });
}
