/**
 * The LiveQuery server of one node: its connections (with the per-IP and per-user limits), and the
 * dispatch of each committed change to the subscriptions of its class. Changes are dispatched one at a
 * time, in commit order, so a subscriber sees an object's events in the order its writes committed.
 */
import type { Authenticator, Credentials } from '../auth/authenticate.ts';
import type { AuthContext } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { LiveQueryOptions } from '../config/live-query-option.ts';
import type { Logger, Services } from '../rest/services.ts';
import { evaluateProbes, type Probe } from './evaluate.ts';
import type { ChangeFanout, ChangeFeed, RowChange } from './feed.ts';
import type { LiveConnection } from './connection.ts';
import { decideEvent } from './decide.ts';
import { deliverEvent } from './deliver.ts';
import type { Subscription } from './subscription.ts';
import { ConcurrencyLimit } from '../async/concurrency-limit.ts';
import { SubscriptionIndex } from './subscription-index.ts';
import { LiveQueryTriggers } from './triggers.ts';
import { assertQueryable } from '../security/query-fields.ts';
import type { AccessPlan } from '../security/access.ts';
import type { AddressInfo } from 'node:net';
import type { ClassSchema } from '../schema/types.ts';
import type { Driver } from '../storage/driver.ts';

/** Changes evaluated at the same time (each holds a pooled connection for its statement). */
const MAX_CONCURRENT_EVALUATIONS = 4;

/** One subscription as the dispatch of one change sees it. */
interface Subscriber {
  readonly connection: LiveConnection;
  readonly subscription: Subscription;
  readonly auth: AuthContext;
  readonly access: AccessPlan;
  /** Index of the probe for `where` (absent: the where is empty and always holds). */
  whereProbe?: number;
  /** Index of the probe for the read permission (absent: unrestricted; -1: the class is not readable at all). */
  readProbe?: number;
}

/** One change, evaluated: who may hear of it and the answers, ready to be sent. */
interface Prepared {
  readonly schema: ClassSchema;
  readonly eligible: readonly Subscriber[];
  readonly sides: Awaited<ReturnType<typeof evaluateProbes>>;
}

/** The same rights give the same answers: the key of a caller's read permission. */
/** Identities are frozen and reused across events: their key is computed once each, not per event and subscriber. */
const identityKeys = new WeakMap<AuthContext, string>();

function identityKey(auth: AuthContext): string {
  let key = identityKeys.get(auth);
  if (key === undefined) {
    key = auth.kind === 'user' ? `user\u0000${auth.userId}\u0000${[...auth.roles].sort().join('\u0000')}` : auth.kind;
    identityKeys.set(auth, key);
  }
  return key;
}

export class LiveQueryHub implements ChangeFeed {
  readonly connections = new Set<LiveConnection>();
  /** The connections subscribed to each class: a change looks at those only. */
  readonly subscriptions = new SubscriptionIndex();
  /** Counts the session store's forgettings: a connection's resolved identities are reused only within one. */
  sessionsGeneration = 0;
  private readonly perIp = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  private readonly classes: ReadonlySet<string>;
  private dispatching: Promise<void> = Promise.resolve();
  private bound: { services: Services; authenticate: Authenticator } | undefined;
  readonly triggers = new LiveQueryTriggers(this);
  /** Where LiveQuery listens when it has a port of its own (`liveQuery.port`): the bound one, so port 0's too. */
  ownAddress: AddressInfo | undefined;

  constructor(readonly options: LiveQueryOptions) {
    this.classes = new Set(options.classNames);
  }

  /** Binds the server's services (they hold this hub, so it is created first and bound once they exist). */
  bind(services: Services, authenticate: Authenticator): void {
    this.bound = { services, authenticate };
  }

  get services(): Services {
    if (this.bound === undefined) throw new Error('internal error: LiveQuery used before the server was built');
    return this.bound.services;
  }

  get log(): Logger {
    return this.services.log;
  }

