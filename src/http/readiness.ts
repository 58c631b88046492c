import type { Services } from '../rest/services.ts';
import type { ApiResponse } from './router.ts';

const PROBE_TIMEOUT_MS = 2_000;

/**
 * `GET /ready`, for load balancers: 200 when this node can serve (its database answers, and it hears the
 * other nodes' changes), 503 otherwise, so traffic moves to a healthy node. `/health` only says the process
 * is up. Neither needs the application id: they reveal nothing about the app. With a read replica, its state
 * is reported as `replica` but does not make the node unready.
 */
export async function readiness(services: Services): Promise<ApiResponse> {
  const database = await probe(services);
  const invalidation = services.invalidation.trusted;
  const ready = database && invalidation;
  const body: Record<string, string> = { status: ready ? 'ready' : 'unavailable', database: database ? 'ok' : 'unreachable', invalidation: invalidation ? 'ok' : 'lagging' };
  // Shown, never decisive: while the read replica is down or lagging the primary serves every read, so the
  // node can still serve everything (taking it out of rotation would not help: its peers share the replica).
  if (services.reads !== undefined) body.replica = services.reads.replica.state;
  return { status: ready ? 200 : 503, body };
}

async function probe(services: Services): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([services.driver.query('SELECT 1').then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
