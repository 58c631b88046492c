import type { FastifyInstance } from 'fastify';
import type { ParsecConfig } from './config/types.ts';
import { buildApp } from './http/app.ts';
import type { Services } from './rest/services.ts';
import { SchemaStore } from './schema/schema-store.ts';
import { openDriver } from './storage/drivers/open.ts';

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface Parsec {
  readonly app: FastifyInstance;
  readonly services: Services;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/** Composition root: config → storage → schema → HTTP app. Wiring only. */
export async function createParsec(config: ParsecConfig, options: { cwd?: string } = {}): Promise<Parsec> {
  const driver = await openDriver({
    databaseURI: config.databaseURI,
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    cwd: options.cwd,
  });
  try {
    const schemas = await SchemaStore.open(driver);
    const { app, services } = buildApp({ config, driver, schemas });
    const vacuum =
      driver.kind === 'pglite' && config.vacuumIntervalMs > 0
        ? setInterval(() => {
            driver.maintain().catch((error: unknown) => app.log.warn({ err: error }, 'VACUUM ANALYZE failed'));
          }, config.vacuumIntervalMs)
        : undefined;
    vacuum?.unref();
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      close() {
        closing ??= (async () => {
          if (vacuum !== undefined) clearInterval(vacuum);
          await app.close();
          await driver.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await driver.close();
    throw error;
  }
}

export async function startServer(config: ParsecConfig, options: { cwd?: string } = {}): Promise<RunningServer> {
  const parsec = await createParsec(config, options);
  try {
    await parsec.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await parsec.close();
    throw error;
  }
  return { url: config.serverURL, close: () => parsec.close() };
}
