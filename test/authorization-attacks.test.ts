/**
 * The authorization attacks of Parse Server's advisories (reference §7.4 "ACL / CLP / roles / internal
 * classes" and §7.5 "protectedFields / sensitive data"; the LiveQuery and GraphQL rows are later work),
 * replayed over HTTP on each engine against the contract in notes/authz-spec.md. Every refusal is checked
 * exactly (HTTP status, Parse code, the message where the contract fixes one, and nothing else in the body),
 * and every attack is followed by a re-read with the master key proving that nothing leaked or changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpResult, type RequestOptions, assertOk, assertRefused, call, query } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

interface Account {
  readonly id: string;
  readonly token: string;
  readonly username: string;
}

type Json = Record<string, unknown>;

const pointer = (className: string, objectId: string) => ({ __type: 'Pointer', className, objectId });
const PUBLIC_READ = { '*': { read: true } };
const OPEN = { '*': true };
/** Every operation public: the explicit form of "no CLP", so a class can add `protectedFields` and stay open. */
const OPEN_CLP = { find: OPEN, get: OPEN, count: OPEN, create: OPEN, update: OPEN, delete: OPEN, addField: OPEN };
/** Every operation master-only. */
const MASTER_ONLY_CLP = { find: {}, get: {}, count: {}, create: {}, update: {}, delete: {}, addField: {} };

const OBJECT_NOT_FOUND = 'Object not found.';
const EMAIL_NOT_QUERYABLE = 'This user is not allowed to query email on class _User.';

/**
 * The contract's 119 for a protected field named in a query. `<field>` is the protected field; for a dotted
 * key (`secretObj.apiKey`) the contract does not say whether the message names the field or the whole key,
 * so both are accepted. The class is the one the field belongs to (the sub-query's class for `$inQuery`).
 */
function notQueryable(field: string, className: string): RegExp {
  return new RegExp(`^This user is not allowed to query ${field}(\\.[A-Za-z0-9_.]+)? on class ${className}\\.$`);
}

const as = (account: Account): RequestOptions => ({ headers: { 'X-Parse-Session-Token': account.token } });
const MASTER: RequestOptions = { master: true };
const ANONYMOUS: RequestOptions = {};

