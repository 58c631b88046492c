/**
 * The privilege ledger: a master request, a read-only master request and a cloud escalation each leave
 * exactly one record; clients cannot read or write it; nobody can write it through the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LedgerBatch } from '../src/security/ledger-batch.ts';
import { insertBatch } from '../src/security/ledger-storage.ts';
import type { LedgerEntry } from '../src/security/ledger.ts';
import { call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const LEDGER = fileURLToPath(new URL('./fixtures/cloud/ledger.js', import.meta.url));
const READ_ONLY = 'read-only-master-key-0123456789';

for (const engine of engines()) {
  describe(`privilege ledger (${engine})`, () => {
    let server: TestServer;
    let user: { objectId: string; sessionToken: string };
    before(async () => {
      server = await startTestServer(engine, { cloud: LEDGER, readOnlyMasterKey: READ_ONLY });
      user = (await call(server.url, '/users', { method: 'POST', body: { username: `ledger-${engine}`, password: 'pw-123456' } })).body;
    });
    after(async () => server.stop());

    /** Records written since `since`, read with the master key (which itself is recorded: filter those out). */
    async function recordsSince(since: string): Promise<Record<string, any>[]> {
      await server.parsec.services.ledger.flush();
      const found = await call(server.url, `/classes/_PrivilegeLedger${query({ where: { createdAt: { $gt: { __type: 'Date', iso: since } }, path: { $ne: '/classes/_PrivilegeLedger' } }, order: 'createdAt', limit: 100 })}`, { master: true });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      return found.body.results;
    }
    const mark = async (): Promise<string> => {
      await server.parsec.services.ledger.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return new Date().toISOString();
    };

    test('a master request leaves exactly one record: key kind, route, class, operation, ids, status; never the key', async () => {
      const since = await mark();
      const created = await call(server.url, '/classes/LedgerNote', { method: 'POST', master: true, body: { text: 'a' } });
      const records = await recordsSince(since);
      assert.equal(records.length, 1);
      const [record] = records;
      assert.equal(record?.keyKind, 'master');
      assert.equal(record?.className, 'LedgerNote');
      assert.equal(record?.operation, 'create');
      assert.deepEqual(record?.objectIds, [created.body.objectId]);
      assert.equal(record?.status, 201);
      assert.equal(record?.ip, '127.0.0.1');
      assert.ok(!JSON.stringify(record).includes('test-master-key'), 'the key itself is never recorded');
    });

    test('a read-only master request leaves exactly one record, refused writes too', async () => {
      const since = await mark();
      await call(server.url, '/classes/LedgerNote', { headers: { 'X-Parse-Master-Key': READ_ONLY } });
      await call(server.url, '/classes/LedgerNote', { method: 'POST', body: { text: 'x' }, headers: { 'X-Parse-Master-Key': READ_ONLY } });
      const records = await recordsSince(since);
      assert.deepEqual(records.map((r) => [r.keyKind, r.operation, r.status]), [['readOnlyMaster', 'find', 200], ['readOnlyMaster', 'create', 400]]);
    });

    test("a useMasterKey escalation in cloud code leaves one record naming the function and the caller; acting as the caller leaves none", async () => {
      const asUser = { headers: { 'X-Parse-Session-Token': user.sessionToken } };
      const since = await mark();
      await call(server.url, '/functions/countAllAsMaster', { method: 'POST', body: {}, ...asUser });
      await call(server.url, '/functions/countAsCaller', { method: 'POST', body: {}, ...asUser });
      const records = await recordsSince(since);
      assert.equal(records.length, 1, JSON.stringify(records));
      assert.equal(records[0]?.keyKind, 'escalation');
      assert.equal(records[0]?.origin, 'function:countAllAsMaster');
      assert.equal(records[0]?.onBehalfOf, user.objectId);
      assert.equal(records[0]?.className, 'LedgerNote');
      assert.equal(records[0]?.operation, 'find');
    });

    test('an escalated batch records each sub-request, not the envelope', async () => {
      const since = await mark();
      await call(server.url, '/functions/batchAsMaster', { method: 'POST', body: {} });
      const records = await recordsSince(since);
      assert.deepEqual(records.map((r) => [r.keyKind, r.operation, r.onBehalfOf]), [['escalation', 'create', 'anonymous'], ['escalation', 'create', 'anonymous']]);
    });

    test('clients cannot read or write the ledger; nobody writes it through the API', async () => {
      const asUser = { headers: { 'X-Parse-Session-Token': user.sessionToken } };
      for (const options of [{}, asUser]) {
        assert.equal((await call(server.url, '/classes/_PrivilegeLedger', options)).body.code, 119);
        assert.equal((await call(server.url, '/classes/_PrivilegeLedger', { method: 'POST', body: { keyKind: 'forged' }, ...options })).body.code, 119);
      }
      const some = (await recordsSince(new Date(0).toISOString()))[0];
      assert.ok(some !== undefined);
      for (const [method, path, body] of [
        ['POST', '/classes/_PrivilegeLedger', { keyKind: 'forged' }],
        ['PUT', `/classes/_PrivilegeLedger/${String(some.objectId)}`, { keyKind: 'forged' }],
        ['DELETE', `/classes/_PrivilegeLedger/${String(some.objectId)}`, undefined],
      ] as const) {
        const result = await call(server.url, path, { method, master: true, body });
        assert.equal(result.body.code, 119, `master ${method}`);
      }
      const still = await call(server.url, `/classes/_PrivilegeLedger/${String(some.objectId)}`, { master: true });
      assert.equal(still.body.keyKind, some.keyKind);
      const schemaDelete = await call(server.url, '/schemas/_PrivilegeLedger', { method: 'DELETE', master: true });
      assert.equal(schemaDelete.body.code, 119);
    });

    test('a batch the database refused is kept and written with the next one; ids sort by the time of recording', async () => {
      const { driver, ledger } = server.parsec.services;
      const since = await mark();
      const notes: string[] = [];
      const create = async (text: string): Promise<void> => {
        const created = await call(server.url, '/classes/LedgerNote', { method: 'POST', master: true, body: { text } });
        assert.equal(created.status, 201);
        notes.push(created.body.objectId);
      };
      // The table out of reach for a moment: the flush fails (and is logged), nothing may be lost.
      await driver.query('ALTER TABLE "_PrivilegeLedgerBatch" RENAME TO "_PrivilegeLedgerBatch_away"');
      try {
        await create('first');
        await create('second');
        await ledger.flush();
      } finally {
        await driver.query('ALTER TABLE "_PrivilegeLedgerBatch_away" RENAME TO "_PrivilegeLedgerBatch"');
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      await create('third');
      const records = await recordsSince(since);
      const recordOf = (note: string | undefined) => {
        const found = records.filter((record) => record.operation === 'create' && record.objectIds?.[0] === note);
        assert.equal(found.length, 1, `one record for note ${String(note)}: ${JSON.stringify(records)}`);
        return String(found[0]?.objectId);
      };
      const [first, second, third] = notes.map(recordOf);
      // The refused pair went back in front of the buffer and was written in one statement with the third;
      // ids carry the time each was recorded, so the third sorts after both.
      assert.equal(new Set([first, second, third]).size, 3);
      assert.ok(String(third) > String(first) && String(third) > String(second), `${first} ${second} ${third}`);
    });

    test('what a record quotes is stored as sent: quotes, backslashes, tabs and line breaks survive the encoding', async () => {
      const since = await mark();
      const odd = 'a"b\\c,{d}\t\n\r\\N \\u0041 é😀';
      const missing = await call(server.url, `/classes/LedgerNote/${encodeURIComponent(odd)}`, { master: true });
      assert.equal(missing.body.code, 101);
      const records = (await recordsSince(since)).filter((record) => record.className === 'LedgerNote' && record.operation === 'get');
      assert.equal(records.length, 1, JSON.stringify(records));
      assert.deepEqual(records[0]?.objectIds, [odd]);
      assert.equal(records[0]?.status, 404);
      // The batch's span is how reads find a record, not part of it.
      assert.deepEqual(Object.keys(records[0] ?? {}).filter((key) => key.startsWith('batch')), []);
    });

    test('a batch spans buffers: long and odd values, every record stored once with its own time', async () => {
      const { driver } = server.parsec.services;
      const batch = new LedgerBatch();
      const entries: LedgerEntry[] = Array.from({ length: 1500 }, (_, i) => ({
        keyKind: 'escalation',
        ip: i % 2 === 0 ? '127.0.0.1' : '::1',
        method: 'POST',
        // Some longer than a whole buffer (64 KB), some of characters three bytes long in UTF-8.
        path: i % 500 === 7 ? `/functions/${'€'.repeat(30_000)}` : `/functions/f${i}`,
        origin: i % 3 === 0 ? undefined : `trigger:beforeSave\t${i}\\"`,
        onBehalfOf: i % 5 === 0 ? 'anonymous' : `user${i}`,
        className: undefined,
        operation: `function:f${i}`,
        objectIds: Array.from({ length: i % 30 }, (_, k) => `id"${k}\\`),
        status: i % 7 === 0 ? 400 : 200,
      }));
      const start = Date.parse('2001-01-02T03:04:05.000Z');
      entries.forEach((entry, i) => batch.add(entry, start + i));
      assert.deepEqual(batch.span, { first: new Date(start), last: new Date(start + 1499) });
      await insertBatch(driver, batch);
      const { rows } = await driver.query<Record<string, any>>('SELECT * FROM "_PrivilegeLedger" WHERE "batchFirstAt" = $1 ORDER BY "objectId"', [new Date(start)]);
      assert.equal(rows.length, entries.length);
      rows.forEach((row, i) => {
        const entry = entries[i] as LedgerEntry;
        assert.equal(row.createdAt.toISOString(), new Date(start + i).toISOString());
        assert.equal(row.updatedAt.toISOString(), new Date(start + i).toISOString());
        assert.deepEqual([row.keyKind, row.ip, row.method, row.path, row.origin, row.onBehalfOf, row.className, row.operation, row.status], [entry.keyKind, entry.ip, entry.method, entry.path, entry.origin ?? null, entry.onBehalfOf, null, entry.operation, entry.status]);
        assert.deepEqual(row.objectIds, entry.objectIds.slice(0, 20));
        assert.deepEqual([row._rperm, row._wperm], [[], []]);
      });
      await driver.query('DELETE FROM "_PrivilegeLedgerBatch" WHERE "firstAt" = $1', [new Date(start)]);
    });

    test('a value PostgreSQL could not read back (NUL, an unpaired surrogate) is stored with U+FFFD instead of failing its batch', async () => {
      const { driver } = server.parsec.services;
      const batch = new LedgerBatch();
      const entry = (objectIds: string[], path: string): LedgerEntry => ({ keyKind: 'master', ip: '127.0.0.1', method: 'GET', path, origin: undefined, onBehalfOf: undefined, className: 'X', operation: 'find', objectIds, status: 200 });
      batch.add(entry(['ok'], '/classes/X'), Date.parse('2001-01-01T00:00:00.001Z'));
      batch.add(entry(['a\0b', '\ud800x', 'y\udc00', '😀'], '/classes/X/\0\udbff'), Date.parse('2001-01-01T00:00:00.002Z'));
      await insertBatch(driver, batch);
      const { rows } = await driver.query<{ objectIds: string[]; path: string }>('SELECT "objectIds", "path" FROM "_PrivilegeLedger" WHERE "batchFirstAt" = $1 ORDER BY "objectId"', [batch.span.first]);
      assert.deepEqual(rows.map((row) => [row.objectIds, row.path]), [[['ok'], '/classes/X'], [['a\uFFFDb', '\uFFFDx', 'y\uFFFD', '😀'], '/classes/X/\uFFFD\uFFFD']]);
      await driver.query('DELETE FROM "_PrivilegeLedgerBatch" WHERE "firstAt" = $1', [batch.span.first]);
    });

    test('a batch the database refuses for its content is dropped and logged, never retried, and holds nothing back', async () => {
      const { driver, ledger } = server.parsec.services;
      const since = await mark();
      // A rule the next batch breaks: the insert fails with an integrity violation (23514), as it would again.
      await driver.query(`ALTER TABLE "_PrivilegeLedgerBatch" ADD CONSTRAINT "no_poison" CHECK ("records" NOT LIKE '%poison%') NOT VALID`);
      try {
        assert.equal((await call(server.url, '/classes/LedgerNote/poison', { master: true })).status, 404);
        await ledger.flush();
      } finally {
        await driver.query('ALTER TABLE "_PrivilegeLedgerBatch" DROP CONSTRAINT "no_poison"');
      }
      assert.equal((await call(server.url, '/classes/LedgerNote/after', { master: true })).status, 404);
      const paths = (await recordsSince(since)).map((record) => String(record.path));
      assert.equal(paths.length, 1, JSON.stringify(paths));
      assert.ok(paths[0]?.endsWith('/classes/LedgerNote/after'), JSON.stringify(paths));
    });
  });
}
