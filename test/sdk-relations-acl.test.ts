/**
 * Relation and ACL behaviours the official JS SDK relies on (its integration suites ParseRelationTest and
 * ParseACLTest), written for Parsec and run on every engine with the SDK's current-user flow: relation
 * add/remove (compound, empty, from an unfetched parent), relation queries refined and used as a
 * constraint; an object's ACL deciding get, find, update and delete for the public, its owner and a
 * second user, with 101 (never a hint of existence) for what the caller may not touch, and nothing changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`SDK relations and ACLs (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine, { rateLimit: [] });
      Parse = parseSdk(server.url);
      Parse.User.enableUnsafeCurrentUser();
    });
    after(async () => {
      await Parse.User.logOut();
      Parse.User.disableUnsafeCurrentUser();
      await server.stop();
    });

    const children = (n: number): Promise<any[]> => Parse.Object.saveAll(Array.from({ length: n }, (_, x) => new Parse.Object('SdkRelChild', { x })));
    const ids = (objects: any[]): string[] => objects.map((o) => o.id).sort();
    let userCount = 0;
    const signUp = (): Promise<any> => Parse.User.signUp(`sdk-acl-${++userCount}`, 'password');
    const notFound = async (promise: Promise<unknown>): Promise<void> => {
      await assert.rejects(promise, (error: any) => error.code === 101);
    };

    test('relations: add, remove, compound operations, empty arrays, and a clean parent after save', async () => {
      const kids = await children(4);
      const parent = new Parse.Object('SdkRelParent', { x: 4 });
      const relation = parent.relation('child');
      relation.add(kids[0]);
      await parent.save();
      assert.equal(parent.dirty('child'), false);
      assert.deepEqual(ids(await relation.query().find()), [kids[0].id]);
      relation.remove(kids[0]);
      await parent.save();
      assert.deepEqual(await relation.query().find(), []);

      relation.add(kids[0]);
      relation.add(kids[1]);
      relation.remove(kids[0]);
      relation.add(kids[2]);
      await parent.save();
      assert.deepEqual(ids(await relation.query().find()), ids([kids[1], kids[2]]));
      relation.remove(kids[1]);
      relation.remove(kids[2]);
      relation.add(kids[1]);
      relation.add(kids[0]);
      await parent.save();
      assert.deepEqual(ids(await relation.query().find()), ids([kids[0], kids[1]]));

      parent.relation('child').add([]);
      await parent.save();
      parent.relation('child').remove([]);
      await parent.save();
      assert.equal((await relation.query().find()).length, 2);
    });

    test('relation queries: refined, from a fetched or unfetched parent, and as a containedIn constraint', async () => {
      const kids = await children(10);
      const parent = new Parse.Object('SdkRelParent', { x: 4 });
      parent.relation('child').add(kids.slice(0, 3));
      const other = new Parse.Object('SdkRelParent', { x: 3 });
      other.relation('child').add(kids.slice(4, 7));
      await Parse.Object.saveAll([parent, other]);

      const fetched = await new Parse.Query('SdkRelParent').get(parent.id);
      assert.deepEqual(ids(await fetched.relation('child').query().equalTo('x', 2).find()), [kids[2].id]);
      const unfetched = Parse.Object.fromJSON({ className: 'SdkRelParent', objectId: parent.id });
      const viaUnfetched = unfetched.relation('child').query();
      assert.equal((await viaUnfetched.get(kids[1].id)).className, 'SdkRelChild');
      assert.equal((await unfetched.relation('child').query().find()).length, 3);
      await notFound(unfetched.relation('child').query().get(kids[5].id));

      const containing = await new Parse.Query('SdkRelParent').containedIn('child', [kids[4], kids[9]]).find();
      assert.deepEqual(containing.map((o: any) => o.get('x')), [3]);
      const xs = async (q: any): Promise<number[]> => (await q.find()).map((o: any) => o.get('x')).sort();
      assert.deepEqual(await xs(new Parse.Query('SdkRelParent').equalTo('child', kids[1])), [4]);
      assert.deepEqual(await xs(new Parse.Query('SdkRelParent').equalTo('objectId', parent.id).notEqualTo('child', kids[1])), []);
      assert.deepEqual(await xs(new Parse.Query('SdkRelParent').containedIn('objectId', [parent.id, other.id]).notContainedIn('child', [kids[9]])), [3, 4]);
      assert.deepEqual(await xs(new Parse.Query('SdkRelParent').equalTo('child', kids[9])), []);
    });

    test('an owner-only ACL: the owner gets, finds, updates and deletes; the public gets 101 and changes nothing', async () => {
      const owner = await signUp();
      const object = new Parse.Object('SdkPrivate', { score: 1 });
      object.setACL(new Parse.ACL(owner));
      await object.save();
      assert.deepEqual([object.getACL().getReadAccess(owner), object.getACL().getPublicReadAccess(), object.getACL().getPublicWriteAccess()], [true, false, false]);
      assert.ok(await object.fetch());
      assert.equal((await new Parse.Query('SdkPrivate').find()).length, 1);

      await Parse.User.logOut();
      await notFound(new Parse.Query('SdkPrivate').get(object.id));
      assert.deepEqual(await new Parse.Query('SdkPrivate').find(), []);
      object.set('score', 10);
      await notFound(object.save());
      await notFound(object.destroy());
      const stored = await new Parse.Query('SdkPrivate').get(object.id, { useMasterKey: true });
      assert.equal(stored.get('score'), 1);

      await Parse.User.logIn(owner.get('username'), 'password');
      object.set('score', 10);
      await object.save();
      assert.equal((await new Parse.Query('SdkPrivate').get(object.id)).get('score'), 10);
      await object.destroy();
      await notFound(new Parse.Query('SdkPrivate').get(object.id, { useMasterKey: true }));
    });

    test('public read does not allow writes; public write does not allow reads', async () => {
      const owner = await signUp();
      const readable = new Parse.Object('SdkPublicRead', { score: 1 });
      readable.setACL(new Parse.ACL(owner));
      await readable.save();
      readable.getACL().setPublicReadAccess(true);
      await readable.save();
      const writable = new Parse.Object('SdkPublicWrite', { score: 1 });
      writable.setACL(new Parse.ACL(owner));
      writable.getACL().setPublicWriteAccess(true);
      await writable.save();
      await Parse.User.logOut();

      assert.ok(await new Parse.Query('SdkPublicRead').get(readable.id));
      assert.equal((await new Parse.Query('SdkPublicRead').find()).length, 1);
      readable.set('score', 10);
      await notFound(readable.save());
      await notFound(readable.destroy());
      assert.equal((await new Parse.Query('SdkPublicRead').get(readable.id)).get('score'), 1);

      await notFound(new Parse.Query('SdkPublicWrite').get(writable.id));
      assert.deepEqual(await new Parse.Query('SdkPublicWrite').find(), []);
      writable.set('score', 10);
      await writable.save();
      assert.equal((await new Parse.Query('SdkPublicWrite').get(writable.id, { useMasterKey: true })).get('score'), 10);
      await writable.destroy();
    });

    test('access granted to a second user, and not to the public through it', async () => {
      const first = await signUp();
      await Parse.User.logOut();
      const second = await signUp();
      const acl = new Parse.ACL(second);
      acl.setReadAccess(first, true);
      acl.setWriteAccess(first, true);
      const object = new Parse.Object('SdkShared', { score: 1 });
      object.setACL(acl);
      await object.save();

      await Parse.User.logOut();
      await notFound(new Parse.Query('SdkShared').get(object.id));
      assert.deepEqual(await new Parse.Query('SdkShared').find(), []);
      object.set('score', 5);
      await notFound(object.save());

      await Parse.User.logIn(first.get('username'), 'password');
      assert.equal((await new Parse.Query('SdkShared').get(object.id)).id, object.id);
      assert.equal((await new Parse.Query('SdkShared').find()).length, 1);
      object.set('score', 10);
      assert.equal((await object.save()).get('score'), 10);
      await object.destroy();
      await Parse.User.logOut();
    });

    test('a user with an empty ACL can still log in and read itself; an included object comes with its ACL', async () => {
      await Parse.User.signUp('sdk-acl-durden', 'mayhem', { ACL: new Parse.ACL(), foo: 'bar' });
      await Parse.User.logOut();
      const user = await Parse.User.logIn('sdk-acl-durden', 'mayhem');
      assert.equal(user.get('foo'), 'bar');
      await Parse.User.logOut();

      const acl = new Parse.ACL();
      acl.setPublicReadAccess(true);
      const other = new Parse.Object('SdkAclTarget', { ACL: acl });
      await new Parse.Object('SdkAclHolder', { other }).save();
      assert.equal((await new Parse.Query('SdkAclHolder').first()).get('other').get('ACL'), undefined);
      const included = await new Parse.Query('SdkAclHolder').include('other').first();
      assert.equal(included.get('other').getACL().getPublicReadAccess(), true);
    });
  });
}
