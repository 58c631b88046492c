/**
 * Object triggers over HTTP: beforeSave may change or refuse a write (and its output is checked again like a
 * client body), afterSave/afterDelete failures are logged only, beforeDelete may refuse, beforeFind may narrow
 * a query but not escape the caller's permissions, afterFind may rewrite results; triggers see the real caller.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const TRIGGERS = fileURLToPath(new URL('./fixtures/cloud/triggers.js', import.meta.url));

for (const engine of engines()) {
  describe(`cloud triggers (${engine})`, () => {
    let server: TestServer;
    let user: { objectId: string; sessionToken: string };
    const events = async (): Promise<Record<string, unknown>[]> => (await call(server.url, '/functions/seenEvents', { method: 'POST', master: true, body: {} })).body.result;
    before(async () => {
      server = await startTestServer(engine, { cloud: TRIGGERS });
      user = (await call(server.url, '/users', { method: 'POST', body: { username: `writer-${engine}`, password: 'pw-123456' } })).body;
      await events();
    });
    after(async () => server.stop());
    const asUser = () => ({ headers: { 'X-Parse-Session-Token': user.sessionToken } });

    test('beforeSave changes a create and an update; afterSave sees the saved object and the shared context', async () => {
      const created = await call(server.url, '/classes/Post', {
        method: 'POST',
        body: { title: 'Hello World' },
        headers: { ...asUser().headers, 'X-Parse-Cloud-Context': '{"from":"client"}' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const stored = await call(server.url, `/classes/Post/${created.body.objectId}`, { master: true });
      assert.equal(stored.body.slug, 'hello-world');
      assert.equal(stored.body.editedBy, user.objectId, 'the trigger sees the caller from the session');
      const updated = await call(server.url, `/classes/Post/${created.body.objectId}`, { method: 'PUT', body: { title: 'Second Title' }, ...asUser() });
      assert.equal(updated.status, 200);
      assert.equal((await call(server.url, `/classes/Post/${created.body.objectId}`, { master: true })).body.slug, 'second-title');
      const seen = await events();
      assert.deepEqual(seen.map((event) => event.event), ['beforeSave', 'afterSave', 'beforeSave', 'afterSave']);
      assert.equal(seen[0]?.existed, false);
      assert.deepEqual(seen[0]?.context, { from: 'client' });
      assert.equal(seen[1]?.slug, 'hello-world');
      assert.deepEqual(seen[1]?.context, { from: 'client' }, 'beforeSave and afterSave share the context');
      assert.equal(seen[2]?.existed, true);
      assert.equal(seen[2]?.original, 'Hello World');
      assert.equal(seen[3]?.original, 'Hello World');
    });

    test('beforeSave refusing: a Parse.Error keeps its code, any other throw is 141; nothing is written', async () => {
      const refused = await call(server.url, '/classes/Post', { method: 'POST', body: { title: 'forbidden' } });
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.body, { code: 142, error: 'No forbidden posts.' });
      const crashed = await call(server.url, '/classes/Post', { method: 'POST', body: { title: 'crash' } });
      assert.deepEqual(crashed.body, { code: 141, error: 'trigger bug' });
      const all = await call(server.url, `/classes/Post${query({ where: { title: { $in: ['forbidden', 'crash'] } } })}`, { master: true });
      assert.deepEqual(all.body.results, []);
      await events();
    });

    test("what beforeSave leaves is checked like a client's body: no internal fields, no wrong types", async () => {
      await call(server.url, '/classes/Post', { method: 'POST', master: true, body: { title: 'typed', views: 1 } });
      const sneaky = await call(server.url, '/classes/Post', { method: 'POST', body: { title: 'sneaky' } });
      assert.equal(sneaky.status, 400);
      assert.equal(sneaky.body.code, 105);
      const wrongType = await call(server.url, '/classes/Post', { method: 'POST', body: { title: 'wrong type' } });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.code, 111);
      const written = await call(server.url, `/classes/Post${query({ where: { title: { $in: ['sneaky', 'wrong type'] } } })}`, { master: true });
      assert.deepEqual(written.body.results, []);
      await events();
    });

    test('an afterSave failure is logged, not returned', async () => {
      const result = await call(server.url, '/classes/Post', { method: 'POST', body: { title: 'after fails' } });
      assert.equal(result.status, 201);
      await events();
    });

    test('a trigger runs only for a caller allowed to write: an update of an unwritable object is 101 before beforeSave', async () => {
      const locked = await call(server.url, '/classes/Post', { method: 'POST', master: true, body: { title: 'Mine', ACL: { '*': { read: true } } } });
      await events();
      const update = await call(server.url, `/classes/Post/${locked.body.objectId}`, { method: 'PUT', body: { title: 'Theirs' }, ...asUser() });
      assert.equal(update.status, 404);
      assert.equal(update.body.code, 101);
      assert.deepEqual(await events(), [], 'no trigger ran for a write the caller may not make');
    });

    test('beforeDelete may refuse; afterDelete sees the deleted object', async () => {
      const locked = await call(server.url, '/classes/Post', { method: 'POST', master: true, body: { title: 'keep', locked: true } });
      const removable = await call(server.url, '/classes/Post', { method: 'POST', master: true, body: { title: 'remove me' } });
      await events();
      const refused = await call(server.url, `/classes/Post/${locked.body.objectId}`, { method: 'DELETE', ...asUser() });
      assert.deepEqual(refused.body, { code: 119, error: 'Locked posts stay.' });
      assert.equal((await call(server.url, `/classes/Post/${locked.body.objectId}`, { master: true })).status, 200);
      const removed = await call(server.url, `/classes/Post/${removable.body.objectId}`, { method: 'DELETE', ...asUser() });
      assert.equal(removed.status, 200);
      assert.deepEqual(await events(), [
        { event: 'beforeDelete', title: 'remove me', user: user.objectId },
        { event: 'afterDelete', title: 'remove me' },
      ]);
    });

    test('a trigger validator: requireUser and field defaults apply to the object', async () => {
      const anonymous = await call(server.url, '/classes/Guarded', { method: 'POST', body: {} });
      assert.equal(anonymous.body.code, 142);
      const created = await call(server.url, '/classes/Guarded', { method: 'POST', body: {}, ...asUser() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await call(server.url, `/classes/Guarded/${created.body.objectId}`, { master: true })).body.score, 0);
    });

    test('beforeFind narrows a find, a count and a get; afterFind rewrites the results', async () => {
      for (const [title, published] of [['draft', false], ['out', true]] as const) {
        await call(server.url, '/classes/Article', { method: 'POST', master: true, body: { title, published } });
      }
      await events();
      const found = await call(server.url, '/classes/Article', asUser());
      assert.deepEqual(found.body.results.map((a: { title: string }) => a.title), ['out']);
      assert.equal(found.body.results[0].decorated, true);
      const counted = await call(server.url, `/classes/Article${query({ count: 1, limit: 0 })}`);
      assert.equal(counted.body.count, 1);
      const draft = await call(server.url, `/classes/Article${query({ where: { title: 'draft' } })}`, { master: true });
      const draftId = draft.body.results[0]?.objectId;
      assert.equal(draft.body.results.length, 0, 'the master key runs beforeFind too (no skipWithMasterKey)');
      const all = await call(server.url, '/classes/Article', { master: true });
      assert.equal(all.body.results.length, 1);
      assert.equal(draftId, undefined);
      const seen = await events();
      assert.ok(seen.some((event) => event.event === 'beforeFind' && event.user === user.objectId));
      assert.ok(seen.some((event) => event.event === 'beforeFind' && event.count === true));
    });

    test("the server's own reads skip find triggers: a beforeSave sees the stored object, not what afterFind makes of it", async () => {
      const draft = await call(server.url, '/classes/Article', { method: 'POST', master: true, body: { title: 'hidden draft', published: false } });
      assert.equal(draft.status, 201);
      await events();
      const updated = await call(server.url, `/classes/Article/${draft.body.objectId}`, { method: 'PUT', master: true, body: { title: 'edited draft' } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      const seen = await events();
      assert.deepEqual(seen.filter((event) => event.event === 'beforeSave Article'), [{ event: 'beforeSave Article', original: 'hidden draft' }]);
      assert.ok(!seen.some((event) => event.event === 'beforeFind' || event.event === 'afterFind'), 'reading the stored object ran no find trigger');
    });

    test("cloud code inside a trigger acts as the trigger's caller", async () => {
      await call(server.url, '/schemas/Audit', { method: 'POST', master: true, body: { fields: { note: { type: 'String' } }, classLevelPermissions: { create: { 'role:auditors': true }, find: {}, get: {} } } });
      const refused = await call(server.url, '/classes/Counter', { method: 'POST', body: { n: 1 }, ...asUser() });
      assert.equal(refused.body.code, 119, 'the Audit write inside beforeSave is the user\'s, and Audit refuses it');
      const master = await call(server.url, '/classes/Counter', { method: 'POST', master: true, body: { n: 1 } });
      assert.equal(master.status, 201);
    });

    test('the SDK sees trigger changes on save', async () => {
      const Parse = parseSdk(server.url);
      const post = new Parse.Object('Post');
      post.set('title', 'From The SDK');
      await post.save(null, { sessionToken: user.sessionToken });
      assert.equal(post.get('slug'), 'from-the-sdk');
      await events();
    });
  });
}
