/**
 * `_Installation` (reference §4.6, §8.1) over HTTP and with the official SDK, on each engine: creating an
 * installation (135 without an id or a device type, 133 for an unknown type, 111 for non-string ids),
 * re-registering a device updating its installation (by installationId, by device token, merging the two),
 * a device token moving to a new installation, immutable ids (136), and who may do what: clients create,
 * get and update by objectId; find, count, sub-queries and delete are the master key's (119).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const TOKEN_A = '11433856EED2F1285FB3AA11136718C1198ED5647875096952C66BF8CB976306';
const MASTER: RequestOptions = { master: true };
let counter = 0;
/** A fresh installation id (mixed case: the server stores it lower-case). */
const newId = (): string => `AbCd${String(++counter).padStart(4, '0')}-1234-5678-9abc-DEF012345678`;

for (const engine of engines()) {
  describe(`installations (${engine})`, () => {
    let server: TestServer;
    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);
    const stored = async (where: Record<string, unknown>): Promise<any[]> =>
      assertOk(await request(`/installations${query({ where })}`, MASTER), 'master find').results;
    const create = async (body: Record<string, unknown>, options: RequestOptions = {}): Promise<HttpResult> =>
      request('/installations', { method: 'POST', body, ...options });

    before(async () => {
      server = await startTestServer(engine);
    });
    after(async () => {
      await server.stop();
    });

    test('a client creates an installation; ids are stored lower-case; it reads and updates it by objectId', async () => {
      const id = newId();
      const created = assertOk(await create({ installationId: id, deviceType: 'android', channels: ['news'] }), 'create', 201);
      assert.match(created.objectId, /^[A-Za-z0-9]{10}$/);
      assert.ok(created.createdAt);
      const [row] = await stored({ objectId: created.objectId });
      assert.equal(row.installationId, id.toLowerCase());
      assert.deepEqual(row.channels, ['news']);
      const read = assertOk(await request(`/installations/${created.objectId}`), 'get by id');
      assert.equal(read.deviceType, 'android');
      assertOk(await request(`/installations/${created.objectId}`, { method: 'PUT', body: { channels: ['sport'], badge: 3 } }), 'update by id');
      assert.deepEqual((await stored({ objectId: created.objectId }))[0].channels, ['sport']);
      // The same through /classes/_Installation.
      assert.equal(assertOk(await request(`/classes/_Installation/${created.objectId}`), 'get via classes').badge, 3);
    });

    test('creating without an id or a device type is 135; an unknown device type is 133; nothing is stored', async () => {
      assertRefused(await create({ deviceType: 'ios', channels: ['x'] }), 135, /at least one ID field/, 'no id');
      const id = newId();
      assertRefused(await create({ installationId: id }), 135, 'deviceType must be specified in this operation', 'no type');
      assertRefused(await create({ installationId: id, deviceType: 'toaster' }), 133, /deviceType must be one of/, 'unknown type');
      assert.equal((await stored({ installationId: id.toLowerCase() })).length, 0);
    });

    test('non-string installationId, deviceToken or deviceType are refused with 111 before any lookup', async () => {
      const before = (await stored({})).length;
      for (const [body, field] of [
        [{ installationId: 123, deviceType: 'ios' }, 'installationId'],
        [{ installationId: { $ne: null }, deviceType: 'ios' }, 'installationId'],
        [{ installationId: newId(), deviceToken: ['a'], deviceType: 'ios' }, 'deviceToken'],
        [{ deviceToken: { $regex: '.*' }, deviceType: 'ios' }, 'deviceToken'],
        [{ installationId: newId(), deviceType: 7 }, 'deviceType'],
      ] as const) {
        assertRefused(await create(body), 111, `${field} must be a string.`, `non-string ${field}`);
      }
      const created = assertOk(await create({ installationId: newId(), deviceType: 'ios' }), 'create', 201);
      assertRefused(await request(`/installations/${created.objectId}`, { method: 'PUT', body: { deviceToken: 42 } }), 111, 'deviceToken must be a string.', 'update');
      assertRefused(await request(`/installations/${created.objectId}`, { method: 'PUT', body: { installationId: { __op: 'Delete' } } }), 111, /installationId/, 'delete id');
      assert.equal((await stored({})).length, before + 1);
    });

    test('a POST with a known installationId updates that installation (200, same objectId)', async () => {
      const id = newId();
      const first = assertOk(await create({ installationId: id, deviceType: 'ios', channels: ['a'] }), 'first', 201);
      const again = await create({ installationId: id.toLowerCase(), deviceType: 'ios', appVersion: '2.0' });
      const body = assertOk(again, 'again', 200);
      assert.equal(body.objectId, first.objectId);
      assert.equal(again.headers.get('location'), null);
      const rows = await stored({ installationId: id.toLowerCase() });
      assert.equal(rows.length, 1);
      assert.equal(rows[0].appVersion, '2.0');
      assert.deepEqual(rows[0].channels, ['a']);
    });

    test('X-Parse-Installation-Id names the installation when the body does not', async () => {
      const id = newId();
      const headers = { 'X-Parse-Installation-Id': id };
      const created = assertOk(await create({ deviceType: 'web' }, { headers }), 'create', 201);
      assert.equal((await stored({ objectId: created.objectId }))[0].installationId, id.toLowerCase());
      const again = assertOk(await create({ deviceType: 'web', timeZone: 'Europe/Paris' }, { headers }), 'again', 200);
      assert.equal(again.objectId, created.objectId);
    });

    test('device tokens: a 64-character token is lower-cased; re-registering by token alone updates; a token taken by a new installation leaves the old one', async () => {
      const tokenOnly = assertOk(await create({ deviceToken: TOKEN_A, deviceType: 'ios' }), 'token only', 201);
      assert.equal((await stored({ objectId: tokenOnly.objectId }))[0].deviceToken, TOKEN_A.toLowerCase());
      // The device now has an id too: Parse merges into the token's installation.
      const id = newId();
      const merged = assertOk(await create({ deviceToken: TOKEN_A, installationId: id, deviceType: 'ios' }), 'merge', 200);
      assert.equal(merged.objectId, tokenOnly.objectId);
      assert.equal((await stored({ deviceToken: TOKEN_A.toLowerCase() })).length, 1);
      // Another installation (a reinstall) claims the token: the old one is deleted.
      const other = newId();
      const claimed = assertOk(await create({ deviceToken: TOKEN_A, installationId: other, deviceType: 'ios' }), 'claim', 201);
      const holders = await stored({ deviceToken: TOKEN_A.toLowerCase() });
      assert.deepEqual(holders.map((row) => row.objectId), [claimed.objectId]);
      assert.equal((await stored({ installationId: id.toLowerCase() })).length, 0);
    });

    test('an installation registered by id and by token separately is merged into one', async () => {
      const token = 'f'.repeat(40) + String(++counter).padStart(24, '0');
      const id = newId();
      const byId = assertOk(await create({ installationId: id, deviceType: 'ios' }), 'by id', 201);
      const byToken = assertOk(await create({ deviceToken: token, deviceType: 'ios' }), 'by token', 201);
      assert.notEqual(byId.objectId, byToken.objectId);
      const both = assertOk(await create({ installationId: id, deviceToken: token, deviceType: 'ios' }), 'both', 200);
      assert.equal(both.objectId, byToken.objectId);
      const rows = await stored({ $or: [{ installationId: id.toLowerCase() }, { deviceToken: token }] });
      assert.deepEqual(rows.map((row) => row.objectId), [byToken.objectId]);
    });

    test('installationId and deviceType cannot be changed by an update (136), and nothing changes', async () => {
      const id = newId();
      const created = assertOk(await create({ installationId: id, deviceType: 'android' }), 'create', 201);
      const path = `/installations/${created.objectId}`;
      assertRefused(await request(path, { method: 'PUT', body: { installationId: newId() } }), 136, 'installationId may not be changed in this operation', 'id');
      assertRefused(await request(path, { method: 'PUT', body: { deviceType: 'ios' } }), 136, 'deviceType may not be changed in this operation', 'type');
      const [row] = await stored({ objectId: created.objectId });
      assert.equal(row.installationId, id.toLowerCase());
      assert.equal(row.deviceType, 'android');
      // The same id in another case is the same id.
      assertOk(await request(path, { method: 'PUT', body: { installationId: id.toUpperCase(), badge: 1 } }), 'same id');
    });

    test('find, count, sub-queries and delete are for the master key only (119); include leaves a bare pointer', async () => {
      const created = assertOk(await create({ installationId: newId(), deviceType: 'ios' }), 'create', 201);
      assertRefused(await request('/installations'), 119, /find operation/, 'find');
      assertRefused(await request(`/classes/_Installation${query({ count: 1, limit: 0 })}`), 119, /count operation/, 'count');
      assertRefused(await request(`/installations/${created.objectId}`, { method: 'DELETE' }), 119, /delete operation/, 'delete');
      assertOk(await request(`/installations/${created.objectId}`), 'still there');
      // A client cannot enumerate installations through a sub-query on another class either.
      const note = assertOk(await request('/classes/InstallNote', { method: 'POST', body: { device: { __type: 'Pointer', className: '_Installation', objectId: created.objectId } } }), 'note', 201);
      const inQuery = { device: { $inQuery: { where: {}, className: '_Installation' } } };
      assert.equal(assertOk(await request(`/classes/InstallNote${query({ where: inQuery })}`), 'in query').results.length, 0);
      assert.equal(assertOk(await request(`/classes/InstallNote${query({ where: inQuery })}`, MASTER), 'in query master').results.length, 1);
      const included = assertOk(await request(`/classes/InstallNote/${note.objectId}${query({ include: 'device' })}`), 'include');
      assert.equal(included.device.installationId, undefined);
      // The master key may do all of it.
      assert.ok(assertOk(await request('/installations', MASTER), 'master find').results.length > 0);
      assertOk(await request(`/installations/${created.objectId}`, { method: 'DELETE', ...MASTER }), 'master delete');
      assertRefused(await request(`/installations/${created.objectId}`), 101, 'Object not found.', 'gone');
    });

    test('the read-only master key reads installations but cannot write them (119)', async () => {
      const readOnly = await startTestServer(engine, { readOnlyMasterKey: 'read-only-key-0123456789abcdef' });
      try {
        const headers = { 'X-Parse-Master-Key': 'read-only-key-0123456789abcdef' };
        assertOk(await call(readOnly.url, '/installations', { headers }), 'read-only find');
        assertRefused(await call(readOnly.url, '/installations', { method: 'POST', body: { installationId: newId(), deviceType: 'ios' }, headers }), 119, /read-only/, 'create');
      } finally {
        await readOnly.stop();
      }
    });

    test('the JS SDK: Parse.Installation.currentInstallation() saves, and saving again updates the same object', async () => {
      const Parse = parseSdk(server.url);
      const installation = await Parse.Installation.currentInstallation();
      installation.set('channels', ['sdk']);
      await installation.save();
      assert.ok(installation.id);
      const rows = await stored({ objectId: installation.id });
      assert.equal(rows.length, 1);
      assert.equal(rows[0].deviceType, 'web');
      assert.equal(rows[0].installationId, installation.get('installationId').toLowerCase());
      installation.set('badge', 5);
      await installation.save();
      assert.equal((await stored({ objectId: installation.id }))[0].badge, 5);
      await assert.rejects(new Parse.Query(Parse.Installation).find(), (error: any) => error.code === 119);
      // Query#get is a find in the SDK (refused, as in Parse); fetch reads by objectId.
      const copy = Parse.Object.fromJSON({ className: '_Installation', objectId: installation.id });
      assert.equal((await copy.fetch()).get('badge'), 5);
      assert.ok((await new Parse.Query(Parse.Installation).find({ useMasterKey: true })).length > 0);
    });
  });
}
