/**
 * Parse's `liveQuery` option: `{"classNames": ["Message"]}` turns LiveQuery on for those classes, served on
 * the REST port (an HTTP upgrade), or with `port` on a port of its own instead. Parsec adds the limits Parse
 * Server lacks: connections per IP and per user, subscriptions per connection and the size of one client
 * message. Off unless set, as in Parse.
 */
import { didYouMean } from './suggest.ts';
import { host as hostType, jsonOption, type Parsed, type ValueType } from './value-types.ts';

export interface LiveQueryOptions {
  /** The classes whose changes are pushed; a subscription to any other class is refused. */
  readonly classNames: readonly string[];
  readonly maxConnectionsPerIp: number;
  readonly maxConnectionsPerUser: number;
  readonly maxSubscriptionsPerConnection: number;
  /** Largest client message in bytes; a larger frame closes that connection (1009). */
  readonly maxMessageBytes: number;
  /**
   * A port of its own: LiveQuery is then served there only, not on the REST port. 0 (not accepted from the
   * configuration, only programmatically) listens on any free port, which the hub reports once bound.
   */
  readonly port?: number;
  /** The interface for `port`; absent: the REST server's `host`. */
  readonly host?: string;
  /**
   * Parse's `liveQuery.redisURL`: the Redis whose pub/sub carries changes between nodes (PostgreSQL only),
   * for LiveQuery alone; absent: the top-level `redisURL`, if any, else PostgreSQL NOTIFY.
   */
  readonly redisURL?: string;
}

export const DEFAULT_LIVE_QUERY_LIMITS = Object.freeze({
  maxConnectionsPerIp: 100,
  maxConnectionsPerUser: 20,
  maxSubscriptionsPerConnection: 100,
  maxMessageBytes: 64 * 1024,
});

const LIMITS = Object.keys(DEFAULT_LIVE_QUERY_LIMITS) as (keyof typeof DEFAULT_LIVE_QUERY_LIMITS)[];
const FIELDS = ['classNames', ...LIMITS, 'port', 'host', 'redisURL'];
const CLASS_NAME = /^_?[A-Za-z][A-Za-z0-9_]*$/;
const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * `port` and `host` of LiveQuery's own port, from `liveQuery` or from Parse's `liveQueryServerOptions`; each
 * malformed one adds a problem.
 */
export function readPlace(record: Readonly<Record<string, unknown>>, problems: string[]): { port?: number; host?: string } {
  const place: { port?: number; host?: string } = {};
  const { port, host } = record;
  if (port !== undefined) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) problems.push(`port must be a whole number from 1 to 65535, got ${shown(port)}`);
    else place.port = port;
  }
  if (host !== undefined) {
    const parsed = hostType.fromJson(host);
    if (!parsed.ok) problems.push(`host ${parsed.reason}`);
    // A host alone would change nothing: the REST server already listens on its own host.
    else if (port === undefined) problems.push('host is only used with port (the interface of LiveQuery\'s own port)');
    else place.host = parsed.value;
  }
  return place;
}

function read(value: unknown): Parsed<LiveQueryOptions | false> {
  if (value === false || value === null) return { ok: true, value: false };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `must be an object like {"classNames": ["Message"]}, or false; got ${shown(value)}` };
  }
  const record = value as Record<string, unknown>;
  const problems = Object.keys(record)
    .filter((key) => !FIELDS.includes(key))
    .map((key) => `${JSON.stringify(key)} is not one of its fields.${didYouMean(key, FIELDS)}`);
  const classNames = record.classNames ?? [];
  if (!Array.isArray(classNames) || !classNames.every((name): name is string => typeof name === 'string' && CLASS_NAME.test(name))) {
    problems.push(`classNames must be an array of class names, got ${shown(classNames)}`);
  }
  const limits: Record<string, number> = { ...DEFAULT_LIVE_QUERY_LIMITS };
  for (const name of LIMITS) {
    const limit = record[name];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) problems.push(`${name} must be a whole number of at least 1, got ${shown(limit)}`);
    else limits[name] = limit;
  }
  const place = readPlace(record, problems);
  const { redisURL } = record;
  if (redisURL !== undefined && (typeof redisURL !== 'string' || !/^rediss?:\/\/./i.test(redisURL))) problems.push(`redisURL must be a redis:// or rediss:// URL, got ${shown(redisURL)}`);
  if (problems.length > 0) return { ok: false, reason: `is invalid: ${problems.join('; ')}` };
  return { ok: true, value: Object.freeze({ ...(limits as typeof DEFAULT_LIVE_QUERY_LIMITS), ...place, ...(typeof redisURL === 'string' ? { redisURL } : {}), classNames: Object.freeze([...(classNames as string[])]) }) };
}

export const liveQuery: ValueType<LiveQueryOptions | false> = jsonOption('{"classNames": [class names], limits…, "port", "host", "redisURL"} or false', false, read, '{"classNames": ["Message"]}, or false');
