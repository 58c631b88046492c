/**
 * The index of subscriptions by class that lets a change look only at the connections subscribed to its
 * class: it must follow every way a connection's subscriptions change (subscribe, update of a request id
 * to another class, unsubscribe, a session ending, the socket closing). The end-to-end behaviour (who gets
 * which event) is covered by the other LiveQuery tests, which all go through it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveConnection } from '../src/livequery/connection.ts';
import type { Subscription } from '../src/livequery/subscription.ts';
import { IndexedSubscriptions, SubscriptionIndex } from '../src/livequery/subscription-index.ts';

const subscriptionOf = (className: string): Subscription => ({ className }) as Subscription;
// Connections are only identities to the index: plain objects stand for them.
const connection = (name: string): LiveConnection => ({ name }) as unknown as LiveConnection;

test('the index lists exactly the connections holding a subscription to each class, through every change', () => {
  const index = new SubscriptionIndex();
  const a = connection('a');
  const b = connection('b');
  const ofA = new IndexedSubscriptions(index, a);
  const ofB = new IndexedSubscriptions(index, b);
  const holders = (className: string) => new Set(index.connectionsOf(className));

  ofA.set(1, subscriptionOf('Message'));
  ofA.set(2, subscriptionOf('Message'));
  ofB.set(1, subscriptionOf('Room'));
  assert.deepEqual(holders('Message'), new Set([a]));
  assert.deepEqual(holders('Room'), new Set([b]));
  assert.deepEqual(holders('Other'), new Set());

  // One of a's two Message subscriptions goes: a still holds the other.
  assert.equal(ofA.delete(1), true);
  assert.deepEqual(holders('Message'), new Set([a]));
  // An update moves request 2 to another class.
  ofA.set(2, subscriptionOf('Room'));
  assert.deepEqual(holders('Message'), new Set());
  assert.deepEqual(holders('Room'), new Set([a, b]));
  // Deleting what is not there changes nothing.
  assert.equal(ofA.delete(7), false);
  assert.deepEqual(holders('Room'), new Set([a, b]));
  // A closed socket clears all of its subscriptions.
  ofB.set(3, subscriptionOf('Message'));
  ofB.clear();
  assert.deepEqual(holders('Room'), new Set([a]));
  assert.deepEqual(holders('Message'), new Set());
  assert.equal(ofB.size, 0);
});
