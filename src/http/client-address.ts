import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxy } from '../config/trust-proxy-option.ts';

/**
 * The client's address for a request Fastify does not see (the LiveQuery WebSocket upgrade), decided exactly
 * as Fastify decides `request.ip` for the REST API: the same library and the same `trustProxy`, so a
 * client is the same address on both paths (for masterKeyIps, rate limits and connection limits).
 */
export function clientAddress(request: IncomingMessage, trust: TrustProxy): string {
  const socketAddress = request.socket.remoteAddress ?? '';
  if (trust === false) return socketAddress;
  const addresses = proxyAddr.all(request, trust === true ? () => true : proxyAddr.compile([...trust]));
  return addresses[addresses.length - 1] ?? socketAddress;
}
