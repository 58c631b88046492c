/**
 * LiveQuery obeys exactly the rules of a find by the same caller: class-level permissions, pointer
 * permissions, ACLs with roles, protected fields, session validity, and the where parser's limits. One
 * named test per LiveQuery shape of reference §7.5 and §7.6, each trying to break the rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { asUser, ok, RawClient, signUp } from './helpers/livequery.ts';

const CLASSES = ['Doc', 'Locked', 'MembersOnly', 'Owned', 'Secret', 'Flip', '_User'];
const pointer = (id: string) => ({ __type: 'Pointer', className: '_User', objectId: id });

for (const engine of engines()) {
  describe(`LiveQuery security (${engine})`, () => {
    let server: TestServer;
    let alice: { id: string; token: string };
    let bob: { id: string; token: string };

    async function defineClass(className: string, fields: Record<string, unknown>, clp: Record<string, unknown>): Promise<void> {
      ok(await call(server.url, `/schemas/${className}`, { method: 'POST', master: true, body: { className, fields, classLevelPermissions: clp } }), `define ${className}`);
    }

    async function create(className: string, body: Record<string, unknown>): Promise<string> {
      return ok(await call(server.url, `/classes/${className}`, { method: 'POST', master: true, body }), `create ${className}`).objectId as string;
    }

    async function update(className: string, id: string, body: Record<string, unknown>): Promise<void> {
      ok(await call(server.url, `/classes/${className}/${id}`, { method: 'PUT', master: true, body }), `update ${className}`);
    }

    /** What the same caller's find answers (ids), or its error code. */
    async function findAs(token: string | undefined, className: string, where: Record<string, unknown> = {}): Promise<string[] | number> {
      const result = await call(server.url, `/classes/${className}${query({ where })}`, token === undefined ? {} : asUser(token));
      return result.status === 200 ? (result.body.results as { objectId: string }[]).map((row) => row.objectId).sort() : (result.body.code as number);
    }

    const PUBLIC = { find: { '*': true }, get: { '*': true }, count: { '*': true }, create: { '*': true }, update: { '*': true }, delete: { '*': true }, addField: { '*': true } };

    before(async () => {
      server = await startTestServer(engine, {
        rateLimit: [],
        liveQuery: { classNames: CLASSES, maxConnectionsPerIp: 100, maxConnectionsPerUser: 20, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 },
      });
      alice = await signUp(server, 'alice');
      bob = await signUp(server, 'bob');
      await defineClass('Doc', { title: { type: 'String' }, n: { type: 'Number' } }, PUBLIC);
      await defineClass('Locked', { title: { type: 'String' } }, { ...PUBLIC, find: {}, get: {} });
      await defineClass('MembersOnly', { title: { type: 'String' } }, { ...PUBLIC, find: { requiresAuthentication: true }, get: { requiresAuthentication: true } });
      await defineClass('Owned', { title: { type: 'String' }, owner: { type: 'Pointer', targetClass: '_User' }, editors: { type: 'Array' } }, { ...PUBLIC, find: { pointerFields: ['editors'] }, get: {}, readUserFields: ['owner'] });
      await defineClass(
        'Secret',
        { title: { type: 'String' }, secret: { type: 'String' }, secretObj: { type: 'Object' } },
        { ...PUBLIC, protectedFields: { '*': ['secret', 'secretObj'] } },
      );
      await defineClass('Flip', { title: { type: 'String' }, n: { type: 'Number' } }, PUBLIC);
    });
    after(() => server.stop());

    test('GHSA-7ch5-98q2-7289: subscribing to a class whose CLP denies find is refused with the find\'s own error', async () => {
      for (const [label, token] of [['anonymous', undefined], ['user', alice.token]] as const) {
        const client = await RawClient.connected(server, token === undefined ? {} : { sessionToken: token });
        const answer = await client.subscribe(1, { className: 'Locked', where: {} });
        assert.equal(answer.op, 'error', label);
        assert.equal(answer.code, 119, label);
        assert.equal(await findAs(token, 'Locked'), 119, `${label}: the find agrees`);
        await create('Locked', { title: 'nobody may hear of me' });
        await client.settle();
        assert.deepEqual(client.events(), [], label);
        client.close();
      }
    });

    test('requiresAuthentication: an anonymous subscription is refused like the find (101), a user\'s is served', async () => {
      const anonymous = await RawClient.connected(server);
      const refused = await anonymous.subscribe(1, { className: 'MembersOnly', where: {} });
      assert.equal(refused.op, 'error');
      assert.equal(refused.code, await findAs(undefined, 'MembersOnly'));
      const member = await RawClient.connected(server, { sessionToken: alice.token });
      assert.equal((await member.subscribe(1, { className: 'MembersOnly', where: {} })).op, 'subscribed');
      const id = await create('MembersOnly', { title: 'members' });
      await member.settle();
      await anonymous.settle();
      assert.deepEqual(member.events(1).map((frame) => [frame.op, frame.object.objectId]), [['create', id]]);
      assert.deepEqual(anonymous.events(), []);
      anonymous.close();
      member.close();
    });

    test('a CLP changed to deny find after subscribing stops the events at once', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      assert.equal((await client.subscribe(1, { className: 'Flip', where: {} })).op, 'subscribed');
      await create('Flip', { title: 'heard' });
      ok(await call(server.url, '/schemas/Flip', { method: 'PUT', master: true, body: { classLevelPermissions: { ...PUBLIC, find: {}, get: {} } } }), 'lock Flip');
      assert.equal(await findAs(bob.token, 'Flip'), 119);
      await create('Flip', { title: 'not heard' });
      await client.settle();
      assert.deepEqual(client.events(1).map((frame) => frame.object.title), ['heard']);
      ok(await call(server.url, '/schemas/Flip', { method: 'PUT', master: true, body: { classLevelPermissions: PUBLIC } }), 'unlock Flip');
      client.close();
    });

    test('GHSA-fph2-r4qg-9576: with pointer permissions only the users the object names get its events (pointer and array of pointers)', async () => {
      const clients = {
        alice: await RawClient.connected(server, { sessionToken: alice.token }),
        bob: await RawClient.connected(server, { sessionToken: bob.token }),
        anonymous: await RawClient.connected(server),
      };
      for (const client of Object.values(clients)) await client.subscribe(1, { className: 'Owned', where: {} });
      const ownedByAlice = await create('Owned', { title: 'alice owns', owner: pointer(alice.id) });
      const editedByBob = await create('Owned', { title: 'bob edits', editors: [pointer(bob.id)] });
      for (const client of Object.values(clients)) await client.settle();
      const heard = (name: keyof typeof clients) => clients[name].events(1).map((frame) => frame.object.objectId as string).sort();
      assert.deepEqual(heard('alice'), [ownedByAlice]);
      assert.deepEqual(heard('bob'), [editedByBob]);
      assert.deepEqual(heard('anonymous'), []);
      // Exactly what each one's find returns.
      assert.deepEqual(await findAs(alice.token, 'Owned'), heard('alice'));
      assert.deepEqual(await findAs(bob.token, 'Owned'), heard('bob'));
      // Handing the object to bob is alice's leave and bob's enter.
      for (const client of Object.values(clients)) client.clear();
      await update('Owned', ownedByAlice, { owner: pointer(bob.id) });
      for (const client of Object.values(clients)) await client.settle();
      assert.deepEqual(clients.alice.events(1).map((frame) => [frame.op, frame.object.owner.objectId]), [['leave', alice.id]], 'the leave carries the last image alice could read');
      assert.deepEqual(clients.bob.events(1).map((frame) => [frame.op, frame.original]), [['enter', undefined]], 'bob never could read the original');
      for (const client of Object.values(clients)) client.close();
    });

    test('GHSA-97pr-9hgg-3p8r: losing read access is a leave without the new data, nothing follows, and regaining it is an enter without the original', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      await client.subscribe(1, { className: 'Doc', where: {} });
      const id = await create('Doc', { title: 'v1', ACL: { '*': { read: true } } });
      await update('Doc', id, { title: 'v2-private', ACL: { [alice.id]: { read: true } } });
      await update('Doc', id, { title: 'v3-private' });
      await update('Doc', id, { title: 'v4-public', ACL: { '*': { read: true } } });
      await client.settle();
      const events = client.events(1).map((frame) => [frame.op, frame.object.title, frame.original?.title]);
      assert.deepEqual(events, [
        ['create', 'v1', undefined],
        ['leave', 'v1', 'v1'],
        ['enter', 'v4-public', undefined],
      ]);
      assert.ok(!JSON.stringify(client.frames).includes('private'), 'no private value ever reached bob');
      client.close();
    });

    test('ACLs with roles, and membership changing while subscribed, decide the next events', async () => {
      const role = ok(await call(server.url, '/roles', { method: 'POST', master: true, body: { name: 'editors', ACL: { '*': { read: true } } } }), 'role').objectId as string;
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      await client.subscribe(1, { className: 'Doc', where: { title: { $regex: '^role' } } });
      const id = await create('Doc', { title: 'role-1', ACL: { 'role:editors': { read: true } } });
      ok(await call(server.url, `/roles/${role}`, { method: 'PUT', master: true, body: { users: { __op: 'AddRelation', objects: [pointer(bob.id)] } } }), 'add bob');
      await update('Doc', id, { title: 'role-2' });
      assert.deepEqual(await findAs(bob.token, 'Doc', { title: { $regex: '^role' } }), [id]);
      ok(await call(server.url, `/roles/${role}`, { method: 'PUT', master: true, body: { users: { __op: 'RemoveRelation', objects: [pointer(bob.id)] } } }), 'remove bob');
      await update('Doc', id, { title: 'role-3' });
      assert.deepEqual(await findAs(bob.token, 'Doc', { title: { $regex: '^role' } }), []);
      await client.settle();
      // As a find before and after each write answers: no create (not a member yet); once a member, the
      // object was readable before the write and after it (an update); after leaving the role, nothing.
      assert.deepEqual(
        client.events(1).map((frame) => [frame.op, frame.object.title, frame.original?.title]),
        [['update', 'role-2', 'role-1']],
      );
      client.close();
    });

    test('GHSA-crrq-vr9j-fxxh: protected fields are removed from object and original in every event kind', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      const masterClient = await RawClient.connected(server, { masterKey: 'test-master-key-0123456789abcdef' });
      await client.subscribe(1, { className: 'Secret', where: { title: { $in: ['in', 'in2'] } } });
      await masterClient.subscribe(1, { className: 'Secret', where: { title: { $in: ['in', 'in2'] } } });
      const id = await create('Secret', { title: 'in', secret: 's1', secretObj: { apiKey: 'k1' } });
      await update('Secret', id, { title: 'in2', secret: 's2' });
      await update('Secret', id, { title: 'out', secret: 's3' });
      await update('Secret', id, { title: 'in', secret: 's4' });
      ok(await call(server.url, `/classes/Secret/${id}`, { method: 'DELETE', master: true }), 'delete');
      await client.settle();
      await masterClient.settle();
      assert.deepEqual(client.events(1).map((frame) => frame.op), ['create', 'update', 'leave', 'enter', 'delete']);
      const text = JSON.stringify(client.frames);
      for (const value of ['s1', 's2', 's3', 's4', 'k1', 'secret']) assert.ok(!text.includes(`"${value}"`), `${value} leaked: ${text}`);
      // The master key's subscriber sees them: the same rule as a find with the master key.
      assert.deepEqual(masterClient.events(1).map((frame) => frame.object.secret), ['s1', 's2', 's3', 's4', 's4']);
      client.close();
      masterClient.close();
    });

    test('GHSA-j7mm-f4rv-6q6q, GHSA-mmg8-87c5-jrc2, GHSA-qpc3-fg4j-8hgm: where on a protected field (any depth, $regex, $or in any shape) and watch of it are refused', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      const refusals: [string, Record<string, unknown>, number][] = [
        ['plain', { where: { secret: 's1' } }, 119],
        ['regex', { where: { secret: { $regex: '^s' } } }, 119],
        ['dot notation', { where: { 'secretObj.apiKey': 'k1' } }, 119],
        ['deep dot notation', { where: { 'secretObj.a.b.c': 1 } }, 119],
        ['$or', { where: { $or: [{ title: 'x' }, { secret: { $regex: '^s' } }] } }, 119],
        ['$and in $nor', { where: { $nor: [{ $and: [{ secret: { $exists: true } }] }] } }, 119],
        ['$or as an array-like object', { where: { $or: { 0: { secret: 's1' }, length: 1 } } }, 102],
        ['watch', { where: {}, watch: ['secret'] }, 119],
        ['watch nested', { where: {}, watch: ['secretObj.apiKey'] }, 119],
        ['keys', { where: {}, keys: ['secret'] }, 119],
      ];
      let requestId = 1;
      for (const [label, shape, code] of refusals) {
        const answer = await client.subscribe(requestId++, { className: 'Secret', ...shape });
        assert.equal(answer.op, 'error', label);
        assert.equal(answer.code, code, `${label}: ${JSON.stringify(answer)}`);
        if (shape.watch === undefined) {
          const found = await findAs(bob.token, 'Secret', shape.where as Record<string, unknown>);
          if (shape.keys === undefined) assert.equal(found, code, `${label}: the find refuses it the same way`);
        }
      }
      await create('Secret', { title: 'x', secret: 's1', secretObj: { apiKey: 'k1', a: { b: { c: 1 } } } });
      await client.settle();
      assert.deepEqual(client.events(), [], 'no refused subscription hears anything');
      client.close();
    });

    test('GHSA-7pr3-p5fm-8r9x: _User events never carry a session token, nor what is protected from the subscriber', async () => {
      const carol = await signUp(server, 'carol');
      ok(await call(server.url, `/users/${carol.id}`, { method: 'PUT', ...asUser(carol.token), body: { ACL: { '*': { read: true }, [carol.id]: { read: true, write: true } } } }), 'public profile');
      const other = await RawClient.connected(server, { sessionToken: bob.token });
      const self = await RawClient.connected(server, { sessionToken: carol.token });
      const masterClient = await RawClient.connected(server, { masterKey: 'test-master-key-0123456789abcdef' });
      for (const client of [other, self, masterClient]) assert.equal((await client.subscribe(1, { className: '_User', where: { username: 'carol' } })).op, 'subscribed');
      ok(await call(server.url, `/users/${carol.id}`, { method: 'PUT', ...asUser(carol.token), body: { email: 'carol@example.com', nickname: 'c' } }), 'update carol');
      for (const client of [other, self, masterClient]) await client.settle();
      for (const [label, client] of [['other', other], ['self', self], ['master', masterClient]] as const) {
        const events = client.events(1);
        assert.equal(events.length, 1, `${label}: ${JSON.stringify(client.frames)}`);
        const text = JSON.stringify(events);
        assert.ok(!text.includes(carol.token) && !text.includes('sessionToken') && !text.includes('_hashed_password') && !text.includes('password'), `${label}: ${text}`);
      }
      assert.equal(other.events(1)[0]?.object.email, undefined, 'email is protected from other users');
      assert.equal(self.events(1)[0]?.object.email, 'carol@example.com', 'a user sees their own email');
      for (const client of [other, self, masterClient]) client.close();
    });

    test('GHSA-2xm2-xj2q-qgpj: a logged-out or revoked session stops receiving events at once and its client gets 209', async () => {
      const login = async (): Promise<string> =>
        ok(await call(server.url, '/login', { method: 'POST', body: { username: 'alice', password: 'pw-123456' } }), 'login').sessionToken as string;
      const endings: [string, (token: string) => Promise<void>][] = [
        ['logout', async (token) => void ok(await call(server.url, '/logout', { method: 'POST', ...asUser(token) }), 'logout')],
        [
          'revocation',
          async (token) => {
            const me = ok(await call(server.url, '/sessions/me', asUser(token)), 'me');
            ok(await call(server.url, `/sessions/${me.objectId as string}`, { method: 'DELETE', master: true }), 'revoke');
          },
        ],
      ];
      for (const [label, end] of endings) {
        const token = await login();
        const client = await RawClient.connected(server, { sessionToken: token });
        await client.subscribe(1, { className: 'Doc', where: { title: label } });
        await create('Doc', { title: label, ACL: { [alice.id]: { read: true } } });
        await client.settle();
        assert.equal(client.events(1).length, 1, `${label}: events before`);
        await end(token);
        await create('Doc', { title: label, ACL: { [alice.id]: { read: true } } });
        await client.settle();
        assert.equal(client.events(1).length, 1, `${label}: no event after the session ended`);
        const error = await client.next((frame) => frame.op === 'error' && frame.requestId === 1, `${label}: the 209`);
        assert.equal(error.code, 209, label);
        client.close();
      }
    });

    test('GHSA-2xm2-xj2q-qgpj: an expired session stops receiving events and its client gets 209', async () => {
      const short = await startTestServer(engine, { rateLimit: [], sessionLength: 2, liveQuery: { classNames: ['Doc'], maxConnectionsPerIp: 10, maxConnectionsPerUser: 10, maxSubscriptionsPerConnection: 10, maxMessageBytes: 65536 } });
      try {
        const dana = await signUp(short, 'dana');
        const client = await RawClient.connected(short, { sessionToken: dana.token });
        await client.subscribe(1, { className: 'Doc', where: {} });
        const post = async (): Promise<void> => void ok(await call(short.url, '/classes/Doc', { method: 'POST', master: true, body: { title: 'x', ACL: { [dana.id]: { read: true } } } }), 'create');
        await post();
        await client.settle();
        assert.equal(client.events(1).length, 1, 'an event while the session lives');
        await new Promise((resolve) => setTimeout(resolve, 2100));
        await post();
        await client.settle();
        assert.equal(client.events(1).length, 1, 'none once it expired');
        assert.equal((await client.next((frame) => frame.op === 'error' && frame.requestId === 1, 'the 209')).code, 209);
        client.close();
      } finally {
        await short.stop();
      }
    });

    test('GHSA-mf3j-86qx-cq5j, GHSA-827p-g5x5-h86c: catastrophic and invalid regexes are refused for that subscriber only; the others keep their events', async () => {
      const good = await RawClient.connected(server);
      await good.subscribe(1, { className: 'Doc', where: { title: { $regex: '^ok' } } });
      const bad = await RawClient.connected(server);
      for (const [index, pattern] of ['(a+)+b', '[abc', '(?<x)', '\\'].entries()) {
        const answer = await bad.subscribe(index + 1, { className: 'Doc', where: { title: { $regex: pattern } } });
        assert.equal(answer.op, 'error', pattern);
        assert.equal(answer.code, 102, `${pattern}: ${JSON.stringify(answer)}`);
      }
      const id = await create('Doc', { title: 'ok then' });
      await good.settle();
      assert.deepEqual(good.events(1).map((frame) => frame.object.objectId), [id]);
      ok(await call(server.url, '/health'), 'alive');
      good.close();
      bad.close();
    });

    test('GHSA-fjxm-vhvc-gcmj: $in, $nin, $all and $containedBy with an object are a 102 for that subscriber only', async () => {
      const good = await RawClient.connected(server);
      await good.subscribe(1, { className: 'Doc', where: { title: 'fjxm' } });
      const bad = await RawClient.connected(server);
      let requestId = 1;
      for (const operator of ['$in', '$nin', '$all', '$containedBy']) {
        const answer = await bad.subscribe(requestId++, { className: 'Doc', where: { title: { [operator]: { x: 1 } } } });
        assert.equal(answer.op, 'error', operator);
        assert.equal(answer.code, 102, operator);
      }
      await create('Doc', { title: 'fjxm' });
      await good.settle();
      await bad.settle();
      assert.equal(good.events(1).length, 1);
      assert.deepEqual(bad.events(), []);
      good.close();
      bad.close();
    });

    test('GHSA-6qh5-m6g3-xhq6: a where nested deeper than queryDepth is refused as a find refuses it', async () => {
      let where: Record<string, unknown> = { title: 'deep' };
      for (let depth = 0; depth < 20; depth++) where = { $or: [where] };
      const client = await RawClient.connected(server);
      const answer = await client.subscribe(1, { className: 'Doc', where });
      assert.equal(answer.op, 'error');
      assert.equal(answer.code, 102);
      assert.equal(await findAs(undefined, 'Doc', where), 102);
      client.close();
    });

    test('a sub-query is evaluated with the subscriber\'s own permissions ($inQuery on a class it cannot find is refused)', async () => {
      const client = await RawClient.connected(server, { sessionToken: bob.token });
      const answer = await client.subscribe(1, { className: 'Doc', where: { title: { $select: { query: { className: 'Locked', where: {} }, key: 'title' } } } });
      assert.equal(answer.op, 'error');
      assert.equal(answer.code, 119);
      client.close();
    });
  });
}
