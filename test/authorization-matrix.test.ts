/**
 * The authorization matrix of issue #4: every operation × caller × rule shape, over HTTP, on each engine.
 *
 * Nothing here is written by hand per combination. A small model of the contract (principals with inherited
 * roles, ACL, class-level permissions, requiresAuthentication, pointer permissions, protected fields) turns
 * `expected(op, caller, shape)` into an outcome, and one runner per operation checks that outcome exactly:
 * HTTP status + Parse code + message where the contract fixes it, the result set where it is allowed, and —
 * for every write — the rows as the master key re-reads them afterwards (a denied write changed nothing).
 *
 * The model is symbolic (user names, not ids) so that test names, which carry the expected outcome, are known
 * before the server starts; ids are substituted when requests are sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query, type HttpResult, type RequestOptions } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const READ_ONLY_KEY = 'read-only-master-key-for-the-authz-matrix';

// ---------------------------------------------------------------------------------------------------------
// The model: callers and roles
// ---------------------------------------------------------------------------------------------------------

const USERS = ['owner', 'other', 'roleMember'] as const;
type UserName = (typeof USERS)[number];
const CALLERS = ['anonymous', ...USERS, 'master', 'readOnlyMaster'] as const;
type CallerName = (typeof CALLERS)[number];

const CALLER_LABEL: Record<CallerName, string> = {
  anonymous: 'anonymous',
  owner: 'owner user',
  other: 'other user',
  roleMember: 'role member (Moderators, inherits Admins)',
  master: 'master key',
  readOnlyMaster: 'read-only master key',
};

/**
 * The role graph, as created on the server: `roles` lists the *child* roles whose members inherit the role.
 * The role member is only in Moderators.users, so it holds Admins by inheritance alone. Listed in creation
 * order (a child before the role that names it).
 */
const ROLES: readonly { name: string; users: readonly UserName[]; roles: readonly string[] }[] = [
  { name: 'Moderators', users: ['roleMember'], roles: [] },
  { name: 'Admins', users: [], roles: ['Moderators'] },
];

function isMasterCaller(caller: CallerName): caller is 'master' | 'readOnlyMaster' {
  return caller === 'master' || caller === 'readOnlyMaster';
}

/** Every role a user holds: directly through `users`, or through a held role listed in another's `roles`. */
function heldRoles(user: UserName): string[] {
  const held = new Set(ROLES.filter((role) => role.users.includes(user)).map((role) => role.name));
  for (let grew = true; grew; ) {
    grew = false;
    for (const role of ROLES) {
      if (!held.has(role.name) && role.roles.some((child) => held.has(child))) {
        held.add(role.name);
        grew = true;
      }
    }
  }
  return [...held].sort();
}

/** The ACL/CLP principals of a non-master caller: `*`, its own user and every role it holds. */
function principals(caller: Exclude<CallerName, 'master' | 'readOnlyMaster'>): string[] {
  if (caller === 'anonymous') return ['*'];
  return ['*', caller, ...heldRoles(caller).map((role) => `role:${role}`)];
}

// ---------------------------------------------------------------------------------------------------------
// The model: rule shapes
// ---------------------------------------------------------------------------------------------------------

/** ACL keys are `*`, `role:Name` or a symbolic user name (replaced by the user's id when sent). */
type Acl = Record<string, { read?: true; write?: true }>;
type ClpOp = 'find' | 'get' | 'count' | 'create' | 'update' | 'delete';
/** `{ '*': true, 'role:X': true, requiresAuthentication: true, pointerFields: [...] }` */
type OpPermissions = Record<string, true | string[]>;
type Clp = Partial<Record<ClpOp | 'addField', OpPermissions>> & {
  readUserFields?: string[];
  writeUserFields?: string[];
  protectedFields?: Record<string, string[]>;
};

interface Shape {
  readonly key: string;
  readonly title: string;
  readonly className: string;
  /** Set with PUT /schemas after the class is created; undefined = no CLP ever set. */
  readonly clp: Clp | undefined;
  /** The ACL of a row owned by `owner` (the row's `owner` pointer field also points at that user). */
  readonly acl: (owner: UserName) => Acl;
}

const publicAcl = (): Acl => ({ '*': { read: true, write: true } });
const everyOp = (entry: OpPermissions): Clp => ({ find: entry, get: entry, count: entry, create: entry, update: entry, delete: entry, addField: entry });