  authenticate(credentials: Credentials, ip: string): Promise<AuthContext> {
    if (this.bound === undefined) throw new Error('internal error: LiveQuery used before the server was built');
    return this.bound.authenticate(credentials, ip, '/livequery');
  }

  watches(className: string): boolean {
    return this.classes.has(className);
  }

  /** Counts a new socket against its IP; false when the IP already holds `maxConnectionsPerIp`. */
  admitIp(ip: string): boolean {
    const count = this.perIp.get(ip) ?? 0;
    if (count >= this.options.maxConnectionsPerIp) return false;
    this.perIp.set(ip, count + 1);
    return true;
  }

  /** Counts a connected user (throws 155 past `maxConnectionsPerUser`). */
  admitUser(connection: LiveConnection, userId: string): void {
    const count = this.perUser.get(userId) ?? 0;
    if (count >= this.options.maxConnectionsPerUser) {
      throw new ParseError(ErrorCode.REQUEST_LIMIT_EXCEEDED, `A user may hold at most ${this.options.maxConnectionsPerUser} LiveQuery connections.`);
    }
    this.perUser.set(userId, count + 1);
    connection.countedUser = userId;
  }

  add(connection: LiveConnection): void {
    this.connections.add(connection);
  }

  remove(connection: LiveConnection): void {
    if (!this.connections.delete(connection)) return;
    connection.markClosed();
    release(this.perIp, connection.ip);
    if (connection.countedUser !== undefined) release(this.perUser, connection.countedUser);
  }

  /** Set when other nodes may be serving LiveQuery too (PostgreSQL): they hear of this node's changes through it (NOTIFY or Redis). */
  fanout: ChangeFanout | undefined;

  announce(db: Driver, change: RowChange): Promise<void> {
    return this.fanout === undefined ? Promise.resolve() : this.fanout.announce(db, change);
  }

  /**
   * A committed change, never failing the writer. Its evaluation starts at once (a few at a time, so a
   * busy class cannot take the whole pool), while events are still sent in the order changes were
   * published: one change's statement overlaps the previous change's sending instead of waiting for it.
   */
  publish(change: RowChange): void {
    // Settled into a value at once: a failure waiting behind slower deliveries is never an unhandled rejection.
    const prepared = this.evaluations.run(() => this.prepare(change)).then(
      (ready) => ({ ready }),
      (error: unknown) => ({ error }),
    );
    this.dispatching = this.dispatching.then(async () => {
      const outcome = await prepared;
      try {
        if ('error' in outcome) throw outcome.error;
        if (outcome.ready !== undefined) await this.send(outcome.ready);
      } catch (error) {
        this.log.error({ err: error, className: change.className }, 'LiveQuery: dispatching a change failed');
      }
    });
  }

  /** Bounds the evaluations running at once (MAX_CONCURRENT_EVALUATIONS). */
  private readonly evaluations = new ConcurrencyLimit(MAX_CONCURRENT_EVALUATIONS);

  /** Resolves once every change published so far has been dispatched (tests, shutdown). */
  idle(): Promise<void> {
    return this.dispatching;
  }

  /**
   * Sessions were forgotten (a logout, a revocation, a password change, here or on another node): every
   * session a subscription acts with is resolved again, and the subscriptions of those that ended are
   * dropped with a 209. Re-resolved rather than trusted: the store forgets a session before its deletion
   * commits as well as after, and only the second look finds it gone.
   */
  sessionsChanged(): void {
    this.sessionsGeneration += 1;
    for (const connection of this.connections) {
      for (const token of connection.tokensInUse()) {
        connection.authFor(token).then(
          () => undefined,
          () => connection.endSession(token),
        );
      }
    }
  }

