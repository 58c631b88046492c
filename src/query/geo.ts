import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition, FieldRef, GeoPoint } from './tree.ts';
import { isPlainObject } from './values.ts';

/**
 * The geo operators of `where` (reference §8.3), validated into tree nodes. Every malformed shape is a 107
 * (INVALID_JSON) with Parse's message; Parse answers an out-of-range coordinate with code 1 (a TypeError
 * escaping the SDK's validator), which would be a 5xx, so Parsec answers 107 for those too.
 */

/** Mean Earth radius Parse's SDK divides by (`withinKilometers`, `withinMiles`). */
const EARTH_RADIUS_KM = 6371.0;
const EARTH_RADIUS_MILES = 3958.8;

export const MAX_DISTANCE_KEYS: ReadonlyMap<string, number> = new Map([
  ['$maxDistance', 1],
  ['$maxDistanceInRadians', 1],
  ['$maxDistanceInKilometers', EARTH_RADIUS_KM],
  ['$maxDistanceInMiles', EARTH_RADIUS_MILES],
]);

function badJson(message: string): never {
  throw new ParseError(ErrorCode.INVALID_JSON, message);
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Latitude in [-90, 90] and longitude in [-180, 180], as Parse.GeoPoint requires. */
export function checkedPoint(latitude: number, longitude: number): GeoPoint {
  if (latitude < -90 || latitude > 90) badJson(`GeoPoint latitude out of bounds: ${latitude}.`);
  if (longitude < -180 || longitude > 180) badJson(`GeoPoint longitude out of bounds: ${longitude}.`);
  return { latitude, longitude };
}

/** `{__type: "GeoPoint", latitude, longitude}`, or undefined when the value is not of that shape. */
function geoPointJson(raw: unknown): GeoPoint | undefined {
  if (!isPlainObject(raw) || raw.__type !== 'GeoPoint' || !isNumber(raw.latitude) || !isNumber(raw.longitude)) return undefined;
  return checkedPoint(raw.latitude, raw.longitude);
}

/** MongoDB's legacy coordinate pair, `[longitude, latitude]` (the order Parse passes through). */
function lngLatPair(raw: unknown): GeoPoint | undefined {
  if (!Array.isArray(raw) || raw.length !== 2 || !isNumber(raw[0]) || !isNumber(raw[1])) return undefined;
  return checkedPoint(raw[1], raw[0]);
}

/** `$nearSphere` and its `$maxDistance*` siblings (the smallest wins when several are given). */
export function parseNearSphere(target: FieldRef, raw: unknown, ops: Readonly<Record<string, unknown>>): Condition {
  const center = geoPointJson(raw) ?? badJson('bad $nearSphere value; should be a GeoPoint');
  let maxRadians: number | undefined;
  for (const [key, radius] of MAX_DISTANCE_KEYS) {
    if (!Object.hasOwn(ops, key)) continue;
    const distance = ops[key];
    if (!isNumber(distance) || distance < 0) badJson(`bad ${key} value; should be a non-negative number`);
    const radians = distance / radius;
    maxRadians = maxRadians === undefined ? radians : Math.min(maxRadians, radians);
  }
  return { type: 'geoDistance', target, center, maxRadians, sorted: true };
}

/** `$within: {$box: [southwest, northeast]}`; the corners are normalised, so their order does not matter. */
export function parseBox(target: FieldRef, raw: unknown): Condition {
  const box = isPlainObject(raw) ? raw.$box : undefined;
  if (!Array.isArray(box) || box.length !== 2) badJson('malformatted $within arg');
  const [a, b] = box.map((corner) => geoPointJson(corner) ?? badJson('bad $within value; $box corners should be GeoPoints'));
  if (a === undefined || b === undefined) badJson('malformatted $within arg');
  return {
    type: 'geoBox',
    target,
    southwest: { latitude: Math.min(a.latitude, b.latitude), longitude: Math.min(a.longitude, b.longitude) },
    northeast: { latitude: Math.max(a.latitude, b.latitude), longitude: Math.max(a.longitude, b.longitude) },
  };
}

function polygonVertices(polygon: unknown, maxVertices: number): GeoPoint[] {
  let points: unknown[];
  if (isPlainObject(polygon) && polygon.__type === 'Polygon') {
    const coordinates = polygon.coordinates;
    if (!Array.isArray(coordinates) || coordinates.length < 3) badJson('bad $geoWithin value; Polygon.coordinates should contain at least 3 lon/lat pairs');
    points = coordinates;
  } else if (Array.isArray(polygon)) {
    if (polygon.length < 3) badJson('bad $geoWithin value; $polygon should contain at least 3 GeoPoints');
    points = polygon;
  } else {
    badJson("bad $geoWithin value; $polygon should be Polygon object or Array of Parse.GeoPoint's");
  }
  if (points.length > maxVertices) {
    throw new ParseError(ErrorCode.INVALID_QUERY, `$polygon has ${points.length} points; the limit is ${maxVertices} (requestComplexity.queryArraySize).`);
  }
  return points.map((point) => lngLatPair(point) ?? geoPointJson(point) ?? badJson('bad $geoWithin value'));
}

function parseCenterSphere(target: FieldRef, raw: unknown): Condition {
  if (!Array.isArray(raw) || raw.length < 2) badJson('bad $geoWithin value; $centerSphere should be an array of Parse.GeoPoint and distance');
  const center = lngLatPair(raw[0]) ?? geoPointJson(raw[0]) ?? badJson('bad $geoWithin value; $centerSphere geo point invalid');
  const distance: unknown = raw[1];
  if (!isNumber(distance) || distance < 0) badJson('bad $geoWithin value; $centerSphere distance invalid');
  return { type: 'geoDistance', target, center, maxRadians: distance, sorted: false };
}

/** `$geoWithin: {$polygon: [...] | Polygon}` or `{$centerSphere: [[lng, lat], radians]}`. */
export function parseGeoWithin(target: FieldRef, raw: unknown, maxVertices: number): Condition {
  if (isPlainObject(raw) && Object.hasOwn(raw, '$polygon')) {
    return { type: 'geoPolygon', target, vertices: polygonVertices(raw.$polygon, maxVertices) };
  }
  if (isPlainObject(raw) && Object.hasOwn(raw, '$centerSphere')) return parseCenterSphere(target, raw.$centerSphere);
  return badJson('bad $geoWithin value; $polygon or $centerSphere required');
}

/** `$geoIntersects: {$point: GeoPoint}` on a Polygon field. */
export function parseGeoIntersects(target: FieldRef, raw: unknown): Condition {
  const point = isPlainObject(raw) ? geoPointJson(raw.$point) : undefined;
  if (point === undefined) badJson('bad $geoIntersect value; $point should be GeoPoint');
  return { type: 'polygonContains', target, point };
}
