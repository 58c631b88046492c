import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { FieldTypeName } from '../schema/types.ts';

/** A Parse JSON value decoded once at the edge into a tagged union the compiler can switch over. */
export type ParseValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'date'; readonly value: Date }
  | { readonly kind: 'pointer'; readonly className: string; readonly objectId: string }
  | { readonly kind: 'geopoint'; readonly latitude: number; readonly longitude: number }
  | { readonly kind: 'file'; readonly name: string; readonly url: string | undefined }
  | { readonly kind: 'bytes'; readonly base64: string }
  | { readonly kind: 'polygon'; readonly coordinates: readonly (readonly [number, number])[] }
  /** Plain JSON objects and arrays keep their wire encoding (nested dates stay `{__type:"Date"}`). */
  | { readonly kind: 'object'; readonly value: Readonly<Record<string, unknown>> }
  | { readonly kind: 'array'; readonly value: readonly unknown[] };

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(code: typeof ErrorCode[keyof typeof ErrorCode], message: string): never {
  throw new ParseError(code, message);
}

const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function decodePointer(raw: JsonObject): ParseValue & { kind: 'pointer' } {
  const { className, objectId } = raw;
  if (typeof className !== 'string' || typeof objectId !== 'string' || !OBJECT_ID.test(objectId) || className === '') {
    fail(ErrorCode.INVALID_POINTER, 'Invalid pointer.');
  }
  return { kind: 'pointer', className, objectId };
}

/**
 * The dates PostgreSQL reads back from their ISO form: years 1 to 9999. JavaScript's reach beyond them
 * (±275,760) is written `+275760-…` or `-000001-…`, which PostgreSQL refuses inside the statement.
 */
const EARLIEST_DATE = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_DATE = Date.parse('9999-12-31T23:59:59.999Z');

function decodeDate(raw: JsonObject): ParseValue {
  const iso = raw.iso;
  const date = typeof iso === 'string' ? new Date(iso) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) fail(ErrorCode.INCORRECT_TYPE, 'Invalid date.');
  if (date.getTime() < EARLIEST_DATE || date.getTime() > LATEST_DATE) fail(ErrorCode.INCORRECT_TYPE, 'Invalid date: years 1 to 9999 only.');
  return { kind: 'date', value: date };
}

function decodeGeoPoint(raw: JsonObject): ParseValue {
  const { latitude, longitude } = raw;
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || !Number.isFinite(latitude) || !Number.isFinite(longitude)) {
    fail(ErrorCode.INCORRECT_TYPE, 'GeoPoint latitude and longitude must be numbers.');
  }
  if (latitude < -90 || latitude > 90) fail(ErrorCode.INVALID_JSON, 'GeoPoint latitude out of bounds: ' + String(latitude) + '.');
  if (longitude < -180 || longitude > 180) fail(ErrorCode.INVALID_JSON, 'GeoPoint longitude out of bounds: ' + String(longitude) + '.');
  return { kind: 'geopoint', latitude, longitude };
}

/**
 * A Polygon as Parse stores it (reference §8.4): `[latitude, longitude]` pairs in range, at least 3 of
 * them, closed by repeating the first point when the last differs (so an open and a closed polygon are the
 * same value, in writes and in `where` equality alike), and at least 3 different vertices. Parse answers
 * that last case with code 1 (a 500 on the wire); Parsec answers 107, as for the other shapes.
 */
function decodePolygon(raw: JsonObject): ParseValue {
  const coordinates = raw.coordinates;
  if (!Array.isArray(coordinates) || coordinates.length < 3) {
    fail(ErrorCode.INCORRECT_TYPE, 'Polygon must have at least 3 values.');
  }
  const points = coordinates.map((point: unknown): [number, number] => {
    if (!Array.isArray(point) || point.length !== 2 || !point.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      fail(ErrorCode.INCORRECT_TYPE, 'Polygon coordinates must be [latitude, longitude] number pairs.');
    }
    const [latitude, longitude] = point as [number, number];
    if (latitude < -90 || latitude > 90) fail(ErrorCode.INVALID_JSON, 'GeoPoint latitude out of bounds: ' + String(latitude) + '.');
    if (longitude < -180 || longitude > 180) fail(ErrorCode.INVALID_JSON, 'GeoPoint longitude out of bounds: ' + String(longitude) + '.');
    return [latitude, longitude];
  });
  const first = points[0] as [number, number];
  const last = points[points.length - 1] as [number, number];
  if (first[0] !== last[0] || first[1] !== last[1]) points.push([first[0], first[1]]);
  const distinct = new Set(points.map(([latitude, longitude]) => `${latitude},${longitude}`));
  if (distinct.size < 3) fail(ErrorCode.INVALID_JSON, 'GeoJSON: Loop must have at least 3 different vertices');
  return { kind: 'polygon', coordinates: points };
}