  private async subscribersOf(className: string): Promise<Subscriber[]> {
    const subscribers: Subscriber[] = [];
    const resolving = new Map<string, Promise<AuthContext>>();
    // A copy: a session found ended below removes subscriptions, and with them entries of the index.
    for (const connection of [...this.subscriptions.connectionsOf(className)]) {
      if (!connection.isConnected) continue;
      for (const subscription of connection.subscriptions.values()) {
        if (subscription.className !== className) continue;
        const known = connection.cachedAuth(subscription.sessionToken);
        if (known !== undefined) {
          subscribers.push({ connection, subscription, auth: known, access: connection.accessFor(known) });
          continue;
        }
        const token = connection.tokenOf(subscription);
        const key = `${connection.clientId}\u0000${token ?? ''}`;
        let auth = resolving.get(key);
        if (auth === undefined) {
          auth = connection.authFor(subscription.sessionToken);
          resolving.set(key, auth);
        }
        try {
          const current = await auth;
          subscribers.push({ connection, subscription, auth: current, access: connection.accessFor(current) });
        } catch {
          // The session ended (logout, revocation, expiry): no event, and the client is told.
          if (token !== undefined) connection.endSession(token);
        }
      }
    }
    return subscribers;
  }

  /** Who may hear of the change, and the answers to every question about it: one statement. */
  private async prepare(change: RowChange): Promise<Prepared | undefined> {
    const subscribers = await this.subscribersOf(change.className);
    if (subscribers.length === 0) return undefined;
    const { schemas, driver } = this.services;
    let schema = schemas.get(change.className);
    if (schema === undefined || hasUnknownColumns(schema, change)) {
      // A change announced by another node may carry a field its schema message has not brought here yet.
      await schemas.reload();
      schema = schemas.get(change.className);
    }
    if (schema === undefined) return undefined;
    const probes: Probe[] = [];
    const whereProbes = new Map<string, number>();
    const readProbes = new Map<string, number>();
    const eligible: Subscriber[] = [];
    for (const subscriber of subscribers) {
      const { subscription, access, auth } = subscriber;
      const identity = identityKey(auth);
      let read = readProbes.get(identity);
      if (read === undefined) {
        try {
          const filter = access.readFilter(change.className, 'find');
          read = filter === undefined ? -2 : probes.push({ condition: filter, access }) - 1;
        } catch {
          // The class-level permission now denies this caller's find: no events, as a find would return none.
          read = -1;
        }
        readProbes.set(identity, read);
      }
      if (read === -1) continue;
      if (read >= 0) subscriber.readProbe = read;
      if (!this.stillQueryable(subscription, access, schema)) continue;
      if (subscription.query.where.type !== 'true') {
        const key = subscription.readsOtherRows ? `${subscription.whereKey}\u0000${identity}` : subscription.whereKey;
        let where = whereProbes.get(key);
        if (where === undefined) {
          where = probes.push({ condition: subscription.query.where, access }) - 1;
          whereProbes.set(key, where);
        }
        subscriber.whereProbe = where;
      }
      eligible.push(subscriber);
    }
    if (eligible.length === 0) return undefined;
    const schemaOf = (name: string) => schemas.get(name);
    let sides: Awaited<ReturnType<typeof evaluateProbes>>;
    try {
      sides = await evaluateProbes(driver, change.className, schema, schemaOf, change, probes);
    } catch (error) {
      sides = await this.isolateFailures(change, schema, probes, eligible, error);
    }
    return { schema, eligible, sides };
  }

  /**
   * Protected fields may have changed since the subscription was made; a find would now refuse it. The
   * answer is kept per identity's plan and class schema (a new schema object after any change of it), for
   * wheres on this class only: one naming another class's fields is checked again at every change.
   */
  private stillQueryable(subscription: Subscription, access: AccessPlan, schema: ClassSchema): boolean {
    const known = this.queryable.get(subscription);
    if (known !== undefined && known.access === access && known.schema === schema) return true;
    try {
      assertQueryable(access, subscription.query);
    } catch {
      return false;
    }
    if (!subscription.readsOtherRows) this.queryable.set(subscription, { access, schema });
    return true;
  }

  private readonly queryable = new WeakMap<Subscription, { access: AccessPlan; schema: ClassSchema }>();

