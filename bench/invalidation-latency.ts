/**
 * Invalidation latency across nodes (issue #8): something is revoked on one node, and the other node is
 * asked, one request at a time, until it refuses. The time from the revoke's response to the first refusal
 * is what a user of the cluster sees: how long a logged-out token (a removed role member, a locked class)
 * keeps working elsewhere. Every measured change is made while the other node has the thing cached (it just
 * answered with it), so a refusal cannot come from a cold cache, and every trial ends with a control that
 * was not revoked and must still be accepted there, so a refusal cannot come from anything else.
 */
import { LatencyRecorder, round } from './latency.ts';
import { freshToken, timeout } from './seed.ts';
import { CLIENT_HEADERS, MASTER_HEADERS, type BenchUser } from './workload.ts';

/** A node of the cluster as the trials see it. */
export interface Node {
  readonly name: string;
  readonly origin: string;
}

/** How a session is ended on the first node: the user's own logout, or a deletion with the master key. */
export type RevocationKind = 'logout' | 'deleteSession';

export interface LatencySummary {
  /** Changes timed (the refusals seen). */
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Refusals that took over 1 s: the issue's bound. */
  readonly over1s: number;
  /** Requests sent to the other node until it refused, median (1: refused at once). */
  readonly pollsP50: number;
}

export interface InvalidationCheck {
  /** Every change was refused on the other node within `limitMs`, and every control still accepted there. */
  readonly holds: boolean;
  readonly limitMs: number;
  /** Changes made, and how many of them the other node was seen to refuse. */
  readonly changes: number;
  readonly refused: number;
  /** Controls checked on the other node after a refusal, and how many were still accepted (must be all). */
  readonly controls: number;
  readonly controlsAccepted: number;
  readonly problems?: readonly string[];
}

export interface InvalidationRun {
  /** Session revocations, both kinds together, and per kind. */
  readonly sessions: LatencySummary & { readonly byKind: Record<RevocationKind, LatencySummary> };
  /** A user removed from the role that grants them an object: until the other node stops serving it. */
  readonly roles: LatencySummary;
  /** A public class locked down by its class-level permissions: until the other node refuses its find. */
  readonly clp: LatencySummary;
  readonly check: InvalidationCheck;
}

export interface InvalidationInput {
  readonly nodes: readonly [Node, Node];
  /** Seeded users with their sign-up tokens; logins take the third onwards (see `runInvalidation`). */
  readonly users: readonly BenchUser[];
  readonly revocations: number;
  readonly limitMs: number;
}

interface Reply {
  readonly status: number;
  readonly code: unknown;
  /** `performance.now()` when the answer's headers arrived. */
  readonly at: number;
}

