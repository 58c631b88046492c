/**
 * The privilege ledger's storage: a row per batch, read through a view a record per row. Reads are narrowed
 * to the batches a query's time bounds and record ids allow; that narrowing must never lose a record a
 * query matches (a property over random batches, overlapping spans and bounds on their very edges). A
 * ledger an earlier Parsec wrote as a row per record moves into batches, unchanged, at start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { LedgerBatch } from '../src/security/ledger-batch.ts';
import { ensureLedgerStorage, insertBatch } from '../src/security/ledger-storage.ts';
import { PrivilegeLedger, type LedgerEntry } from '../src/security/ledger.ts';
import type { Driver } from '../src/storage/driver.ts';
import { openDriver } from '../src/storage/drivers/open.ts';
import { call, query } from './helpers/http.ts';
import { engines, freshPostgresDatabase, startTestServer, type TestServer } from './helpers/server.ts';

/**
 * Far in the past or far ahead, so nothing the server records itself falls among a test's records; either
 * end of the ledger, so pages in either time order are looked for in windows around them.
 */
const BASE = Date.parse('2003-03-03T00:00:00.000Z');
const FUTURE = Date.parse('2093-03-03T00:00:00.000Z');
const iso = (ms: number): { __type: 'Date'; iso: string } => ({ __type: 'Date', iso: new Date(ms).toISOString() });

interface Stored {
  readonly objectId: string;
  readonly time: number;
  readonly marker: string;
}

const entry = (marker: string, i: number): LedgerEntry => ({
  keyKind: 'master',
  ip: '127.0.0.1',
  method: 'GET',
  path: `/classes/Probe/${i}`,
  origin: undefined,
  onBehalfOf: undefined,
  className: marker,
  operation: 'get',
  objectIds: [],
  status: 200,
});

