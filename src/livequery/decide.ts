/**
 * Which event one subscriber gets from one change, from two facts per side: whether the object matched the
 * subscription's where, and whether the subscriber could read it (the read predicate of a find). Pure, so
 * the whole table is tested directly.
 */
import type { EventName } from './protocol.ts';

/** One side of a change as one subscriber sees it. */
export interface SideView {
  readonly matches: boolean;
  readonly readable: boolean;
}

export interface Decision {
  readonly event: EventName;
  /** Which image becomes `object`. */
  readonly object: 'before' | 'after';
  /** Whether `original` (the before image) is sent: only when the subscriber could read it. */
  readonly original: boolean;
}

/**
 * `before`/`after` are absent for a create/delete. An object counts as in the subscriber's results when it
 * matches and is readable, exactly as a find would return it: entering those results is `enter` (or
 * `create`), leaving them `leave` (or `delete`), staying in them `update`. A `leave` caused by losing read
 * access carries the last image the subscriber could read, never the new one.
 */
export function decideEvent(before: SideView | undefined, after: SideView | undefined): Decision | undefined {
  const wasIn = before !== undefined && before.matches && before.readable;
  const isIn = after !== undefined && after.matches && after.readable;
  if (before === undefined) return isIn ? { event: 'create', object: 'after', original: false } : undefined;
  if (after === undefined) return wasIn ? { event: 'delete', object: 'before', original: false } : undefined;
  if (wasIn && isIn) return { event: 'update', object: 'after', original: true };
  if (isIn) return { event: 'enter', object: 'after', original: before.readable };
  if (wasIn) return { event: 'leave', object: after.readable ? 'after' : 'before', original: true };
  return undefined;
}
