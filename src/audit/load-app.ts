/**
 * Loads an app the way `parsec start` would (configuration, database schemas, cloud code) without
 * listening, so the audit reports exactly what would be served.
 */
import type { ParsecConfig } from '../config/types.ts';
import { createParsec } from '../server.ts';
import type { AuditInput } from './report.ts';

export interface LoadedApp {
  readonly input: AuditInput;
  close(): Promise<void>;
}

export async function loadAppForAudit(config: ParsecConfig, options: { readDatabase: boolean; cwd: string }): Promise<LoadedApp> {
  const loadable: ParsecConfig = {
    ...config,
    // Undeclared functions stop `start`; the audit loads them anyway, to report each one.
    requireFunctionAccess: false,
    // Without the database, cloud code still needs a store to load against: an empty one in memory.
    databaseURI: options.readDatabase ? config.databaseURI : 'memory://',
    logLevel: 'error',
  };
  const parsec = await createParsec(loadable, { cwd: options.cwd });
  const { services } = parsec;
  return {
    input: { config, registry: services.cloud.registry, plugins: services.plugins, schemas: options.readDatabase ? services.schemas.all() : undefined, cwd: options.cwd },
    close: () => parsec.close(),
  };
}