  /** Sends each subscriber its event, in subscription order; one that unsubscribed meanwhile gets nothing. */
  private async send({ schema, eligible, sides }: Prepared): Promise<void> {
    const view = (side: typeof sides.before, subscriber: Subscriber) =>
      side === undefined
        ? undefined
        : {
            matches: subscriber.whereProbe === undefined || side.answers[subscriber.whereProbe] === true,
            readable: subscriber.readProbe === undefined || side.answers[subscriber.readProbe] === true,
          };
    const shared = new Map<string, string | null>();
    for (const subscriber of eligible) {
      const { connection, subscription } = subscriber;
      if (!connection.isConnected || connection.subscriptions.get(subscription.requestId) !== subscription) continue;
      const decision = decideEvent(view(sides.before, subscriber), view(sides.after, subscriber));
      if (decision === undefined) continue;
      const caller = subscriber.connection.callerFor(subscriber.auth);
      const delivery = { caller, connection: subscriber.connection, subscription: subscriber.subscription, schema, decision, sides, triggers: this.triggers };
      await deliverEvent(delivery, shared, identityKey(subscriber.auth));
    }
  }

  /**
   * The statement failed (it should not: wheres are checked when subscribing). Each probe is evaluated on
   * its own to find the culprits; their subscribers get the error and lose the subscription, and everyone
   * else still gets their events: one subscription can never stop the others'.
   */
  private async isolateFailures(change: RowChange, schema: ClassSchema, probes: readonly Probe[], subscribers: Subscriber[], cause: unknown): Promise<Awaited<ReturnType<typeof evaluateProbes>>> {
    const { schemas, driver } = this.services;
    const schemaOf = (name: string) => schemas.get(name);
    const failed = new Set<number>();
    const answers: { before: boolean[]; after: boolean[] } = { before: [], after: [] };
    let rows: { before?: Readonly<Record<string, unknown>>; after?: Readonly<Record<string, unknown>> } = {};
    for (const [index, probe] of probes.entries()) {
      try {
        const single = await evaluateProbes(driver, change.className, schema, schemaOf, change, [probe]);
        rows = { before: single.before?.row, after: single.after?.row };
        answers.before[index] = single.before?.answers[0] === true;
        answers.after[index] = single.after?.answers[0] === true;
      } catch {
        failed.add(index);
        answers.before[index] = false;
        answers.after[index] = false;
      }
    }
    if (failed.size === probes.length) {
      // Nothing evaluates (the class's table changed under us…): no events, and the cause goes to the log.
      this.log.error({ err: cause, className: change.className }, 'LiveQuery: evaluating a change failed');
    }
    for (const subscriber of subscribers) {
      if (subscriber.whereProbe === undefined || !failed.has(subscriber.whereProbe)) continue;
      subscriber.connection.subscriptions.delete(subscriber.subscription.requestId);
      subscriber.connection.sendError(new ParseError(ErrorCode.INVALID_QUERY, 'This subscription\'s query cannot be evaluated; it was removed.'), subscriber.subscription.requestId);
    }
    const side = (name: 'before' | 'after') => {
      const row = rows[name];
      return row === undefined ? undefined : { row, answers: answers[name] };
    };
    const result: Awaited<ReturnType<typeof evaluateProbes>> = {};
    const before = side('before');
    const after = side('after');
    if (before !== undefined) result.before = before;
    if (after !== undefined) result.after = after;
    return result;
  }
}

const SYSTEM_COLUMNS = new Set(['objectId', 'createdAt', 'updatedAt', '_rperm', '_wperm']);

function hasUnknownColumns(schema: ClassSchema, change: RowChange): boolean {
  const unknown = (image: Readonly<Record<string, unknown>> | undefined): boolean =>
    image !== undefined && Object.keys(image).some((key) => !SYSTEM_COLUMNS.has(key) && !schema.fields.has(key));
  return unknown(change.before) || unknown(change.after);
}

function release(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 1) - 1;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}
