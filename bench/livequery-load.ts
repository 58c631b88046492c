/**
 * The LiveQuery scenario (issue #9): 1,000 WebSocket clients (50 users × 20 connections, each subscribed
 * to one of 50 distinct queries, so 1,000 distinct user × query pairs) and an open-loop writer issuing 500
 * writes a second through REST as those users (creates, updates that move objects between rooms or change
 * their ACL, deletes). Reported: how long an event takes from the write being sent to the subscriber
 * receiving it (create/update/enter, whose `object` is the write's own version), events and writes a
 * second, and Parsec's CPU (and the local PostgreSQL server's) per delivered event.
 *
 * The guard (the run fails otherwise): every image an event carries (`object` and `original`) is a version
 * the bench wrote and that subscriber's user could read, with the fields of that version; and the events
 * delivered are exactly those a find before and after each write implies (livequery-model.ts), none
 * missing, none extra, none of the wrong kind.
 */
import { WebSocket } from 'ws';
import { APP_ID, REST_KEY } from '../test/helpers/server.ts';
import type { ServerChild } from './child.ts';
import { postgresMicrosBetween, postgresSample } from './cpu-sample.ts';
import { LatencyRecorder, round } from './latency.ts';
import {
  bodyOf,
  changedVersion,
  clientOf,
  expectedEvent,
  freshVersion,
  LIVE_CLASS,
  LIVE_SCHEMA,
  QUERIES,
  randomStream,
  readable,
  whereOf,
  type Client,
  type EventKind,
  type Version,
} from './livequery-model.ts';
import { progress } from './progress.ts';
import { expectStatus, post } from './seed.ts';
import { CLIENT_HEADERS, MASTER_HEADERS, type BenchUser } from './workload.ts';

export interface LiveQuerySettings {
  readonly clients: number;
  /** One pass per rate, in order, with the same subscribers (the 500, then one this machine keeps up with). */
  readonly writesPerSec: readonly number[];
  readonly warmupSec: number;
  readonly durationSec: number;
  /** A local PostgreSQL server serves Parsec: its CPU is read too. */
  readonly postgres: boolean;
}

export interface LiveQueryCheck {
  readonly expected: number;
  readonly delivered: number;
  readonly missing: number;
  /** Events no write implied for that subscriber, or of another kind than implied. */
  readonly unexpected: number;
  /** Images the subscriber's user could not have read with a find, or that are no version the bench wrote. */
  readonly unreadable: number;
  readonly failedWrites: number;
  readonly holds: boolean;
  readonly problems?: readonly string[];
}

export interface LiveQueryRun {
  readonly clients: number;
  readonly users: number;
  readonly queries: number;
  readonly passes: readonly LiveQueryPass[];
  /** Events delivered over every pass, by kind. */
  readonly events: Record<EventKind, number>;
  /** Over every pass (and the warm-ups): each event checked, and every event a find implies delivered. */
  readonly check: LiveQueryCheck;
}

/** One open-loop pass at a fixed rate of writes. */
export interface LiveQueryPass {
  readonly targetWritesPerSec: number;
  /** Writes answered 2xx in the measured window, a second. */
  readonly writesPerSec: number;
  /** Writes the open loop could not send because 64 were already waiting (the server fell behind). */
  readonly writesNotSent: number;
  readonly eventsPerSec: number;
  /** From sending the write to the subscriber's receiving the event, for writes sent in the measured window. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number };
  /** CPU in the measured window ÷ events delivered in it, in microseconds. */
  readonly cpuPerEventMicros: { readonly parsec: number; readonly postgres: number | undefined };
  readonly cpuPerWriteMicros: { readonly parsec: number; readonly postgres: number | undefined };
}

const MAX_IN_FLIGHT = 64;
const INITIAL_OBJECTS = 500;
const TICK_MS = 5;
const CONNECT_BATCH = 50;
const SETTLE_QUIET_MS = 2_000;
const SETTLE_LIMIT_MS = 30_000;
const KINDS: readonly EventKind[] = ['create', 'enter', 'update', 'leave', 'delete'];
/** Expectation keys are seq × KEY_STRIDE + client: room for this many clients. */
const KEY_STRIDE = 4096;

interface LiveObject {
  readonly objectId: string;
  version: Version;
  busy: boolean;
}

