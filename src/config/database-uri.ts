/**
 * What `databaseURI` names: a PostgreSQL server, or an embedded PGlite database (in memory, or in a
 * directory resolved against the working directory). Messages never repeat the URI: it usually holds a password.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Parsed } from './value-types.ts';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

export function resolveDatabaseURI(uri: string, cwd: string): Parsed<string> {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: true, value: isAbsolute(uri) ? uri : resolve(cwd, uri) };
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') {
    return {
      ok: false,
      reason: 'databaseURI points to MongoDB, but Parsec runs on PostgreSQL only: use postgres://user:password@host/db, or a directory for the embedded database (data must be migrated; Parsec does not read MongoDB)',
    };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      new URL(uri);
    } catch {
      return { ok: false, reason: 'databaseURI is not a valid postgres:// URL (value not shown: it may contain a password)' };
    }
    return { ok: true, value: uri };
  }
  // PGlite's own syntax for a database that lives only as long as the process.
  if (scheme === 'memory') return { ok: true, value: uri };
  return { ok: false, reason: `databaseURI scheme ${scheme}:// is not supported: use postgres://, memory:// or a directory` };
}

/**
 * `readReplicaURI` must name a PostgreSQL server, and only makes sense beside a PostgreSQL `databaseURI`:
 * the embedded database has no replicas. Undefined when there is nothing to say.
 */
export function readReplicaProblem(replicaURI: string | undefined, databaseURI: string | undefined): string | undefined {
  if (replicaURI === undefined) return undefined;
  if (databaseURI === undefined || !/^postgres(ql)?:\/\//i.test(databaseURI)) {
    return 'readReplicaURI needs databaseURI to be PostgreSQL (postgres://…): the embedded database (PGlite) has no read replicas; remove readReplicaURI or move to PostgreSQL';
  }
  if (!/^postgres(ql)?:\/\//i.test(replicaURI)) return 'readReplicaURI must be a postgres:// URL of a streaming replica of databaseURI (value not shown: it may contain a password)';
  try {
    new URL(replicaURI);
  } catch {
    return 'readReplicaURI is not a valid postgres:// URL (value not shown: it may contain a password)';
  }
  return undefined;
}
