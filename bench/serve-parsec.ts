/**
 * Child process: one Parsec server under test. argv[2] is JSON `{databaseURI, poolSize, maxLimit}`.
 * Extra commands:
 * - `sql` returns the distinct SQL texts Parsec has sent so far and stops recording, so the bench can check
 *   its hard-coded statements against the real ones without slowing the measured phase;
 * - `analyze` refreshes planner statistics after seeding, as autovacuum (PostgreSQL) or Parsec's own
 *   periodic VACUUM ANALYZE (PGlite) would in a server that has been up a while. Without it the planner
 *   sees a freshly filled table as empty and plans the find differently (see bench/README.md).
 */
import type { Driver } from '../src/storage/driver.ts';
import { createParsec } from '../src/server.ts';
import { testConfig } from '../test/helpers/server.ts';
import { runChild } from './child-main.ts';

interface ParsecChildArgs {
  readonly databaseURI: string;
  readonly poolSize: number;
  readonly maxLimit: number;
}

/** Wraps `driver.query` to collect statement texts; the returned function restores the original. */
function recordSql(driver: Driver, seen: Set<string>): () => void {
  // Kept as the very function object (not a bound copy) so restoring leaves the driver exactly as it was.
  const original = Object.getOwnPropertyDescriptor(driver, 'query');
  const bound = driver.query.bind(driver);
  driver.query = <Row>(sql: string, params?: readonly unknown[]) => {
    seen.add(sql);
    return bound<Row>(sql, params);
  };
  return () => {
    if (original !== undefined) Object.defineProperty(driver, 'query', original);
    else delete (driver as Partial<Driver>).query; // it was inherited: uncover the prototype's again
  };
}

await runChild(async () => {
  const args = JSON.parse(process.argv[2] ?? '{}') as ParsecChildArgs;
  const parsec = await createParsec(
    testConfig({
      databaseURI: args.databaseURI,
      databasePoolSize: args.poolSize,
      maxLimit: args.maxLimit,
      logLevel: 'silent',
      // Maintenance mid-measurement would be noise; the bench measures steady-state request handling.
      vacuumIntervalMs: 0,
    }),
  );
  const seen = new Set<string>();
  let restore: (() => void) | undefined = recordSql(parsec.services.driver, seen);
  await parsec.app.listen({ port: 0, host: '127.0.0.1' });
  const address = parsec.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('Parsec is not listening on a TCP port');
  return {
    port: address.port,
    close: () => parsec.close(),
    commands: {
      analyze: async () => {
        const { driver } = parsec.services;
        if (driver.kind === 'pglite') await driver.maintain();
        else await driver.query('ANALYZE "BenchItem"');
        return true;
      },
      sql: () => {
        restore?.();
        restore = undefined;
        return [...seen];
      },
    },
  };
});
