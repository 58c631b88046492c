/**
 * One LiveQuery client: its identity, its subscriptions, and the handling of its messages in the order they
 * arrived. Every failure becomes an error frame for this client only; nothing a client sends can throw
 * past this class.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { ANONYMOUS, MASTER, READ_ONLY_MASTER, type AuthContext } from '../auth/context.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { toErrorBody } from '../http/errors.ts';
import type { Caller } from '../rest/services.ts';
import { callerAccess, type AccessPlan } from '../security/access.ts';
import { errorFrame, parseClientMessage, ProtocolError, type ConnectMessage, type SubscribeMessage } from './protocol.ts';
import { prepareSubscription, type Subscription } from './subscription.ts';
import type { LiveQueryHub } from './hub.ts';
import { IndexedSubscriptions } from './subscription-index.ts';

/** A client that reads its events slower than they come is disconnected rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** How long a resolved identity is reused without asking the session store (its own cache's bound). */
const IDENTITY_CACHE_MS = 30_000;
/** Messages of one client waiting to be handled. */
const MAX_PENDING_MESSAGES = 256;

export class LiveConnection {
  readonly clientId = randomUUID();
  /** The identity of `connect`; undefined until then. */
  private connectAuth: AuthContext | undefined;
  private connectToken: string | undefined;
  /** Set when the connection's own session ended: subscribing without a token of its own is then refused. */
  private connectSessionEnded = false;
  installationId: string | undefined;
  /** The user counted against `maxConnectionsPerUser`, released when the socket closes. */
  countedUser: string | undefined;
  /** By request id; the hub's index of subscriptions by class follows every change of it. */
  readonly subscriptions: Map<number, Subscription>;
  private queue: Promise<void> = Promise.resolve();
  /**
   * Who each session token in use is, as last resolved: valid while no session was forgotten and no role
   * changed since (the hub's and the role store's generations), before the session's expiry, and for at
   * most IDENTITY_CACHE_MS (the session store's own bound). Every event asks, so this saves a token hash
   * and two map lookups per subscriber and event, not a database query.
   */
  private readonly identities = new Map<string, { auth: AuthContext; rolesGeneration: number; sessionsGeneration: number; expiresAt: number | null; cachedAt: number }>();
  private readonly plans = new WeakMap<AuthContext, AccessPlan>();
  private pending = 0;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    readonly ip: string,
    private readonly hub: LiveQueryHub,
  ) {
    this.subscriptions = new IndexedSubscriptions(hub.subscriptions, this);
  }

  get isConnected(): boolean {
    return this.connectAuth !== undefined && !this.closed;
  }

  /**
   * Messages are handled one after the other, so a subscribe is settled before the unsubscribe that follows
   * it. A client that sends faster than its messages are handled is disconnected instead of queued without bound.
   */
  receive(frame: string): void {
    if (this.pending >= MAX_PENDING_MESSAGES) {
      this.socket.close(1008, 'Too many messages.');
      return;
    }
    this.pending += 1;
    this.queue = this.queue.then(() => this.handle(frame)).finally(() => {
      this.pending -= 1;
    });
  }

  send(frame: Record<string, unknown>): void {
    this.sendText(JSON.stringify(frame));
  }

  /** A frame already serialised (events share their bodies between subscribers alike). */
  sendText(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(1008, 'Too many unread events.');
      return;
    }
    this.socket.send(text);
  }

  sendError(error: unknown, requestId?: number): void {
    const body = toErrorBody(error, (cause) => this.hub.log.error({ err: cause }, 'LiveQuery: internal error'));
    this.send(errorFrame({ code: body.code, message: body.error }, requestId));
  }

  closeSocket(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  markClosed(): void {
    this.closed = true;
    this.subscriptions.clear();
  }

  private async handle(frame: string): Promise<void> {
    let requestId: number | undefined;
    try {
      const message = parseClientMessage(frame);
      requestId = 'requestId' in message ? message.requestId : undefined;
      switch (message.op) {
        case 'connect':
          await this.connect(message);
          return;
        case 'subscribe':
        case 'update':
          await this.subscribe(message);
          return;
        case 'unsubscribe':
          this.assertConnected();
          if (!this.subscriptions.delete(message.requestId)) {
            throw new ParseError(ErrorCode.INVALID_QUERY, `No subscription with requestId ${message.requestId}.`);
          }
          this.send({ op: 'unsubscribed', clientId: this.clientId, requestId: message.requestId });
          return;
      }
    } catch (error) {
      this.sendError(error, error instanceof ProtocolError ? (error.requestId ?? requestId) : requestId);
    }
  }

  private assertConnected(): void {
    if (this.connectAuth === undefined) throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, 'Connect before subscribing.');
  }

  private async connect(message: ConnectMessage): Promise<void> {
    if (this.connectAuth !== undefined) throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, 'This client is already connected.');
    const auth = await this.hub.authenticate(
      {
        appId: typeof message.applicationId === 'string' ? message.applicationId : undefined,
        masterKey: message.masterKey,
        maintenanceKey: undefined,
        javascriptKey: message.javascriptKey,
        restAPIKey: message.restAPIKey,
        clientKey: message.clientKey,
        dotNetKey: message.windowsKey,
        sessionToken: message.sessionToken,
      },
      this.ip,
    );
    // The maintenance key is for scripts, not for listening to everything.
    if (auth.kind === 'maintenance') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, 'The maintenance key cannot connect to LiveQuery.');
    this.installationId = message.installationId;
    await this.hub.triggers.beforeConnect(this, auth, message);
    if (auth.kind === 'user') this.hub.admitUser(this, auth.userId);
    this.connectAuth = auth;
    this.connectToken = auth.kind === 'user' ? message.sessionToken : undefined;
    this.send({ op: 'connected', clientId: this.clientId, installationId: this.installationId });
  }

  private async subscribe(message: SubscribeMessage): Promise<void> {
    this.assertConnected();
    const replacing = this.subscriptions.has(message.requestId);
    const { maxSubscriptionsPerConnection } = this.hub.options;
    if (!replacing && this.subscriptions.size >= maxSubscriptionsPerConnection) {
      throw new ParseError(ErrorCode.REQUEST_LIMIT_EXCEEDED, `A connection may hold at most ${maxSubscriptionsPerConnection} subscriptions.`);
    }
    const caller = this.callerFor(await this.authFor(message.sessionToken));
    const query = await this.hub.triggers.beforeSubscribe(caller, this, message);
    const subscription = await prepareSubscription(caller, message.requestId, query, message.sessionToken);
    if (this.closed) return;
    this.subscriptions.set(message.requestId, subscription);
    this.send({ op: 'subscribed', clientId: this.clientId, requestId: message.requestId });
  }

  /** The session token a subscription acts with: its own, else the connection's. */
  tokenOf(subscription: Subscription): string | undefined {
    return subscription.sessionToken ?? this.connectToken;
  }

  /**
   * `authFor` without a wait, when its answer is known: the master keys, no token, or a session resolved
   * recently enough (see `identities`); undefined when the session store must be asked. Every event asks
   * for every subscriber, so this is the path a busy server takes.
   */
  cachedAuth(subscriptionToken: string | undefined): AuthContext | undefined {
    const base = this.connectAuth;
    if (base?.kind === 'master') return MASTER;
    if (base?.kind === 'readOnlyMaster') return READ_ONLY_MASTER;
    const token = subscriptionToken ?? this.connectToken;
    if (subscriptionToken === undefined && this.connectSessionEnded) return undefined;
    if (token === undefined) return ANONYMOUS;
    const cached = this.identities.get(token);
    if (cached === undefined) return undefined;
    const { roles, invalidation } = this.hub.services;
    const now = Date.now();
    const fresh =
      invalidation.trusted &&
      cached.rolesGeneration === roles.currentGeneration &&
      cached.sessionsGeneration === this.hub.sessionsGeneration &&
      (cached.expiresAt === null || cached.expiresAt > now) &&
      now - cached.cachedAt < IDENTITY_CACHE_MS;
    return fresh ? cached.auth : undefined;
  }

  /**
   * Who a subscription acts as, now: the master keys stay master; a session token is resolved again (so a
   * revoked or expired session fails here with 209 and role changes are seen); no token is anonymous.
   */
  async authFor(subscriptionToken: string | undefined): Promise<AuthContext> {
    const cached = this.cachedAuth(subscriptionToken);
    if (cached !== undefined) return cached;
    const base = this.connectAuth;
    if (base?.kind === 'master') return MASTER;
    if (base?.kind === 'readOnlyMaster') return READ_ONLY_MASTER;
    const token = subscriptionToken ?? this.connectToken;
    if (subscriptionToken === undefined && this.connectSessionEnded) throw new ParseError(ErrorCode.INVALID_SESSION_TOKEN, 'Invalid session token');
    if (token === undefined) return ANONYMOUS;
    const { sessions, roles } = this.hub.services;
    const now = Date.now();
    // Generations read before the lookup: a change racing it makes the next event look again.
    const rolesGeneration = roles.currentGeneration;
    const sessionsGeneration = this.hub.sessionsGeneration;
    const session = await sessions.resolve(token);
    const auth: AuthContext = Object.freeze({ kind: 'user', userId: session.userId, roles: await roles.rolesOf(session.userId), sessionId: session.sessionId, sessionToken: token });
    this.identities.set(token, { auth, rolesGeneration, sessionsGeneration, expiresAt: session.expiresAt?.getTime() ?? null, cachedAt: now });
    return auth;
  }

  callerFor(auth: AuthContext): Caller {
    const { services } = this.hub;
    return { auth, access: this.accessFor(auth), services, client: { ip: this.ip, headers: {}, installationId: this.installationId, context: {} } };
  }

  /**
   * The access plan of an identity, made once per identity rather than per event and subscriber. An
   * identity is a frozen AuthContext replaced whenever its session or roles are resolved anew, and a plan
   * reads class permissions from the schema cache at each question (its protected-field memo is keyed by
   * the schema object), so a kept plan never answers with stale rules.
   */
  accessFor(auth: AuthContext): AccessPlan {
    let plan = this.plans.get(auth);
    if (plan === undefined) {
      plan = callerAccess(auth, this.hub.services);
      this.plans.set(auth, plan);
    }
    return plan;
  }

  /**
   * A session used here ended (logout, revocation, expiry, a password change): every subscription acting
   * with it is dropped at once and its client told (209).
   */
  endSession(token: string): void {
    this.identities.delete(token);
    if (token === this.connectToken) this.connectSessionEnded = true;
    for (const [requestId, subscription] of this.subscriptions) {
      if (this.tokenOf(subscription) !== token) continue;
      this.subscriptions.delete(requestId);
      this.send(errorFrame({ code: ErrorCode.INVALID_SESSION_TOKEN, message: 'Invalid session token' }, requestId));
    }
  }

  /** The distinct session tokens this connection's subscriptions act with. */
  tokensInUse(): Set<string> {
    const tokens = new Set<string>();
    for (const subscription of this.subscriptions.values()) {
      const token = this.tokenOf(subscription);
      if (token !== undefined) tokens.add(token);
    }
    return tokens;
  }
}