const SHAPES: readonly Shape[] = [
  { key: 'public', title: 'public (no CLP, public ACL)', className: 'MxPublic', clp: undefined, acl: publicAcl },
  {
    key: 'private',
    title: 'private ACL (owner only)',
    className: 'MxPrivate',
    clp: undefined,
    acl: (owner) => ({ [owner]: { read: true, write: true } }),
  },
  { key: 'role', title: 'role ACL (role:Admins)', className: 'MxRole', clp: undefined, acl: () => ({ 'role:Admins': { read: true, write: true } }) },
  { key: 'clp', title: 'CLP-restricted class (every op for role:Admins only)', className: 'MxClp', clp: everyOp({ 'role:Admins': true }), acl: publicAcl },
  {
    key: 'pointer',
    title: "pointer permissions (readUserFields/writeUserFields ['owner']; find/get/count {}, create/update/delete not named)",
    className: 'MxPointer',
    // create/update/delete are left out on purpose: once a CLP is set, an operation it does not name is {}.
    clp: { find: {}, get: {}, count: {}, addField: {}, readUserFields: ['owner'], writeUserFields: ['owner'] },
    acl: publicAcl,
  },
  { key: 'auth', title: 'requiresAuthentication on every op', className: 'MxAuth', clp: everyOp({ requiresAuthentication: true }), acl: publicAcl },
  {
    key: 'protected',
    title: "protected field (secret: hidden from '*', shown to role:Admins and userField:owner)",
    className: 'MxProtected',
    clp: { ...everyOp({ '*': true }), protectedFields: { '*': ['secret'], 'role:Admins': [], 'userField:owner': [] } },
    acl: publicAcl,
  },
];

/** The fixture rows of every shape's class; `A` (the owner's) is the one get/include/batch read. */
interface Row {
  readonly label: string;
  readonly owner: UserName;
}
const FIXTURE_ROWS: readonly Row[] = [
  { label: 'A', owner: 'owner' },
  { label: 'B', owner: 'other' },
];
const TARGET: Row = FIXTURE_ROWS[0] as Row;
/** Rows that update/delete/batch tests create (with the master key) and then try to change. */
const SCRATCH: Row = { label: 'scratch', owner: 'owner' };

const FIELDS = {
  owner: { type: 'Pointer', targetClass: '_User' },
  label: { type: 'String' },
  group: { type: 'String' },
  secret: { type: 'String' },
  n: { type: 'Number' },
};
const HOLDER_CLASS = 'MxHolder';
const holderField = (shape: Shape): string => `to${shape.className}`;

// ---------------------------------------------------------------------------------------------------------
// The model: outcomes
// ---------------------------------------------------------------------------------------------------------

const OPS = ['get', 'find', 'count', 'create', 'update', 'delete', 'include', 'batch', 'batchTransaction'] as const;
type Op = (typeof OPS)[number];

const OP_LABEL: Record<Op, string> = {
  get: 'get',
  find: 'find',
  count: 'count',
  create: 'create',
  update: 'update',
  delete: 'delete',
  include: 'include through pointer',
  batch: 'batch [get, create, update, delete]',
  batchTransaction: 'transactional batch [create, update, delete]',
};

interface Denied {
  readonly kind: 'denied';
  readonly code: number;
  readonly status: number;
  /** The exact message, when the contract fixes it. */
  readonly error: string | undefined;
}
type Outcome =
  | Denied
  | { readonly kind: 'object'; readonly label: string; readonly hidden: readonly string[] }
  | { readonly kind: 'rows'; readonly rows: readonly { label: string; hidden: readonly string[] }[] }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'written' }
  | { readonly kind: 'included'; readonly hidden: readonly string[] }
  | { readonly kind: 'pointer' }
  | { readonly kind: 'batch'; readonly slots: readonly { op: 'get' | 'create' | 'update' | 'delete'; outcome: Outcome }[] };

const denied = (code: number, error: string | undefined): Denied => ({ kind: 'denied', code, status: code === 101 ? 404 : 400, error });
const NOT_FOUND = denied(101, 'Object not found.');

/** Class-level decision: denied, every row (subject to ACL), or only rows whose pointer fields hold the caller. */
type ClassAccess = Denied | { readonly kind: 'granted'; readonly pointerFields: readonly string[] | undefined };

