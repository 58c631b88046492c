/**
 * Which database a client's read runs on when a read replica is configured (`readReplicaURI`), and who
 * "the caller" is for read-your-own-writes. Only the client read paths ask (finds, gets, counts, their
 * includes, aggregates: `find(…, { replica: true })`); everything else — sessions, roles, schemas, the
 * server's own reads in a write path, `/users/me`, login — reads `services.driver`, the primary.
 */
import type { AuthContext } from '../auth/context.ts';
import { activeScope } from '../cloud/sdk.ts';
import type { ClientInfo } from '../http/client-info.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import type { Caller } from './services.ts';

/**
 * The keys a caller's writes are noted under, and its reads checked against: the user, or the master key
 * (read-only master included: it reads what the master wrote), or for an anonymous caller its installation
 * id, else its IP. The installation id is added for everybody, so a device that wrote while logged in and
 * reads after logging out still reads its writes.
 */
export function callerKeys(auth: AuthContext, client: ClientInfo | undefined): string[] {
  const keys: string[] = [];
  switch (auth.kind) {
    case 'user':
      keys.push(`user:${auth.userId}`);
      break;
    case 'master':
    case 'readOnlyMaster':
      keys.push('master');
      break;
    case 'maintenance':
      keys.push('maintenance');
      break;
    case 'anonymous':
      if (client?.installationId === undefined) keys.push(`ip:${client?.ip ?? ''}`);
      break;
  }
  if (client?.installationId !== undefined) keys.push(`installation:${client.installationId}`);
  return keys;
}

/**
 * Cloud code whose queries may read the replica: functions, jobs and find triggers (`<origin>:<name>`,
 * cloud/sdk.ts). The queries of a write trigger (a beforeSave checking that a name is free) or a login
 * trigger are part of that write or login, and read the primary.
 */
const READING_CLOUD_CODE = /^(function|job|beforeFind|afterFind):/;

/**
 * The executor for a client read: the primary unless a replica is configured; the transaction's own
 * connection inside a transaction (a transactional batch binds `services.driver` to it); the primary for a
 * query made by a write or login trigger; else the replica when it holds every write of this caller,
 * within the lag bound.
 */
export function clientReads(caller: Caller): SqlExecutor {
  const { reads, driver } = caller.services;
  if (reads === undefined || driver !== reads.primary) return driver;
  const origin = activeScope.getStore()?.origin;
  if (origin !== undefined && !READING_CLOUD_CODE.test(origin)) return driver;
  return reads.executorFor(callerKeys(caller.auth, caller.client));
}

/**
 * After a request that may have written (any method but GET) by `caller` — and by whom a cloud call made with
 * the master key acted for — finishes: notes the primary's position for them. Inside a transaction the
 * enclosing request notes it, after the commit.
 */
export async function recordClientWrite(caller: Caller, onBehalfOf: AuthContext | undefined): Promise<void> {
  const { reads, driver } = caller.services;
  if (reads === undefined || driver !== reads.primary) return;
  const keys = callerKeys(caller.auth, caller.client);
  if (onBehalfOf !== undefined) keys.push(...callerKeys(onBehalfOf, caller.client));
  await reads.recordWrite(keys);
}
