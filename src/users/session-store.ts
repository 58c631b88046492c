import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Driver } from '../storage/driver.ts';
import { LocalBus, type Invalidation, type InvalidationBus } from '../cluster/invalidation.ts';
import { roleNamesOf, type RoleStore } from '../security/role-store.ts';
import { hashToken, newSessionToken } from './tokens.ts';

export interface SessionPolicy {
  /** Seconds a session lives. */
  readonly sessionLength: number;
  /** false: sessions never expire (Parse's `expireInactiveSessions: false`). */
  readonly expireInactiveSessions: boolean;
  /** Move the expiry forward when a session is used in the second half of its life. */
  readonly extendSessionOnUse: boolean;
}

export interface SessionRecord {
  readonly sessionId: string;
  readonly userId: string;
  readonly expiresAt: Date | null;
  readonly restricted: boolean;
}

export interface NewSession {
  readonly userId: string;
  readonly createdWith: Readonly<Record<string, string>>;
  readonly installationId: string | undefined;
  readonly restricted: boolean;
}

/** How long a looked-up session is trusted without asking the database (expiry is still checked on every hit). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;
const TOKEN_SHAPE = /^r:[A-Za-z0-9]{16,128}$/;

const invalidToken = (): ParseError => new ParseError(ErrorCode.INVALID_SESSION_TOKEN, 'Invalid session token');

/**
 * Sessions by token hash. A cold lookup is one indexed query; a warm one none. Every way a session ends
 * (logout, delete, password change, user deletion) removes it from this node's cache at once and, through
 * the invalidation bus, from every other node's when the change commits; the cache never outlives the
 * session's expiry, is bypassed while the bus cannot be trusted, and trusts an entry for at most CACHE_MS
 * whatever happens. A generation counter keeps a lookup that raced an invalidation from caching what it read.
 */
export class SessionStore {
  private readonly cache = new Map<string, { record: SessionRecord; cachedAt: number }>();
  private generation = 0;
  private readonly forgetListeners: (() => void)[] = [];

  constructor(
    private readonly driver: Driver,
    private readonly policy: SessionPolicy,
    private readonly roles: RoleStore,
    private readonly bus: InvalidationBus = new LocalBus(),
  ) {
    bus.subscribe({
      apply: (event) => {
        if (event.kind === 'sessions') this.sweep(matcher(event));
      },
      reset: () => this.sweep(() => true),
    });
  }

  private expiryFrom(now: number): Date | null {
    return this.policy.expireInactiveSessions ? new Date(now + this.policy.sessionLength * 1000) : null;
  }

  /**
   * Creates a session in the caller's transaction and returns the only copy of its token. Opened from an
   * installation, it replaces that installation's earlier sessions of the same user, as Parse does: a device
   * that logs in again must not leave its previous token alive.
   */
  async create(db: Driver, session: NewSession): Promise<{ token: string; sessionId: string; expiresAt: Date | null; createdAt: Date }> {
    const token = newSessionToken();
    const sessionId = newObjectId();
    const now = Date.now();
    const expiresAt = this.expiryFrom(now);
    if (session.installationId !== undefined) {
      const replaced = await db.query<{ objectId: string }>(
        'DELETE FROM "_Session" WHERE "user" = $1::text AND "installationId" = $2::text RETURNING "objectId"',
        [session.userId, session.installationId],
      );
      for (const { objectId } of replaced.rows) await this.forget(db, { kind: 'sessions', sessionId: objectId });
    }
    await db.query(
      'INSERT INTO "_Session" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "user", "expiresAt", "createdWith", "installationId", "restricted", "_session_token_hash") ' +
        'VALUES ($1::text, $2::timestamptz, $2::timestamptz, $3::text[], $3::text[], $4::text, $5::timestamptz, $6::jsonb, $7::text, $8::boolean, $9::text)',
      [
        sessionId,
        new Date(now).toISOString(),
        [session.userId],
        session.userId,
        expiresAt?.toISOString() ?? null,
        JSON.stringify(session.createdWith),
        session.installationId ?? null,
        session.restricted,
        hashToken(token),
      ],
    );
    return { token, sessionId, expiresAt, createdAt: new Date(now) };
  }

