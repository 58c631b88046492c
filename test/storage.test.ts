import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SchemaStore } from '../src/schema/schema-store.ts';
import { sqlState, withTransaction, type Driver } from '../src/storage/driver.ts';
import { openDriver } from '../src/storage/drivers/open.ts';
import { engines, freshPostgresDatabase, type Engine } from './helpers/server.ts';

/** A driver on a fresh database of the given engine, and how to throw it away. */
async function openTestDriver(engine: Engine): Promise<{ driver: Driver; dispose: () => Promise<void> }> {
  if (engine === 'pglite') {
    const driver = await openDriver({ databaseURI: 'memory://', poolSize: 1, statementTimeoutMs: 5000 });
    return { driver, dispose: () => driver.close() };
  }
  const database = await freshPostgresDatabase();
  const driver = await openDriver({ databaseURI: database.uri, poolSize: 4, statementTimeoutMs: 1000 });
  return {
    driver,
    async dispose() {
      await driver.close();
      await database.drop();
    },
  };
}

for (const engine of engines()) {
  describe(`storage driver conformance (${engine})`, () => {
    let driver: Driver;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ driver, dispose } = await openTestDriver(engine));
      await driver.query('CREATE TABLE t (id int PRIMARY KEY, tags text[] NOT NULL, doc jsonb)');
    });
    after(async () => dispose());

    test('bound parameters round-trip text[], jsonb, timestamptz and numbers identically', async () => {
      const when = new Date('2024-01-02T03:04:05.678Z');
      const { rows } = await driver.query<{ a: string[]; j: unknown; d: Date; n: number }>(
        'SELECT $1::text[] AS a, $2::jsonb AS j, $3::timestamptz AS d, $4::float8 AS n',
        [['*', 'role:x', 'quote"comma,'], JSON.stringify({ k: [1, 'two', null] }), when.toISOString(), 1.5],
      );
      assert.deepEqual(rows[0]?.a, ['*', 'role:x', 'quote"comma,']);
      assert.deepEqual(rows[0]?.j, { k: [1, 'two', null] });
      assert.equal(rows[0]?.d.toISOString(), when.toISOString());
      assert.equal(rows[0]?.n, 1.5);
    });

    test('a failed transaction rolls back completely and leaves the connection usable', async () => {
      await assert.rejects(
        driver.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1, $1::text[], NULL)', [['*']]);
          await tx.query('INSERT INTO t VALUES (1, $1::text[], NULL)', [['*']]);
        }),
        (error: unknown) => sqlState(error) === '23505',
      );
      const { rows } = await driver.query('SELECT count(*)::int AS n FROM t');
      assert.deepEqual(rows, [{ n: 0 }]);
      await Promise.all(Array.from({ length: 10 }, (_, i) => driver.query('INSERT INTO t VALUES ($1::int, $2::text[], NULL)', [i + 10, ['*']])));
      assert.equal((await driver.query('SELECT 1 FROM t')).rows.length, 10);
    });

    test('after-commit work runs only when the transaction commits', async () => {
      const ran: string[] = [];
      await withTransaction(driver, async (db) => {
        db.afterCommit(() => ran.push('committed'));
        await db.query('SELECT 1');
        assert.deepEqual(ran, [], 'not before the commit');
      });
      assert.deepEqual(ran, ['committed']);
      await assert.rejects(
        withTransaction(driver, async (db) => {
          db.afterCommit(() => ran.push('rolled back'));
          await db.query('SELECT 1/0');
        }),
      );
      assert.deepEqual(ran, ['committed']);
    });

    test('errors carry PostgreSQL SQLSTATE codes on both engines', async () => {
      await assert.rejects(driver.query("SELECT 'a' ~ $1::text", ['[abc']), (error: unknown) => sqlState(error) === '2201B');
      await assert.rejects(driver.query('SELECT * FROM missing_table'), (error: unknown) => sqlState(error) === '42P01');
    });

    test('the schema store serialises concurrent field additions and refuses a second type', async () => {
      const store = await SchemaStore.open(driver);
      const results = await Promise.allSettled([
        store.ensureFields('Race', new Map([['n', { type: 'Number' }]])),
        store.ensureFields('Race', new Map([['n', { type: 'String' }]])),
        store.ensureFields('Race', new Map([['m', { type: 'Boolean' }]])),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(fulfilled, 2, 'exactly one of the two conflicting types wins');
      const reloaded = await SchemaStore.open(driver);
      const fields = reloaded.get('Race')?.fields;
      assert.ok(fields?.get('n')?.type === 'Number' || fields?.get('n')?.type === 'String');
      assert.equal(fields?.get('m')?.type, 'Boolean');
      const columns = await driver.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'Race' ORDER BY column_name",
      );
      assert.deepEqual(columns.rows.map((r) => r.column_name), ['_rperm', '_wperm', 'createdAt', 'm', 'n', 'objectId', 'updatedAt']);
    });

    test('maintenance runs (VACUUM ANALYZE on PGlite, autovacuum on PostgreSQL)', async () => {
      await driver.query('INSERT INTO t VALUES (100, $1::text[], NULL)', [['*']]);
      await driver.maintain('analyze');
      await driver.maintain('vacuum');
      assert.equal((await driver.query('SELECT 1 AS ok')).rows.length, 1);
    });

    test('a statement past the time limit is cancelled with 57014', { skip: engine === 'pglite' ? 'PGlite runs in-process: statement_timeout is set but the WASM engine cannot be interrupted mid-query' : false }, async () => {
      await assert.rejects(driver.query('SELECT pg_sleep(3)'), (error: unknown) => sqlState(error) === '57014');
    });
  });
}
