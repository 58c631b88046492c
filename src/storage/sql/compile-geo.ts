import type { FieldRef, GeoPoint } from '../../query/tree.ts';
import type { CompileContext } from './context.ts';
import { resolveField } from './field-expression.ts';
import type { Scope } from './compile-condition.ts';

/**
 * Geo conditions in plain PostgreSQL (PGlite has no PostGIS). A GeoPoint is stored as jsonb
 * `{__type, latitude, longitude}`; distances are great-circle distances on the unit sphere (haversine),
 * in radians as Parse measures them.
 *
 * Indexes: every distance, box and polygon condition also carries a latitude range, written exactly as
 * `(("field" ->> 'latitude')::float8)`, so a btree expression index on that expression (created by an
 * operator; Parsec does not create one per GeoPoint field yet) narrows the scan before the exact test.
 * Longitude is not prefiltered for distances: its range widens towards the poles and wraps at ±180°.
 */

const FALSE = 'FALSE';

interface PointColumn {
  readonly column: string;
  readonly lat: string;
  readonly lng: string;
}

/** The latitude/longitude of a top-level GeoPoint field; undefined when the field is anything else. */
function pointColumn(target: FieldRef, scope: Scope, ctx: CompileContext): PointColumn | undefined {
  if (target.path.length > 0) return undefined;
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  if (expr.form !== 'json' || expr.field.type !== 'GeoPoint') return undefined;
  return { column: expr.sql, lat: `((${expr.sql} ->> 'latitude')::float8)`, lng: `((${expr.sql} ->> 'longitude')::float8)` };
}

/**
 * Haversine distance in radians between a row's point and a bound point. `LEAST(1, …)` keeps rounding
 * from pushing asin's argument past 1 (an error, not a distance) for antipodal points.
 */
function haversine(point: PointColumn, center: GeoPoint, ctx: CompileContext): string {
  const lat0 = ctx.params.add(center.latitude, 'float8');
  const lng0 = ctx.params.add(center.longitude, 'float8');
  const dLat = `sin(radians(${point.lat} - ${lat0}) / 2)`;
  const dLng = `sin(radians(${point.lng} - ${lng0}) / 2)`;
  return `(2 * asin(LEAST(1.0, sqrt(${dLat} * ${dLat} + cos(radians(${point.lat})) * cos(radians(${lat0})) * ${dLng} * ${dLng}))))`;
}

/** The distance expression a `$nearSphere` orders by; undefined when the field is not a GeoPoint. */
export function geoDistanceOrder(target: FieldRef, center: GeoPoint, scope: Scope, ctx: CompileContext): string | undefined {
  const point = pointColumn(target, scope, ctx);
  return point === undefined ? undefined : haversine(point, center, ctx);
}

export function compileGeoDistance(target: FieldRef, center: GeoPoint, maxRadians: number | undefined, scope: Scope, ctx: CompileContext): string {
  const point = pointColumn(target, scope, ctx);
  if (point === undefined) return FALSE;
  if (maxRadians === undefined) return `${point.column} IS NOT NULL`;
  // No point is further than π radians away; beyond that the condition only asks for a point.
  if (maxRadians >= Math.PI) return `${point.column} IS NOT NULL`;
  // A point within d radians lies within d radians (d·180/π degrees) of latitude: an exact prefilter.
  const degrees = (maxRadians * 180) / Math.PI;
  const south = ctx.params.add(center.latitude - degrees, 'float8');
  const north = ctx.params.add(center.latitude + degrees, 'float8');
  const max = ctx.params.add(maxRadians, 'float8');
  return `(${point.lat} BETWEEN ${south} AND ${north} AND ${haversine(point, center, ctx)} <= ${max})`;
}

export function compileGeoBox(target: FieldRef, southwest: GeoPoint, northeast: GeoPoint, scope: Scope, ctx: CompileContext): string {
  const point = pointColumn(target, scope, ctx);
  if (point === undefined) return FALSE;
  return inBox(point, southwest, northeast, ctx);
}