  /** The session a token names, or 209. Non-strings and malformed tokens never reach the database. */
  async resolve(token: unknown): Promise<SessionRecord> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) throw invalidToken();
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.bus.trusted ? this.cache.get(hash) : undefined;
    let record = hit !== undefined && now - hit.cachedAt < CACHE_MS ? hit.record : undefined;
    if (record === undefined) {
      // The user's roles come in the same statement, so a cold request costs one round trip, not two.
      const generation = this.roles.currentGeneration;
      const sessionGeneration = this.generation;
      const { rows } = await this.driver.query<{ objectId: string; user: string | null; expiresAt: Date | null; restricted: boolean | null; roles: string[] | null }>(
        `SELECT s."objectId", s."user", s."expiresAt", s."restricted", ${roleNamesOf('s."user"')} AS "roles" FROM "_Session" AS s WHERE s."_session_token_hash" = $1::text`,
        [hash],
      );
      const row = rows[0];
      if (row?.user === undefined || row.user === null) {
        this.cache.delete(hash);
        throw invalidToken();
      }
      record = { sessionId: row.objectId, userId: row.user, expiresAt: row.expiresAt, restricted: row.restricted === true };
      this.roles.learned(row.user, row.roles ?? [], generation);
      if (sessionGeneration === this.generation) this.remember(hash, record, now);
    }
    if (record.expiresAt !== null && record.expiresAt.getTime() <= now) {
      this.cache.delete(hash);
      throw new ParseError(ErrorCode.INVALID_SESSION_TOKEN, 'Session token is expired.');
    }
    if (this.policy.extendSessionOnUse && record.expiresAt !== null) record = await this.extend(hash, record, now);
    return record;
  }

  private async extend(hash: string, record: SessionRecord, now: number): Promise<SessionRecord> {
    const remaining = (record.expiresAt?.getTime() ?? 0) - now;
    if (remaining > (this.policy.sessionLength * 1000) / 2) return record;
    const expiresAt = this.expiryFrom(now);
    await this.driver.query('UPDATE "_Session" SET "expiresAt" = $1::timestamptz WHERE "objectId" = $2::text', [expiresAt?.toISOString() ?? null, record.sessionId]);
    const extended = { ...record, expiresAt };
    this.remember(hash, extended, now);
    return extended;
  }

  private remember(hash: string, record: SessionRecord, now: number): void {
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(hash, { record, cachedAt: now });
  }

  /**
   * `listener` runs whenever sessions are forgotten here: a change on this node (before and after it
   * commits) or one another node announced. LiveQuery re-checks the sessions its subscriptions act with.
   */
  onForget(listener: () => void): void {
    this.forgetListeners.push(listener);
  }

  /** Drops cached sessions matching `predicate`; lookups in flight will not cache what they read. */
  private sweep(predicate: (record: SessionRecord, hash: string) => boolean): void {
    this.generation += 1;
    for (const [hash, entry] of this.cache) if (predicate(entry.record, hash)) this.cache.delete(hash);
    for (const listener of this.forgetListeners) listener();
  }

  /**
   * Forgets sessions here now and again after the transaction commits (a request running concurrently may
   * re-cache the old row before the deletion commits), and tells the other nodes when it commits.
   */
  private async forget(db: Driver, event: Extract<Invalidation, { kind: 'sessions' }>): Promise<void> {
    const predicate = matcher(event);
    this.sweep(predicate);
    db.afterCommit(() => this.sweep(predicate));
    await this.bus.publish(db, event);
  }

  async deleteByToken(db: Driver, token: string): Promise<void> {
    const hash = hashToken(token);
    await db.query('DELETE FROM "_Session" WHERE "_session_token_hash" = $1::text', [hash]);
    await this.forget(db, { kind: 'sessions', tokenHash: hash });
  }

  /** Deletes every session of a user, optionally keeping one (the one that changed the password). */
  async deleteForUser(db: Driver, userId: string, keepSessionId?: string): Promise<void> {
    await db.query('DELETE FROM "_Session" WHERE "user" = $1::text AND "objectId" IS DISTINCT FROM $2::text', [userId, keepSessionId ?? null]);
    await this.forget(db, keepSessionId === undefined ? { kind: 'sessions', userId } : { kind: 'sessions', userId, keepSessionId });
  }

  /** Every session was deleted (a purge of `_Session` or `_User`). */
  async forgetAll(db: Driver): Promise<void> {
    await this.forget(db, { kind: 'sessions' });
  }

  /** A session row was deleted through the generic pipeline. */
  async forgetSession(db: Driver, sessionId: string): Promise<void> {
    await this.forget(db, { kind: 'sessions', sessionId });
  }
}

/** Which cached sessions an invalidation names: every condition it gives must hold (the cache key is the token hash). */
function matcher(event: Extract<Invalidation, { kind: 'sessions' }>): (record: SessionRecord, hash: string) => boolean {
  return (record, hash) =>
    (event.tokenHash === undefined || hash === event.tokenHash) &&
    (event.sessionId === undefined || record.sessionId === event.sessionId) &&
    (event.userId === undefined || (record.userId === event.userId && record.sessionId !== event.keepSessionId));
}