type Phase = 'setup' | 'warmup' | 'measure' | 'drain';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Scenario {
  phase: Phase = 'setup';
  private readonly random = randomStream(0x9a12);
  private nextSeq = 1;
  readonly versions = new Map<number, Version>();
  /** Which write replaced a version (an update or delete): the write a `leave` or `delete` event is about. */
  private readonly supersededBy = new Map<number, number>();
  private readonly expected = new Map<number, EventKind>();
  private readonly sentAt = new Map<number, number>();
  measuredWrites = new Set<number>();
  readonly pool: LiveObject[] = [];
  latency = new LatencyRecorder();
  latencyMax = 0;
  readonly events = Object.fromEntries(KINDS.map((kind) => [kind, 0])) as Record<EventKind, number>;
  expectedTotal = 0;
  delivered = 0;
  deliveredInWindow = 0;
  unexpected = 0;
  unreadable = 0;
  failedWrites = 0;
  writesInWindow = 0;
  notSent = 0;
  inFlight = 0;
  lastEventAt = 0;
  readonly problems: string[] = [];

  constructor(
    private readonly origin: string,
    readonly users: readonly BenchUser[],
    readonly clients: readonly Client[],
  ) {}

  private problem(text: string): void {
    if (this.problems.length < 10) this.problems.push(text);
  }

  private get userIds(): string[] {
    return this.users.map((user) => user.objectId);
  }

  /** Registers what each subscriber must receive before the write is sent: its event can beat the response. */
  private expect(seq: number, before: Version | undefined, after: Version | undefined): number[] {
    const keys: number[] = [];
    if (this.phase === 'setup') return keys;
    for (const client of this.clients) {
      const kind = expectedEvent(client, before, after);
      if (kind === undefined) continue;
      const key = seq * KEY_STRIDE + client.index;
      this.expected.set(key, kind);
      keys.push(key);
    }
    this.expectedTotal += keys.length;
    return keys;
  }

  private withdraw(keys: readonly number[]): void {
    for (const key of keys) if (this.expected.delete(key)) this.expectedTotal -= 1;
  }

  /** One write, chosen and tracked; resolves when answered. */
  async write(): Promise<void> {
    const seq = this.nextSeq++;
    const roll = this.random();
    const idle = this.pool.length < INITIAL_OBJECTS / 2 ? undefined : this.pickIdle();
    if (idle === undefined || roll < 0.3) return this.create(seq);
    return roll < 0.9 ? this.update(seq, idle) : this.remove(seq, idle);
  }

  private pickIdle(): LiveObject | undefined {
    for (let attempt = 0; attempt < 8; attempt++) {
      const candidate = this.pool[Math.floor(this.random() * this.pool.length)];
      if (candidate !== undefined && !candidate.busy) return candidate;
    }
    return undefined;
  }

  private headersOf(user: number): Record<string, string> {
    return { ...CLIENT_HEADERS, 'content-type': 'application/json', 'x-parse-session-token': this.users[user]?.sessionToken ?? '' };
  }

  private async send(seq: number, method: string, path: string, user: number, body: unknown, keys: readonly number[]): Promise<Record<string, unknown> | undefined> {
    const measured = this.phase === 'measure';
    if (measured) this.measuredWrites.add(seq);
    this.sentAt.set(seq, performance.now());
    this.inFlight += 1;
    try {
      const response = await fetch(`${this.origin}/parse${path}`, { method, headers: this.headersOf(user), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const answer = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
      if (measured && this.phase === 'measure') this.writesInWindow += 1;
      return answer;
    } catch (error) {
      this.failedWrites += 1;
      this.problem(`a write failed: ${String(error)}`);
      this.withdraw(keys);
      return undefined;
    } finally {
      this.inFlight -= 1;
    }
  }

  private async create(seq: number): Promise<void> {
    const writer = Math.floor(this.random() * this.users.length);
    const version = freshVersion(seq, writer, this.users.length, this.random);
    this.versions.set(seq, version);
    const keys = this.expect(seq, undefined, version);
    const answer = await this.send(seq, 'POST', `/classes/${LIVE_CLASS}`, writer, bodyOf(version, this.userIds), keys);
    if (typeof answer?.objectId === 'string') this.pool.push({ objectId: answer.objectId, version, busy: false });
  }

  private async update(seq: number, target: LiveObject): Promise<void> {
    target.busy = true;
    const before = target.version;
    const after = changedVersion(seq, before, this.users.length, this.random);
    this.versions.set(seq, after);
    this.supersededBy.set(before.seq, seq);
    const keys = this.expect(seq, before, after);
    const answer = await this.send(seq, 'PUT', `/classes/${LIVE_CLASS}/${target.objectId}`, before.writer, bodyOf(after, this.userIds), keys);
    if (answer === undefined) this.supersededBy.delete(before.seq);
    else target.version = after;
    target.busy = false;
  }

  private async remove(seq: number, target: LiveObject): Promise<void> {
    target.busy = true;
    const before = target.version;
    this.supersededBy.set(before.seq, seq);
    const keys = this.expect(seq, before, undefined);
    const answer = await this.send(seq, 'DELETE', `/classes/${LIVE_CLASS}/${target.objectId}`, before.writer, undefined, keys);
    if (answer === undefined) {
      this.supersededBy.delete(before.seq);
      target.busy = false;
      return;
    }
    const at = this.pool.indexOf(target);
    if (at >= 0) this.pool.splice(at, 1);
  }

  /** An event frame received by `client`: checked against the model, then counted. */
  receive(client: Client, frame: Record<string, unknown>): void {
    const op = frame.op as EventKind;
    if (!KINDS.includes(op)) {
      if (frame.op === 'error') this.problem(`client ${client.index} got an error: ${JSON.stringify(frame)}`);
      return;
    }
    const now = performance.now();
    this.lastEventAt = now;
    this.events[op] += 1;
    if (this.phase === 'measure') this.deliveredInWindow += 1;
    const object = this.imageOf(client, frame.object, 'object');
    const original = frame.original === undefined ? undefined : this.imageOf(client, frame.original, 'original');
    if (object === undefined) return;
    let seq: number | undefined;
    if (op === 'create' || op === 'update' || op === 'enter') seq = object.seq;
    else if (op === 'leave') seq = original === undefined ? undefined : this.supersededBy.get(original.seq);
    else seq = this.supersededBy.get(object.seq);
    const key = seq === undefined ? undefined : seq * KEY_STRIDE + client.index;
    const wanted = key === undefined ? undefined : this.expected.get(key);
    if (key === undefined || wanted !== op) {
      this.unexpected += 1;
      this.problem(`client ${client.index} (user ${client.user}, query ${client.query}) got ${op} for version ${object.seq}; expected ${wanted ?? 'nothing'}`);
      return;
    }
    this.expected.delete(key);
    this.delivered += 1;
    if (seq !== undefined && (op === 'create' || op === 'update' || op === 'enter') && this.measuredWrites.has(seq)) {
      const sent = this.sentAt.get(seq);
      if (sent !== undefined) {
        this.latency.record(now - sent);
        this.latencyMax = Math.max(this.latencyMax, now - sent);
      }
    }
  }

  /** The version an image shows, if it is one the bench wrote, shown whole and readable by the client's user. */
  private imageOf(client: Client, image: unknown, side: string): Version | undefined {
    const fields = typeof image === 'object' && image !== null ? (image as Record<string, unknown>) : {};
    const version = typeof fields.seq === 'number' ? this.versions.get(fields.seq) : undefined;
    const faithful = version !== undefined && fields.room === version.room && fields.score === version.score && fields.tag === version.tag;
    if (version === undefined || !faithful || !readable(client.user, version)) {
      this.unreadable += 1;
      this.problem(`client ${client.index} (user ${client.user}) got an ${side} it may not read or that no write made: ${JSON.stringify(image).slice(0, 300)}`);
      return undefined;
    }
    return version;
  }

  get missing(): number {
    return this.expected.size;
  }
}

async function openClient(wsUrl: string, client: Client, user: BenchUser, scenario: Scenario): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  let settle: ((error?: Error) => void) | undefined;
  const subscribed = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    if (frame.op === 'connected') {
      socket.send(JSON.stringify({ op: 'subscribe', requestId: 1, query: { className: LIVE_CLASS, where: whereOf(client.query) } }));
    } else if (frame.op === 'subscribed') {
      settle?.();
    } else if (frame.op === 'error' && scenario.phase === 'setup') {
      settle?.(new Error(`client ${client.index}: ${JSON.stringify(frame)}`));
    } else {
      scenario.receive(client, frame);
    }
  });
  socket.on('error', (error) => settle?.(error));
  socket.on('close', (code) => {
    if (scenario.phase !== 'drain') settle?.(new Error(`client ${client.index}: socket closed (${code})`));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ op: 'connect', applicationId: APP_ID, restAPIKey: REST_KEY, sessionToken: user.sessionToken }));
  await subscribed;
  return socket;
}