function classAccess(shape: Shape, op: ClpOp, caller: CallerName): ClassAccess {
  const isWrite = op === 'create' || op === 'update' || op === 'delete';
  if (caller === 'master') return { kind: 'granted', pointerFields: undefined };
  // Read-only master: bypasses CLP/ACL/pointer permissions for reads; every write is 119 (message not fixed).
  if (caller === 'readOnlyMaster') return isWrite ? denied(119, undefined) : { kind: 'granted', pointerFields: undefined };
  const clp = shape.clp;
  if (clp === undefined) return { kind: 'granted', pointerFields: undefined };
  // Once a CLP is set, an operation it does not name is {} (master only).
  const permissions = clp[op] ?? {};
  if (principals(caller).some((principal) => permissions[principal] === true)) return { kind: 'granted', pointerFields: undefined };
  if (permissions.requiresAuthentication === true) {
    return caller === 'anonymous' ? denied(101, 'Permission denied, user needs to be authenticated.') : { kind: 'granted', pointerFields: undefined };
  }
  const own = permissions.pointerFields;
  const group = isWrite ? clp.writeUserFields : clp.readUserFields;
  const pointerFields = [...(Array.isArray(own) ? own : []), ...(group ?? [])];
  // Pointer permissions restrict rows; they never grant a create.
  if (pointerFields.length > 0 && op !== 'create') return { kind: 'granted', pointerFields };
  return denied(119, `Permission denied for action ${op} on class ${shape.className}.`);
}

/** Whether the caller reaches one row: its ACL, and the pointer-permission restriction when there is one. */
function reachesRow(shape: Shape, caller: CallerName, row: Row, mode: 'read' | 'write', access: ClassAccess): boolean {
  if (access.kind === 'denied') return false;
  if (isMasterCaller(caller)) return true;
  const acl = shape.acl(row.owner);
  if (!principals(caller).some((principal) => acl[principal]?.[mode] === true)) return false;
  const fields: Record<string, string> = { owner: row.owner };
  return access.pointerFields === undefined || access.pointerFields.some((field) => fields[field] === caller);
}

/** The fields of `row` hidden from the caller: the applicable audiences' lists, intersected. */
function hiddenFields(shape: Shape, caller: CallerName, row: Row): string[] {
  const protectedFields = shape.clp?.protectedFields;
  if (protectedFields === undefined || isMasterCaller(caller)) return [];
  const fields: Record<string, string> = { owner: row.owner };
  const audiences = [
    '*',
    ...(caller === 'anonymous' ? [] : ['authenticated', caller, ...heldRoles(caller).map((role) => `role:${role}`)]),
    ...Object.keys(protectedFields).filter((audience) => audience.startsWith('userField:') && fields[audience.slice('userField:'.length)] === caller),
  ];
  const lists = audiences.map((audience) => protectedFields[audience]).filter((list): list is string[] => list !== undefined);
  const [first, ...rest] = lists;
  if (first === undefined) return [];
  return first.filter((field) => rest.every((list) => list.includes(field)));
}

function expected(op: Op, caller: CallerName, shape: Shape): Outcome {
  switch (op) {
    case 'get': {
      const access = classAccess(shape, 'get', caller);
      if (access.kind === 'denied') return access;
      return reachesRow(shape, caller, TARGET, 'read', access) ? { kind: 'object', label: TARGET.label, hidden: hiddenFields(shape, caller, TARGET) } : NOT_FOUND;
    }
    case 'find': {
      const access = classAccess(shape, 'find', caller);
      if (access.kind === 'denied') return access;
      const rows = FIXTURE_ROWS.filter((row) => reachesRow(shape, caller, row, 'read', access));
      return { kind: 'rows', rows: rows.map((row) => ({ label: row.label, hidden: hiddenFields(shape, caller, row) })) };
    }
    case 'count': {
      const access = classAccess(shape, 'count', caller);
      if (access.kind === 'denied') return access;
      return { kind: 'count', count: FIXTURE_ROWS.filter((row) => reachesRow(shape, caller, row, 'read', access)).length };
    }
    case 'create': {
      const access = classAccess(shape, 'create', caller);
      return access.kind === 'denied' ? access : { kind: 'written' };
    }
    case 'update':
    case 'delete': {
      const access = classAccess(shape, op, caller);
      if (access.kind === 'denied') return access;
      return reachesRow(shape, caller, SCRATCH, 'write', access) ? { kind: 'written' } : NOT_FOUND;
    }
    case 'include': {
      // Included objects are fetched with the caller's permissions (CLP find, ACL, pointer and protected
      // fields); a target the caller cannot read, or in a class it cannot read, stays a bare pointer.
      const access = classAccess(shape, 'find', caller);
      return reachesRow(shape, caller, TARGET, 'read', access) ? { kind: 'included', hidden: hiddenFields(shape, caller, TARGET) } : { kind: 'pointer' };
    }
    case 'batch':
      return { kind: 'batch', slots: (['get', 'create', 'update', 'delete'] as const).map((sub) => ({ op: sub, outcome: expected(sub, caller, shape) })) };
    case 'batchTransaction':
      return { kind: 'batch', slots: (['create', 'update', 'delete'] as const).map((sub) => ({ op: sub, outcome: expected(sub, caller, shape) })) };
  }
}