for (const engine of engines()) {
  describe(`privilege ledger storage (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(async () => server.stop());

    /** Stores batches of records at the given offsets from BASE (each batch's span is its records'). */
    async function store(marker: string, batches: readonly (readonly number[])[], base = BASE): Promise<Stored[]> {
      const stored: Stored[] = [];
      for (const offsets of batches) {
        const batch = new LedgerBatch();
        offsets.forEach((offset, i) => batch.add(entry(marker, i), base + offset));
        if (batch.size === 0) continue;
        await insertBatch(server.parsec.services.driver, batch);
      }
      const { rows } = await server.parsec.services.driver.query<{ objectId: string; createdAt: Date }>('SELECT "objectId", "createdAt" FROM "_PrivilegeLedger" WHERE "className" = $1', [marker]);
      for (const row of rows) stored.push({ objectId: row.objectId, time: row.createdAt.getTime(), marker });
      assert.equal(stored.length, batches.flat().length);
      return stored;
    }

    async function findIds(where: Record<string, unknown>, page: { order: string; limit: number; skip: number } = { order: 'objectId', limit: 1000, skip: 0 }): Promise<{ ids: string[]; count: number }> {
      const found = await call(server.url, `/classes/_PrivilegeLedger${query({ where, ...page, count: 1 })}`, { master: true });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      return { ids: found.body.results.map((record: { objectId: string }) => record.objectId), count: found.body.count };
    }

    test('a query bounded by time or by record ids finds exactly the records it matches, whatever batches they came in', async () => {
      // A minute, or a month: pages ordered by time are looked for in windows from a minute wide upwards.
      const offsets = fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 30 * 86_400_000 }));
      const constraint = (stored: readonly Stored[], base: number) =>
        fc.oneof(
          fc.record({ kind: fc.constant('time' as const), operator: fc.constantFrom('$lt', '$lte', '$gt', '$gte', '$eq'), field: fc.constantFrom('createdAt', 'updatedAt'), at: fc.oneof(offsets.map((o) => base + o), fc.constantFrom(...stored.map((s) => s.time))) }),
          fc.record({ kind: fc.constant('id' as const), ids: fc.array(fc.constantFrom(...stored.map((s) => s.objectId), '000000000aaaaaaaa', 'zzzzzzzzzvvvvvvvv'), { minLength: 1, maxLength: 3 }) }),
        );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(offsets, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 0, max: 1000 }),
          fc.constantFrom(BASE, FUTURE),
          fc.record({ order: fc.constantFrom('objectId', 'createdAt,objectId', '-createdAt,objectId', '-updatedAt,objectId'), limit: fc.integer({ min: 1, max: 12 }), skip: fc.integer({ min: 0, max: 4 }) }),
          async (batches, seed, base, page) => {
          const marker = `Probe${engine}${run++}`;
          const stored = await store(marker, batches, base);
          const constraints = fc.sample(fc.array(constraint(stored, base), { minLength: 1, maxLength: 3 }), { numRuns: 1, seed })[0] ?? [];
          const where: Record<string, any> = { className: marker };
          let expected = stored;
          for (const c of constraints) {
            // One key keeps one value per operator: a constraint that would replace an earlier one is left out.
            if (c.kind === 'id' ? where.objectId !== undefined : (where[c.field] as Record<string, unknown> | undefined)?.[c.operator] !== undefined) continue;
            if (c.kind === 'id') {
              where.objectId = c.ids.length === 1 ? c.ids[0] : { $in: c.ids };
              expected = expected.filter((s) => c.ids.includes(s.objectId));
              continue;
            }
            const test = { $lt: (t: number) => t < c.at, $lte: (t: number) => t <= c.at, $gt: (t: number) => t > c.at, $gte: (t: number) => t >= c.at, $eq: (t: number) => t === c.at }[c.operator];
            where[c.field] = { ...(where[c.field] as object | undefined), [c.operator]: iso(c.at) };
            expected = expected.filter((s) => test(s.time));
          }
          const all = await findIds(where);
          const wanted = expected.map((s) => s.objectId).sort();
          assert.deepEqual(all.ids, wanted, JSON.stringify({ where, batches }));
          assert.equal(all.count, wanted.length);
          // A page in time order, as the dashboard asks for it: the same records, the same page.
          const byTime = (a: Stored, b: Stored): number => (page.order.startsWith('-') ? b.time - a.time : a.time - b.time) || (a.objectId < b.objectId ? -1 : 1);
          const sorted = page.order === 'objectId' ? expected.map((s) => s.objectId).sort() : [...expected].sort(byTime).map((s) => s.objectId);
          const paged = await findIds(where, page);
          assert.deepEqual(paged.ids, sorted.slice(page.skip, page.skip + page.limit), JSON.stringify({ where, page, batches }));
          assert.equal(paged.count, wanted.length);
        }),
        { numRuns: 40 },
      );
    });

    test('a get by record id finds the record; a read bounded by time reaches the batch table through its span', async () => {
      const [first, second] = await store('ProbeGet', [[10, 20, 30], [25, 40]]);
      for (const record of [first, second]) {
        const got = await call(server.url, `/classes/_PrivilegeLedger/${String(record?.objectId)}`, { master: true });
        assert.equal(got.status, 200, JSON.stringify(got.body));
        assert.equal(got.body.objectId, record?.objectId);
        assert.equal(got.body.createdAt, new Date(record?.time ?? 0).toISOString());
      }
      const plan = await call(server.url, `/classes/_PrivilegeLedger${query({ where: { createdAt: { $gte: iso(BASE) } }, explain: true })}`, { master: true });
      assert.equal(plan.status, 200, JSON.stringify(plan.body));
      // Without the implied bound the batch table's scan would test nothing: every batch would be expanded.
      assert.match(JSON.stringify(plan.body), /\\"?lastAt\\"? >=/);
    });

    // Last: it deletes the old batches the tests above stored.
    test('retention deletes the batches whose every record is older than ledgerRetentionDays; 0 keeps everything', async () => {
      const day = 86_400_000;
      const now = Date.now();
      const { driver, ledger } = server.parsec.services;
      const spans = { old: [now - 100 * day, now - 95 * day], straddling: [now - 100 * day, now - 80 * day], recent: [now - day, now - day + 10] };
      for (const [marker, times] of Object.entries(spans)) {
        const batch = new LedgerBatch();
        for (const time of times) batch.add(entry(`Retained${marker}`, 0), time);
        await insertBatch(driver, batch);
      }
      const kept = async (): Promise<string[]> =>
        (await driver.query<{ className: string }>(`SELECT DISTINCT "className" FROM "_PrivilegeLedger" WHERE "className" LIKE 'Retained%' ORDER BY 1`)).rows.map((row) => row.className);
      await new PrivilegeLedger(driver, () => server.parsec.app.log, 0).prune();
      assert.deepEqual(await kept(), ['Retainedold', 'Retainedrecent', 'Retainedstraddling']);
      await ledger.prune();
      assert.deepEqual(await kept(), ['Retainedrecent', 'Retainedstraddling']);
      const straddling = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM "_PrivilegeLedger" WHERE "className" = 'Retainedstraddling'`);
      assert.deepEqual(straddling.rows, [{ n: 2 }]);
      // A count with no condition adds up the batches' sizes; it must agree with counting the records. (Its
      // own record is made after it answers, and nothing else is buffered after the flush.)
      await ledger.flush();
      const counted = (await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_PrivilegeLedger"')).rows[0]?.n;
      assert.ok(counted !== undefined && counted > 4);
      const total = await call(server.url, `/classes/_PrivilegeLedger${query({ limit: 0, count: 1 })}`, { master: true });
      assert.equal(total.body.count, counted);
      const narrowed = await call(server.url, `/classes/_PrivilegeLedger${query({ where: { className: 'Retainedrecent' }, limit: 0, count: 1 })}`, { master: true });
      assert.equal(narrowed.body.count, 2);
    });
  });

  describe(`privilege ledger storage migration (${engine})`, () => {
    let driver: Driver;
    let dispose: () => Promise<void>;
    before(async () => {
      if (engine === 'pglite') {
        const memory = await openDriver({ databaseURI: 'memory://', poolSize: 1, statementTimeoutMs: 5000 });
        driver = memory;
        dispose = () => memory.close();
      } else {
        const database = await freshPostgresDatabase();
        const pg = await openDriver({ databaseURI: database.uri, poolSize: 2, statementTimeoutMs: 5000 });
        driver = pg;
        dispose = async () => {
          await pg.close();
          await database.drop();
        };
      }
    });
    after(async () => dispose());

    test('a ledger written as a row per record moves into batches at start, every record as it was; starting again changes nothing', async () => {
      await driver.query(`CREATE TABLE "_PrivilegeLedger" ("objectId" text PRIMARY KEY, "createdAt" timestamptz, "updatedAt" timestamptz, "_rperm" text[], "_wperm" text[],
        "keyKind" text, "ip" text, "method" text, "path" text, "origin" text, "onBehalfOf" text, "className" text, "operation" text, "objectIds" jsonb, "status" double precision)`);
      // Some ids start with their time, as this version's do, but an earlier version's createdAt was the time
      // of the write, up to minutes later (a retry): a get by such an id narrows to the batches holding it.
      const earlierId = (i: number): string => `${(BASE + i * 7 - 600_000).toString(36).padStart(9, '0')}${String(i).padStart(8, '0')}`;
      const rows = Array.from({ length: 2500 }, (_, i) => [
        i % 10 === 0 ? earlierId(i) : `old${String(i).padStart(6, '0')}`,
        // Microseconds, which the records keep to the millisecond: the batch's span must still hold them.
        new Date(BASE + i * 7).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`),
        i % 2 === 0 ? 'master' : 'escalation',
        '::1',
        'POST',
        `/functions/f"\\\t${i}`,
        i % 3 === 0 ? null : `function:f${i}`,
        i % 2 === 0 ? null : `user${i}`,
        i % 4 === 0 ? null : 'Note',
        'create',
        JSON.stringify(i % 5 === 0 ? [] : [`id${i}`, 'é😀']),
        i % 6 === 0 ? null : 201,
      ]);
      for (const row of rows) {
        await driver.query(
          `INSERT INTO "_PrivilegeLedger" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "keyKind", "ip", "method", "path", "origin", "onBehalfOf", "className", "operation", "objectIds", "status")
           VALUES ($1, $2, $2, '{}', '{}', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          row,
        );
      }
      await ensureLedgerStorage(driver);
      await ensureLedgerStorage(driver);
      const kind = await driver.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE relname = '_PrivilegeLedger'`);
      assert.deepEqual(kind.rows, [{ relkind: 'v' }]);
      const batches = await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_PrivilegeLedgerBatch"');
      assert.deepEqual(batches.rows, [{ n: 3 }]);
      const { rows: moved } = await driver.query<Record<string, any>>('SELECT * FROM "_PrivilegeLedger" ORDER BY "createdAt"');
      assert.equal(moved.length, rows.length);
      moved.forEach((record, i) => {
        const row = rows[i] as unknown[];
        const time = BASE + i * 7;
        assert.equal(record.objectId, row[0]);
        assert.equal(record.createdAt.getTime(), time);
        assert.ok(record.batchFirstAt.getTime() <= time && time <= record.batchLastAt.getTime());
        if (i % 10 === 0) {
          const idTime = time - 600_000;
          assert.ok(record.batchFirstAt.getTime() <= idTime && idTime <= record.batchLastAt.getTime(), `${String(record.objectId)} in its batch's span`);
        }
        assert.deepEqual(
          [record.keyKind, record.ip, record.method, record.path, record.origin, record.onBehalfOf, record.className, record.operation, record.objectIds, record.status],
          [row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], JSON.parse(String(row[10])), row[11]],
        );
      });
    });
  });
}
