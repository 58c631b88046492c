/**
 * What one node tells the others when it changes something they may have cached. Every node keeps
 * sessions, role expansions, users' own records and class schemas in memory; a change on one node must
 * reach the caches of all of them, or a revoked session keeps working elsewhere.
 */
import type { SqlExecutor } from '../storage/driver.ts';

export type Invalidation =
  /** Sessions ended: one by token hash or id, or every session of a user except `keepSessionId`; with none of those, every session. */
  | { readonly kind: 'sessions'; readonly tokenHash?: string; readonly sessionId?: string; readonly userId?: string; readonly keepSessionId?: string }
  /** Any role changed: every expansion may be stale. */
  | { readonly kind: 'roles' }
  /** A user's record changed (for `request.user`); without `userId`, every user's (a purge). */
  | { readonly kind: 'user'; readonly userId?: string }
  /** A class's schema or permissions changed (or the class was deleted). */
  | { readonly kind: 'schema'; readonly className: string }
  /**
   * Callers (by their read-routing keys) wrote up to this primary WAL position: their reads on any node wait
   * for the read replica to replay it. Not a cache change: only nodes with `readReplicaURI` listen for it.
   */
  | { readonly kind: 'written'; readonly keys: readonly string[]; readonly position: string };

export interface InvalidationListener {
  /** One change made by another node. */
  apply(event: Invalidation): void;
  /** This node may have missed changes (the channel was down): drop everything cached. */
  reset(): void;
}

export interface InvalidationBus {
  /**
   * Tells the other nodes about a change made through `db`. Inside a transaction the message leaves when
   * it commits, and never if it rolls back, so no node drops (or refills) its cache before the change is visible.
   */
  publish(db: SqlExecutor, event: Invalidation): Promise<void>;
  subscribe(listener: InvalidationListener): void;
  /**
   * False while this node may be missing messages (channel down, or its own heartbeat late): caches must
   * then be bypassed, so a revoked session is refused even when the message about it was lost.
   */
  readonly trusted: boolean;
  close(): Promise<void>;
}

/** One node alone (embedded PGlite, or a single server): nobody else to tell, nothing to miss. */
export class LocalBus implements InvalidationBus {
  readonly trusted = true;

  publish(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(): void {
    // Changes made here are applied here by the stores themselves.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const KINDS = new Set(['sessions', 'roles', 'user', 'schema', 'written']);
const optionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

/** A message from the channel, checked: anything malformed is ignored (and the sender is a node of ours anyway). */
export function readInvalidation(value: unknown): Invalidation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Record<string, unknown>;
  if (typeof event.kind !== 'string' || !KINDS.has(event.kind)) return undefined;
  if (event.kind === 'user' && !optionalString(event.userId)) return undefined;
  if (event.kind === 'schema' && typeof event.className !== 'string') return undefined;
  if (event.kind === 'written' && (typeof event.position !== 'string' || !Array.isArray(event.keys) || !event.keys.every((key) => typeof key === 'string'))) return undefined;
  if (event.kind === 'sessions' && ![event.tokenHash, event.sessionId, event.userId, event.keepSessionId].every(optionalString)) return undefined;
  return event as Invalidation;
}
