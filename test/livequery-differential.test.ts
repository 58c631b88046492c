/**
 * The differential property: for random class-level permissions, protected fields, role memberships, ACLs
 * and writes, what each subscriber receives for a write is exactly what a find by the same caller shows
 * before and after that write — the event kind, `object` and `original` alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { call, query } from './helpers/http.ts';
import { fuzzParameters } from './helpers/fuzz.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { asUser, ok, RawClient, signUp, type Frame } from './helpers/livequery.ts';

type Json = Record<string, any>;
const PUBLIC = { find: { '*': true }, get: { '*': true }, count: { '*': true }, create: { '*': true }, update: { '*': true }, delete: { '*': true }, addField: { '*': true } };
const USERS = ['u1', 'u2', 'u3'] as const;
type UserName = (typeof USERS)[number];
const pointer = (id: string) => ({ __type: 'Pointer', className: '_User', objectId: id });

/** Who may find, as a CLP variant. */
const clpVariant = fc.constantFrom('public', 'requiresAuthentication', 'ownerOnly', 'roleOnly');
const protectedVariant = fc.constantFrom('none', 'secretHidden', 'secretHiddenButRole', 'ownerSees');
const whereVariant = fc.constantFrom<Json>({}, { n: { $gt: 2 } }, { tag: 'a' }, { $or: [{ n: 1 }, { tag: 'b' }] }, { n: { $in: [1, 2, 3] }, tag: { $ne: 'c' } });
const aclVariant = fc.subarray(['*', 'u1', 'u2', 'role:r1'], { minLength: 0 });
const fieldsVariant = fc.record({ n: fc.integer({ min: 0, max: 4 }), tag: fc.constantFrom('a', 'b', 'c'), secret: fc.constantFrom('s1', 's2'), owner: fc.constantFrom<UserName>('u1', 'u2', 'u3') }, { requiredKeys: [] });
const operation = fc.oneof(
  fc.record({ op: fc.constant('create' as const), fields: fieldsVariant, acl: aclVariant }),
  fc.record({ op: fc.constant('update' as const), target: fc.nat(), fields: fieldsVariant, acl: fc.option(aclVariant) }),
  fc.record({ op: fc.constant('delete' as const), target: fc.nat() }),
  fc.record({ op: fc.constant('role' as const), user: fc.constantFrom<UserName>('u1', 'u2', 'u3'), add: fc.boolean() }),
);

type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

/**
 * Public class, every field visible, and writes that give each kind of event to someone: a create everyone
 * sees, an update that leaves `n > 2` and stays in `{}`, an ACL change that leaves everyone but u1, a delete.
 */
const BUSY_EXAMPLE: [string, string, Json[], Operation[]] = [
  'public',
  'none',
  [{}, { n: { $gt: 2 } }, { tag: 'a' }, {}],
  [
    { op: 'create', fields: { n: 3, tag: 'a' }, acl: ['*'] },
    { op: 'update', target: 0, fields: { n: 1 }, acl: null },
    { op: 'update', target: 0, fields: { tag: 'b' }, acl: ['u1'] },
    { op: 'delete', target: 0 },
  ],
];

function clpFor(variant: string, protectedFields: string): Json {
  const find = variant === 'public' ? { '*': true } : variant === 'requiresAuthentication' ? { requiresAuthentication: true } : variant === 'roleOnly' ? { 'role:r1': true } : {};
  const clp: Json = { ...PUBLIC, find, get: find };
  if (variant === 'ownerOnly') clp.readUserFields = ['owner'];
  clp.protectedFields = {
    none: {},
    secretHidden: { '*': ['secret'] },
    secretHiddenButRole: { '*': ['secret'], 'role:r1': [] },
    ownerSees: { '*': ['secret'], 'userField:owner': [] },
  }[protectedFields];
  return clp;
}

