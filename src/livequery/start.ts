/**
 * LiveQuery's wiring, kept out of the composition root: the hub exists before the services (the write
 * paths publish to it), and is bound to them, to the session store and to the HTTP server once those exist.
 */
import type { Server } from 'node:http';
import { createAuthenticator } from '../auth/authenticate.ts';
import type { ParsecConfig } from '../config/types.ts';
import type { Services } from '../rest/services.ts';
import { LiveQueryHub } from './hub.ts';
import type { RowChange } from './feed.ts';
import { attachLiveQuery } from './websocket-server.ts';
import { listenOwnPort } from './own-port.ts';
import { PostgresFanout } from './postgres-fanout.ts';
import { RedisFanout } from './redis-fanout.ts';

/** The hub of a server with `liveQuery` configured; undefined otherwise (no upgrade is then accepted). */
export function createLiveQuery(config: ParsecConfig): LiveQueryHub | undefined {
  return config.liveQuery === undefined ? undefined : new LiveQueryHub(config.liveQuery);
}

/**
 * Starts serving: on PostgreSQL also listens for other nodes' changes (through Redis pub/sub when
 * `redisURL` is set, else NOTIFY). Returns what closes every LiveQuery connection (and that listener) at shutdown.
 */
export async function startLiveQuery(hub: LiveQueryHub, services: Services, server: Server): Promise<() => Promise<void>> {
  const { config, sessions, roles, driver } = services;
  hub.bind(services, createAuthenticator(config, sessions, roles));
  sessions.onForget(() => hub.sessionsChanged());
  if (driver.kind === 'postgres') {
    const deliver = (change: RowChange) => hub.publish(change);
    // Parse's liveQuery.redisURL first: LiveQuery may have a Redis of its own.
    const redisURL = hub.options.redisURL ?? config.redisURL;
    hub.fanout =
      redisURL === undefined
        ? await PostgresFanout.open(config.databaseURI, driver, deliver, () => services.log)
        : await RedisFanout.open(redisURL, config.appId, deliver, () => services.log);
  }
  const detach = await serve(hub, server, config);
  return async () => {
    await detach();
    await hub.fanout?.close();
  };
}

/**
 * On the REST server, or with `liveQuery.port` only on a server of its own: as in Parse Server, whose separate
 * LiveQuery server is not also on the REST port, so an operator who moved LiveQuery (e.g. behind another proxy
 * or firewall rule) has no second way in left open. A port that cannot be bound fails the start, after
 * closing the change listener already opened.
 */
async function serve(hub: LiveQueryHub, server: Server, config: ParsecConfig): Promise<() => Promise<void>> {
  const { port, host } = hub.options;
  if (port === undefined) return attachLiveQuery(server, hub, config.trustProxy);
  try {
    const own = await listenOwnPort(hub, port, host ?? config.host, config.trustProxy);
    hub.ownAddress = own.address;
    hub.log.info({}, `LiveQuery listening on ${own.address.address}:${own.address.port} (not on the REST port)`);
    return () => own.close();
  } catch (error) {
    await hub.fanout?.close();
    throw error;
  }
}