async function call(node: Node, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply & { body: unknown }> {
  const response = await fetch(node.origin + path, {
    method: init.method ?? 'GET',
    headers: { ...CLIENT_HEADERS, ...init.headers, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: timeout(),
  });
  const at = performance.now();
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
  return { status: response.status, code, at, body };
}

const asUser = (token: string): Record<string, string> => ({ 'x-parse-session-token': token });

/** One change to time: what the other node answers before (`accepted`) and after (`refused`) it. */
interface Probe {
  readonly request: () => Promise<Reply>;
  readonly accepted: (reply: Reply) => boolean;
  readonly refused: (reply: Reply) => boolean;
}

const describe = (reply: Reply): string => `HTTP ${reply.status}${reply.code === undefined ? '' : ` code ${JSON.stringify(reply.code)}`}`;

class Trials {
  readonly problems: string[] = [];
  changes = 0;
  refused = 0;
  controls = 0;
  controlsAccepted = 0;

  constructor(readonly limitMs: number) {}

  /**
   * Sends `probe` until the other node answers as `expect`s (a grant or a reopening reaching it, untimed),
   * for at most `limitMs`; undefined (and a problem) if it does not, or answers something else.
   */
  async until(what: string, probe: Probe, expect: 'accepted' | 'refused'): Promise<{ ms: number; polls: number } | undefined> {
    const started = performance.now();
    for (let polls = 1; ; polls++) {
      const reply = await probe.request();
      if (probe[expect](reply)) return { ms: reply.at - started, polls };
      const other = expect === 'accepted' ? probe.refused : probe.accepted;
      if (!other(reply)) {
        this.problems.push(`${what}: unexpected answer ${describe(reply)}`);
        return undefined;
      }
      if (reply.at - started > this.limitMs) {
        this.problems.push(`${what}: still ${expect === 'refused' ? 'accepted' : 'refused'} after ${Math.round(reply.at - started)} ms (${polls} requests)`);
        return undefined;
      }
    }
  }

  /**
   * Makes the change (`revoke`, timed from its response), then asks the other node until it refuses.
   * Records the latency in `recorders`, and runs the control once the refusal was seen.
   */
  async time(what: string, revoke: () => Promise<Reply>, probe: Probe, control: Probe, recorders: readonly Recorder[]): Promise<void> {
    this.changes++;
    const revoked = await revoke();
    if (revoked.status !== 200) {
      this.problems.push(`${what}: the change itself answered ${describe(revoked)}`);
      return;
    }
    let polls = 0;
    let seen: Reply | undefined;
    for (;;) {
      const reply = await probe.request();
      polls++;
      if (probe.refused(reply)) {
        seen = reply;
        break;
      }
      if (!probe.accepted(reply)) {
        this.problems.push(`${what}: unexpected answer ${describe(reply)} from the other node`);
        return;
      }
      if (reply.at - revoked.at > this.limitMs) {
        this.problems.push(`${what}: still accepted by the other node ${Math.round(reply.at - revoked.at)} ms after the change (${polls} requests)`);
        return;
      }
    }
    this.refused++;
    // Refused on the first request, before the change's own answer arrived? Then the latency is ~0, not negative.
    const ms = Math.max(0, seen.at - revoked.at);
    for (const recorder of recorders) recorder.add(ms, polls);
    this.controls++;
    const checked = await control.request();
    if (control.accepted(checked)) this.controlsAccepted++;
    else this.problems.push(`${what}: the control (not revoked) was refused too by the other node: ${describe(checked)}`);
  }

  /** A kind of change stops after a few problems: one that never propagates must not take `limitMs` per trial. */
  tooMany(since: number): boolean {
    return this.problems.length - since >= 3;
  }

  check(): InvalidationCheck {
    const holds = this.problems.length === 0 && this.refused === this.changes && this.controlsAccepted === this.controls;
    return {
      holds,
      limitMs: this.limitMs,
      changes: this.changes,
      refused: this.refused,
      controls: this.controls,
      controlsAccepted: this.controlsAccepted,
      ...(this.problems.length === 0 ? {} : { problems: this.problems.slice(0, 20) }),
    };
  }
}

class Recorder {
  private readonly latency = new LatencyRecorder();
  private readonly polls = new LatencyRecorder();
  private over1s = 0;

  add(ms: number, polls: number): void {
    this.latency.record(ms);
    this.polls.record(polls);
    if (ms > 1000) this.over1s++;
  }

  summary(): LatencySummary {
    const [p50 = Number.NaN, p99 = Number.NaN, max = Number.NaN] = this.latency.percentiles(50, 99, 100);
    const [pollsP50 = Number.NaN] = this.polls.percentiles(50);
    return { count: this.latency.size, p50Ms: round(p50, 2), p99Ms: round(p99, 2), maxMs: round(max, 2), over1s: this.over1s, pollsP50 };
  }
}

/** Whose changes go which way: the first node changes and the second is asked, then the other way, in turns of two. */
const direction = (nodes: readonly [Node, Node], i: number): [Node, Node] => (i % 4 < 2 ? [nodes[0], nodes[1]] : [nodes[1], nodes[0]]);

const refusesSession = (reply: Reply): boolean => reply.status === 400 && reply.code === 209;
const ok = (reply: Reply): boolean => reply.status === 200;

async function sessionTrials(input: InvalidationInput, trials: Trials, all: Recorder, byKind: Record<RevocationKind, Recorder>): Promise<void> {
  // users[0] and users[1] are left alone; the others log in again and again (a login is one password hash).
  const pool = input.users.slice(2);
  const since = trials.problems.length;
  for (let i = 0; i < input.revocations && !trials.tooMany(since); i++) {
    const [here, there] = direction(input.nodes, i);
    const kind: RevocationKind = i % 2 === 0 ? 'logout' : 'deleteSession';
    const user = pool[i % pool.length];
    if (user === undefined) throw new Error('the invalidation trials need at least 3 users');
    const token = await freshToken(here.origin, user);
    const probe: Probe = { request: () => call(there, '/parse/users/me', { headers: asUser(token) }), accepted: ok, refused: refusesSession };
    // The user's sign-up session: same user, not revoked.
    const control: Probe = { request: () => call(there, '/parse/users/me', { headers: asUser(user.sessionToken) }), accepted: ok, refused: refusesSession };
    const what = `${kind} #${i} on ${here.name}, seen by ${there.name}`;
    // The other node caches the session (and the control's) now: a refusal must be an invalidation.
    if ((await trials.until(`${what} (the new token, before)`, probe, 'accepted')) === undefined) continue;
    if ((await trials.until(`${what} (the control, before)`, control, 'accepted')) === undefined) continue;
    let revoke: () => Promise<Reply>;
    if (kind === 'logout') {
      revoke = () => call(here, '/parse/logout', { method: 'POST', headers: asUser(token), body: {} });
    } else {
      const session = await call(here, '/parse/sessions/me', { headers: asUser(token) });
      const sessionId = (session.body as { objectId?: unknown }).objectId;
      if (session.status !== 200 || typeof sessionId !== 'string') {
        trials.problems.push(`${what}: /sessions/me answered ${describe(session)}`);
        continue;
      }
      revoke = () => call(here, `/parse/sessions/${sessionId}`, { method: 'DELETE', headers: MASTER_HEADERS });
    }
    await trials.time(what, revoke, probe, control, [all, byKind[kind]]);
  }
}

/** The role a user is added to and removed from, the object it grants, and a member who stays (the control). */
interface RoleSetup {
  readonly roleId: string;
  readonly docPath: string;
  readonly member: BenchUser;
  readonly keeper: BenchUser;
}

const PROBE_ROLE = 'InvalidationProbe';
const PROBE_DOC_CLASS = 'InvalidationDoc';
const PROBE_OPEN_CLASS = 'InvalidationOpen';
const PROBE_CONTROL_CLASS = 'InvalidationControl';

const pointer = (user: BenchUser): unknown => ({ __type: 'Pointer', className: '_User', objectId: user.objectId });

async function created(reply: Promise<Reply & { body: unknown }>, what: string): Promise<string> {
  const answered = await reply;
  const objectId = (answered.body as { objectId?: unknown }).objectId;
  if (answered.status !== 201 || typeof objectId !== 'string') throw new Error(`invalidation setup: ${what} answered ${describe(answered)}: ${JSON.stringify(answered.body)}`);
  return objectId;
}

async function expectOk(reply: Promise<Reply>, what: string): Promise<void> {
  const answered = await reply;
  if (answered.status !== 200) throw new Error(`invalidation setup: ${what} answered ${describe(answered)}`);
}

async function setUpRole(node: Node, member: BenchUser, keeper: BenchUser): Promise<RoleSetup> {
  const roleId = await created(
    call(node, '/parse/roles', { method: 'POST', headers: MASTER_HEADERS, body: { name: PROBE_ROLE, ACL: {}, users: { __op: 'AddRelation', objects: [pointer(keeper)] } } }),
    'create the probe role',
  );
  const docId = await created(
    call(node, `/parse/classes/${PROBE_DOC_CLASS}`, { method: 'POST', headers: MASTER_HEADERS, body: { title: 'granted by a role', ACL: { [`role:${PROBE_ROLE}`]: { read: true } } } }),
    'create the role-readable object',
  );
  return { roleId, docPath: `/parse/classes/${PROBE_DOC_CLASS}/${docId}`, member, keeper };
}

const membership = (setup: RoleSetup, op: 'AddRelation' | 'RemoveRelation'): { users: unknown } => ({ users: { __op: op, objects: [pointer(setup.member)] } });

async function roleTrials(input: InvalidationInput, count: number, setup: RoleSetup, trials: Trials, recorder: Recorder): Promise<void> {
  const since = trials.problems.length;
  const refusesObject = (reply: Reply): boolean => reply.status === 404 && reply.code === 101;
  for (let i = 0; i < count && !trials.tooMany(since); i++) {
    const [here, there] = direction(input.nodes, i);
    const what = `role membership removed #${i} on ${here.name}, seen by ${there.name}`;
    const probe: Probe = { request: () => call(there, setup.docPath, { headers: asUser(setup.member.sessionToken) }), accepted: ok, refused: refusesObject };
    const control: Probe = { request: () => call(there, setup.docPath, { headers: asUser(setup.keeper.sessionToken) }), accepted: ok, refused: refusesObject };
    await expectOk(call(here, `/parse/roles/${setup.roleId}`, { method: 'PUT', headers: MASTER_HEADERS, body: membership(setup, 'AddRelation') }), 'add the member');
    // The grant reaches the other node (an invalidation too, not timed), which then caches the member's roles.
    if ((await trials.until(`${what} (the grant, before)`, probe, 'accepted')) === undefined) continue;
    if ((await trials.until(`${what} (the control, before)`, control, 'accepted')) === undefined) continue;
    const revoke = (): Promise<Reply> => call(here, `/parse/roles/${setup.roleId}`, { method: 'PUT', headers: MASTER_HEADERS, body: membership(setup, 'RemoveRelation') });
    await trials.time(what, revoke, probe, control, [recorder]);
  }
}

const OPERATIONS = ['find', 'get', 'count', 'create', 'update', 'delete', 'addField'] as const;
const permissions = (open: boolean): Record<string, Record<string, boolean>> => {
  const allowed: Record<string, boolean> = open ? { '*': true } : {};
  return Object.fromEntries(OPERATIONS.map((operation) => [operation, allowed]));
};

async function setUpClasses(node: Node): Promise<void> {
  for (const className of [PROBE_OPEN_CLASS, PROBE_CONTROL_CLASS]) {
    await expectOk(call(node, `/parse/schemas/${className}`, { method: 'POST', headers: MASTER_HEADERS, body: { className, fields: { n: { type: 'Number' } } } }), `create ${className}`);
    await created(call(node, `/parse/classes/${className}`, { method: 'POST', headers: MASTER_HEADERS, body: { n: 1 } }), `an object of ${className}`);
  }
}

async function clpTrials(input: InvalidationInput, count: number, trials: Trials, recorder: Recorder): Promise<void> {
  const since = trials.problems.length;
  const refusesFind = (reply: Reply): boolean => reply.status === 400 && reply.code === 119;
  const setPermissions = (node: Node, open: boolean): Promise<Reply> =>
    call(node, `/parse/schemas/${PROBE_OPEN_CLASS}`, { method: 'PUT', headers: MASTER_HEADERS, body: { classLevelPermissions: permissions(open) } });
  for (let i = 0; i < count && !trials.tooMany(since); i++) {
    const [here, there] = direction(input.nodes, i);
    const what = `class locked #${i} on ${here.name}, seen by ${there.name}`;
    // Anonymous finds (the REST key): what a locked class must stop answering at once.
    const probe: Probe = { request: () => call(there, `/parse/classes/${PROBE_OPEN_CLASS}`), accepted: ok, refused: refusesFind };
    const control: Probe = { request: () => call(there, `/parse/classes/${PROBE_CONTROL_CLASS}`), accepted: ok, refused: refusesFind };
    if (i > 0) await expectOk(setPermissions(here, true), 'reopen the class');
    // The reopening reaches the other node (not timed), which then caches the open schema.
    if ((await trials.until(`${what} (open, before)`, probe, 'accepted')) === undefined) continue;
    if ((await trials.until(`${what} (the control, before)`, control, 'accepted')) === undefined) continue;
    await trials.time(what, () => setPermissions(here, false), probe, control, [recorder]);
  }
}

/**
 * `revocations` session revocations (logout and master-key deletion in turns), then a quarter as many role
 * removals and as many class lock-downs; the changing node and the asked one swap every two trials. Run
 * with no other load. Problems (a change never refused within `limitMs`, a control refused, an unexpected
 * answer) are collected in `check` rather than thrown: the report still shows what was measured.
 */
export async function runInvalidation(input: InvalidationInput): Promise<InvalidationRun> {
  const trials = new Trials(input.limitMs);
  const sessions = new Recorder();
  const byKind: Record<RevocationKind, Recorder> = { logout: new Recorder(), deleteSession: new Recorder() };
  await sessionTrials(input, trials, sessions, byKind);
  const [first] = input.nodes;
  const [, , member, keeper] = input.users;
  if (member === undefined || keeper === undefined) throw new Error('the invalidation trials need at least 4 users');
  const others = Math.max(1, Math.ceil(input.revocations / 4));
  const roles = new Recorder();
  await roleTrials(input, others, await setUpRole(first, member, keeper), trials, roles);
  await setUpClasses(first);
  const clp = new Recorder();
  await clpTrials(input, others, trials, clp);
  return {
    sessions: { ...sessions.summary(), byKind: { logout: byKind.logout.summary(), deleteSession: byKind.deleteSession.summary() } },
    roles: roles.summary(),
    clp: clp.summary(),
    check: trials.check(),
  };
}
