/**
 * The database limit's statements, taken from Parsec itself: one request of each measured kind is sent to
 * the running Parsec while no load is applied, and every statement it sends for it is traced (text and
 * bound parameters). The statement's text is what the database limit sends; `sqlParams` (workload.ts), the
 * parameters the direct loops bind, must equal what Parsec bound for the very same request — checked here
 * for every probe, so the database limit measures exactly Parsec's statements or the report says it does not.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ServerChild } from './child.ts';
import { expectStatus, post, timeout, usersMe } from './seed.ts';
import type { TracedStatement } from './session-plan.ts';
import { CLIENT_HEADERS, item, paths, rolesOf, sqlParams, STATEMENT_TABLE, STATEMENTS, type BenchUser, type StatementName } from './workload.ts';

export interface StatementCheck {
  /** Every probe sent exactly one statement, this text, with the parameters the bench binds for it. */
  readonly matches: boolean;
  /** The statement Parsec sent, which the database limit sends. */
  readonly text: string;
  /** Requests traced for it (`userGet`: every seeded user's warm `/users/me`). */
  readonly probes: number;
  /** What differed, when something did: the statements Parsec sent and the parameters it bound. */
  readonly problems?: string[];
}

export interface SqlCheck {
  /** Every statement matches. If not, `vsDbLimit` compares Parsec with statements it does not send. */
  readonly matches: boolean;
  readonly statements: Record<StatementName, StatementCheck>;
}

export interface WorkloadSql {
  /** The texts the database limit sends, exactly as Parsec sent them in this run. */
  readonly sql: Record<StatementName, string>;
  readonly check: SqlCheck;
}

export interface ProbeInput {
  readonly origin: string;
  readonly ids: readonly string[];
  readonly users: readonly BenchUser[];
  /** The user holding roles (`Members`, and `Readers` through it): their principals include them. */
  readonly reader: BenchUser;
  readonly findLimit: number;
}

interface Probe {
  /** What the request was, for the report. */
  readonly label: string;
  readonly statements: readonly TracedStatement[];
  /** The parameters the bench binds for the same request. */
  readonly expected: readonly unknown[];
}

/** The item the create probe adds: outside every measured group, like the captured create's `item(-1)`. */
const PROBE_ITEM = -2;

const short = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

function checkStatement(name: StatementName, probes: readonly Probe[]): { text: string; check: StatementCheck } {
  const pattern = STATEMENT_TABLE[name];
  const problems: string[] = [];
  let text: string | undefined;
  for (const probe of probes) {
    const found = probe.statements.find((statement) => pattern.test(statement.text));
    if (probe.statements.length !== 1 || found === undefined) {
      problems.push(`${probe.label}: Parsec sent ${probe.statements.length} statement(s), expected exactly one ${name}: ${short(probe.statements.map((s) => s.text))}`);
    }
    if (found === undefined) continue;
    if (text === undefined) text = found.text;
    else if (found.text !== text) problems.push(`${probe.label}: a different text: ${found.text}`);
    if (!isDeepStrictEqual(found.params, probe.expected)) {
      problems.push(`${probe.label}: Parsec bound ${short(found.params)}, the bench binds ${short(probe.expected)} (update sqlParams in bench/workload.ts)`);
    }
  }
  if (text === undefined) {
    throw new Error(`sqlCheck: no request probed for ${name} sent a statement matching ${pattern}: ${problems.join('; ')}`);
  }
  const check: StatementCheck = { matches: problems.length === 0, text, probes: probes.length, ...(problems.length > 0 ? { problems } : {}) };
  return { text, check };
}

/**
 * Probes Parsec for each statement of the database limit: two gets (of different ids), the find, one create
 * and a warm `/users/me` for every seeded user (each asked once untraced first, so its session is cached,
 * as it is under load); then derives the texts and checks the parameters. Run with no load applied.
 */
export async function probeWorkloadSql(child: ServerChild, input: ProbeInput): Promise<WorkloadSql> {
  const { origin } = input;
  const probes: Record<StatementName, Probe[]> = { get: [], find: [], insert: [], userGet: [] };

  for (const id of input.ids.slice(0, 2)) {
    const statements = await traced(child, () => fetchOk(origin + paths.get(id), 'get'));
    probes.get.push({ label: `GET ${paths.get(id)}`, statements, expected: sqlParams.get(id) });
  }

  probes.find.push({
    label: `GET ${paths.find(input.findLimit)}`,
    statements: await traced(child, () => fetchOk(origin + paths.find(input.findLimit), 'find')),
    expected: sqlParams.find(input.findLimit),
  });

  let created: { objectId: string; createdAt: string } | undefined;
  const createStatements = await traced(child, async () => {
    const response = await expectStatus(await post(origin, paths.create, item(PROBE_ITEM), CLIENT_HEADERS), 201, 'create probe');
    const body = (await response.json()) as { objectId?: unknown; createdAt?: unknown };
    if (typeof body.objectId !== 'string' || typeof body.createdAt !== 'string') throw new Error(`create probe: unexpected body ${JSON.stringify(body)}`);
    created = { objectId: body.objectId, createdAt: body.createdAt };
  });
  if (created === undefined) throw new Error('create probe: no object created');
  // Parsec generates the id and the timestamp: the bench's are taken from its answer, the rest must match.
  probes.insert.push({ label: `POST ${paths.create}`, statements: createStatements, expected: sqlParams.insert(PROBE_ITEM, created) });

  for (const user of input.users) {
    await usersMe(origin, user.sessionToken);
    let statements = await traced(child, () => usersMe(origin, user.sessionToken));
    // A cached session expires 30 s after its lookup, used or not; if it expired between the two calls, the
    // traced one was cold. Ask again (warm now) rather than report the server's cache policy as a mismatch.
    for (let retry = 0; retry < 2 && statements.some((statement) => statement.text.includes('"_Session"')); retry++) {
      statements = await traced(child, () => usersMe(origin, user.sessionToken));
    }
    probes.userGet.push({ label: `GET ${paths.me} as ${user.username} (warm)`, statements, expected: sqlParams.userGet(user.objectId, rolesOf(user, input.reader)) });
  }

  const sql = {} as Record<StatementName, string>;
  const statements = {} as Record<StatementName, StatementCheck>;
  for (const name of STATEMENTS) {
    const { text, check } = checkStatement(name, probes[name]);
    sql[name] = text;
    statements[name] = check;
  }
  return { sql, check: { matches: STATEMENTS.every((name) => statements[name].matches), statements } };
}

async function fetchOk(url: string, what: string): Promise<void> {
  await (await expectStatus(await fetch(url, { headers: CLIENT_HEADERS, signal: timeout() }), 200, `${what} probe`)).arrayBuffer();
}

/** Every statement Parsec sends while `request` runs (nothing else may be sent to it meanwhile). */
export async function traced(child: ServerChild, request: () => Promise<unknown>): Promise<TracedStatement[]> {
  await child.command('traceStart');
  const failure = await request().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  // Stopped whether or not the request succeeded: the driver must not stay wrapped.
  const statements = await child.command<TracedStatement[]>('traceStop');
  if (failure !== undefined) throw failure;
  return statements;
}