for (const engine of engines()) {
  describe(`LiveQuery differential against find (${engine})`, () => {
    let server: TestServer;
    const users = new Map<UserName, { id: string; token: string }>();
    let roleId: string;

    before(async () => {
      server = await startTestServer(engine, { rateLimit: [], liveQuery: { classNames: ['Diff'], maxConnectionsPerIp: 1000, maxConnectionsPerUser: 1000, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 } });
      for (const name of USERS) users.set(name, await signUp(server, name));
      roleId = ok(await call(server.url, '/roles', { method: 'POST', master: true, body: { name: 'r1', ACL: { '*': { read: true } } } }), 'role').objectId as string;
      ok(
        await call(server.url, '/schemas/Diff', {
          method: 'POST',
          master: true,
          body: { className: 'Diff', fields: { n: { type: 'Number' }, tag: { type: 'String' }, secret: { type: 'String' }, owner: { type: 'Pointer', targetClass: '_User' } }, classLevelPermissions: PUBLIC },
        }),
        'Diff',
      );
    });
    after(() => server.stop());

    test('every subscriber receives exactly what its find shows before and after each write', async () => {
      const seen = { events: 0, kinds: new Set<string>() };
      await fc.assert(
        fc.asyncProperty(clpVariant, protectedVariant, fc.array(whereVariant, { minLength: 4, maxLength: 4 }), fc.array(operation, { minLength: 1, maxLength: 8 }), async (clp, protectedFields, wheres, operations) => {
          ok(await call(server.url, '/purge/Diff', { method: 'DELETE', master: true }), 'purge');
          ok(await call(server.url, '/schemas/Diff', { method: 'PUT', master: true, body: { classLevelPermissions: clpFor(clp, protectedFields) } }), 'clp');
          for (const name of USERS) {
            ok(await call(server.url, `/roles/${roleId}`, { method: 'PUT', master: true, body: { users: { __op: 'RemoveRelation', objects: [pointer(users.get(name)?.id ?? '')] } } }), 'reset role');
          }
          // Three users and an anonymous client, each with its own where.
          const subscribers = [...USERS.map((name) => users.get(name)?.token), undefined].map((token, index) => ({ token, where: wheres[index] ?? {} }));
          const clients: (RawClient | undefined)[] = [];
          const opened: RawClient[] = [];
          try {
            for (const subscriber of subscribers) {
              const client = await RawClient.connected(server, subscriber.token === undefined ? {} : { sessionToken: subscriber.token });
              opened.push(client);
              const answer = await client.subscribe(1, { className: 'Diff', where: subscriber.where });
              const found = await call(server.url, `/classes/Diff${query({ where: subscriber.where })}`, subscriber.token === undefined ? {} : asUser(subscriber.token));
              // Refused exactly when the find is refused, with the same code.
              assert.equal(answer.op === 'subscribed', found.status === 200, JSON.stringify([answer, found.body]));
              if (answer.op !== 'subscribed') assert.equal(answer.code, found.body.code);
              clients.push(answer.op === 'subscribed' ? client : undefined);
              if (answer.op !== 'subscribed') client.close();
            }
            const ids: string[] = [];
            const findAs = async (token: string | undefined, where: Json): Promise<Map<string, Json>> => {
              const result = await call(server.url, `/classes/Diff${query({ where, limit: 1000 })}`, token === undefined ? {} : asUser(token));
              if (result.status !== 200) return new Map();
              return new Map((result.body.results as Json[]).map((row) => [row.objectId as string, row]));
            };
            const snapshot = () => Promise.all(subscribers.map(async (s) => ({ matching: await findAs(s.token, s.where), readable: await findAs(s.token, {}) })));
            for (const step of operations) {
              const beforeViews = await snapshot();
              let id: string | undefined;
              if (step.op === 'create') {
                const body: Json = { ...step.fields, ACL: Object.fromEntries(step.acl.map((entry) => [entry === 'u1' || entry === 'u2' ? users.get(entry)?.id : entry, { read: true }])) };
                if (step.fields.owner !== undefined) body.owner = pointer(users.get(step.fields.owner)?.id ?? '');
                id = ok(await call(server.url, '/classes/Diff', { method: 'POST', master: true, body }), 'create').objectId as string;
                ids.push(id);
              } else if (step.op === 'update' || step.op === 'delete') {
                if (ids.length === 0) continue;
                const target = ids[step.target % ids.length] ?? '';
                id = target;
                if (step.op === 'delete') {
                  ok(await call(server.url, `/classes/Diff/${target}`, { method: 'DELETE', master: true }), 'delete');
                  ids.splice(ids.indexOf(target), 1);
                } else {
                  const body: Json = { ...step.fields };
                  if (step.fields.owner !== undefined) body.owner = pointer(users.get(step.fields.owner)?.id ?? '');
                  if (step.acl !== null) body.ACL = Object.fromEntries(step.acl.map((entry) => [entry === 'u1' || entry === 'u2' ? users.get(entry)?.id : entry, { read: true }]));
                  ok(await call(server.url, `/classes/Diff/${id}`, { method: 'PUT', master: true, body }), 'update');
                }
              } else {
                const objects = [pointer(users.get(step.user)?.id ?? '')];
                ok(await call(server.url, `/roles/${roleId}`, { method: 'PUT', master: true, body: { users: { __op: step.add ? 'AddRelation' : 'RemoveRelation', objects } } }), 'role change');
                continue;
              }
              const afterViews = await snapshot();
              for (const [index, client] of clients.entries()) {
                if (client === undefined) continue;
                await client.settle();
                const received = client.events(1);
                client.clear();
                seen.events += received.length;
                for (const frame of received) seen.kinds.add(frame.op as string);
                const before = beforeViews[index];
                const after = afterViews[index];
                assert.ok(before !== undefined && after !== undefined && id !== undefined);
                const expected = expectedEvent(step.op, before, after, id);
                const label: string = JSON.stringify({ clp, protectedFields, subscriber: index, where: subscribers[index]?.where, step, received });
                if (expected === undefined) {
                  assert.deepEqual(received, [], label);
                  continue;
                }
                assert.equal(received.length, 1, label);
                const [event] = received as [Frame];
                assert.equal(event.op, expected.op, label);
                assert.deepEqual(strip(event.object), expected.object, label);
                assert.deepEqual(event.original === undefined ? undefined : strip(event.original), expected.original, label);
              }
            }
          } finally {
            for (const client of opened) client.close();
          }
        }),
        // A known busy scenario first: some seeds draw twelve quiet ones (about 1 in 10 gave no update, leave or
        // delete at all), and the traffic check below must not depend on the seed.
        fuzzParameters(12, { timeout: 120_000, examples: [BUSY_EXAMPLE] }),
      );
      // The property compared real traffic, not silence.
      assert.ok(seen.events > 0, 'no event was delivered at all');
      assert.ok(seen.kinds.size >= 2, `only ${[...seen.kinds].join(', ')} events were delivered`);
    });
  });
}

/** An event's object without the class name (a find's rows do not carry it). */
function strip(object: Json): Json {
  const rest = { ...object };
  delete rest.className;
  return rest;
}

interface View {
  readonly matching: Map<string, Json>;
  readonly readable: Map<string, Json>;
}

/** What a find before and after the write says the subscriber must receive. */
function expectedEvent(op: string, before: View, after: View, id: string): { op: string; object: Json; original: Json | undefined } | undefined {
  const wasIn = before.matching.get(id);
  const isIn = after.matching.get(id);
  if (op === 'create') return isIn === undefined ? undefined : { op: 'create', object: isIn, original: undefined };
  if (op === 'delete') return wasIn === undefined ? undefined : { op: 'delete', object: wasIn, original: undefined };
  if (wasIn !== undefined && isIn !== undefined) return { op: 'update', object: isIn, original: wasIn };
  if (isIn !== undefined) return { op: 'enter', object: isIn, original: before.readable.get(id) };
  if (wasIn !== undefined) return { op: 'leave', object: after.readable.get(id) ?? wasIn, original: wasIn };
  return undefined;
}
