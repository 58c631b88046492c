/**
 * Class-level permission details the matrix does not cover: addField, count next to find, default ACLs
 * with `currentUser`, and the protectedFields server option.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`class-level permission details (${engine})`, () => {
    let server: TestServer;
    let user: { objectId: string; sessionToken: string };
    let other: { objectId: string; sessionToken: string };
    const as = (who: { sessionToken: string }) => ({ headers: { 'X-Parse-Session-Token': who.sessionToken } });
    const setClp = async (className: string, fields: Record<string, unknown>, clp: Record<string, unknown>) => {
      const result = await call(server.url, `/schemas/${className}`, { method: 'POST', master: true, body: { fields, classLevelPermissions: clp } });
      assert.equal(result.status, 200, JSON.stringify(result.body));
    };
    before(async () => {
      server = await startTestServer(engine, { protectedFields: { _User: { '*': ['email'] }, Profile: { '*': ['phone'] } } });
      user = (await call(server.url, '/users', { method: 'POST', body: { username: `clp-user-${engine}`, password: 'pw-123456', email: `u-${engine}@example.com` } })).body;
      other = (await call(server.url, '/users', { method: 'POST', body: { username: `clp-other-${engine}`, password: 'pw-123456' } })).body;
    });
    after(async () => server.stop());

    test('addField: a new field needs it on create and on update; existing fields do not; nothing is written on refusal', async () => {
      await setClp('Fixed', { title: { type: 'String' } }, { find: { '*': true }, get: { '*': true }, create: { '*': true }, update: { '*': true }, addField: {} });
      const ok = await call(server.url, '/classes/Fixed', { method: 'POST', body: { title: 'a' } });
      assert.equal(ok.status, 201);
      const refused = await call(server.url, '/classes/Fixed', { method: 'POST', body: { title: 'b', extra: 1 } });
      assert.deepEqual(refused.body, { code: 119, error: 'Permission denied for action addField on class Fixed.' });
      const update = await call(server.url, `/classes/Fixed/${ok.body.objectId}`, { method: 'PUT', body: { extra: 2 } });
      assert.equal(update.body.code, 119);
      const schema = await call(server.url, '/schemas/Fixed', { master: true });
      assert.equal(schema.body.fields.extra, undefined, 'the refused writes added no field');
      const rows = await call(server.url, '/classes/Fixed', { master: true });
      assert.deepEqual(rows.body.results.map((r: { title: string }) => r.title), ['a']);
      const master = await call(server.url, '/classes/Fixed', { method: 'POST', master: true, body: { title: 'c', extra: 3 } });
      assert.equal(master.status, 201, 'the master key bypasses addField');
    });

    test('count: count=1 checks count (and find too when rows are asked for)', async () => {
      await setClp('Counted', { n: { type: 'Number' } }, { find: { '*': true }, get: { '*': true }, count: {}, create: { '*': true } });
      await call(server.url, '/classes/Counted', { method: 'POST', body: { n: 1 } });
      assert.equal((await call(server.url, '/classes/Counted')).status, 200);
      for (const limit of [0, 5]) {
        const counted = await call(server.url, `/classes/Counted${query({ count: 1, limit })}`);
        assert.deepEqual(counted.body, { code: 119, error: 'Permission denied for action count on class Counted.' }, `limit ${limit}`);
      }
      await setClp('CountOnly', { n: { type: 'Number' } }, { find: {}, count: { '*': true }, create: { '*': true } });
      await call(server.url, '/classes/CountOnly', { method: 'POST', body: { n: 1 } });
      const onlyCount = await call(server.url, `/classes/CountOnly${query({ count: 1, limit: 0 })}`);
      assert.deepEqual(onlyCount.body, { results: [], count: 1 });
      const withRows = await call(server.url, `/classes/CountOnly${query({ count: 1, limit: 5 })}`);
      assert.equal(withRows.body.code, 119);
    });

    test('a default ACL from the CLP, with currentUser standing for the creator', async () => {
      await setClp('Owned', { text: { type: 'String' } }, {
        find: { '*': true }, get: { '*': true }, create: { '*': true }, update: { '*': true }, delete: { '*': true },
        ACL: { currentUser: { read: true, write: true }, 'role:Moderators': { read: true } },
      });
      const mine = await call(server.url, '/classes/Owned', { method: 'POST', body: { text: 'mine' }, ...as(user) });
      const stored = await call(server.url, `/classes/Owned/${mine.body.objectId}`, { master: true });
      assert.deepEqual(stored.body.ACL, { [user.objectId]: { read: true, write: true }, 'role:Moderators': { read: true } });
      assert.equal((await call(server.url, `/classes/Owned/${mine.body.objectId}`, as(other))).status, 404);
      const explicit = await call(server.url, '/classes/Owned', { method: 'POST', body: { text: 'public', ACL: { '*': { read: true } } }, ...as(user) });
      assert.deepEqual((await call(server.url, `/classes/Owned/${explicit.body.objectId}`, { master: true })).body.ACL, { '*': { read: true } }, 'an explicit ACL wins');
      const anonymous = await call(server.url, '/classes/Owned', { method: 'POST', body: { text: 'nobody' } });
      assert.deepEqual((await call(server.url, `/classes/Owned/${anonymous.body.objectId}`, { master: true })).body.ACL, { 'role:Moderators': { read: true } });
    });

    test('the protectedFields option hides fields of any class and refuses queries on them; the owner sees their own email', async () => {
      await call(server.url, '/classes/Profile', { method: 'POST', master: true, body: { name: 'p', phone: '555' } });
      const found = await call(server.url, '/classes/Profile', as(user));
      assert.equal(found.body.results[0].name, 'p');
      assert.equal(found.body.results[0].phone, undefined);
      const probe = await call(server.url, `/classes/Profile${query({ where: { phone: { $regex: '^5' } } })}`, as(user));
      assert.deepEqual(probe.body, { code: 119, error: 'This user is not allowed to query phone on class Profile.' });
      const me = await call(server.url, '/users/me', as(user));
      assert.equal(me.body.email, `u-${engine}@example.com`);
      const someone = await call(server.url, `/users/${user.objectId}`, { master: true });
      assert.equal(someone.body.email, `u-${engine}@example.com`);
      const emailOracle = await call(server.url, `/users${query({ where: { email: { $regex: '^u' } } })}`, as(other));
      assert.equal(emailOracle.body.code, 119);
    });
  });
}
