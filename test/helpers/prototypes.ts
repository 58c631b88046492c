import assert from 'node:assert/strict';

/**
 * The server runs in the test process, so prototype pollution by any request would show here. Snapshots
 * are taken when this module loads, before any server starts.
 */
const OBJECT_PROTOTYPE = snapshotPrototype(Object.prototype);
const ARRAY_PROTOTYPE = snapshotPrototype(Array.prototype);
const FUNCTION_PROTOTYPE = snapshotPrototype(Function.prototype);

function snapshotPrototype(target: object): Map<string, unknown> {
  return new Map(Object.getOwnPropertyNames(target).map((name) => [name, Object.getOwnPropertyDescriptor(target, name)?.value]));
}

function assertPrototypeUnchanged(target: object, expected: Map<string, unknown>, label: string): void {
  assert.deepEqual(Object.getOwnPropertyNames(target).sort(), [...expected.keys()].sort(), `${label} gained or lost properties`);
  for (const [name, value] of expected) {
    assert.ok(Object.getOwnPropertyDescriptor(target, name)?.value === value, `${label}.${name} was replaced`);
  }
}

/** Fails if any of `planted` appears on a fresh object, or a built-in prototype gained, lost or replaced a property. */
export function assertNotPolluted(planted: readonly string[]): void {
  const probe: Record<string, unknown> = {};
  for (const name of planted) assert.equal(probe[name], undefined, `Object.prototype.${name} is polluted`);
  assertPrototypeUnchanged(Object.prototype, OBJECT_PROTOTYPE, 'Object.prototype');
  assertPrototypeUnchanged(Array.prototype, ARRAY_PROTOTYPE, 'Array.prototype');
  assertPrototypeUnchanged(Function.prototype, FUNCTION_PROTOTYPE, 'Function.prototype');
}
