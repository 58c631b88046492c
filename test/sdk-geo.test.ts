/**
 * Geo behaviours the official JS SDK relies on (its integration suites ParseGeoPointTest, ParseGeoBoxTest
 * and ParsePolygonTest), written for Parsec and run on every engine: GeoPoints saved and sorted by
 * distance, polygons stored closed as Parse stores them (and equal whether sent open or closed), polygon
 * containment, and the Parse errors for polygons Parse refuses, with nothing stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const CLOSED = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]];

for (const engine of engines()) {
  describe(`SDK geo points and polygons (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll([
        new Parse.Object('SdkCity', { name: 'Sacramento', location: new Parse.GeoPoint(38.52, -121.5) }),
        new Parse.Object('SdkCity', { name: 'Honolulu', location: new Parse.GeoPoint(21.35, -157.93) }),
        new Parse.Object('SdkCity', { name: 'San Francisco', location: new Parse.GeoPoint(37.75, -122.68) }),
      ]);
    });
    after(async () => server.stop());

    const names = (results: any[]): string[] => results.map((o) => o.get('name'));
    const count = (className: string): Promise<number> => new Parse.Query(className).count({ useMasterKey: true });

    test('a GeoPoint is saved and read back', async () => {
      const saved = await new Parse.Object('SdkGeo', { location: new Parse.GeoPoint(44, -11) }).save();
      const again = await new Parse.Query('SdkGeo').get(saved.id);
      assert.deepEqual([again.get('location').latitude, again.get('location').longitude], [44, -11]);
      assert.equal((await new Parse.Query('SdkGeo').equalTo('location', new Parse.GeoPoint(44, -11)).find()).length, 1);
    });

    test('Parsec allows two GeoPoint fields in one class (Parse refuses it, a MongoDB index limit)', async () => {
      const point = new Parse.GeoPoint(20, 20);
      const saved = await new Parse.Object('SdkTwoPoints', { one: point, two: new Parse.GeoPoint(-20, -20) }).save();
      assert.deepEqual(names(await new Parse.Query('SdkTwoPoints').withinKilometers('two', new Parse.GeoPoint(-20, -20), 1).find()), [undefined]);
      assert.equal((await new Parse.Query('SdkTwoPoints').withinKilometers('one', new Parse.GeoPoint(-20, -20), 1).find()).length, 0);
      assert.ok(saved.id);
    });

    test('a line of points comes back nearest first, sorted or not, and by radius', async () => {
      await Parse.Object.saveAll(Array.from({ length: 10 }, (_, seq) => new Parse.Object('SdkLine', { seq, location: new Parse.GeoPoint(seq * 4 - 12, seq * 3.2 - 11) })));
      for (const sorted of [undefined, true]) {
        const results = await new Parse.Query('SdkLine').withinMiles('location', new Parse.GeoPoint(24, 19), 10000, sorted).find();
        assert.deepEqual(results.map((o: any) => o.get('seq')), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      }
      await Parse.Object.saveAll([0, 1, 2].map((index) => new Parse.Object('SdkEquator', { index, location: new Parse.GeoPoint(0, index * 45) })));
      const within = async (radians: number, sorted?: boolean): Promise<number[]> =>
        (await new Parse.Query('SdkEquator').withinRadians('location', new Parse.GeoPoint(1, -1), radians, sorted).find()).map((o: any) => o.get('index')).sort();
      for (const sorted of [undefined, false]) {
        assert.deepEqual(await within(3.14, sorted), [0, 1, 2]);
        assert.deepEqual(await within(3.14 * 0.5, sorted), [0, 1]);
        assert.deepEqual(await within(3.14 * 0.25, sorted), [0]);
      }
    });

    test('kilometres and miles around SFO, sorted and unsorted', async () => {
      const sfo = new Parse.GeoPoint(37.6189722, -122.3748889);
      const city = (): any => new Parse.Query('SdkCity');
      assert.equal((await city().withinKilometers('location', sfo, 4000).find()).length, 3);
      assert.deepEqual(names(await city().withinKilometers('location', sfo, 3700).find()), ['San Francisco', 'Sacramento']);
      assert.deepEqual(names(await city().withinMiles('location', sfo, 75).find()), ['San Francisco']);
      assert.equal((await city().withinMiles('location', sfo, 10, false).find()).length, 0);
      assert.deepEqual(names(await city().withinMiles('location', sfo, 2200, false).find()).sort(), ['Sacramento', 'San Francisco']);
    });

    test('withinGeoBox finds what is inside whichever corners come first', async () => {
      await Parse.Object.saveAll([
        new Parse.Object('SdkBoxed', { name: 'caltrain', location: new Parse.GeoPoint(37.776346, -122.394218) }),
        new Parse.Object('SdkBoxed', { name: 'santa clara', location: new Parse.GeoPoint(37.325635, -121.945753) }),
      ]);
      const southwest = new Parse.GeoPoint(37.708813, -122.526398);
      const northeast = new Parse.GeoPoint(37.822802, -122.373962);
      assert.deepEqual(names(await new Parse.Query('SdkBoxed').withinGeoBox('location', southwest, northeast).find()), ['caltrain']);
      assert.deepEqual(names(await new Parse.Query('SdkBoxed').withinGeoBox('location', northeast, southwest).find()), ['caltrain']);
    });

    test('withinGeoBox, withinPolygon (open and closed paths) and their Parse errors', async () => {
      const box = await new Parse.Query('SdkCity').withinGeoBox('location', new Parse.GeoPoint(37.7, -123), new Parse.GeoPoint(37.8, -122.5)).find();
      assert.deepEqual(names(box), ['San Francisco']);
      const open = [new Parse.GeoPoint(37.85, -122.33), new Parse.GeoPoint(37.85, -122.9), new Parse.GeoPoint(37.68, -122.9), new Parse.GeoPoint(37.68, -122.33)];
      assert.deepEqual(names(await new Parse.Query('SdkCity').withinPolygon('location', open).find()), ['San Francisco']);
      const closed = [new Parse.GeoPoint(38.52, -121.5), new Parse.GeoPoint(37.75, -157.93), new Parse.GeoPoint(37.578072, -121.379914), new Parse.GeoPoint(38.52, -121.5)];
      assert.deepEqual(names(await new Parse.Query('SdkCity').withinPolygon('location', closed).find()).sort(), ['Sacramento', 'San Francisco']);
      for (const bad of [1234, [1234], [], [new Parse.GeoPoint(0, 0), new Parse.GeoPoint(1, 1)]]) {
        await assert.rejects(new Parse.Query('SdkCity').withinPolygon('location', bad).find(), (error: any) => error.code === 107);
      }
    });

    test('a polygon sent open is stored closed, and equality matches it sent either way', async () => {
      const open = new Parse.Polygon([[0, 0], [0, 1], [1, 1], [1, 0]]);
      const saved = await new Parse.Object('SdkArea', { name: 'open', polygon: open }).save();
      for (const wanted of [open, new Parse.Polygon(CLOSED)]) {
        const results = await new Parse.Query('SdkArea').equalTo('polygon', wanted).find();
        assert.deepEqual(results.map((o: any) => o.id), [saved.id]);
        assert.deepEqual(results[0].get('polygon').coordinates, CLOSED);
      }
      const points = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]].map(([lat, lng]) => new Parse.GeoPoint(lat, lng));
      const fromPoints = await new Parse.Object('SdkArea', { name: 'points', polygon: new Parse.Polygon(points) }).save();
      assert.deepEqual((await new Parse.Query('SdkArea').get(fromPoints.id)).get('polygon').coordinates, CLOSED);
    });

    test('polygonContains finds the polygons holding a point', async () => {
      await Parse.Object.saveAll([
        new Parse.Object('SdkShape', { name: 'unit', polygon: new Parse.Polygon([[0, 0], [0, 1], [1, 1], [1, 0]]) }),
        new Parse.Object('SdkShape', { name: 'double', polygon: new Parse.Polygon([[0, 0], [0, 2], [2, 2], [2, 0]]) }),
        new Parse.Object('SdkShape', { name: 'far', polygon: new Parse.Polygon([[10, 10], [10, 15], [15, 15], [15, 10], [10, 10]]) }),
      ]);
      assert.deepEqual(names(await new Parse.Query('SdkShape').polygonContains('polygon', new Parse.GeoPoint(0.5, 0.5)).find()).sort(), ['double', 'unit']);
      const refused = await call(server.url, `/classes/SdkShape${query({ where: { polygon: { $geoIntersects: { $point: 1234 } } } })}`);
      assert.deepEqual([refused.status, refused.body.code], [400, 107]);
    });

    const polygon = (coordinates: unknown): unknown => ({ __type: 'Polygon', coordinates });
    const refusedPolygons: [string, unknown, number][] = [
      ['one point', polygon([[0, 0]]), 111],
      ['two points', polygon([[0, 0], [1, 1]]), 111],
      ['three points, two of them the same', polygon([[0, 0], [1, 1], [0, 0]]), 107],
      ['four points, two different', polygon([[0, 0], [1, 1], [1, 1], [0, 0]]), 107],
      ['not an array', polygon(123), 111],
      ['strings', polygon([['str1'], ['str2'], ['str3']]), 111],
      ['latitude out of range', polygon([[91, 0], [0, 1], [1, 1]]), 107],
      ['longitude out of range', polygon([[0, 0], [0, 181], [1, 1]]), 107],
    ];
    for (const [label, value, code] of refusedPolygons) {
      test(`a polygon with ${label} is refused (${code}) and nothing is stored`, async () => {
        const before = await count('SdkArea');
        const created = await call(server.url, '/classes/SdkArea', { method: 'POST', body: { name: label, polygon: value } });
        assert.deepEqual([created.status, created.body.code], [400, code], JSON.stringify(created.body));
        const target = await new Parse.Query('SdkArea').first();
        const updated = await call(server.url, `/classes/SdkArea/${target.id as string}`, { method: 'PUT', body: { polygon: value } });
        assert.deepEqual([updated.status, updated.body.code], [400, code], JSON.stringify(updated.body));
        assert.equal(await count('SdkArea'), before);
        assert.equal((await new Parse.Query('SdkArea').get(target.id)).get('polygon').coordinates.length, 5);
      });
    }
  });
}
