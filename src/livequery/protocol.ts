/**
 * The Parse LiveQuery wire protocol, as the official SDKs speak it: the client's four operations parsed and
 * checked into typed messages, and the server's answers. Nothing here touches a connection or the database.
 */
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { parseJsonBody } from '../query/safe-json.ts';
import { isPlainObject } from '../query/values.ts';

export interface ConnectMessage {
  readonly op: 'connect';
  readonly applicationId: unknown;
  readonly masterKey: string | undefined;
  readonly javascriptKey: string | undefined;
  readonly restAPIKey: string | undefined;
  readonly clientKey: string | undefined;
  readonly windowsKey: string | undefined;
  readonly sessionToken: string | undefined;
  readonly installationId: string | undefined;
}

/** The `query` of a subscribe or update: class, where, the keys the client wants back and the fields it watches. */
export interface WireSubscriptionQuery {
  readonly className: string;
  readonly where: unknown;
  readonly keys: readonly string[] | undefined;
  readonly watch: readonly string[] | undefined;
}

export interface SubscribeMessage {
  readonly op: 'subscribe' | 'update';
  readonly requestId: number;
  readonly query: WireSubscriptionQuery;
  readonly sessionToken: string | undefined;
}

export interface UnsubscribeMessage {
  readonly op: 'unsubscribe';
  readonly requestId: number;
}

export type ClientMessage = ConnectMessage | SubscribeMessage | UnsubscribeMessage;

export type EventName = 'create' | 'enter' | 'update' | 'leave' | 'delete';

/** A client mistake: answered with an error (for that request when it has an id), never fatal to anyone else. */
export class ProtocolError extends ParseError {
  constructor(
    code: ParseError['code'],
    message: string,
    readonly requestId?: number,
  ) {
    super(code, message);
  }
}

function invalid(message: string, requestId?: number): never {
  throw new ProtocolError(ErrorCode.INVALID_JSON, message, requestId);
}

function optionalString(record: Record<string, unknown>, name: string, requestId?: number): string | undefined {
  const value = record[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') invalid(`${name} must be a string.`, requestId);
  return value;
}

function requestIdOf(record: Record<string, unknown>): number {
  const id = record.requestId;
  // The SDKs count from 1; 0 would be lost in their `if (data.requestId)`.
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) invalid('requestId must be a positive integer.');
  return id;
}

/** `keys`/`fields` and `watch`: lists of field names (checked against the schema and protected fields later). */
function nameList(value: unknown, name: string, requestId: number): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) invalid(`${name} must be an array of field names.`, requestId);
  if (value.length > 1000) invalid(`${name} may name at most 1000 fields.`, requestId);
  return value;
}

function subscriptionQuery(value: unknown, requestId: number): WireSubscriptionQuery {
  if (!isPlainObject(value)) invalid('query must be an object.', requestId);
  const className = value.className;
  if (typeof className !== 'string' || className === '') invalid('query.className must be a non-empty string.', requestId);
  if (value.where !== undefined && !isPlainObject(value.where)) throw new ProtocolError(ErrorCode.INVALID_QUERY, 'query.where must be an object.', requestId);
  // Parse Server reads `fields` (older SDKs) or `keys` (current SDKs).
  const keys = nameList(value.keys ?? value.fields, 'query.keys', requestId);
  return { className, where: value.where ?? {}, keys, watch: nameList(value.watch, 'query.watch', requestId) };
}

/** One text frame from a client, parsed as safely as a REST body (no prototype keys, bounded depth). */
export function parseClientMessage(frame: string): ClientMessage {
  let parsed: unknown;
  try {
    parsed = parseJsonBody(frame);
  } catch (error) {
    if (error instanceof ParseError) throw new ProtocolError(error.code, error.message);
    throw error;
  }
  if (!isPlainObject(parsed)) invalid('A message must be a JSON object.');
  switch (parsed.op) {
    case 'connect':
      return {
        op: 'connect',
        applicationId: parsed.applicationId,
        masterKey: optionalString(parsed, 'masterKey'),
        javascriptKey: optionalString(parsed, 'javascriptKey'),
        restAPIKey: optionalString(parsed, 'restAPIKey'),
        clientKey: optionalString(parsed, 'clientKey'),
        windowsKey: optionalString(parsed, 'windowsKey'),
        sessionToken: optionalString(parsed, 'sessionToken'),
        installationId: optionalString(parsed, 'installationId'),
      };
    case 'subscribe':
    case 'update': {
      const requestId = requestIdOf(parsed);
      return { op: parsed.op, requestId, query: subscriptionQuery(parsed.query, requestId), sessionToken: optionalString(parsed, 'sessionToken', requestId) };
    }
    case 'unsubscribe':
      return { op: 'unsubscribe', requestId: requestIdOf(parsed) };
    default:
      invalid('op must be one of connect, subscribe, update, unsubscribe.');
  }
}

/** The server's error frame. `reconnect: false`: the SDK must not retry what will be refused again. */
export function errorFrame(error: { code: number; message: string }, requestId?: number): Record<string, unknown> {
  const frame: Record<string, unknown> = { op: 'error', code: error.code, error: error.message, reconnect: false };
  if (requestId !== undefined) frame.requestId = requestId;
  return frame;
}
