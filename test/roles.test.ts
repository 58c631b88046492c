/**
 * Role semantics (reference §4.3, notes/authz-spec.md "Principals"), over HTTP and through the official SDK on
 * each engine: creating roles through `/roles` and `/classes/_Role`, name rules (111/139/137/136), a role's own
 * ACL deciding who may change its membership (101 otherwise), inherited roles, cycles, and membership changes
 * taking effect on the very next request (no stale role cache), including deleting a role.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

interface Account {
  readonly id: string;
  readonly token: string;
  readonly username: string;
}

type Json = Record<string, unknown>;

const pointer = (className: string, objectId: string) => ({ __type: 'Pointer', className, objectId });
const userPointers = (accounts: readonly Account[]) => accounts.map((account) => pointer('_User', account.id));
const rolePointers = (roleIds: readonly string[]) => roleIds.map((id) => pointer('_Role', id));
const addUsers = (...accounts: Account[]) => ({ users: { __op: 'AddRelation', objects: userPointers(accounts) } });
const removeUsers = (...accounts: Account[]) => ({ users: { __op: 'RemoveRelation', objects: userPointers(accounts) } });
const addRoles = (...roleIds: string[]) => ({ roles: { __op: 'AddRelation', objects: rolePointers(roleIds) } });
const removeRoles = (...roleIds: string[]) => ({ roles: { __op: 'RemoveRelation', objects: rolePointers(roleIds) } });

const PUBLIC_READ = { '*': { read: true } };
const OBJECT_NOT_FOUND = 'Object not found.';
const MASTER: RequestOptions = { master: true };
const as = (account: Account): RequestOptions => ({ headers: { 'X-Parse-Session-Token': account.token } });
const ROUTES = ['/roles', '/classes/_Role'] as const;

for (const engine of engines()) {
  describe(`roles (${engine})`, () => {
    let server: TestServer;
    let alice: Account;
    let bob: Account;
    let carol: Account;
    let dave: Account;
    let eve: Account;
    let counter = 0;
    /** A role or class name no other test uses. */
    const unique = (base: string): string => `${base}${++counter}`;
    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);

    async function signUp(username: string): Promise<Account> {
      const body = assertOk(await request('/users', { method: 'POST', body: { username, password: `${username}-pw` } }), `sign up ${username}`, 201);
      return { id: body.objectId, token: body.sessionToken, username };
    }

    /** Creates a role (by default with the master key) and returns its objectId. */
    async function createRole(name: string, acl: Json, extra: Json = {}, options: RequestOptions = MASTER, route: string = '/roles'): Promise<string> {
      const created = assertOk(await request(route, { method: 'POST', body: { name, ACL: acl, ...extra }, ...options }), `create role ${name}`, 201);
      assert.equal(typeof created.objectId, 'string');
      return created.objectId as string;
    }

    async function updateRole(roleId: string, body: Json, options: RequestOptions = MASTER): Promise<void> {
      assertOk(await request(`/roles/${roleId}`, { method: 'PUT', body, ...options }), `update role ${roleId} ${JSON.stringify(body)}`);
    }

    /** An object only the given ACL can read, in a class of its own or a shared one. */
    async function guarded(className: string, acl: Json, extra: Json = {}): Promise<string> {
      const created = assertOk(await request(`/classes/${className}`, { method: 'POST', ...MASTER, body: { label: 'guarded', ...extra, ACL: acl } }), 'guarded object', 201);
      return created.objectId as string;
    }

    /** True when `account` can get the object; otherwise asserts the refusal is the plain 101. */
    async function canRead(account: Account, className: string, objectId: string): Promise<boolean> {
      const result = await request(`/classes/${className}/${objectId}`, as(account));
      if (result.status === 200) {
        assert.equal(result.body.objectId, objectId);
        return true;
      }
      assertRefused(result, 101, OBJECT_NOT_FOUND, `${account.username} get ${className}/${objectId}`);
      return false;
    }

    async function visibleIds(account: Account, className: string): Promise<string[]> {
      const body = assertOk(await request(`/classes/${className}${query({ order: 'objectId' })}`, as(account)), `${account.username} find ${className}`);
      return (body.results as Json[]).map((row) => row.objectId as string).sort();
    }

    async function visibleCount(account: Account, className: string): Promise<number> {
      const body = assertOk(await request(`/classes/${className}${query({ count: 1, limit: 0 })}`, as(account)), `${account.username} count ${className}`);
      return body.count as number;
    }

    /** The members of a role's relation, as the master key sees them. */
    async function members(roleId: string, key: 'users' | 'roles'): Promise<string[]> {
      const className = key === 'users' ? '_User' : '_Role';
      const body = assertOk(
        await request(`/classes/${className}${query({ where: { $relatedTo: { object: pointer('_Role', roleId), key } } })}`, MASTER),
        `members ${roleId}.${key}`,
      );
      return (body.results as Json[]).map((row) => row.objectId as string).sort();
    }

    async function rolesNamed(name: string): Promise<Json[]> {
      const body = assertOk(await request(`/roles${query({ where: { name } })}`, MASTER), `roles named ${name}`);
      return body.results as Json[];
    }

    async function roleCount(): Promise<number> {
      return assertOk(await request(`/roles${query({ count: 1, limit: 0 })}`, MASTER), 'role count').count as number;
    }

    before(async () => {
      server = await startTestServer(engine);
      alice = await signUp('alice');
      bob = await signUp('bob');
      carol = await signUp('carol');
      dave = await signUp('dave');
      eve = await signUp('eve');
    });
    after(async () => server?.stop());

    test('a role is created through /roles and through /classes/_Role, and read back through both', async () => {
      const names: string[] = [];
      for (const route of ROUTES) {
        const name = unique('Editors');
        names.push(name);
        const created = assertOk(
          await request(route, { method: 'POST', ...as(alice), body: { name, ACL: { '*': { read: true }, [alice.id]: { read: true, write: true } } } }),
          `alice creates ${name} via ${route}`,
          201,
        );
        assert.equal(typeof created.objectId, 'string');
        assert.equal(typeof created.createdAt, 'string');
        for (const readRoute of ROUTES) {
          const got = assertOk(await request(`${readRoute}/${created.objectId as string}`, as(bob)), `bob reads ${name} via ${readRoute}`);
          assert.equal(got.name, name);
          assert.deepEqual(got.ACL, { '*': { read: true }, [alice.id]: { read: true, write: true } });
        }
      }
      for (const name of names) assert.equal((await rolesNamed(name)).length, 1);
      // Names may use letters, digits, '-', '_' and spaces; the master key creates roles too.
      const spaced = `Team-A_1 b ${++counter}`;
      await createRole(spaced, PUBLIC_READ);
      assert.equal((await rolesNamed(spaced)).length, 1);
      await createRole(unique('ViaClasses'), {}, {}, MASTER, '/classes/_Role');
    });

    test('111: a role without a name or without an ACL is refused and nothing is created', async () => {
      const before = await roleCount();
      for (const route of ROUTES) {
        for (const [who, options] of [
          ['alice', as(alice)],
          ['master', MASTER],
        ] as const) {
          assertRefused(await request(route, { method: 'POST', ...options, body: { ACL: PUBLIC_READ } }), 111, 'name is required.', `${who} ${route} no name`);
          assertRefused(
            await request(route, { method: 'POST', ...options, body: { ACL: PUBLIC_READ, users: addUsers(bob).users } }),
            111,
            'name is required.',
            `${who} ${route} members but no name`,
          );
          const name = unique('NoAcl');
          assertRefused(await request(route, { method: 'POST', ...options, body: { name } }), 111, 'ACL is required.', `${who} ${route} no ACL`);
          assert.deepEqual(await rolesNamed(name), []);
        }
      }
      assert.equal(await roleCount(), before);
    });

    test('139: a name outside [0-9a-zA-Z-_ ] is refused and nothing is created', async () => {
      const before = await roleCount();
      const bad = ['bad/name', 'role:Admin', 'dot.name', 'semi;colon', 'quote"name', 'ümlaut', 'new\nline', 'tab\tname', '*', 'Admins%', "o'brien"];
      for (const route of ROUTES) {
        for (const name of bad) {
          assertRefused(await request(route, { method: 'POST', ...as(alice), body: { name, ACL: PUBLIC_READ } }), 139, undefined, `${route} ${JSON.stringify(name)}`);
        }
        assertRefused(await request(route, { method: 'POST', ...MASTER, body: { name: 'bad/name', ACL: PUBLIC_READ } }), 139, undefined, `master ${route}`);
      }
      assert.equal(await roleCount(), before);
    });

    test('137: a second role with the same name is refused', async () => {
      const name = unique('Dup');
      await createRole(name, PUBLIC_READ, {}, as(alice));
      for (const route of ROUTES) {
        assertRefused(await request(route, { method: 'POST', ...as(bob), body: { name, ACL: PUBLIC_READ } }), 137, undefined, `bob ${route}`);
        assertRefused(await request(route, { method: 'POST', ...MASTER, body: { name, ACL: {} } }), 137, undefined, `master ${route}`);
      }
      const named = await rolesNamed(name);
      assert.equal(named.length, 1);
      assert.deepEqual(named[0]?.ACL, PUBLIC_READ, 'the first role is untouched');
    });

    test('136: the name of a saved role cannot be changed, by its writer or by the master key', async () => {
      const name = unique('Fixed');
      const roleId = await createRole(name, { '*': { read: true }, [alice.id]: { read: true, write: true } }, {}, as(alice));
      const cls = unique('FixedDoc');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      for (const route of ROUTES) {
        for (const [who, options] of [
          ['alice', as(alice)],
          ['master', MASTER],
        ] as const) {
          const renamed = unique('Renamed');
          assertRefused(await request(`${route}/${roleId}`, { method: 'PUT', ...options, body: { name: renamed } }), 136, undefined, `${who} ${route} rename`);
          assertRefused(
            await request(`${route}/${roleId}`, { method: 'PUT', ...options, body: { name: renamed, ...addUsers(bob) } }),
            136,
            undefined,
            `${who} ${route} rename with a membership change`,
          );
          assert.deepEqual(await rolesNamed(renamed), []);
        }
      }
      const stored = assertOk(await request(`/roles/${roleId}`, MASTER), 'role');
      assert.equal(stored.name, name);
      assert.deepEqual(await members(roleId, 'users'), [], 'the refused update changed nothing');
      assert.equal(await canRead(bob, cls, doc), false);
    });

    test("a role's ACL governs who may add or remove members and child roles (101 otherwise)", async () => {
      const name = unique('Staff');
      const roleId = await createRole(name, { '*': { read: true }, [alice.id]: { read: true, write: true } }, {}, as(alice));
      const cls = unique('StaffDoc');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      // eve's own role, holding eve: adding it as a child of Staff would give eve Staff too.
      const eveRole = await createRole(unique('EveRole'), PUBLIC_READ, addUsers(eve), as(eve));
      const attempts: [string, RequestOptions][] = [
        ['eve', as(eve)],
        ['anonymous', {}],
      ];
      for (const [who, options] of attempts) {
        for (const route of ROUTES) {
          for (const body of [addUsers(eve), addRoles(eveRole), { users: { __op: 'AddRelation', objects: [pointer('_User', eve.id)] }, ACL: PUBLIC_READ }]) {
            assertRefused(await request(`${route}/${roleId}`, { method: 'PUT', ...options, body }), 101, OBJECT_NOT_FOUND, `${who} ${route} ${JSON.stringify(body)}`);
          }
          assertRefused(await request(`${route}/${roleId}`, { method: 'DELETE', ...options }), 101, OBJECT_NOT_FOUND, `${who} ${route} delete`);
        }
      }
      const batch = assertOk(
        await request('/batch', { method: 'POST', ...as(eve), body: { requests: [{ method: 'PUT', path: `/parse/roles/${roleId}`, body: addUsers(eve) }] } }),
        'batch',
      );
      assert.equal(batch[0]?.error?.code, 101, JSON.stringify(batch));
      assert.deepEqual(await members(roleId, 'users'), []);
      assert.deepEqual(await members(roleId, 'roles'), []);
      assert.equal(await canRead(eve, cls, doc), false, 'eve gained nothing');
      assert.equal((await rolesNamed(name)).length, 1, 'the role was not deleted');

      // The role's writer can.
      await updateRole(roleId, addUsers(bob), as(alice));
      assert.deepEqual(await members(roleId, 'users'), [bob.id]);
      assert.equal(await canRead(bob, cls, doc), true);
      // A member is not a writer: bob cannot add eve.
      assertRefused(await request(`/roles/${roleId}`, { method: 'PUT', ...as(bob), body: addUsers(eve) }), 101, OBJECT_NOT_FOUND, 'bob adds eve');
      assert.equal(await canRead(eve, cls, doc), false);
    });

    test("a role's ACL may grant write to another role: that role's members manage the membership", async () => {
      const managers = unique('Managers');
      const managersId = await createRole(managers, PUBLIC_READ, addUsers(carol));
      const team = unique('Team');
      const teamId = await createRole(team, { '*': { read: true }, [`role:${managers}`]: { read: true, write: true } });
      const cls = unique('TeamDoc');
      const doc = await guarded(cls, { [`role:${team}`]: { read: true } });
      assertRefused(await request(`/roles/${teamId}`, { method: 'PUT', ...as(eve), body: addUsers(eve) }), 101, OBJECT_NOT_FOUND, 'eve');
      await updateRole(teamId, addUsers(dave), as(carol));
      assert.equal(await canRead(dave, cls, doc), true);
      await updateRole(teamId, removeUsers(dave), as(carol));
      assert.equal(await canRead(dave, cls, doc), false);
      assert.deepEqual(await members(managersId, 'users'), [carol.id]);
    });

    test('a master-only role (ACL {}) is invisible to clients but still grants its members access', async () => {
      const name = unique('Secret');
      const roleId = await createRole(name, {}, addUsers(bob));
      const cls = unique('SecretDoc');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      assertRefused(await request(`/roles/${roleId}`, as(bob)), 101, OBJECT_NOT_FOUND, 'bob reads the role');
      assert.deepEqual(assertOk(await request(`/roles${query({ where: { name } })}`, as(bob)), 'bob finds the role').results, []);
      assert.equal(await canRead(bob, cls, doc), true, 'membership does not depend on reading the role');
      assert.equal(await canRead(eve, cls, doc), false);
    });

    test('inherited roles grant ACL and CLP access, downwards only', async () => {
      const grand = unique('Grand');
      const parent = unique('Parent');
      const child = unique('Child');
      const childId = await createRole(child, PUBLIC_READ, addUsers(bob));
      const parentId = await createRole(parent, PUBLIC_READ, { ...addUsers(carol), ...addRoles(childId) });
      await createRole(grand, PUBLIC_READ, addRoles(parentId));
      const cls = unique('Inherited');
      const forGrand = await guarded(cls, { [`role:${grand}`]: { read: true } });
      const forParent = await guarded(cls, { [`role:${parent}`]: { read: true, write: true } });
      const forChild = await guarded(cls, { [`role:${child}`]: { read: true } });

      // bob (in Child) inherits Parent and Grand; carol (in Parent) inherits Grand but not Child.
      assert.deepEqual(await visibleIds(bob, cls), [forGrand, forParent, forChild].sort());
      assert.deepEqual(await visibleIds(carol, cls), [forGrand, forParent].sort());
      assert.deepEqual(await visibleIds(eve, cls), []);
      assert.equal(await visibleCount(bob, cls), 3);
      assert.equal(await visibleCount(carol, cls), 2);
      assert.equal(await canRead(carol, cls, forChild), false);
      assert.equal(await canRead(bob, cls, forGrand), true);

      // Write access through an inherited role.
      assertOk(await request(`/classes/${cls}/${forParent}`, { method: 'PUT', ...as(bob), body: { label: 'by bob' } }), 'bob writes');
      assertRefused(await request(`/classes/${cls}/${forParent}`, { method: 'PUT', ...as(eve), body: { label: 'by eve' } }), 101, OBJECT_NOT_FOUND, 'eve writes');
      assertRefused(await request(`/classes/${cls}/${forGrand}`, { method: 'PUT', ...as(bob), body: { label: 'by bob' } }), 101, OBJECT_NOT_FOUND, 'read-only role');
      assert.equal(assertOk(await request(`/classes/${cls}/${forParent}`, MASTER), 'reread').label, 'by bob');

      // A CLP entry naming the top role admits members of its descendants.
      const clpClass = unique('RoleClp');
      const clp = { find: { [`role:${grand}`]: true }, get: { [`role:${grand}`]: true }, count: { [`role:${grand}`]: true } };
      assertOk(await request('/schemas', { method: 'POST', ...MASTER, body: { className: clpClass, fields: { label: { type: 'String' } }, classLevelPermissions: clp } }), 'schema');
      const open = await guarded(clpClass, PUBLIC_READ);
      assert.deepEqual(await visibleIds(bob, clpClass), [open]);
      assert.deepEqual(await visibleIds(carol, clpClass), [open]);
      assertRefused(await request(`/classes/${clpClass}`, as(eve)), 119, `Permission denied for action find on class ${clpClass}.`, 'eve find');
      assertRefused(await request(`/classes/${clpClass}/${open}`, as(eve)), 119, `Permission denied for action get on class ${clpClass}.`, 'eve get');
    });

    test('a 3-role cycle (and a role containing itself) is safe: requests end quickly with the right access', { timeout: 60_000 }, async () => {
      const [a, b, c] = [unique('CycleA'), unique('CycleB'), unique('CycleC')];
      const aId = await createRole(a, PUBLIC_READ);
      const bId = await createRole(b, PUBLIC_READ);
      const cId = await createRole(c, PUBLIC_READ);
      // A.roles ∋ B, B.roles ∋ C, C.roles ∋ A: members of any one inherit all three.
      await updateRole(aId, addRoles(bId));
      await updateRole(bId, addRoles(cId));
      await updateRole(cId, addRoles(aId));
      await updateRole(aId, addUsers(bob));
      const self = unique('SelfLoop');
      const selfId = await createRole(self, PUBLIC_READ, addUsers(carol));
      await updateRole(selfId, addRoles(selfId));

      const cls = unique('CycleDoc');
      const docs = {
        a: await guarded(cls, { [`role:${a}`]: { read: true } }),
        b: await guarded(cls, { [`role:${b}`]: { read: true } }),
        c: await guarded(cls, { [`role:${c}`]: { read: true } }),
        self: await guarded(cls, { [`role:${self}`]: { read: true } }),
      };
      const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        const result = await work();
        const ms = performance.now() - started;
        assert.ok(ms < 5000, `${label} took ${Math.round(ms)} ms`);
        return result;
      };
      for (const key of ['a', 'b', 'c'] as const) {
        assert.equal(await timed(`bob reads ${key}`, () => canRead(bob, cls, docs[key])), true, `bob reads the role:${key} object`);
      }
      assert.equal(await timed('bob reads self', () => canRead(bob, cls, docs.self)), false);
      assert.deepEqual(await timed('bob finds', () => visibleIds(bob, cls)), [docs.a, docs.b, docs.c].sort());
      assert.deepEqual(await timed('carol finds', () => visibleIds(carol, cls)), [docs.self]);
      assert.deepEqual(await timed('eve finds', () => visibleIds(eve, cls)), []);
      // Leaving the cycle is immediate too.
      await updateRole(aId, removeUsers(bob));
      assert.deepEqual(await timed('bob finds after leaving', () => visibleIds(bob, cls)), []);
      // Entering anywhere else in the cycle grants all three again.
      await updateRole(cId, addUsers(dave));
      assert.deepEqual(await timed('dave finds', () => visibleIds(dave, cls)), [docs.a, docs.b, docs.c].sort());
    });

    test('membership added or removed takes effect on the very next request (no stale role cache)', async () => {
      const name = unique('Fresh');
      const roleId = await createRole(name, { '*': { read: true }, [alice.id]: { read: true, write: true } });
      const cls = unique('FreshDoc');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      const clpClass = unique('FreshClp');
      assertOk(
        await request('/schemas', {
          method: 'POST',
          ...MASTER,
          body: { className: clpClass, fields: { label: { type: 'String' } }, classLevelPermissions: { find: { [`role:${name}`]: true }, get: { [`role:${name}`]: true } } },
        }),
        'schema',
      );
      const clpDoc = await guarded(clpClass, PUBLIC_READ);
      const denied = `Permission denied for action find on class ${clpClass}.`;

      // Each check below runs right after the change; the first reads also prime any cache of dave's roles.
      assert.equal(await canRead(dave, cls, doc), false);
      assert.deepEqual(await visibleIds(dave, cls), []);
      assertRefused(await request(`/classes/${clpClass}`, as(dave)), 119, denied, 'dave before');

      await updateRole(roleId, addUsers(dave)); // master
      assert.equal(await canRead(dave, cls, doc), true, 'added by the master key');
      assert.deepEqual(await visibleIds(dave, cls), [doc]);
      assert.equal(await visibleCount(dave, cls), 1);
      assert.deepEqual(await visibleIds(dave, clpClass), [clpDoc], 'a CLP role entry follows the membership too');

      await updateRole(roleId, removeUsers(dave)); // master
      assert.equal(await canRead(dave, cls, doc), false, 'removed by the master key');
      assert.deepEqual(await visibleIds(dave, cls), []);
      assertRefused(await request(`/classes/${clpClass}`, as(dave)), 119, denied, 'dave after removal');

      await updateRole(roleId, addUsers(dave), as(alice)); // the role's writer
      assert.equal(await canRead(dave, cls, doc), true, 'added by the role writer');
      await updateRole(roleId, removeUsers(dave), as(alice));
      assert.equal(await canRead(dave, cls, doc), false, 'removed by the role writer');

      // Through /classes/_Role and through a /batch sub-request.
      assertOk(await request(`/classes/_Role/${roleId}`, { method: 'PUT', ...as(alice), body: addUsers(dave) }), 'add via /classes/_Role');
      assert.equal(await canRead(dave, cls, doc), true, 'added via /classes/_Role');
      const batch = assertOk(
        await request('/batch', { method: 'POST', ...as(alice), body: { requests: [{ method: 'PUT', path: `/parse/roles/${roleId}`, body: removeUsers(dave) }] } }),
        'batch remove',
      );
      assert.ok(batch[0]?.success !== undefined, JSON.stringify(batch));
      assert.equal(await canRead(dave, cls, doc), false, 'removed via /batch');

      // A change in the hierarchy: Fresh becomes a child of Outer, then stops being one.
      const outer = unique('Outer');
      const outerId = await createRole(outer, PUBLIC_READ);
      const outerDoc = await guarded(cls, { [`role:${outer}`]: { read: true } });
      await updateRole(roleId, addUsers(dave));
      assert.equal(await canRead(dave, cls, outerDoc), false);
      await updateRole(outerId, addRoles(roleId));
      assert.equal(await canRead(dave, cls, outerDoc), true, 'a new parent role takes effect at once');
      await updateRole(outerId, removeRoles(roleId));
      assert.equal(await canRead(dave, cls, outerDoc), false, 'a removed parent role takes effect at once');
      assert.equal(await canRead(dave, cls, doc), true);
      await updateRole(roleId, removeUsers(dave));
    });

    test('deleting a role revokes the access it granted, directly and through inheritance, at once', async () => {
      const name = unique('Gone');
      const roleId = await createRole(name, { '*': { read: true }, [alice.id]: { read: true, write: true } }, addUsers(dave));
      const cls = unique('GoneDoc');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      assert.equal(await canRead(dave, cls, doc), true);
      // Nobody without write access may delete it.
      assertRefused(await request(`/roles/${roleId}`, { method: 'DELETE', ...as(dave) }), 101, OBJECT_NOT_FOUND, 'a member deletes');
      assert.equal(await canRead(dave, cls, doc), true);
      assertOk(await request(`/roles/${roleId}`, { method: 'DELETE', ...as(alice) }), 'the writer deletes');
      assert.equal(await canRead(dave, cls, doc), false, 'access ends with the role');
      assert.deepEqual(await visibleIds(dave, cls), []);
      assert.deepEqual(await rolesNamed(name), []);
      // A new role with the same name does not bring back the old members.
      const again = await createRole(name, PUBLIC_READ);
      assert.deepEqual(await members(again, 'users'), []);
      assert.equal(await canRead(dave, cls, doc), false, 'the old membership is not revived by a new role of the same name');

      // Deleting a child role ends what its members inherited.
      const parent = unique('GoneParent');
      const child = unique('GoneChild');
      const childId = await createRole(child, PUBLIC_READ, addUsers(dave));
      await createRole(parent, PUBLIC_READ, addRoles(childId));
      const parentDoc = await guarded(cls, { [`role:${parent}`]: { read: true } });
      assert.equal(await canRead(dave, cls, parentDoc), true);
      assertOk(await request(`/classes/_Role/${childId}`, { method: 'DELETE', ...MASTER }), 'master deletes the child');
      assert.equal(await canRead(dave, cls, parentDoc), false, 'inherited access ends with the child role');
    });

    test('a role entry in protectedFields reveals a field to its members, from the next request on', async () => {
      const hr = unique('HR');
      const hrId = await createRole(hr, PUBLIC_READ, addUsers(carol));
      const cls = unique('Payroll');
      assertOk(
        await request('/schemas', {
          method: 'POST',
          ...MASTER,
          body: {
            className: cls,
            fields: { label: { type: 'String' }, salary: { type: 'Number' } },
            classLevelPermissions: {
              find: { '*': true },
              get: { '*': true },
              count: { '*': true },
              create: {},
              update: {},
              delete: {},
              addField: {},
              protectedFields: { '*': ['salary'], [`role:${hr}`]: [] },
            },
          },
        }),
        'schema',
      );
      const row = await guarded(cls, PUBLIC_READ, { salary: 100 });
      const notQueryable = `This user is not allowed to query salary on class ${cls}.`;
      const seesSalary = async (account: Account): Promise<boolean> => {
        const got = assertOk(await request(`/classes/${cls}/${row}`, as(account)), `${account.username} get`);
        return 'salary' in got;
      };
      assert.equal(await seesSalary(carol), true, 'an HR member sees the salary');
      const byCarol = assertOk(await request(`/classes/${cls}${query({ where: { salary: { $gt: 50 } } })}`, as(carol)), 'carol queries salary');
      assert.deepEqual(
        (byCarol.results as Json[]).map((r) => r.salary),
        [100],
      );
      assert.equal(await seesSalary(dave), false, 'others do not');
      assertRefused(await request(`/classes/${cls}${query({ where: { salary: { $gt: 50 } } })}`, as(dave)), 119, notQueryable, 'dave queries salary');
      await updateRole(hrId, addUsers(dave));
      assert.equal(await seesSalary(dave), true, 'joining HR reveals it at once');
      await updateRole(hrId, removeUsers(dave));
      assert.equal(await seesSalary(dave), false, 'leaving HR hides it at once');
      assertRefused(await request(`/classes/${cls}${query({ order: '-salary' })}`, as(dave)), 119, notQueryable, 'dave sorts by salary');
    });

    test('the SDK flow: new Parse.Role(name, acl), role.getUsers().add(user), save, and a Parse.Query as the member', async () => {
      const Parse = parseSdk(server.url);
      const signUpSdk = async (username: string): Promise<any> => {
        const user = new Parse.User();
        user.set({ username, password: `${username}-pw` });
        await user.signUp();
        return user;
      };
      const admin = await signUpSdk(unique('sdk-admin-'));
      const member = await signUpSdk(unique('sdk-member-'));
      const outsider = await signUpSdk(unique('sdk-outsider-'));
      const tokenOf = (user: any) => ({ sessionToken: user.getSessionToken() as string });

      const roleName = unique('SdkModerators');
      const roleAcl = new Parse.ACL(admin);
      roleAcl.setPublicReadAccess(true);
      const role = new Parse.Role(roleName, roleAcl);
      role.getUsers().add(member);
      await role.save(null, tokenOf(admin));
      assert.equal(typeof role.id, 'string');

      const cls = unique('SdkDoc');
      const docAcl = new Parse.ACL();
      docAcl.setRoleReadAccess(role, true);
      docAcl.setWriteAccess(admin, true);
      const doc = new Parse.Object(cls);
      doc.set('title', 'for moderators');
      doc.setACL(docAcl);
      await doc.save(null, tokenOf(admin));

      const seen = await new Parse.Query(cls).find(tokenOf(member));
      assert.deepEqual(
        seen.map((object: any) => object.get('title')),
        ['for moderators'],
      );
      const got = await new Parse.Query(cls).get(doc.id, tokenOf(member));
      assert.equal(got.get('title'), 'for moderators');
      assert.deepEqual(await new Parse.Query(cls).find(tokenOf(outsider)), []);
      await assert.rejects(new Parse.Query(cls).get(doc.id, tokenOf(outsider)), (error: any) => error.code === 101);

      // The role is found by name, and its users relation lists the member.
      const found = await new Parse.Query(Parse.Role).equalTo('name', roleName).first(tokenOf(member));
      assert.equal(found?.id, role.id);
      const users = await role.getUsers().query().find({ useMasterKey: true });
      assert.deepEqual(
        users.map((user: any) => user.id),
        [member.id],
      );

      // The outsider cannot add themself through the SDK either.
      const theirs = await new Parse.Query(Parse.Role).get(role.id, tokenOf(outsider));
      theirs.getUsers().add(outsider);
      await assert.rejects(theirs.save(null, tokenOf(outsider)), (error: any) => error.code === 101);
      assert.deepEqual(await new Parse.Query(cls).find(tokenOf(outsider)), []);

      // A parent role through getRoles(): the member inherits it.
      const parentName = unique('SdkStaff');
      const parent = new Parse.Role(parentName, roleAcl);
      parent.getRoles().add(role);
      await parent.save(null, tokenOf(admin));
      const staffDoc = new Parse.Object(cls);
      const staffAcl = new Parse.ACL();
      staffAcl.setRoleReadAccess(parentName, true);
      staffDoc.set('title', 'for staff');
      staffDoc.setACL(staffAcl);
      await staffDoc.save(null, tokenOf(admin));
      const inherited = await new Parse.Query(cls).ascending('title').find(tokenOf(member));
      assert.deepEqual(
        inherited.map((object: any) => object.get('title')),
        ['for moderators', 'for staff'],
      );

      // Removing the member through the SDK takes effect on the next query.
      role.getUsers().remove(member);
      await role.save(null, tokenOf(admin));
      assert.deepEqual(await new Parse.Query(cls).find(tokenOf(member)), []);
    });

    // Last: it changes the _Role CLP of the shared server (and leaves it public again).
    test('with _Role CLP create restricted, a client cannot squat a role name that ACLs already use (119)', async () => {
      const open = { '*': true };
      const roleClp = (create: Json): Promise<HttpResult> =>
        request('/schemas/_Role', {
          method: 'PUT',
          ...MASTER,
          body: { classLevelPermissions: { find: open, get: open, count: open, create, update: open, delete: open, addField: open } },
        });
      const name = unique('NotYetCreated');
      const cls = unique('Reserved');
      const doc = await guarded(cls, { [`role:${name}`]: { read: true } });
      try {
        assertOk(await roleClp({}), 'set _Role create:{}');
        const before = await roleCount();
        for (const route of ROUTES) {
          assertRefused(
            await request(route, { method: 'POST', ...as(eve), body: { name, ACL: PUBLIC_READ, ...addUsers(eve) } }),
            119,
            'Permission denied for action create on class _Role.',
            `eve ${route}`,
          );
          // The CLP is decided first: an invalid role body gets the same answer.
          assertRefused(await request(route, { method: 'POST', ...as(eve), body: { name: 'bad/name' } }), 119, 'Permission denied for action create on class _Role.', `eve ${route} invalid`);
        }
        assert.equal(await roleCount(), before);
        assert.equal(await canRead(eve, cls, doc), false);
        await createRole(name, PUBLIC_READ, addUsers(bob)); // the master key still creates roles
        assert.equal(await canRead(bob, cls, doc), true);
      } finally {
        await roleClp(open);
      }
    });
  });
}
