/**
 * `DELETE /purge/:className` (reference §8.1) on each engine: the master key empties a class and keeps its
 * schema; clients (403) and the read-only master key (119) are refused and nothing is deleted; the server's
 * own classes other than users, sessions, roles and installations cannot be purged (119); purging
 * sessions ends them at once (no cached session survives), and purging users takes their sessions and
 * role memberships with them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const MASTER: RequestOptions = { master: true };
const READ_ONLY_KEY = 'read-only-key-0123456789abcdef';

for (const engine of engines()) {
  describe(`purge (${engine})`, () => {
    let server: TestServer;
    let counter = 0;
    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);
    const count = async (className: string): Promise<number> =>
      assertOk(await request(`/classes/${className}${query({ count: 1, limit: 0 })}`, MASTER), `count ${className}`).count;
    const purge = (className: string, options: RequestOptions = MASTER): Promise<HttpResult> => request(`/purge/${className}`, { method: 'DELETE', ...options });
    async function signUp(): Promise<{ id: string; token: string }> {
      const username = `purge-user-${++counter}`;
      const body = assertOk(await request('/users', { method: 'POST', body: { username, password: 'pw-123456' } }), 'sign up', 201);
      return { id: body.objectId, token: body.sessionToken };
    }

    before(async () => {
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY, rateLimit: [] });
    });
    after(async () => {
      await server.stop();
    });

    test('the master key purges a class: {} , no objects, schema and relations kept empty', async () => {
      for (let i = 0; i < 3; i++) assertOk(await request('/classes/Purged', { method: 'POST', body: { n: i } }), 'create', 201);
      const owner = assertOk(await request('/classes/PurgedOwner', { method: 'POST', body: { name: 'o' } }), 'owner', 201);
      const item = assertOk(await request('/classes/Purged', { method: 'POST', body: { n: 9 } }), 'item', 201);
      assertOk(await request(`/classes/PurgedOwner/${owner.objectId}`, { method: 'PUT', body: { items: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: 'Purged', objectId: item.objectId }] } } }), 'relate');
      assert.deepEqual(assertOk(await purge('PurgedOwner'), 'purge owner'), {});
      assert.deepEqual(assertOk(await purge('Purged'), 'purge'), {});
      assert.equal(await count('Purged'), 0);
      assert.equal(await count('PurgedOwner'), 0);
      const schema = assertOk(await request('/schemas/Purged', MASTER), 'schema kept');
      assert.equal(schema.fields.n.type, 'Number');
      // A missing class answers {} as in Parse.
      assert.deepEqual(assertOk(await purge('NeverCreated'), 'missing'), {});
    });

    test('clients (403) and the read-only master key (119) are refused, and nothing is deleted', async () => {
      assertOk(await request('/classes/Kept', { method: 'POST', body: { n: 1 } }), 'create', 201);
      const client = await purge('Kept', {});
      assert.equal(client.status, 403);
      assert.deepEqual(client.body, { error: 'unauthorized: master key is required' });
      assertRefused(await purge('Kept', { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 119, "read-only masterKey isn't allowed to purge a schema.", 'read-only');
      assert.equal(await count('Kept'), 1);
    });

    test('server records cannot be purged (119); bad class names are 103', async () => {
      for (const className of ['_PrivilegeLedger', '_JobStatus', '_GlobalConfig', '_Idempotency', '_Join:users:_Role']) {
        assertRefused(await purge(encodeURIComponent(className)), 119, /cannot be purged/, className);
      }
      assertRefused(await purge('1bad'), 103, undefined, 'bad name');
    });

    test('purging _Session ends every session at once, cached ones included', async () => {
      const user = await signUp();
      const me = { headers: { 'X-Parse-Session-Token': user.token } };
      assertOk(await request('/users/me', me), 'me (now cached)');
      assertOk(await purge('_Session'), 'purge sessions');
      assertRefused(await request('/users/me', me), 209, 'Invalid session token', 'after purge');
      assert.equal(await count('_Session'), 0);
    });

    test('purging _User deletes users, their sessions and role memberships', async () => {
      const user = await signUp();
      const role = assertOk(await request('/roles', { method: 'POST', body: { name: `purge-role-${++counter}`, ACL: {}, users: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: '_User', objectId: user.id }] } }, ...MASTER }), 'role', 201);
      assertOk(await purge('_User'), 'purge users');
      assert.equal(await count('_User'), 0);
      assert.equal(await count('_Session'), 0);
      assertRefused(await request('/users/me', { headers: { 'X-Parse-Session-Token': user.token } }), 209, undefined, 'token gone');
      const members = assertOk(await request(`/users${query({ where: { $relatedTo: { object: { __type: 'Pointer', className: '_Role', objectId: role.objectId }, key: 'users' } } })}`, MASTER), 'members');
      assert.equal(members.results.length, 0);
    });

    test('the JS SDK: new Parse.Schema(name).purge() with the master key', async () => {
      const Parse = parseSdk(server.url);
      await new Parse.Object('SdkPurged').save({ a: 1 });
      await new Parse.Schema('SdkPurged').purge();
      assert.equal(await count('SdkPurged'), 0);
    });
  });
}
