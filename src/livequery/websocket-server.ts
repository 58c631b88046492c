/**
 * The transport: WebSocket upgrades on the REST server's port or on LiveQuery's own (own-port.ts), on any
 * path as Parse Server accepts; the per-IP connection limit, message size limits, and closing every socket
 * at shutdown. Frames go to the connection as text; everything about their meaning is the connection's.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TrustProxy } from '../config/trust-proxy-option.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { clientAddress } from '../http/client-address.ts';
import { LiveConnection } from './connection.ts';
import type { LiveQueryHub } from './hub.ts';
import { errorFrame } from './protocol.ts';

/** How long shutdown waits for clients to answer the close frame before cutting their sockets. */
const CLOSE_GRACE_MS = 500;

function textOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Serves LiveQuery on `server`; the returned function closes every connection (server shutdown). */
export function attachLiveQuery(server: Server, hub: LiveQueryHub, trustProxy: TrustProxy): () => Promise<void> {
  const { maxMessageBytes } = hub.options;
  // Frames up to twice the limit are read and refused with a Parse error; larger ones close the socket (1009).
  const sockets = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes * 2, perMessageDeflate: false, clientTracking: true });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const ip = clientAddress(request, trustProxy);
    sockets.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      ws.on('error', () => ws.terminate());
      if (!hub.admitIp(ip)) {
        const limit = new ParseError(ErrorCode.REQUEST_LIMIT_EXCEEDED, `An address may hold at most ${hub.options.maxConnectionsPerIp} LiveQuery connections.`);
        ws.send(JSON.stringify(errorFrame(limit)));
        ws.close(1008, 'Too many connections.');
        return;
      }
      const connection = new LiveConnection(ws, ip, hub);
      hub.add(connection);
      ws.on('close', () => hub.remove(connection));
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const bytes = textOf(data);
        if (isBinary) {
          connection.sendError(new ParseError(ErrorCode.INVALID_JSON, 'Messages must be JSON text.'));
          return;
        }
        if (bytes.length > maxMessageBytes) {
          connection.sendError(new ParseError(ErrorCode.OBJECT_TOO_LARGE, `A LiveQuery message may be at most ${maxMessageBytes} bytes.`));
          return;
        }
        connection.receive(bytes.toString('utf8'));
      });
    });
  };
  server.on('upgrade', onUpgrade);
  return async () => {
    server.off('upgrade', onUpgrade);
    for (const ws of sockets.clients) ws.close(1001, 'Server shutting down.');
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (sockets.clients.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const ws of sockets.clients) ws.terminate();
    await new Promise<void>((resolve) => {
      sockets.close(() => resolve());
    });
  };
}
