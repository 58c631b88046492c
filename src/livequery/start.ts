/**
 * LiveQuery's wiring, kept out of the composition root: the hub exists before the services (the write
 * paths publish to it), and is bound to them, to the session store and to the HTTP server once those exist.
 */
import type { Server } from 'node:http';
import { createAuthenticator } from '../auth/authenticate.ts';
import type { ParsecConfig } from '../config/types.ts';
import type { Services } from '../rest/services.ts';
import { LiveQueryHub } from './hub.ts';
import { attachLiveQuery } from './websocket-server.ts';
import { PostgresFanout } from './postgres-fanout.ts';

/** The hub of a server with `liveQuery` configured; undefined otherwise (no upgrade is then accepted). */
export function createLiveQuery(config: ParsecConfig): LiveQueryHub | undefined {
  return config.liveQuery === undefined ? undefined : new LiveQueryHub(config.liveQuery);
}

/**
 * Starts serving: on PostgreSQL also listens for other nodes' changes. Returns what closes every
 * LiveQuery connection (and that listener) at shutdown.
 */
export async function startLiveQuery(hub: LiveQueryHub, services: Services, server: Server): Promise<() => Promise<void>> {
  const { config, sessions, roles, driver } = services;
  hub.bind(services, createAuthenticator(config, sessions, roles));
  sessions.onForget(() => hub.sessionsChanged());
  if (driver.kind === 'postgres') hub.fanout = await PostgresFanout.open(config.databaseURI, driver, (change) => hub.publish(change), () => services.log);
  const detach = attachLiveQuery(server, hub, config.trustProxy);
  return async () => {
    await detach();
    await hub.fanout?.close();
  };
}
