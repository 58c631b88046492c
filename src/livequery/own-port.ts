/**
 * LiveQuery on a port of its own (`liveQuery.port`, Parse's `liveQueryServerOptions.port`): a bare HTTP
 * server whose WebSocket upgrades are served exactly as on the REST port (the same transport, hub and
 * limits). It serves nothing else: a plain request gets a small Parse-style error, never the REST API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TrustProxy } from '../config/trust-proxy-option.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { LiveQueryHub } from './hub.ts';
import { attachLiveQuery } from './websocket-server.ts';

export interface OwnPort {
  readonly address: AddressInfo;
  /** Closes every LiveQuery connection, then the server and any idle HTTP connection: the port is free after. */
  close(): Promise<void>;
}

const NOT_HERE = JSON.stringify(new ParseError(ErrorCode.OPERATION_FORBIDDEN, 'This port serves LiveQuery only: connect with a WebSocket.'));

function refusePlainRequest(request: IncomingMessage, response: ServerResponse): void {
  // 426 tells a client what this port wants; `Connection: close` keeps no idle socket to wait for at shutdown.
  response.writeHead(426, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(NOT_HERE), Upgrade: 'websocket', Connection: 'close' });
  response.end(request.method === 'HEAD' ? undefined : NOT_HERE);
  // A body, if any, is not read; dropping it rather than leaving it paused.
  request.resume();
}

/** Listens on `port` (0: any free port) and `host`; a port that cannot be bound fails here, at start. */
export async function listenOwnPort(hub: LiveQueryHub, port: number, host: string, trustProxy: TrustProxy): Promise<OwnPort> {
  const server = createServer(refusePlainRequest);
  const detach = attachLiveQuery(server, hub, trustProxy);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await detach();
    const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
    const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine' : (error instanceof Error ? error.message : String(error));
    throw new Error(`LiveQuery cannot listen on ${host}:${port} (liveQuery.port): ${why}`, { cause: error });
  }
  // Past start, a server error (none is expected once bound) must not crash the process through an unhandled 'error'.
  server.on('error', (error) => hub.log.error({ err: error }, 'LiveQuery port server error'));
  return {
    address: server.address() as AddressInfo,
    async close() {
      await detach();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
