/**
 * The LiveQuery scenario's world, known to the bench independently of Parsec: 50 rooms, 50 distinct
 * subscription queries (five shapes over them), objects whose every version the bench wrote itself (fields,
 * ACL, writer), and the oracle that says, for any version, whether a subscriber's find would return it.
 * The load (livequery-load.ts) checks every event against it: an image the subscriber could not read is a
 * failure of the run, and the events a find before and after each write implies are counted against those
 * delivered.
 */
export const LIVE_CLASS = 'BenchLive';
export const ROOMS = 50;
export const QUERIES = 50;
/** How many consecutive clients share a user: 1,000 clients are then 50 users × 20 connections. */
export const CLIENTS_PER_USER = 20;
const HIDDEN_TAG = 'hidden';

export const LIVE_SCHEMA = {
  className: LIVE_CLASS,
  fields: { room: { type: 'Number' }, score: { type: 'Number' }, tag: { type: 'String' }, seq: { type: 'Number' } },
};

/** One version of an object, as the bench wrote it (`seq` is the write that made it, unique over the run). */
export interface Version {
  readonly seq: number;
  readonly room: number;
  readonly score: number;
  readonly tag: string;
  /** The user (index) who created it: the only one who may write it. */
  readonly writer: number;
  readonly publicRead: boolean;
  /** A second user (index) who may read it, or -1. */
  readonly alsoReader: number;
}

export type Acl = Record<string, { read?: boolean; write?: boolean }>;

export function aclOf(version: Version, userIds: readonly string[]): Acl {
  const acl: Acl = { [userIds[version.writer] ?? '']: { read: true, write: true } };
  if (version.publicRead) acl['*'] = { read: true };
  if (version.alsoReader >= 0 && version.alsoReader !== version.writer) acl[userIds[version.alsoReader] ?? ''] = { read: true };
  return acl;
}

export function bodyOf(version: Version, userIds: readonly string[]): Record<string, unknown> {
  return { room: version.room, score: version.score, tag: version.tag, seq: version.seq, ACL: aclOf(version, userIds) };
}

/** The `where` of query q, in five shapes: equality, a range, `$in`, `$or`, `$ne`. */
export function whereOf(q: number): Record<string, unknown> {
  switch (q % 5) {
    case 0:
      return { room: q };
    case 1:
      return { room: q, score: { $gte: 50 } };
    case 2:
      return { room: { $in: [q, (q + 1) % ROOMS] } };
    case 3:
      return { $or: [{ room: q }, { tag: `t${q}` }] };
    default:
      return { room: q, tag: { $ne: HIDDEN_TAG } };
  }
}

/** The same question as whereOf(q), answered by the bench. */
export function matches(q: number, v: Version): boolean {
  switch (q % 5) {
    case 0:
      return v.room === q;
    case 1:
      return v.room === q && v.score >= 50;
    case 2:
      return v.room === q || v.room === (q + 1) % ROOMS;
    case 3:
      return v.room === q || v.tag === `t${q}`;
    default:
      return v.room === q && v.tag !== HIDDEN_TAG;
  }
}

export function readable(user: number, v: Version): boolean {
  return v.publicRead || v.writer === user || v.alsoReader === user;
}

/** In the subscriber's results: what a find by that user with that query would return. */
export function inResults(client: Client, v: Version | undefined): boolean {
  return v !== undefined && readable(client.user, v) && matches(client.query, v);
}

export interface Client {
  readonly index: number;
  readonly user: number;
  readonly query: number;
}

export function clientOf(index: number, users: number): Client {
  return { index, user: Math.floor(index / CLIENTS_PER_USER) % users, query: index % QUERIES };
}

export type EventKind = 'create' | 'enter' | 'update' | 'leave' | 'delete';

/** The event a write from `before` to `after` implies for a subscriber, if any (the find-before/find-after rule). */
export function expectedEvent(client: Client, before: Version | undefined, after: Version | undefined): EventKind | undefined {
  const wasIn = inResults(client, before);
  const isIn = inResults(client, after);
  if (!wasIn && !isIn) return undefined;
  if (before === undefined) return 'create';
  if (after === undefined) return 'delete';
  if (wasIn && isIn) return 'update';
  return isIn ? 'enter' : 'leave';
}

/** A deterministic stream of choices (the run is reproducible): mulberry32. */
export function randomStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A new object's first version. */
export function freshVersion(seq: number, writer: number, users: number, random: () => number): Version {
  return {
    seq,
    room: Math.floor(random() * ROOMS),
    score: Math.floor(random() * 100),
    tag: random() < 0.1 ? HIDDEN_TAG : `t${Math.floor(random() * ROOMS)}`,
    writer,
    publicRead: random() < 0.5,
    alsoReader: random() < 0.3 ? Math.floor(random() * users) : -1,
  };
}

/** The next version: a move to another room, a new score or tag, or an ACL change (access-only enter/leave). */
export function changedVersion(seq: number, previous: Version, users: number, random: () => number): Version {
  const roll = random();
  if (roll < 0.3) return { ...previous, seq, room: Math.floor(random() * ROOMS) };
  if (roll < 0.6) return { ...previous, seq, score: Math.floor(random() * 100) };
  if (roll < 0.8) return { ...previous, seq, tag: random() < 0.2 ? HIDDEN_TAG : `t${Math.floor(random() * ROOMS)}` };
  return { ...previous, seq, publicRead: !previous.publicRead, alsoReader: random() < 0.3 ? Math.floor(random() * users) : -1 };
}