/** Issues writes at `rate` a second until `until` resolves; a write that would exceed MAX_IN_FLIGHT is counted, not sent. */
async function writeAtRate(scenario: Scenario, rate: number, seconds: number): Promise<void> {
  const start = performance.now();
  let issued = 0;
  const pending = new Set<Promise<void>>();
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - issued;
    for (let i = 0; i < due; i++) {
      issued += 1;
      if (scenario.inFlight >= MAX_IN_FLIGHT) {
        if (scenario.phase === 'measure') scenario.notSent += 1;
        continue;
      }
      const write = scenario.write();
      pending.add(write);
      void write.finally(() => pending.delete(write));
    }
    await sleep(TICK_MS);
  }
  await Promise.all(pending);
}

/** Until every expected event arrived, or none arrived for a while (what is still missing then is missing). */
async function drain(scenario: Scenario): Promise<void> {
  const start = performance.now();
  while (scenario.missing > 0 && performance.now() - start < SETTLE_LIMIT_MS && performance.now() - scenario.lastEventAt < SETTLE_QUIET_MS) await sleep(50);
}

const per = (micros: number | undefined, count: number): number | undefined => (micros === undefined ? undefined : round(micros / Math.max(1, count), 1));

async function pass(label: string, child: ServerChild, scenario: Scenario, rate: number, settings: LiveQuerySettings): Promise<LiveQueryPass> {
  progress(`${label}: LiveQuery: ${rate} writes/s, ${settings.warmupSec} s warm-up + ${settings.durationSec} s`);
  scenario.latency = new LatencyRecorder();
  scenario.latencyMax = 0;
  scenario.measuredWrites = new Set();
  scenario.notSent = 0;
  scenario.writesInWindow = 0;
  scenario.deliveredInWindow = 0;
  scenario.phase = 'warmup';
  await writeAtRate(scenario, rate, settings.warmupSec);
  scenario.phase = 'measure';
  const parsecBefore = (await child.stats()).cpuMicros;
  const postgresBefore = settings.postgres ? postgresSample() : undefined;
  const started = performance.now();
  await writeAtRate(scenario, rate, settings.durationSec);
  const seconds = (performance.now() - started) / 1000;
  const parsecMicros = (await child.stats()).cpuMicros - parsecBefore;
  const postgresUsed = postgresMicrosBetween(postgresBefore, settings.postgres ? postgresSample() : undefined);
  const { deliveredInWindow, writesInWindow } = scenario;
  scenario.phase = 'drain';
  await drain(scenario);
  const [p50 = Number.NaN, p99 = Number.NaN] = scenario.latency.percentiles(50, 99);
  return {
    targetWritesPerSec: rate,
    writesPerSec: round(writesInWindow / seconds, 1),
    writesNotSent: scenario.notSent,
    eventsPerSec: round(deliveredInWindow / seconds, 1),
    latencyMs: { p50: round(p50, 2), p99: round(p99, 2), max: round(scenario.latencyMax, 2), samples: scenario.latency.size },
    cpuPerEventMicros: { parsec: per(parsecMicros, deliveredInWindow) ?? 0, postgres: per(postgresUsed, deliveredInWindow) },
    cpuPerWriteMicros: { parsec: per(parsecMicros, writesInWindow) ?? 0, postgres: per(postgresUsed, writesInWindow) },
  };
}