for (const engine of engines()) {
  describe(`authorization attacks §7.4–§7.5 (${engine})`, () => {
    let server: TestServer;
    let alice: Account; // private user with an email
    let eve: Account; // the attacker
    let pub: Account; // a user whose row is publicly readable, with an email
    let counter = 0;
    /** A class name no other test uses. */
    const unique = (base: string): string => `${base}${++counter}`;

    const request = (path: string, options: RequestOptions = {}): Promise<HttpResult> => call(server.url, path, options);

    async function signUp(username: string, extra: Json = {}): Promise<Account> {
      const body = assertOk(await request('/users', { method: 'POST', body: { username, password: `${username}-pw`, ...extra } }), `sign up ${username}`, 201);
      return { id: body.objectId, token: body.sessionToken, username };
    }

    async function defineClass(className: string, fields: Json, classLevelPermissions: Json = OPEN_CLP): Promise<void> {
      assertOk(await request('/schemas', { method: 'POST', ...MASTER, body: { className, fields, classLevelPermissions } }), `schema ${className}`);
    }

    async function createAs(options: RequestOptions, className: string, body: Json): Promise<string> {
      const created = assertOk(await request(`/classes/${className}`, { method: 'POST', body, ...options }), `create ${className}`, 201);
      return created.objectId as string;
    }

    const createMaster = (className: string, body: Json): Promise<string> => createAs(MASTER, className, body);

    async function find(className: string, params: Json, options: RequestOptions): Promise<any> {
      return assertOk(await request(`/classes/${className}${query(params)}`, options), `find ${className} ${JSON.stringify(params)}`);
    }

    /** The members of a relation, as the master key sees them. */
    async function relatedIds(className: string, owner: { __type: string; className: string; objectId: string }, key: string): Promise<string[]> {
      const body = await find(className, { where: { $relatedTo: { object: owner, key } } }, MASTER);
      return (body.results as Json[]).map((row) => row.objectId as string).sort();
    }

    async function schemaSnapshot(): Promise<unknown> {
      const body = assertOk(await request('/schemas', MASTER), 'schemas');
      return (body.results as Json[]).map((schema) => schema.className).sort();
    }

    // Shared protected-field fixture (read-only for every test).
    const SECRET = 'Secretive';
    const REFERRER = 'Referrer';
    const VAULT = 'Vault';
    const POST = 'Post';
    const ids = { vault: '', alpha: '', beta: '', refAlpha: '', refSesame: '', postByAlice: '', postByPub: '' };

    before(async () => {
      // Far more sign-up attempts from 127.0.0.1 than the default rate limit allows one address (that limit
      // is abuse-limits-rate.test.ts's subject): here every attempt must reach the checks under test.
      server = await startTestServer(engine, { rateLimit: [] });
      alice = await signUp('alice', { email: 'alice@example.com' });
      eve = await signUp('eve', { email: 'eve@example.com' });
      pub = await signUp('pub', { email: 'pub@example.com', ACL: { '*': { read: true } } });

      await defineClass(VAULT, { label: { type: 'String' } }, MASTER_ONLY_CLP);
      ids.vault = await createMaster(VAULT, { label: 'vault', ACL: PUBLIC_READ });
      await defineClass(
        SECRET,
        {
          name: { type: 'String' },
          score: { type: 'Number' },
          secretText: { type: 'String' },
          secretObj: { type: 'Object' },
          secretPtr: { type: 'Pointer', targetClass: VAULT },
        },
        { ...OPEN_CLP, protectedFields: { '*': ['secretText', 'secretObj', 'secretPtr'] } },
      );
      ids.alpha = await createMaster(SECRET, {
        name: 'alpha',
        score: 1,
        secretText: 'sesame',
        secretObj: { apiKey: 'k-alpha', score: 10, a: { b: { c: { d: 'deep' } } } },
        secretPtr: pointer(VAULT, ids.vault),
        ACL: PUBLIC_READ,
      });
      ids.beta = await createMaster(SECRET, { name: 'beta', score: 2, secretText: 'open', secretObj: { apiKey: 'k-beta', score: 20 }, ACL: PUBLIC_READ });
      await defineClass(REFERRER, { label: { type: 'String' }, target: { type: 'Pointer', targetClass: SECRET } });
      ids.refAlpha = await createMaster(REFERRER, { label: 'alpha', target: pointer(SECRET, ids.alpha), ACL: PUBLIC_READ });
      // Its label equals beta's secret: a `$select` keyed on secretText would reveal that this value is a secret.
      ids.refSesame = await createMaster(REFERRER, { label: 'sesame', target: pointer(SECRET, ids.beta), ACL: PUBLIC_READ });
      await defineClass(POST, { title: { type: 'String' }, author: { type: 'Pointer', targetClass: '_User' } });
      ids.postByAlice = await createMaster(POST, { title: 'alice@example.com', author: pointer('_User', alice.id), ACL: PUBLIC_READ });
      ids.postByPub = await createMaster(POST, { title: 'by pub', author: pointer('_User', pub.id), ACL: PUBLIC_READ });
    });
    after(async () => server?.stop());

    /** The callers an oracle is tried as: a logged-in regular user and a client with no session. */
    const attackers = (): [string, RequestOptions][] => [
      ['user', as(eve)],
      ['anonymous', ANONYMOUS],
    ];

    // ───────────────────────────── §7.4 ACL / CLP / roles / internal classes ─────────────────────────────

    describe('§7.4 internal classes, join tables, include, $relatedTo', () => {
      test('GHSA-2479-qvv7-47qq: POST /classes/_Audience {"lorem":"ipsum"} with the REST key is refused and creates nothing', async () => {
        const before = await schemaSnapshot();
        for (const [who, options] of attackers()) {
          assertRefused(await request('/classes/_Audience', { method: 'POST', body: { lorem: 'ipsum' }, ...options }), 119, /^Clients aren't allowed/, `${who} POST _Audience`);
        }
        // The master key does not reach internal classes through /classes either (contract: 119 for everyone).
        assertRefused(await request('/classes/_Audience', { method: 'POST', body: { lorem: 'ipsum' }, ...MASTER }), 119, undefined, 'master POST _Audience');
        assert.deepEqual(await schemaSnapshot(), before, 'no class was created or changed');
        assert.ok(!(before as string[]).includes('_Audience'));
        const health = await request('/health');
        assert.equal(health.status, 200, 'the server still answers');
      });

      test('GHSA-7xg7-rqf6-pw6c: GET/POST/PUT/DELETE /classes/_GraphQLConfig, /classes/_Audience and the other internal classes are refused', async () => {
        const before = await schemaSnapshot();
        const internal = ['_GraphQLConfig', '_Audience', '_JobStatus', '_PushStatus', '_Hooks', '_GlobalConfig', '_JobSchedule', '_Idempotency'];
        for (const className of internal) {
          const clientsNotAllowed = new RegExp(`^Clients aren't allowed to perform the \\w+ operation on the ${className} collection\\.$`);
          const shapes: [string, string, RequestOptions][] = [
            ['find', `/classes/${className}`, {}],
            ['find where', `/classes/${className}${query({ where: { objectId: { $exists: true } } })}`, {}],
            ['count', `/classes/${className}${query({ count: 1, limit: 0 })}`, {}],
            ['get', `/classes/${className}/abc123`, {}],
            ['create', `/classes/${className}`, { method: 'POST', body: { config: { x: 1 }, lorem: 'ipsum' } }],
            ['update', `/classes/${className}/abc123`, { method: 'PUT', body: { lorem: 'x' } }],
            ['delete', `/classes/${className}/abc123`, { method: 'DELETE' }],
          ];
          for (const [shape, path, options] of shapes) {
            for (const [who, auth] of attackers()) {
              assertRefused(await request(path, { ...options, ...auth }), 119, clientsNotAllowed, `${who} ${shape} ${className}`);
            }
            // _JobStatus and _PushStatus are the ones the master key reads (Parse.Cloud.getJobStatus,
            // Parse.Push.getPushStatus); only the server writes them.
            const masterReads = (className === '_JobStatus' || className === '_PushStatus') && ['find', 'find where', 'count', 'get'].includes(shape);
            const asMaster = await request(path, { ...options, ...MASTER });
            if (masterReads) assert.ok(asMaster.status === 200 || (shape === 'get' && asMaster.status === 404), `master ${shape} ${className}: ${asMaster.status}`);
            else assertRefused(asMaster, 119, undefined, `master ${shape} ${className} through /classes`);
          }
        }
        assert.deepEqual(await schemaSnapshot(), before, 'no internal class was created');
      });

      test('GHSA-5f92-jrq3-28rc: POST /classes/_Join:users:_Role {relatedId: me, owningId: adminRole} is refused and grants no role', async () => {
        const cls = unique('AdminOnly');
        const roleName = unique('Admins');
        const admins = assertOk(await request('/roles', { method: 'POST', ...MASTER, body: { name: roleName, ACL: PUBLIC_READ } }), 'create role', 201);
        const adminRole = pointer('_Role', admins.objectId);
        const secretId = await createMaster(cls, { data: 'admins only', ACL: { [`role:${roleName}`]: { read: true } } });
        // eve's own role (any user may create one): making it a child of Admins would hand Admins to her too.
        const eveRole = assertOk(
          await request('/roles', { method: 'POST', ...as(eve), body: { name: unique('EveRole'), ACL: PUBLIC_READ, users: { __op: 'AddRelation', objects: [pointer('_User', eve.id)] } } }),
          'eve creates her own role',
          201,
        );
        assertRefused(await request(`/classes/${cls}/${secretId}`, as(eve)), 101, OBJECT_NOT_FOUND, 'before the attack');

        const attempts: [string, string, RequestOptions][] = [
          ['users join', '/classes/_Join:users:_Role', { method: 'POST', body: { relatedId: eve.id, owningId: admins.objectId } }],
          ['users join, encoded path', '/classes/_Join%3Ausers%3A_Role', { method: 'POST', body: { relatedId: eve.id, owningId: admins.objectId } }],
          ['roles join', '/classes/_Join:roles:_Role', { method: 'POST', body: { relatedId: eveRole.objectId, owningId: admins.objectId } }],
          ['users join, update', '/classes/_Join:users:_Role/abc', { method: 'PUT', body: { relatedId: eve.id, owningId: admins.objectId } }],
          ['users join, delete', '/classes/_Join:users:_Role/abc', { method: 'DELETE' }],
        ];
        for (const [shape, path, options] of attempts) {
          for (const [who, auth] of attackers()) assertRefused(await request(path, { ...options, ...auth }), 119, undefined, `${who} ${shape}`);
          assertRefused(await request(path, { ...options, ...MASTER }), 119, undefined, `master ${shape}`);
        }
        // The same write as a /batch sub-request is refused in its slot; with transaction:true the whole batch
        // fails (HTTP 400, as test/batch.test.ts fixes it) and no slot succeeds.
        for (const transaction of [false, true]) {
          const batch = await request('/batch', {
            method: 'POST',
            ...as(eve),
            body: {
              transaction,
              requests: [
                { method: 'POST', path: '/parse/classes/_Join:users:_Role', body: { relatedId: eve.id, owningId: admins.objectId } },
                { method: 'POST', path: '/parse/classes/_Join:roles:_Role', body: { relatedId: eveRole.objectId, owningId: admins.objectId } },
              ],
            },
          });
          const shown = `batch (transaction: ${String(transaction)}): ${batch.status} ${JSON.stringify(batch.body)}`;
          assert.equal(batch.status, transaction ? 400 : 200, shown);
          assert.ok(Array.isArray(batch.body) && batch.body.length === 2, shown);
          assert.equal(batch.body[0].error?.code, 119, shown);
          if (!transaction) assert.equal(batch.body[1].error?.code, 119, shown);
          for (const slot of batch.body as Json[]) assert.ok(!('success' in slot), shown);
        }
        // Nothing changed: Admins has no members, eve still cannot read the admins' object on the very next request.
        assert.deepEqual(await relatedIds('_User', adminRole, 'users'), []);
        assert.deepEqual(await relatedIds('_Role', adminRole, 'roles'), []);
        assertRefused(await request(`/classes/${cls}/${secretId}`, as(eve)), 101, OBJECT_NOT_FOUND, 'after the attack');
        assert.deepEqual((await find(cls, {}, as(eve))).results, [], 'find lists nothing');
        assert.equal((await find(cls, { count: 1, limit: 0 }, as(eve))).count, 0, 'count counts nothing');
      });

      test('GHSA-5f92-jrq3-28rc: _Join tables cannot be read through /classes (find, get, count, where)', async () => {
        const role = assertOk(
          await request('/roles', { method: 'POST', ...MASTER, body: { name: unique('Readers'), ACL: {}, users: { __op: 'AddRelation', objects: [pointer('_User', alice.id)] } } }),
          'role',
          201,
        );
        const paths = [
          '/classes/_Join:users:_Role',
          `/classes/_Join:users:_Role${query({ where: { owningId: role.objectId } })}`,
          `/classes/_Join:users:_Role${query({ count: 1, limit: 0 })}`,
          '/classes/_Join:roles:_Role',
          `/classes/_Join:users:_Role/${role.objectId as string}`,
          '/classes/_Join%3Ausers%3A_Role',
        ];
        for (const path of paths) {
          for (const [who, auth] of attackers()) assertRefused(await request(path, auth), 119, undefined, `${who} GET ${path}`);
          assertRefused(await request(path, MASTER), 119, undefined, `master GET ${path}`);
        }
        assert.deepEqual(await relatedIds('_User', pointer('_Role', role.objectId), 'users'), [alice.id], 'the membership itself is intact');
      });

      test('GHSA-fcv6-fg5r-jm9q: include of pointers to master-only and unreadable objects leaves bare pointers', async () => {
        const item = unique('AclItem');
        const holder = unique('Holder');
        const hidden = await createMaster(item, { label: 'master only', ACL: {} });
        const mine = await createMaster(item, { label: 'alice only', ACL: { [alice.id]: { read: true } } });
        const open = await createMaster(item, { label: 'public', ACL: PUBLIC_READ });
        // "Anyone can store a pointer to any object": eve stores pointers to things she cannot read.
        const holderId = await createAs(as(eve), holder, {
          vault: pointer(VAULT, ids.vault),
          hidden: pointer(item, hidden),
          mine: pointer(item, mine),
          open: pointer(item, open),
          ACL: PUBLIC_READ,
        });
        const include = 'vault,hidden,mine,open';
        const bare = (className: string, objectId: string) => pointer(className, objectId);

        for (const [who, auth] of attackers()) {
          const got = assertOk(await request(`/classes/${holder}/${holderId}${query({ include })}`, auth), `${who} get include`);
          const found = (await find(holder, { include, where: { objectId: holderId } }, auth)).results[0];
          for (const row of [got, found]) {
            assert.deepEqual(row.vault, bare(VAULT, ids.vault), `${who}: master-only class stays a pointer`);
            assert.deepEqual(row.hidden, bare(item, hidden), `${who}: ACL {} stays a pointer`);
            assert.deepEqual(row.mine, bare(item, mine), `${who}: another user's object stays a pointer`);
            assert.equal(row.open.__type, 'Object', `${who}: a readable object is included`);
            assert.equal(row.open.label, 'public');
          }
          const text = JSON.stringify([got, found]);
          assert.doesNotMatch(text, /master only|alice only|"label":"vault"/, `${who}: nothing of the unreadable objects leaked`);
        }
        const asAlice = assertOk(await request(`/classes/${holder}/${holderId}${query({ include })}`, as(alice)), 'alice get include');
        assert.equal(asAlice.mine.label, 'alice only', 'the same include shows alice her own object');
        assert.deepEqual(asAlice.vault, bare(VAULT, ids.vault));
        assert.deepEqual(asAlice.hidden, bare(item, hidden));
        const asMaster = assertOk(await request(`/classes/${holder}/${holderId}${query({ include })}`, MASTER), 'master get include');
        assert.equal(asMaster.vault.label, 'vault', 'the master key includes everything');
        assert.equal(asMaster.hidden.label, 'master only');
        // The same include inside a /batch sub-request.
        const batch = assertOk(
          await request('/batch', { method: 'POST', ...as(eve), body: { requests: [{ method: 'GET', path: `/parse/classes/${holder}/${holderId}`, body: { include } }] } }),
          'batch include',
        );
        assert.deepEqual(batch[0].success.vault, bare(VAULT, ids.vault), JSON.stringify(batch));
        assert.deepEqual(batch[0].success.hidden, bare(item, hidden), JSON.stringify(batch));
      });

      test('GHSA-fcv6-fg5r-jm9q: include of an array of pointers includes only the readable entries', async () => {
        const item = unique('ListItem');
        const holder = unique('ListHolder');
        const hidden = await createMaster(item, { label: 'master only', ACL: {} });
        const mine = await createMaster(item, { label: 'alice only', ACL: { [alice.id]: { read: true } } });
        const open = await createMaster(item, { label: 'public', ACL: PUBLIC_READ });
        const list = [pointer(VAULT, ids.vault), pointer(item, hidden), pointer(item, mine), pointer(item, open)];
        const holderId = await createAs(as(eve), holder, { list, ACL: PUBLIC_READ });
        for (const [who, auth] of attackers()) {
          const row = assertOk(await request(`/classes/${holder}/${holderId}${query({ include: 'list' })}`, auth), `${who} include list`);
          assert.equal(row.list.length, 4, JSON.stringify(row));
          assert.deepEqual(row.list.slice(0, 3), list.slice(0, 3), `${who}: unreadable entries stay bare pointers, in place`);
          assert.equal(row.list[3].__type, 'Object');
          assert.equal(row.list[3].label, 'public');
        }
        const asAlice = assertOk(await request(`/classes/${holder}/${holderId}${query({ include: 'list' })}`, as(alice)), 'alice include list');
        assert.deepEqual(asAlice.list.slice(0, 2), list.slice(0, 2));
        assert.equal(asAlice.list[2].label, 'alice only');
        assert.equal(asAlice.list[3].label, 'public');
        const asMaster = assertOk(await request(`/classes/${holder}/${holderId}${query({ include: 'list' })}`, MASTER), 'master include list');
        assert.deepEqual(
          (asMaster.list as Json[]).map((entry) => entry.label),
          ['vault', 'master only', 'alice only', 'public'],
        );
      });

      test('GHSA-fcv6-fg5r-jm9q: pointers to server classes (_Session, _User, _Role, _PushStatus) stay bare under include', async () => {
        const holder = unique('SysHolder');
        const sessions = assertOk(await request('/sessions', as(alice)), "alice's sessions");
        const sessionId = sessions.results[0].objectId as string;
        const role = assertOk(await request('/roles', { method: 'POST', ...MASTER, body: { name: unique('Hidden'), ACL: {} } }), 'hidden role', 201);
        const holderId = await createAs(as(eve), holder, {
          session: pointer('_Session', sessionId),
          user: pointer('_User', alice.id),
          role: pointer('_Role', role.objectId),
          ACL: PUBLIC_READ,
        });
        const include = 'session,user,role';
        for (const [who, auth] of attackers()) {
          const row = assertOk(await request(`/classes/${holder}/${holderId}${query({ include })}`, auth), `${who} include`);
          assert.deepEqual(row.session, pointer('_Session', sessionId), `${who}: another user's session`);
          assert.deepEqual(row.user, pointer('_User', alice.id), `${who}: a private user`);
          assert.deepEqual(row.role, pointer('_Role', role.objectId), `${who}: a master-only role`);
          assert.doesNotMatch(JSON.stringify(row), /r:[0-9a-f]{32}|alice@example\.com|sessionToken/, `${who}: nothing leaked`);
        }
        // alice reads her own user row, email included (a user sees their own email).
        const own = assertOk(await request(`/classes/${holder}/${holderId}${query({ include: 'user' })}`, as(alice)), 'alice include user');
        assert.equal(own.user.__type, 'Object');
        assert.equal(own.user.email, 'alice@example.com');

        // The advisory's exact shape: a pointer to a master-only internal class. Storing it may be refused; if it is
        // stored, including it must leave it a pointer.
        const stored = await request(`/classes/${holder}`, { method: 'POST', ...as(eve), body: { push: pointer('_PushStatus', 'abc123'), ACL: PUBLIC_READ } });
        if (stored.status === 201) {
          const row = assertOk(await request(`/classes/${holder}/${stored.body.objectId as string}${query({ include: 'push' })}`, as(eve)), 'include push');
          assert.deepEqual(row.push, pointer('_PushStatus', 'abc123'));
        } else {
          assert.equal(stored.status, 400, JSON.stringify(stored.body));
          assert.equal(typeof stored.body.code, 'number', JSON.stringify(stored.body));
        }
      });

      test('GHSA-fcv6-fg5r-jm9q: included objects lose their protected fields (email of other users, class protectedFields)', async () => {
        for (const [who, auth] of attackers()) {
          const refs = (await find(REFERRER, { include: 'target', order: 'label' }, auth)).results as Json[];
          assert.equal(refs.length, 2, JSON.stringify(refs));
          for (const ref of refs) {
            const target = ref.target as Json;
            assert.equal(target.__type, 'Object', `${who}: ${JSON.stringify(ref)}`);
            assert.equal(typeof target.name, 'string');
            for (const field of ['secretText', 'secretObj', 'secretPtr']) assert.ok(!(field in target), `${who}: included ${field} leaked: ${JSON.stringify(target)}`);
          }
          const post = assertOk(await request(`/classes/${POST}/${ids.postByPub}${query({ include: 'author' })}`, auth), `${who} include author`);
          assert.equal(post.author.__type, 'Object', JSON.stringify(post));
          assert.equal(post.author.username, 'pub');
          assert.ok(!('email' in post.author), `${who}: included user's email leaked: ${JSON.stringify(post.author)}`);
          assert.ok(!('authData' in post.author), `${who}: authData leaked`);
        }
        const asMaster = assertOk(await request(`/classes/${POST}/${ids.postByPub}${query({ include: 'author' })}`, MASTER), 'master include');
        assert.equal(asMaster.author.email, 'pub@example.com');
        const asPub = assertOk(await request(`/classes/${POST}/${ids.postByPub}${query({ include: 'author' })}`, as(pub)), 'pub includes itself');
        assert.equal(asPub.author.email, 'pub@example.com', 'a user sees their own email when included');
      });

      test('GHSA-fcv6-fg5r-jm9q (same family): sub-queries run with the caller\'s permissions: a class it may not find is 119, unreadable rows match nothing', async () => {
        const item = unique('SubItem');
        const holder = unique('SubHolder');
        const hidden = await createMaster(item, { label: 'master only', ACL: {} });
        const open = await createMaster(item, { label: 'public', ACL: PUBLIC_READ });
        const holderId = await createAs(as(eve), holder, { vault: pointer(VAULT, ids.vault), hidden: pointer(item, hidden), label: 'vault', ACL: PUBLIC_READ });
        await createAs(as(eve), holder, { hidden: pointer(item, open), label: 'public', ACL: PUBLIC_READ });
        const denied = `Permission denied for action find on class ${VAULT}.`;
        const vaultQuery = { className: VAULT, where: { label: 'vault' } };
        const onVault: unknown[] = [
          { vault: { $inQuery: vaultQuery } },
          { vault: { $notInQuery: vaultQuery } },
          { label: { $select: { query: vaultQuery, key: 'label' } } },
          { label: { $dontSelect: { query: vaultQuery, key: 'label' } } },
          { $or: [{ label: 'x' }, { vault: { $inQuery: vaultQuery } }] },
        ];
        for (const where of onVault) {
          for (const [who, auth] of attackers()) {
            assertRefused(await request(`/classes/${holder}${query({ where })}`, auth), 119, denied, `${who} ${JSON.stringify(where)}`);
          }
        }
        // Rows of a readable class that the caller's ACL hides match nothing in a sub-query.
        const hiddenQuery = { className: item, where: { label: 'master only' } };
        for (const [who, auth] of attackers()) {
          assert.deepEqual((await find(holder, { where: { hidden: { $inQuery: hiddenQuery } } }, auth)).results, [], `${who} $inQuery`);
          assert.deepEqual((await find(holder, { where: { label: { $select: { query: { className: item, where: { label: 'master only' } }, key: 'label' } } } }, auth)).results, [], `${who} $select`);
          const notIn = (await find(holder, { where: { hidden: { $notInQuery: { className: item, where: {} } } } }, auth)).results as Json[];
          assert.deepEqual(
            notIn.map((row) => row.objectId),
            [holderId],
            `${who} $notInQuery: the hidden row is not among the readable ones`,
          );
        }
        const byMaster = (await find(holder, { where: { hidden: { $inQuery: hiddenQuery } } }, MASTER)).results as Json[];
        assert.deepEqual(
          byMaster.map((row) => row.objectId),
          [holderId],
        );
        const vaultByMaster = (await find(holder, { where: { vault: { $inQuery: vaultQuery } } }, MASTER)).results as Json[];
        assert.deepEqual(
          vaultByMaster.map((row) => row.objectId),
          [holderId],
        );
      });

      describe('GHSA-wmwx-jr2p-4j4r: $relatedTo', () => {
        let item: string;
        let ownerClass: string;
        const itemIds = { one: '', two: '', three: '' };
        let privateOwner: string;
        let publicOwner: string;
        before(async () => {
          item = unique('RelItem');
          ownerClass = unique('RelOwner');
          await defineClass(item, { label: { type: 'String' }, secret: { type: 'String' } }, { ...OPEN_CLP, protectedFields: { '*': ['secret'] } });
          await defineClass(ownerClass, { title: { type: 'String' }, items: { type: 'Relation', targetClass: item } });
          itemIds.one = await createMaster(item, { label: 'one', secret: 's-one', ACL: PUBLIC_READ });
          itemIds.two = await createMaster(item, { label: 'two', secret: 's-two', ACL: PUBLIC_READ });
          itemIds.three = await createMaster(item, { label: 'three', secret: 's-three', ACL: {} });
          const relate = (keys: (keyof typeof itemIds)[]) => ({ __op: 'AddRelation', objects: keys.map((key) => pointer(item, itemIds[key])) });
          privateOwner = await createMaster(ownerClass, { title: 'private', items: relate(['one', 'two', 'three']), ACL: { [alice.id]: { read: true, write: true } } });
          publicOwner = await createMaster(ownerClass, { title: 'public', items: relate(['one', 'three']), ACL: PUBLIC_READ });
        });

        const relatedTo = (ownerId: string) => ({ $relatedTo: { object: pointer(ownerClass, ownerId), key: 'items' } });

        test('GHSA-wmwx-jr2p-4j4r: $relatedTo an owner the caller cannot read lists nothing and counts nothing', async () => {
          for (const [who, auth] of attackers()) {
            const listed = await find(item, { where: relatedTo(privateOwner) }, auth);
            assert.deepEqual(listed.results, [], `${who}: ${JSON.stringify(listed)}`);
            const counted = await find(item, { where: relatedTo(privateOwner), count: 1, limit: 0 }, auth);
            assert.equal(counted.count, 0, `${who}: ${JSON.stringify(counted)}`);
            const combined = await find(item, { where: { ...relatedTo(privateOwner), label: 'one' } }, auth);
            assert.deepEqual(combined.results, [], `${who}: combined with another condition`);
          }
          // The relation itself is intact, and its owner (alice) enumerates the members she may read.
          assert.deepEqual(await relatedIds(item, pointer(ownerClass, privateOwner), 'items'), [itemIds.one, itemIds.two, itemIds.three].sort());
          const asAlice = (await find(item, { where: relatedTo(privateOwner), order: 'label' }, as(alice))).results as Json[];
          assert.deepEqual(
            asAlice.map((row) => row.label),
            ['one', 'two'],
          );
        });

        test('GHSA-wmwx-jr2p-4j4r: $relatedTo a readable owner returns only readable members, without protected fields', async () => {
          for (const [who, auth] of [...attackers(), ['alice', as(alice)] as [string, RequestOptions]]) {
            const rows = (await find(item, { where: relatedTo(publicOwner), order: 'label' }, auth)).results as Json[];
            assert.deepEqual(
              rows.map((row) => row.label),
              ['one'],
              `${who}: ${JSON.stringify(rows)}`,
            );
            for (const row of rows) assert.ok(!('secret' in row), `${who}: protected field leaked: ${JSON.stringify(row)}`);
          }
          const asMaster = (await find(item, { where: relatedTo(publicOwner), order: 'label' }, MASTER)).results as Json[];
          assert.deepEqual(
            asMaster.map((row) => [row.label, row.secret]),
            [
              ['one', 's-one'],
              ['three', 's-three'],
            ],
          );
        });
      });
    });

    // ───────────────────────────── §7.5 protectedFields / sensitive data ─────────────────────────────

    describe('§7.5 protected fields', () => {
      /** Every `where` must be refused with the protected-field 119 for both attackers, on every path given. */
      async function assertOracleRefused(paths: string[], wheres: unknown[], field: string, className: string): Promise<void> {
        for (const path of paths) {
          for (const where of wheres) {
            for (const [who, auth] of attackers()) {
              for (const extra of [{}, { count: 1, limit: 0 }]) {
                const label = `${who} ${path} where=${JSON.stringify(where)} ${JSON.stringify(extra)}`;
                assertRefused(await request(`${path}${query({ where, ...extra })}`, auth), 119, notQueryable(field, className), label);
              }
            }
          }
        }
      }

      const EMAIL_ORACLES = [
        { email: { $regex: '^a' } },
        { email: { $regex: '^A', $options: 'i' } },
        { email: 'alice@example.com' },
        { email: { $eq: 'alice@example.com' } },
        { email: { $ne: null } },
        { email: { $exists: true } },
        { email: { $in: ['alice@example.com', 'bob@example.com'] } },
        { email: { $nin: ['x@example.com'] } },
        { email: { $gt: 'a' } },
        { username: 'alice', email: { $regex: 'example' } },
      ];

      test('GHSA-2m6g-crv8-p3c6: _User email oracle (where email $regex/equality/$exists/...) is refused for a regular user and anonymous', async () => {
        await assertOracleRefused(['/users', '/classes/_User'], EMAIL_ORACLES, 'email', '_User');
        // order and keys name the field too.
        for (const params of [{ order: 'email' }, { order: '-email' }, { order: 'username,email' }, { keys: 'email' }, { keys: 'username,email' }]) {
          for (const [who, auth] of attackers()) {
            assertRefused(await request(`/users${query(params)}`, auth), 119, EMAIL_NOT_QUERYABLE, `${who} ${JSON.stringify(params)}`);
          }
        }
        // The master key may query email.
        const found = await find('_User', { where: { email: { $regex: '^alice@' } } }, MASTER);
        assert.deepEqual(
          (found.results as Json[]).map((row) => [row.objectId, row.email]),
          [[alice.id, 'alice@example.com']],
        );
      });

      test('GHSA-2m6g-crv8-p3c6: internal _User columns cannot be queried at all (105)', async () => {
        for (const key of ['_hashed_password', '_perishable_token', '_email_verify_token', '_failed_login_count', '_session_token']) {
          for (const [who, auth] of attackers()) {
            assertRefused(await request(`/users${query({ where: { [key]: { $exists: true } } })}`, auth), 105, `Invalid key name: ${key}`, `${who} where ${key}`);
            assertRefused(await request(`/users${query({ where: { $or: [{ [key]: { $regex: '^\\$' } }] } })}`, auth), 105, `Invalid key name: ${key}`, `${who} $or ${key}`);
          }
        }
      });

      test('GHSA-2m6g-crv8-p3c6: other users never see an email; a user still sees their own (/users/me, get, find)', async () => {
        for (const [who, auth] of attackers()) {
          const got = assertOk(await request(`/users/${pub.id}`, auth), `${who} get pub`);
          assert.equal(got.username, 'pub');
          assert.ok(!('email' in got), `${who}: ${JSON.stringify(got)}`);
          const listed = (await find('_User', { where: { username: 'pub' } }, auth)).results as Json[];
          assert.equal(listed.length, 1, `${who}: a query on a non-protected field still works`);
          assert.ok(!('email' in (listed[0] as Json)), `${who}: ${JSON.stringify(listed)}`);
          assertRefused(await request(`/users/${alice.id}`, auth), 101, OBJECT_NOT_FOUND, `${who}: a private user is not found`);
          const all = JSON.stringify((await find('_User', { limit: 1000 }, auth)).results);
          assert.doesNotMatch(all, /alice@example\.com|pub@example\.com/, `${who}: no other user's email in a plain find`);
        }
        const me = assertOk(await request('/users/me', as(alice)), 'alice /users/me');
        assert.equal(me.email, 'alice@example.com');
        assert.equal(me.objectId, alice.id);
        const ownGet = assertOk(await request(`/users/${alice.id}`, as(alice)), 'alice get self');
        assert.equal(ownGet.email, 'alice@example.com');
        const ownFind = (await find('_User', { where: { username: 'alice' } }, as(alice))).results as Json[];
        assert.equal(ownFind[0]?.email, 'alice@example.com');
        const pubMe = assertOk(await request('/users/me', as(pub)), 'pub /users/me');
        assert.equal(pubMe.email, 'pub@example.com');
        const master = assertOk(await request(`/users/${pub.id}`, MASTER), 'master get pub');
        assert.equal(master.email, 'pub@example.com');
      });

      test('GHSA-72hp-qff8-4pvv: protected email guessed through $or/$and/$nor is refused', async () => {
        const wheres = [
          { $or: [{ email: { $regex: '^a' } }, { username: 'nobody' }] },
          { $or: [{ username: 'nobody' }, { email: 'alice@example.com' }] },
          { $and: [{ email: { $regex: '^a' } }, { username: { $exists: true } }] },
          { $nor: [{ email: { $regex: '^a' } }] },
          { $nor: [{ username: 'x' }, { email: { $exists: false } }] },
          { username: { $exists: true }, $or: [{ email: { $regex: '^alice' } }] },
          { $or: [{ $and: [{ $nor: [{ email: 'alice@example.com' }] }] }] },
          { $and: [{ $or: [{ username: 'x' }, { $and: [{ email: { $gt: 'a' } }] }] }] },
        ];
        await assertOracleRefused(['/users', '/classes/_User'], wheres, 'email', '_User');
      });

      test('GHSA-72hp-qff8-4pvv: protected email guessed inside $inQuery/$notInQuery/$select/$dontSelect sub-queries is refused', async () => {
        const users = { className: '_User', where: { email: { $regex: '^alice' } } };
        const wheres = [
          { author: { $inQuery: users } },
          { author: { $notInQuery: users } },
          { title: { $select: { query: users, key: 'username' } } },
          { title: { $dontSelect: { query: users, key: 'username' } } },
          { $or: [{ title: 'x' }, { author: { $inQuery: { className: '_User', where: { $or: [{ email: 'alice@example.com' }] } } } }] },
          // The selected key is compared with this class's values: a $select on email is an oracle as well.
          { title: { $select: { query: { className: '_User', where: {} }, key: 'email' } } },
        ];
        await assertOracleRefused([`/classes/${POST}`], wheres, 'email', '_User');
        // The same sub-queries through the master key work (the post's title is alice's email).
        const byMaster = await find(POST, { where: { title: { $select: { query: { className: '_User', where: {} }, key: 'email' } } } }, MASTER);
        assert.deepEqual(
          (byMaster.results as Json[]).map((row) => row.objectId),
          [ids.postByAlice],
        );
        const inQuery = await find(POST, { where: { author: { $inQuery: users } } }, MASTER);
        assert.deepEqual(
          (inQuery.results as Json[]).map((row) => row.objectId),
          [ids.postByAlice],
        );
      });

      test('GHSA-r2m8-pxm9-9c4g: protected fields in where, with dot notation at any depth and inside $or/$and/$nor, are refused', async () => {
        const path = `/classes/${SECRET}`;
        await assertOracleRefused([path], [{ secretText: 'sesame' }, { secretText: { $regex: '^s' } }, { secretText: { $exists: true } }], 'secretText', SECRET);
        await assertOracleRefused([path], [{ secretPtr: pointer(VAULT, ids.vault) }, { secretPtr: { $exists: false } }], 'secretPtr', SECRET);
        const objectOracles = [
          { secretObj: { $exists: true } },
          { 'secretObj.apiKey': 'k-alpha' },
          { 'secretObj.apiKey': { $regex: '^k-a' } },
          { 'secretObj.score': { $gt: 5 } },
          { 'secretObj.a.b.c.d': 'deep' },
          { 'secretObj.a.b.c': { $exists: true } },
          { $or: [{ 'secretObj.apiKey': 'k-alpha' }, { name: 'nobody' }] },
          { $and: [{ name: 'alpha' }, { 'secretObj.a.b.c.d': 'deep' }] },
          { $nor: [{ 'secretObj.apiKey': { $regex: '^k' } }] },
          { $or: [{ $and: [{ $nor: [{ 'secretObj.a.b': { $exists: false } }] }] }] },
          { name: 'alpha', $or: [{ secretObj: { $exists: true } }] },
        ];
        await assertOracleRefused([path], objectOracles, 'secretObj', SECRET);
      });

      test('GHSA-r2m8-pxm9-9c4g: order by a protected field (secret, -secret, secret.x) is refused', async () => {
        const orders: [string, string][] = [
          ['secretObj', 'secretObj'],
          ['-secretObj', 'secretObj'],
          ['secretObj.score', 'secretObj'],
          ['-secretObj.score', 'secretObj'],
          ['secretObj.a.b.c.d', 'secretObj'],
          ['name,secretObj.score', 'secretObj'],
          ['-score,-secretText', 'secretText'],
          ['secretText', 'secretText'],
          ['secretPtr', 'secretPtr'],
        ];
        for (const [order, field] of orders) {
          for (const [who, auth] of attackers()) {
            for (const extra of [{}, { where: { name: { $exists: true } } }, { count: 1 }]) {
              assertRefused(await request(`/classes/${SECRET}${query({ order, ...extra })}`, auth), 119, notQueryable(field, SECRET), `${who} order=${order} ${JSON.stringify(extra)}`);
            }
          }
        }
      });

      test('GHSA-r2m8-pxm9-9c4g: keys and include naming a protected field are refused', async () => {
        const shapes: [Json, string][] = [
          [{ keys: 'secretText' }, 'secretText'],
          [{ keys: 'name,secretObj' }, 'secretObj'],
          [{ keys: 'secretObj.apiKey' }, 'secretObj'],
          [{ include: 'secretPtr' }, 'secretPtr'],
          [{ include: 'secretPtr', keys: 'name' }, 'secretPtr'],
          [{ include: 'secretPtr.label' }, 'secretPtr'],
        ];
        for (const [params, field] of shapes) {
          for (const [who, auth] of attackers()) {
            assertRefused(await request(`/classes/${SECRET}${query(params)}`, auth), 119, notQueryable(field, SECRET), `${who} find ${JSON.stringify(params)}`);
            assertRefused(await request(`/classes/${SECRET}/${ids.alpha}${query(params)}`, auth), 119, notQueryable(field, SECRET), `${who} get ${JSON.stringify(params)}`);
          }
        }
        // An include path that reaches a protected pointer of an *included* class: the contract does not say
        // whether this is refused (119 on that class) or the included objects simply come without the field.
        // Either way nothing of the protected pointer may come back.
        for (const [who, auth] of attackers()) {
          const nested = await request(`/classes/${REFERRER}${query({ include: 'target.secretPtr' })}`, auth);
          if (nested.status === 200) {
            for (const row of nested.body.results as Json[]) assert.ok(!('secretPtr' in (row.target as Json)), `${who}: ${JSON.stringify(row)}`);
            assert.doesNotMatch(JSON.stringify(nested.body), /"label":"vault"/);
          } else {
            assertRefused(nested, 119, notQueryable('secretPtr', SECRET), `${who} include target.secretPtr`);
          }
        }
      });

      test('GHSA-r2m8-pxm9-9c4g: protected fields inside $inQuery/$notInQuery/$select/$dontSelect sub-query wheres are refused', async () => {
        const sub = (where: Json) => ({ className: SECRET, where });
        const wheres: [unknown, string][] = [
          [{ target: { $inQuery: sub({ secretText: { $regex: '^s' } }) } }, 'secretText'],
          [{ target: { $notInQuery: sub({ 'secretObj.apiKey': 'k-alpha' }) } }, 'secretObj'],
          [{ target: { $inQuery: sub({ $or: [{ name: 'x' }, { 'secretObj.a.b.c.d': 'deep' }] }) } }, 'secretObj'],
          [{ label: { $select: { query: sub({ secretText: 'sesame' }), key: 'name' } } }, 'secretText'],
          [{ label: { $dontSelect: { query: sub({ secretObj: { $exists: true } }), key: 'name' } } }, 'secretObj'],
          [{ $or: [{ label: 'x' }, { target: { $inQuery: sub({ $nor: [{ secretText: 'x' }] }) } }] }, 'secretText'],
          // Selecting the protected field itself compares its values with this class's: the same oracle.
          [{ label: { $select: { query: sub({}), key: 'secretText' } } }, 'secretText'],
          [{ label: { $dontSelect: { query: sub({}), key: 'secretText' } } }, 'secretText'],
        ];
        for (const [where, field] of wheres) {
          await assertOracleRefused([`/classes/${REFERRER}`], [where], field, SECRET);
        }
        // With the master key the $select on the secret finds the referrer whose label is a secret.
        const leak = await find(REFERRER, { where: { label: { $select: { query: sub({}), key: 'secretText' } } } }, MASTER);
        assert.deepEqual(
          (leak.results as Json[]).map((row) => row.objectId),
          [ids.refSesame],
        );
      });

      test('GHSA-r2m8-pxm9-9c4g: a protected-field query in a /batch sub-request is refused in its slot', async () => {
        const batch = assertOk(
          await request('/batch', {
            method: 'POST',
            ...as(eve),
            body: {
              requests: [
                { method: 'GET', path: `/parse/classes/${SECRET}`, body: { where: { 'secretObj.apiKey': 'k-alpha' } } },
                { method: 'GET', path: '/parse/users', body: { where: { $or: [{ email: { $regex: '^a' } }] } } },
                { method: 'GET', path: `/parse/classes/${SECRET}`, body: { order: '-secretText' } },
                { method: 'GET', path: `/parse/classes/${SECRET}`, body: { where: { name: 'alpha' } } },
              ],
            },
          }),
          'batch',
        );
        const shown = JSON.stringify(batch);
        assert.equal(batch.length, 4, shown);
        assert.equal(batch[0].error?.code, 119, shown);
        assert.match(batch[0].error.error, notQueryable('secretObj', SECRET), shown);
        assert.deepEqual(batch[1].error, { code: 119, error: EMAIL_NOT_QUERYABLE }, shown);
        assert.equal(batch[2].error?.code, 119, shown);
        for (const slot of batch.slice(0, 3)) assert.ok(!('success' in slot), shown);
        assert.equal(batch[3].success?.results?.length, 1, shown);
        assert.doesNotMatch(shown, /sesame|k-alpha|alice@example\.com/, 'nothing protected in the batch answer');
      });

      test('GHSA-r2m8-pxm9-9c4g: the master key may still query, sort, select and include protected fields', async () => {
        const byDot = await find(SECRET, { where: { 'secretObj.apiKey': 'k-alpha' } }, MASTER);
        assert.deepEqual(
          (byDot.results as Json[]).map((row) => row.objectId),
          [ids.alpha],
        );
        assert.equal((byDot.results[0] as Json & { secretObj: Json }).secretObj.apiKey, 'k-alpha');
        const deep = await find(SECRET, { where: { $or: [{ 'secretObj.a.b.c.d': 'deep' }, { name: 'nobody' }] } }, MASTER);
        assert.deepEqual(
          (deep.results as Json[]).map((row) => row.name),
          ['alpha'],
        );
        const nor = await find(SECRET, { where: { $nor: [{ secretText: 'sesame' }] } }, MASTER);
        assert.deepEqual(
          (nor.results as Json[]).map((row) => row.name),
          ['beta'],
        );
        const sorted = await find(SECRET, { order: '-secretObj.score' }, MASTER);
        assert.deepEqual(
          (sorted.results as Json[]).map((row) => row.name),
          ['beta', 'alpha'],
        );
        const byText = await find(SECRET, { order: 'secretText', keys: 'name,secretText' }, MASTER);
        assert.deepEqual(
          (byText.results as Json[]).map((row) => [row.name, row.secretText]),
          [
            ['beta', 'open'],
            ['alpha', 'sesame'],
          ],
        );
        const included = await find(SECRET, { where: { name: 'alpha' }, include: 'secretPtr' }, MASTER);
        assert.equal((included.results[0] as Json & { secretPtr: Json }).secretPtr.label, 'vault');
        const inQuery = await find(REFERRER, { where: { target: { $inQuery: { className: SECRET, where: { secretText: 'sesame' } } } } }, MASTER);
        assert.deepEqual(
          (inQuery.results as Json[]).map((row) => row.objectId),
          [ids.refAlpha],
        );
        const counted = await find(SECRET, { where: { secretText: { $regex: '^s' } }, count: 1, limit: 0 }, MASTER);
        assert.equal(counted.count, 1);
      });

      test('GHSA-r2m8-pxm9-9c4g: non-protected queries still work and their results omit the protected fields', async () => {
        const queries: Json[] = [
          {},
          { where: { name: 'alpha' } },
          { where: { $or: [{ name: 'alpha' }, { score: 2 }] } },
          { order: '-score' },
          { keys: 'name,score' },
          { where: { score: { $gte: 1 } }, order: 'name', count: 1 },
          { excludeKeys: 'score' },
        ];
        for (const [who, auth] of attackers()) {
          for (const params of queries) {
            const body = await find(SECRET, params, auth);
            const rows = body.results as Json[];
            assert.ok(rows.length >= 1, `${who} ${JSON.stringify(params)}: ${JSON.stringify(body)}`);
            for (const row of rows) {
              assert.equal(typeof row.name, 'string', `${who} ${JSON.stringify(params)}`);
              for (const field of ['secretText', 'secretObj', 'secretPtr']) assert.ok(!(field in row), `${who} ${JSON.stringify(params)}: ${field} in ${JSON.stringify(row)}`);
            }
          }
          const sorted = await find(SECRET, { order: '-score' }, auth);
          assert.deepEqual(
            (sorted.results as Json[]).map((row) => row.name),
            ['beta', 'alpha'],
          );
          const got = assertOk(await request(`/classes/${SECRET}/${ids.alpha}`, auth), `${who} get`);
          assert.deepEqual(Object.keys(got).sort(), ['ACL', 'createdAt', 'name', 'objectId', 'score', 'updatedAt'], `${who}: ${JSON.stringify(got)}`);
          const counted = await find(SECRET, { where: { name: 'alpha' }, count: 1, limit: 0 }, auth);
          assert.equal(counted.count, 1);
          // A sub-query on non-protected fields of the protected class is fine too.
          const inQuery = await find(REFERRER, { where: { target: { $inQuery: { className: SECRET, where: { name: 'beta' } } } } }, auth);
          assert.deepEqual(
            (inQuery.results as Json[]).map((row) => row.objectId),
            [ids.refSesame],
          );
          // (The referrer's own label is public; nothing of the Secretive rows may appear.)
          assert.doesNotMatch(JSON.stringify(inQuery), /k-alpha|k-beta|secretText|secretObj|secretPtr/);
        }
      });
    });

    // Last, because these tests change the _User CLP of the shared server (it is left public again afterwards).
    describe('§7.4 sign-up and the _User create CLP', () => {
      const at = request;
      const userClp = (create: Json): Promise<HttpResult> =>
        at('/schemas/_User', { method: 'PUT', ...MASTER, body: { classLevelPermissions: { ...OPEN_CLP, create } } });
      const DENIED = 'Permission denied for action create on class _User.';
      async function usernames(): Promise<string[]> {
        const body = assertOk(await at(`/users${query({ order: 'username', limit: 1000, keys: 'username' })}`, MASTER), 'list users');
        return (body.results as Json[]).map((row) => row.username as string);
      }

      before(async () => {
        assertOk(await at('/users', { method: 'POST', body: { username: 'taken', password: 'taken-pw', email: 'taken@example.com' } }), 'sign up taken', 201);
      });
      after(async () => {
        // Clean-up only (the tests assert their own CLP changes): leave sign-up public again.
        await userClp(OPEN);
      });

      test('GHSA-4m9m-p9j9-5hjw: 202/203 are answered only when create is allowed', async () => {
        // With no CLP stored for _User (the default: public create) ...
        assertRefused(await at('/users', { method: 'POST', body: { username: 'taken', password: 'x' } }), 202, 'Account already exists for this username.', 'default: taken username');
        assertRefused(
          await at('/users', { method: 'POST', body: { username: 'other-name', password: 'x', email: 'taken@example.com' } }),
          203,
          'Account already exists for this email address.',
          'default: taken email',
        );
        // ... and with create:{"*":true} set explicitly.
        assertOk(await userClp(OPEN), 'set create:{*}');
        assertRefused(await at('/users', { method: 'POST', body: { username: 'taken', password: 'x' } }), 202, 'Account already exists for this username.', 'taken username');
        assertRefused(
          await at('/users', { method: 'POST', body: { username: 'other-name', password: 'x', email: 'taken@example.com' } }),
          203,
          'Account already exists for this email address.',
          'taken email',
        );
        assertRefused(await at('/classes/_User', { method: 'POST', body: { username: 'taken', password: 'x' } }), 202, undefined, '/classes/_User taken username');
        assertOk(await at('/users', { method: 'POST', body: { username: 'allowed-now', password: 'x' } }), 'fresh sign-up', 201);
      });

      test('GHSA-4m9m-p9j9-5hjw: with _User CLP create:{} a taken username and a fresh one both get 119 (no 202/203 oracle)', async () => {
        assertOk(await userClp({}), 'set create:{}');
        const before = await usernames();
        const bodies: [string, Json][] = [
          ['taken username', { username: 'taken', password: 'x' }],
          ['fresh username', { username: 'fresh-user', password: 'x' }],
          ['taken email', { username: 'fresh-user-2', password: 'x', email: 'taken@example.com' }],
          ['taken email, other case', { username: 'fresh-user-3', password: 'x', email: 'TAKEN@example.com' }],
          ['taken username and email', { username: 'taken', password: 'x', email: 'taken@example.com' }],
        ];
        const answers: unknown[] = [];
        for (const path of ['/users', '/classes/_User']) {
          for (const [shape, body] of bodies) {
            const result = await at(path, { method: 'POST', body });
            assertRefused(result, 119, DENIED, `anonymous ${path} ${shape}`);
            answers.push(result.body);
          }
        }
        // Every answer is byte-for-byte the same: nothing distinguishes an existing account.
        for (const answer of answers) assert.deepEqual(answer, { code: 119, error: DENIED });
        // A logged-in user is no exception (create:{} is master only).
        const login = assertOk(await at('/login', { method: 'POST', body: { username: 'taken', password: 'taken-pw' } }), 'login still works');
        assertRefused(
          await at('/users', { method: 'POST', headers: { 'X-Parse-Session-Token': login.sessionToken }, body: { username: 'taken', password: 'x' } }),
          119,
          DENIED,
          'logged-in user, taken username',
        );
        assert.deepEqual(await usernames(), before, 'no user was created');
        // The master key still creates users.
        assertOk(await at('/users', { method: 'POST', ...MASTER, body: { username: 'by-master', password: 'x' } }), 'master sign-up', 201);
      });

      test('9.6.0-alpha.51 (PR #10268): sign-up field validation does not run before the create CLP', async () => {
        assertOk(await userClp({}), 'set create:{}');
        const before = await usernames();
        const invalid: [string, Json][] = [
          ['no username', { password: 'x' }],
          ['no password', { username: 'taken' }],
          ['empty username', { username: '', password: 'x' }],
          ['bad email', { username: 'u-bad-email', password: 'x', email: 'not-an-email' }],
          ['non-string email', { username: 'u-num-email', password: 'x', email: 42 }],
          ['emailVerified', { username: 'u-verified', password: 'x', emailVerified: true }],
          ['empty body', {}],
        ];
        for (const [shape, body] of invalid) {
          assertRefused(await at('/users', { method: 'POST', body }), 119, DENIED, `/users ${shape}`);
          assertRefused(await at('/classes/_User', { method: 'POST', body }), 119, DENIED, `/classes/_User ${shape}`);
        }
        // requiresAuthentication is also decided first: an anonymous sign-up gets its 101, never 202.
        assertOk(await userClp({ requiresAuthentication: true }), 'set create:{requiresAuthentication}');
        for (const body of [{ username: 'taken', password: 'x' }, { username: 'fresh-auth', password: 'x' }]) {
          assertRefused(await at('/users', { method: 'POST', body }), 101, 'Permission denied, user needs to be authenticated.', `requiresAuthentication ${body.username}`);
        }
        assert.deepEqual(await usernames(), before, 'no user was created');
      });

    });
  });
}