function inBox(point: PointColumn, southwest: GeoPoint, northeast: GeoPoint, ctx: CompileContext): string {
  const south = ctx.params.add(southwest.latitude, 'float8');
  const north = ctx.params.add(northeast.latitude, 'float8');
  const west = ctx.params.add(southwest.longitude, 'float8');
  const east = ctx.params.add(northeast.longitude, 'float8');
  return `(${point.lat} BETWEEN ${south} AND ${north} AND ${point.lng} BETWEEN ${west} AND ${east})`;
}

/**
 * Point in polygon by ray casting over edges `e(xi, yi, xj, yj)` (x = longitude, y = latitude): inside
 * when a ray from the point crosses an odd number of edges, or on an edge (Parse counts the boundary as
 * inside). The CASE keeps the division away from horizontal edges.
 */
function pointInPolygon(edges: string, x: string, y: string): string {
  const crosses = `CASE WHEN (e.yi > ${y}) <> (e.yj > ${y}) THEN ${x} < (e.xj - e.xi) * (${y} - e.yi) / (e.yj - e.yi) + e.xi ELSE FALSE END`;
  const onEdge =
    `(abs((e.xj - e.xi) * (${y} - e.yi) - (e.yj - e.yi) * (${x} - e.xi)) <= 1e-9 ` +
    `AND ${x} BETWEEN LEAST(e.xi, e.xj) AND GREATEST(e.xi, e.xj) AND ${y} BETWEEN LEAST(e.yi, e.yj) AND GREATEST(e.yi, e.yj))`;
  return `COALESCE((SELECT bool_or(${onEdge}) OR count(*) FILTER (WHERE ${crosses}) % 2 = 1 FROM ${edges}), FALSE)`;
}

export function compileGeoPolygon(target: FieldRef, vertices: readonly GeoPoint[], scope: Scope, ctx: CompileContext): string {
  const point = pointColumn(target, scope, ctx);
  if (point === undefined || vertices.length === 0) return FALSE;
  const xs = vertices.map((v) => v.longitude);
  const ys = vertices.map((v) => v.latitude);
  // Each vertex is paired with the one before it (the first with the last), so an open path is closed.
  const previous = <T>(list: T[]): T[] => [list[list.length - 1] as T, ...list.slice(0, -1)];
  const edges =
    `unnest(${ctx.params.add(xs, 'float8[]')}, ${ctx.params.add(ys, 'float8[]')}, ` +
    `${ctx.params.add(previous(xs), 'float8[]')}, ${ctx.params.add(previous(ys), 'float8[]')}) AS e(xi, yi, xj, yj)`;
  const bounds = inBox(
    point,
    { latitude: Math.min(...ys), longitude: Math.min(...xs) },
    { latitude: Math.max(...ys), longitude: Math.max(...xs) },
    ctx,
  );
  return `(${bounds} AND ${pointInPolygon(edges, point.lng, point.lat)})`;
}

/** A stored Polygon (`coordinates: [[lat, lng], …]`) containing a bound point. */
export function compilePolygonContains(target: FieldRef, point: GeoPoint, scope: Scope, ctx: CompileContext): string {
  if (target.path.length > 0) return FALSE;
  const expr = resolveField(target, scope.schema, scope.alias, ctx.params);
  if (expr.form !== 'json' || expr.field.type !== 'Polygon') return FALSE;
  const coordinates = `(CASE WHEN jsonb_typeof(${expr.sql} -> 'coordinates') = 'array' THEN ${expr.sql} -> 'coordinates' ELSE '[]'::jsonb END)`;
  const count = `jsonb_array_length(${coordinates})`;
  const before = `${coordinates} -> ((v.i - 2 + ${count}) % ${count})::int`;
  const edges =
    `(SELECT (v.pt ->> 1)::float8 AS xi, (v.pt ->> 0)::float8 AS yi, (${before} ->> 1)::float8 AS xj, (${before} ->> 0)::float8 AS yj ` +
    `FROM jsonb_array_elements(${coordinates}) WITH ORDINALITY AS v(pt, i)) AS e`;
  const x = ctx.params.add(point.longitude, 'float8');
  const y = ctx.params.add(point.latitude, 'float8');
  return `(${expr.sql} IS NOT NULL AND ${pointInPolygon(edges, x, y)})`;
}