function summary(op: Op, outcome: Outcome): string {
  const hiddenNote = (hidden: readonly string[]): string => (hidden.length > 0 ? ` (${hidden.join(', ')} hidden)` : '');
  switch (outcome.kind) {
    case 'denied':
      return `${outcome.code} (HTTP ${outcome.status})${op === 'create' ? ', nothing created' : op === 'update' || op === 'delete' ? ', row unchanged' : ''}`;
    case 'object':
      return `200, object ${outcome.label}${hiddenNote(outcome.hidden)}`;
    case 'rows':
      return `200, [${outcome.rows.map((row) => row.label + hiddenNote(row.hidden)).join(', ')}]`;
    case 'count':
      return `count ${outcome.count}`;
    case 'written':
      return op === 'create' ? '201, created' : op === 'update' ? '200, updated' : '200, deleted';
    case 'included':
      return `included object${hiddenNote(outcome.hidden)}`;
    case 'pointer':
      return 'bare pointer';
    case 'batch': {
      const slots = outcome.slots.map(({ op: sub, outcome: slot }) => `${sub}: ${slot.kind === 'denied' ? slot.code : 'ok'}`).join(', ');
      if (op === 'batchTransaction' && outcome.slots.some(({ outcome: slot }) => slot.kind === 'denied')) return `[${slots}], nothing written`;
      return `[${slots}]`;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------------

const shown = (result: HttpResult): string => `${result.status} ${JSON.stringify(result.body)}`;
const pointer = (className: string, objectId: string) => ({ __type: 'Pointer', className, objectId });

function assertDeniedBody(body: unknown, outcome: Denied, context: string): void {
  if (typeof body !== 'object' || body === null) assert.fail(`${context}\n  expected a {code, error} body`);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error'], context);
  const { code, error } = body as { code: unknown; error: unknown };
  assert.equal(code, outcome.code, context);
  if (outcome.error === undefined) assert.equal(typeof error, 'string', context);
  else assert.equal(error, outcome.error, context);
}

function assertDenied(result: HttpResult, outcome: Denied, context: string): void {
  const where = `${context}\n  got ${shown(result)}`;
  assert.equal(result.status, outcome.status, where);
  assertDeniedBody(result.body, outcome, where);
}

for (const engine of engines()) {
  describe(`authorization matrix (${engine})`, () => {
    let server: TestServer;
    let mount: string;
    const ids = {} as Record<UserName, string>;
    const tokens = {} as Record<UserName, string>;
    /** shape key → label → objectId of its fixture rows. */
    const rowIds = new Map<string, Map<string, string>>();
    const holderIds = new Map<string, string>();
    let roleSetupFailure: string | undefined;
    let unique = 0;

    const as = (caller: CallerName): RequestOptions => {
      switch (caller) {
        case 'anonymous':
          return {};
        case 'master':
          return { master: true };
        case 'readOnlyMaster':
          return { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } };
        case 'owner':
        case 'other':
        case 'roleMember':
          return { headers: { 'X-Parse-Session-Token': tokens[caller] } };
      }
    };
    /** A request as `caller`, and the text that names it in failure messages. */
    const request = async (caller: CallerName, method: string, path: string, body?: unknown): Promise<{ result: HttpResult; context: string }> => {
      const result = await call(server.url, path, { method, ...(body === undefined ? {} : { body }), ...as(caller) });
      return { result, context: `${method} ${decodeURIComponent(path)}${body === undefined ? '' : ` ${JSON.stringify(body)}`} as ${CALLER_LABEL[caller]}` };
    };
    const realAcl = (acl: Acl): Record<string, unknown> =>
      Object.fromEntries(Object.entries(acl).map(([key, value]) => [(USERS as readonly string[]).includes(key) ? ids[key as UserName] : key, value]));
    const rowBody = (shape: Shape, row: Row, group: string, label: string): Record<string, unknown> => ({
      label,
      group,
      owner: pointer('_User', ids[row.owner]),
      secret: `secret of ${label}`,
      n: 1,
      ACL: realAcl(shape.acl(row.owner)),
    });
    const masterCreate = async (className: string, body: Record<string, unknown>): Promise<string> => {
      const created = await call(server.url, `/classes/${className}`, { method: 'POST', body, master: true });
      assert.equal(created.status, 201, `setup: create ${className}: ${shown(created)}`);
      return created.body.objectId as string;
    };
    const masterGet = (shape: Shape, objectId: string): Promise<HttpResult> => call(server.url, `/classes/${shape.className}/${objectId}`, { master: true });
    const masterCountLabel = async (shape: Shape, label: string): Promise<number> => {
      const counted = await call(server.url, `/classes/${shape.className}${query({ where: { label }, count: 1, limit: 0 })}`, { master: true });
      assert.equal(counted.status, 200, shown(counted));
      return counted.body.count as number;
    };
    /** A fresh row owned by the owner user, with the shape's ACL, and the master key's view of it. */
    const scratchRow = async (shape: Shape): Promise<{ id: string; before: unknown }> => {
      const id = await masterCreate(shape.className, rowBody(shape, SCRATCH, 'scratch', `${SCRATCH.label}-${++unique}`));
      const before = await masterGet(shape, id);
      assert.equal(before.status, 200, shown(before));
      return { id, before: before.body };
    };
    const targetId = (shape: Shape): string => rowIds.get(shape.key)?.get(TARGET.label) ?? assert.fail(`setup: no fixture row for ${shape.key}`);

    before(async () => {
      server = await startTestServer(engine, { readOnlyMasterKey: READ_ONLY_KEY });
      mount = new URL(server.url).pathname;
      for (const user of USERS) {
        const signedUp = await call(server.url, '/users', { method: 'POST', body: { username: `matrix-${user}`, password: `${user}-password` } });
        assert.equal(signedUp.status, 201, `setup: sign up ${user}: ${shown(signedUp)}`);
        ids[user] = signedUp.body.objectId;
        tokens[user] = signedUp.body.sessionToken;
      }
      // Roles are created with the master key. A failure here is reported by every role-member test (below)
      // rather than aborting the whole matrix.
      const roleIds = new Map<string, string>();
      for (const role of ROLES) {
        const body: Record<string, unknown> = { name: role.name, ACL: { '*': { read: true } } };
        if (role.users.length > 0) body.users = { __op: 'AddRelation', objects: role.users.map((user) => pointer('_User', ids[user])) };
        if (role.roles.length > 0) {
          body.roles = { __op: 'AddRelation', objects: role.roles.map((child) => pointer('_Role', roleIds.get(child) ?? 'missing-role')) };
        }
        const created = await call(server.url, '/classes/_Role', { method: 'POST', body, master: true });
        if (created.status !== 201) {
          roleSetupFailure ??= `POST /classes/_Role ${JSON.stringify(body)} (master) → ${shown(created)}`;
          continue;
        }
        roleIds.set(role.name, created.body.objectId);
      }
      const holderFields = Object.fromEntries(SHAPES.map((shape) => [holderField(shape), { type: 'Pointer', targetClass: shape.className }]));
      for (const shape of SHAPES) {
        const schema = await call(server.url, `/schemas/${shape.className}`, { method: 'POST', body: { className: shape.className, fields: FIELDS }, master: true });
        assert.equal(schema.status, 200, `setup: schema of ${shape.className}: ${shown(schema)}`);
        if (shape.clp !== undefined) {
          const clp = await call(server.url, `/schemas/${shape.className}`, { method: 'PUT', body: { classLevelPermissions: shape.clp }, master: true });
          assert.equal(clp.status, 200, `setup: CLP of ${shape.className}: ${shown(clp)}`);
        }
        const labels = new Map<string, string>();
        for (const row of FIXTURE_ROWS) labels.set(row.label, await masterCreate(shape.className, rowBody(shape, row, 'fixture', row.label)));
        rowIds.set(shape.key, labels);
      }
      const holderSchema = await call(server.url, `/schemas/${HOLDER_CLASS}`, {
        method: 'POST',
        body: { className: HOLDER_CLASS, fields: { shape: { type: 'String' }, ...holderFields } },
        master: true,
      });
      assert.equal(holderSchema.status, 200, `setup: schema of ${HOLDER_CLASS}: ${shown(holderSchema)}`);
      for (const shape of SHAPES) {
        const body = { shape: shape.key, [holderField(shape)]: pointer(shape.className, targetId(shape)), ACL: { '*': { read: true, write: true } } };
        holderIds.set(shape.key, await masterCreate(HOLDER_CLASS, body));
      }
    });
    after(async () => server.stop());

    // --- checks of one read result ---

    const assertObject = (object: any, shape: Shape, label: string, hidden: readonly string[], context: string): void => {
      assert.equal(typeof object, 'object', context);
      assert.equal(object.label, label, context);
      const id = rowIds.get(shape.key)?.get(label);
      if (id !== undefined) assert.equal(object.objectId, id, context);
      const owner = FIXTURE_ROWS.find((row) => row.label === label)?.owner;
      if (owner !== undefined) assert.deepEqual(object.owner, pointer('_User', ids[owner]), context);
      for (const field of ['secret', 'n', 'group'] as const) {
        if (hidden.includes(field)) assert.ok(!(field in object), `${context}\n  ${field} must be hidden`);
        else assert.ok(field in object, `${context}\n  ${field} must be visible`);
      }
      if (!hidden.includes('secret')) assert.equal(object.secret, `secret of ${label}`, context);
    };

    // --- one runner per operation ---

    const runners: Record<Op, (shape: Shape, caller: CallerName, outcome: Outcome) => Promise<void>> = {
      async get(shape, caller, outcome) {
        const { result, context } = await request(caller, 'GET', `/classes/${shape.className}/${targetId(shape)}`);
        if (outcome.kind === 'denied') return assertDenied(result, outcome, context);
        assert.equal(outcome.kind, 'object');
        if (outcome.kind !== 'object') return;
        assert.equal(result.status, 200, `${context}\n  got ${shown(result)}`);
        assertObject(result.body, shape, outcome.label, outcome.hidden, `${context}\n  got ${shown(result)}`);
      },

      async find(shape, caller, outcome) {
        const { result, context } = await request(caller, 'GET', `/classes/${shape.className}${query({ where: { group: 'fixture' }, order: 'label' })}`);
        if (outcome.kind === 'denied') return assertDenied(result, outcome, context);
        assert.equal(outcome.kind, 'rows');
        if (outcome.kind !== 'rows') return;
        const where = `${context}\n  got ${shown(result)}`;
        assert.equal(result.status, 200, where);
        assert.ok(Array.isArray(result.body.results), where);
        assert.deepEqual(
          (result.body.results as { label: unknown }[]).map((row) => row.label),
          outcome.rows.map((row) => row.label),
          where,
        );
        outcome.rows.forEach((row, index) => assertObject(result.body.results[index], shape, row.label, row.hidden, where));
      },

      async count(shape, caller, outcome) {
        const { result, context } = await request(caller, 'GET', `/classes/${shape.className}${query({ where: { group: 'fixture' }, count: 1, limit: 0 })}`);
        if (outcome.kind === 'denied') return assertDenied(result, outcome, context);
        assert.equal(outcome.kind, 'count');
        if (outcome.kind !== 'count') return;
        const where = `${context}\n  got ${shown(result)}`;
        assert.equal(result.status, 200, where);
        assert.deepEqual(result.body, { results: [], count: outcome.count }, where);
      },

      async create(shape, caller, outcome) {
        const label = `created-${++unique}`;
        const { result, context } = await request(caller, 'POST', `/classes/${shape.className}`, { label, group: 'created', n: 1 });
        const where = `${context}\n  got ${shown(result)}`;
        if (outcome.kind === 'denied') {
          assertDenied(result, outcome, context);
          assert.equal(await masterCountLabel(shape, label), 0, `${where}\n  a denied create wrote a row`);
          return;
        }
        assert.equal(result.status, 201, where);
        assert.equal(typeof result.body.objectId, 'string', where);
        const reread = await masterGet(shape, result.body.objectId as string);
        assert.equal(reread.status, 200, `${where}\n  master re-read: ${shown(reread)}`);
        assert.equal(reread.body.label, label, `${where}\n  master re-read: ${shown(reread)}`);
      },

      async update(shape, caller, outcome) {
        const scratch = await scratchRow(shape);
        const { result, context } = await request(caller, 'PUT', `/classes/${shape.className}/${scratch.id}`, { n: 2 });
        const where = `${context}\n  got ${shown(result)}`;
        const reread = await masterGet(shape, scratch.id);
        if (outcome.kind === 'denied') {
          assertDenied(result, outcome, context);
          assert.deepEqual(reread.body, scratch.before, `${where}\n  a denied update changed the row`);
          return;
        }
        assert.equal(result.status, 200, where);
        assert.equal(typeof result.body.updatedAt, 'string', where);
        assert.equal(reread.body.n, 2, `${where}\n  master re-read: ${shown(reread)}`);
      },

      async delete(shape, caller, outcome) {
        const scratch = await scratchRow(shape);
        const { result, context } = await request(caller, 'DELETE', `/classes/${shape.className}/${scratch.id}`);
        const where = `${context}\n  got ${shown(result)}`;
        const reread = await masterGet(shape, scratch.id);
        if (outcome.kind === 'denied') {
          assertDenied(result, outcome, context);
          assert.deepEqual(reread.body, scratch.before, `${where}\n  a denied delete changed the row`);
          return;
        }
        assert.equal(result.status, 200, where);
        assert.deepEqual(result.body, {}, where);
        assert.equal(reread.status, 404, `${where}\n  master re-read after delete: ${shown(reread)}`);
      },

      async include(shape, caller, outcome) {
        const field = holderField(shape);
        const holderId = holderIds.get(shape.key) ?? assert.fail(`setup: no holder for ${shape.key}`);
        const { result, context } = await request(caller, 'GET', `/classes/${HOLDER_CLASS}/${holderId}${query({ include: field })}`);
        const where = `${context}\n  got ${shown(result)}`;
        assert.equal(result.status, 200, where);
        const included = result.body[field];
        if (outcome.kind === 'pointer') {
          assert.deepEqual(included, pointer(shape.className, targetId(shape)), `${where}\n  must stay a bare pointer`);
          return;
        }
        assert.equal(outcome.kind, 'included');
        if (outcome.kind !== 'included') return;
        assert.equal(included?.__type, 'Object', `${where}\n  must be the included object`);
        assert.equal(included.className, shape.className, where);
        assertObject(included, shape, TARGET.label, outcome.hidden, where);
      },

      async batch(shape, caller, outcome) {
        await runBatch(shape, caller, outcome, false);
      },

      async batchTransaction(shape, caller, outcome) {
        await runBatch(shape, caller, outcome, true);
      },
    };

    async function runBatch(shape: Shape, caller: CallerName, outcome: Outcome, transaction: boolean): Promise<void> {
      assert.equal(outcome.kind, 'batch');
      if (outcome.kind !== 'batch') return;
      const toUpdate = await scratchRow(shape);
      const toDelete = await scratchRow(shape);
      const label = `batch-created-${++unique}`;
      const path = `${mount}/classes/${shape.className}`;
      const subRequests = {
        get: { method: 'GET', path: `${path}/${targetId(shape)}` },
        create: { method: 'POST', path, body: { label, group: 'created', n: 1 } },
        update: { method: 'PUT', path: `${path}/${toUpdate.id}`, body: { n: 2 } },
        delete: { method: 'DELETE', path: `${path}/${toDelete.id}` },
      };
      const body = { ...(transaction ? { transaction: true } : {}), requests: outcome.slots.map(({ op }) => subRequests[op]) };
      const { result, context } = await request(caller, 'POST', '/batch', body);
      const where = `${context}\n  got ${shown(result)}`;
      const firstDenied = outcome.slots.findIndex(({ outcome: slot }) => slot.kind === 'denied');
      const rolledBack = transaction && firstDenied >= 0;

      assert.ok(Array.isArray(result.body), where);
      if (rolledBack) {
        // The contract only says nothing is written; the failing slot must carry its own error. The HTTP
        // status of a failed transaction is not fixed by the contract beyond being a client error.
        assert.ok(result.status >= 400 && result.status < 500, where);
        const slot = outcome.slots[firstDenied]?.outcome as Denied;
        assert.ok(result.body[firstDenied]?.error !== undefined, `${where}\n  slot ${firstDenied} must be an error`);
        assertDeniedBody(result.body[firstDenied].error, slot, `${where}\n  slot ${firstDenied}`);
      } else {
        assert.equal(result.status, 200, where);
        assert.equal(result.body.length, outcome.slots.length, where);
        outcome.slots.forEach(({ op, outcome: slot }, index) => {
          const answer = result.body[index];
          const at = `${where}\n  slot ${index} (${op})`;
          if (slot.kind === 'denied') {
            assert.deepEqual(Object.keys(answer ?? {}), ['error'], at);
            assertDeniedBody(answer.error, slot, at);
            return;
          }
          assert.deepEqual(Object.keys(answer ?? {}), ['success'], at);
          if (op === 'get' && slot.kind === 'object') assertObject(answer.success, shape, slot.label, slot.hidden, at);
          if (op === 'create') assert.equal(typeof answer.success.objectId, 'string', at);
          if (op === 'update') assert.equal(typeof answer.success.updatedAt, 'string', at);
          if (op === 'delete') assert.deepEqual(answer.success, {}, at);
        });
      }

      // What the master key sees afterwards.
      const written = (op: 'create' | 'update' | 'delete'): boolean => !rolledBack && outcome.slots.find((slot) => slot.op === op)?.outcome.kind === 'written';
      assert.equal(await masterCountLabel(shape, label), written('create') ? 1 : 0, `${where}\n  rows created by the batch`);
      const updated = await masterGet(shape, toUpdate.id);
      if (written('update')) assert.equal(updated.body.n, 2, `${where}\n  master re-read of the updated row: ${shown(updated)}`);
      else assert.deepEqual(updated.body, toUpdate.before, `${where}\n  the row the batch could not update changed`);
      const deleted = await masterGet(shape, toDelete.id);
      if (written('delete')) assert.equal(deleted.status, 404, `${where}\n  master re-read of the deleted row: ${shown(deleted)}`);
      else assert.deepEqual(deleted.body, toDelete.before, `${where}\n  the row the batch could not delete changed`);
    }

    test('setup: the role member is only in Moderators.users; Admins holds Moderators in its roles', async () => {
      if (roleSetupFailure !== undefined) assert.fail(`role setup failed: ${roleSetupFailure}`);
      const roles = await call(server.url, `/classes/_Role${query({ order: 'name' })}`, { master: true });
      assert.equal(roles.status, 200, shown(roles));
      const roleId = new Map((roles.body.results as { name: string; objectId: string }[]).map((role) => [role.name, role.objectId]));
      for (const role of ROLES) {
        const id = roleId.get(role.name) ?? assert.fail(`role ${role.name} missing: ${shown(roles)}`);
        const related = async (className: string, key: string): Promise<string[]> => {
          const where = { $relatedTo: { object: pointer('_Role', id), key } };
          const found = await call(server.url, `/classes/${className}${query({ where })}`, { master: true });
          assert.equal(found.status, 200, shown(found));
          return (found.body.results as { objectId: string }[]).map((object) => object.objectId).sort();
        };
        assert.deepEqual(await related('_User', 'users'), role.users.map((user) => ids[user]).sort(), `${role.name}.users`);
        assert.deepEqual(await related('_Role', 'roles'), role.roles.map((child) => roleId.get(child)).sort(), `${role.name}.roles`);
      }
    });

    for (const shape of SHAPES) {
      describe(`${shape.title} [${shape.className}]`, () => {
        for (const op of OPS) {
          for (const caller of CALLERS) {
            const outcome = expected(op, caller, shape);
            test(`${OP_LABEL[op]} as ${CALLER_LABEL[caller]} on ${shape.key} → ${summary(op, outcome)}`, async () => {
              if (caller === 'roleMember' && roleSetupFailure !== undefined) assert.fail(`role setup failed: ${roleSetupFailure}`);
              await runners[op](shape, caller, outcome);
            });
          }
        }
      });
    }
  });
}