/** Decodes one wire value. `__type` is reserved: an unknown one is an error, never stored as data. */
export function decodeValue(raw: unknown): ParseValue {
  if (raw === null) return { kind: 'null' };
  switch (typeof raw) {
    case 'string':
      return { kind: 'string', value: raw };
    case 'number':
      if (!Number.isFinite(raw)) fail(ErrorCode.INCORRECT_TYPE, 'Numbers must be finite.');
      return { kind: 'number', value: raw };
    case 'boolean':
      return { kind: 'boolean', value: raw };
    case 'object':
      break;
    default:
      fail(ErrorCode.INVALID_JSON, 'Invalid value.');
  }
  if (Array.isArray(raw)) return { kind: 'array', value: raw };
  const object = raw as JsonObject;
  if (!('__type' in object)) return { kind: 'object', value: object };
  switch (object.__type) {
    case 'Date':
      return decodeDate(object);
    case 'Pointer':
      return decodePointer(object);
    case 'GeoPoint':
      return decodeGeoPoint(object);
    case 'Polygon':
      return decodePolygon(object);
    case 'Bytes':
      if (typeof object.base64 !== 'string') fail(ErrorCode.INCORRECT_TYPE, 'Bytes must carry a base64 string.');
      return { kind: 'bytes', base64: object.base64 };
    case 'File':
      if (typeof object.name !== 'string' || object.name === '') fail(ErrorCode.INCORRECT_TYPE, 'File must have a name.');
      return { kind: 'file', name: object.name, url: typeof object.url === 'string' ? object.url : undefined };
    case 'Object':
      // A full object where a pointer is expected (SDKs send these when saving nested objects).
      return decodePointer(object);
    default:
      return fail(ErrorCode.INCORRECT_TYPE, `Unsupported __type: ${String(object.__type)}.`);
  }
}

/** The schema type a value fixes when it is the first value written to a field. */
export function fieldTypeOf(value: ParseValue): { type: FieldTypeName; targetClass?: string } | undefined {
  switch (value.kind) {
    case 'null':
      return undefined;
    case 'string':
      return { type: 'String' };
    case 'number':
      return { type: 'Number' };
    case 'boolean':
      return { type: 'Boolean' };
    case 'date':
      return { type: 'Date' };
    case 'pointer':
      return { type: 'Pointer', targetClass: value.className };
    case 'geopoint':
      return { type: 'GeoPoint' };
    case 'file':
      return { type: 'File' };
    case 'bytes':
      return { type: 'Bytes' };
    case 'polygon':
      return { type: 'Polygon' };
    case 'object':
      return { type: 'Object' };
    case 'array':
      return { type: 'Array' };
  }
}

/** The wire JSON of a decoded value, used where a value is stored inside a jsonb document. */
export function encodeValue(value: ParseValue): unknown {
  switch (value.kind) {
    case 'null':
      return null;
    case 'string':
    case 'number':
    case 'boolean':
      return value.value;
    case 'date':
      return { __type: 'Date', iso: value.value.toISOString() };
    case 'pointer':
      return { __type: 'Pointer', className: value.className, objectId: value.objectId };
    case 'geopoint':
      return { __type: 'GeoPoint', latitude: value.latitude, longitude: value.longitude };
    case 'file':
      return { __type: 'File', name: value.name };
    case 'bytes':
      return { __type: 'Bytes', base64: value.base64 };
    case 'polygon':
      return { __type: 'Polygon', coordinates: value.coordinates };
    case 'object':
    case 'array':
      return value.value;
  }
}