export async function measureLiveQuery(label: string, child: ServerChild, origin: string, users: readonly BenchUser[], settings: LiveQuerySettings): Promise<LiveQueryRun> {
  if (settings.clients > KEY_STRIDE) throw new Error(`the LiveQuery scenario supports at most ${KEY_STRIDE} clients`);
  await expectStatus(await post(origin, `/parse/schemas/${LIVE_CLASS}`, LIVE_SCHEMA, MASTER_HEADERS), 200, 'create the LiveQuery schema');
  const clients = Array.from({ length: settings.clients }, (_, index) => clientOf(index, users.length));
  const scenario = new Scenario(origin, users, clients);
  progress(`${label}: LiveQuery: ${INITIAL_OBJECTS} objects, then ${settings.clients} clients subscribing`);
  for (let i = 0; i < INITIAL_OBJECTS; i += 25) await Promise.all(Array.from({ length: 25 }, () => scenario.write()));
  const sockets: WebSocket[] = [];
  const wsUrl = `${origin.replace(/^http/, 'ws')}/parse`;
  try {
    for (let i = 0; i < clients.length; i += CONNECT_BATCH) {
      const batch = clients.slice(i, i + CONNECT_BATCH);
      sockets.push(...(await Promise.all(batch.map((client) => openClient(wsUrl, client, users[client.user] as BenchUser, scenario)))));
    }
    const passes: LiveQueryPass[] = [];
    for (const rate of settings.writesPerSec) passes.push(await pass(label, child, scenario, rate, settings));
    const problems = [...scenario.problems];
    if (scenario.missing > 0) problems.push(`${scenario.missing} event(s) a find implies were never delivered`);
    const holds = scenario.unreadable === 0 && scenario.unexpected === 0 && scenario.missing === 0 && scenario.failedWrites === 0;
    return {
      clients: settings.clients,
      users: new Set(clients.map((client) => client.user)).size,
      queries: QUERIES,
      passes,
      events: scenario.events,
      check: {
        expected: scenario.expectedTotal,
        delivered: scenario.delivered,
        missing: scenario.missing,
        unexpected: scenario.unexpected,
        unreadable: scenario.unreadable,
        failedWrites: scenario.failedWrites,
        holds,
        ...(problems.length > 0 ? { problems } : {}),
      },
    };
  } finally {
    scenario.phase = 'drain';
    for (const socket of sockets) socket.terminate();
  }
}
