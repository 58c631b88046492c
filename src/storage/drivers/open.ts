import path from 'node:path';
import type { Driver } from '../driver.ts';
import { openPGlite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface DriverOptions {
  readonly databaseURI: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly cwd?: string;
}

export function isPostgresURI(uri: string): boolean {
  return /^postgres(ql)?:\/\//i.test(uri);
}

/** `postgres://…` opens PostgreSQL; `memory://` an in-memory PGlite (tests); anything else is a PGlite directory. */
export async function openDriver(options: DriverOptions): Promise<Driver> {
  const { databaseURI } = options;
  if (isPostgresURI(databaseURI)) return openPostgres(databaseURI, options.poolSize, options.statementTimeoutMs);
  if (databaseURI === 'memory://') return openPGlite(undefined, options.statementTimeoutMs);
  return openPGlite(path.resolve(options.cwd ?? process.cwd(), databaseURI), options.statementTimeoutMs);
}
