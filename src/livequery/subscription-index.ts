/**
 * Which connections hold subscriptions to each class, kept up to date as subscriptions come and go, so a
 * change of one class looks only at the connections subscribed to it, however many others are connected.
 */
import type { LiveConnection } from './connection.ts';
import type { Subscription } from './subscription.ts';

export class SubscriptionIndex {
  /** Per class: the connections subscribed to it, with how many subscriptions each holds there. */
  private readonly byClass = new Map<string, Map<LiveConnection, number>>();

  connectionsOf(className: string): Iterable<LiveConnection> {
    return this.byClass.get(className)?.keys() ?? [];
  }

  added(className: string, connection: LiveConnection): void {
    let connections = this.byClass.get(className);
    if (connections === undefined) {
      connections = new Map();
      this.byClass.set(className, connections);
    }
    connections.set(connection, (connections.get(connection) ?? 0) + 1);
  }

  removed(className: string, connection: LiveConnection): void {
    const connections = this.byClass.get(className);
    const count = connections?.get(connection);
    if (connections === undefined || count === undefined) return;
    if (count > 1) connections.set(connection, count - 1);
    else connections.delete(connection);
    if (connections.size === 0) this.byClass.delete(className);
  }
}

/** A connection's subscriptions by request id, each addition and removal reported to the index. */
export class IndexedSubscriptions extends Map<number, Subscription> {
  constructor(
    private readonly index: SubscriptionIndex,
    private readonly connection: LiveConnection,
  ) {
    super();
  }

  override set(requestId: number, subscription: Subscription): this {
    const replaced = this.get(requestId);
    super.set(requestId, subscription);
    if (replaced !== undefined) this.index.removed(replaced.className, this.connection);
    this.index.added(subscription.className, this.connection);
    return this;
  }

  override delete(requestId: number): boolean {
    const removed = this.get(requestId);
    if (!super.delete(requestId) || removed === undefined) return false;
    this.index.removed(removed.className, this.connection);
    return true;
  }

  override clear(): void {
    for (const subscription of this.values()) this.index.removed(subscription.className, this.connection);
    super.clear();
  }
}
