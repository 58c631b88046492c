/**
 * Differential property for the query compiler: random small datasets and random `where` trees are run
 * through the server and through a tiny reference evaluator with Parse's (MongoDB's) semantics for
 * `$eq $ne $lt $lte $gt $gte $in $nin $exists $and $or $nor` (and `$all`/`$containedBy` on JSON fields), equality
 * and dot notation into an Object field.
 * Both must select the same objects. Replay a failure with FUZZ_SEED=<seed>.
 *
 * Reference semantics (reference §8.3, MongoDB query semantics):
 * - a missing field equals only `null`; `$ne`/`$nin` match it (unless they exclude `null`); `$exists:false` matches it;
 * - equality and `$in` match an Array field when the whole array or one of its elements is equal to the value
 *   (an array value too, as MongoDB: `[1]` matches `[[1]]`; PostgreSQL-backed Parse does not);
 *   objects and arrays are equal when they have the same keys/elements and equal values (whole-value, never partial);
 * - `$all`: an array holding an element equal to each value (never for an empty list); `$containedBy`: every element
 *   equal to one of the values, or no value at all;
 * - `$lt $lte $gt $gte` only compare values of the same type (number, string, boolean); anything else
 *   (missing, null, arrays, objects, another type) does not match;
 * - strings compare by code point (both test engines use the C collation, as MongoDB does).
 * Not covered here (engine-specific or outside Parse's PostgreSQL semantics): `null` inside arrays, comparisons
 * against `null`, element-wise ranges on arrays, dot paths through arrays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { assertAlive, describeResponse, FUZZ_SEED, fuzzParameters, send } from './helpers/fuzz.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Row = Partial<Record<'n' | 's' | 'b' | 'arr' | 'obj', Json>>;

const MISSING = Symbol('missing');
type Resolved = Json | typeof MISSING;

// ---------------------------------------------------------------------------------------------------------
// The reference evaluator.

const isObject = (value: unknown): value is { [key: string]: Json } => typeof value === 'object' && value !== null && !Array.isArray(value);

function deepEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i] as Json));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key] as Json, b[key] as Json));
  }
  return a === b;
}

function resolve(row: Row, key: string): Resolved {
  const [field = '', ...path] = key.split('.');
  if (!Object.hasOwn(row, field)) return MISSING;
  let current = row[field as keyof Row] as Json;
  for (const segment of path) {
    if (!isObject(current) || !Object.hasOwn(current, segment)) return MISSING;
    current = current[segment] as Json;
  }
  return current;
}

/**
 * Equality. A value (an array too, as MongoDB; PostgreSQL-backed Parse does not match an array against an
 * element that is itself an array) matches the same whole value or an equal element of an array.
 */
function equals(value: Resolved, wanted: Json): boolean {
  if (wanted === null) return value === MISSING || value === null;
  if (value === MISSING) return false;
  if (deepEqual(value, wanted)) return true;
  return Array.isArray(value) && value.some((item) => deepEqual(item, wanted));
}

function compare(value: Resolved, operator: string, wanted: Json): boolean {
  if (value === MISSING || value === null || typeof value === 'object' || typeof value !== typeof wanted) return false;
  const [a, b] = [value, wanted as number | string | boolean];
  switch (operator) {
    case '$lt':
      return a < b;
    case '$lte':
      return a <= b;
    case '$gt':
      return a > b;
    default:
      return a >= b;
  }
}

function matchesOperator(value: Resolved, operator: string, operand: Json): boolean {
  switch (operator) {
    case '$eq':
      return equals(value, operand);
    case '$ne':
      return !equals(value, operand);
    case '$in':
      return (operand as Json[]).some((item) => equals(value, item));
    case '$nin':
      return !(operand as Json[]).some((item) => equals(value, item));
    case '$exists':
      return (value !== MISSING) === operand;
    case '$all':
      return Array.isArray(value) && (operand as Json[]).length > 0 && (operand as Json[]).every((wanted) => value.some((item) => deepEqual(item, wanted)));
    case '$containedBy':
      if (value === MISSING || value === null) return true;
      return Array.isArray(value) && value.every((item) => (operand as Json[]).some((allowed) => deepEqual(item, allowed)));
    default:
      return compare(value, operator, operand);
  }
}

const isOperatorObject = (value: Json): value is { [key: string]: Json } => isObject(value) && Object.keys(value).some((key) => key.startsWith('$'));

function matches(row: Row, where: Where): boolean {
  return Object.entries(where).every(([key, condition]) => {
    switch (key) {
      case '$and':
        return (condition as Where[]).every((item) => matches(row, item));
      case '$or':
        return (condition as Where[]).some((item) => matches(row, item));
      case '$nor':
        return !(condition as Where[]).some((item) => matches(row, item));
      default: {
        const value = resolve(row, key);
        if (!isOperatorObject(condition)) return equals(value, condition);
        return Object.entries(condition).every(([operator, operand]) => matchesOperator(value, operator, operand));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Datasets and where trees. Small value pools, so that equalities and ranges often hit.

const primitive: fc.Arbitrary<Json> = fc.oneof(fc.constantFrom(-2, -1, 0, 1, 2, 1.5, 10), fc.constantFrom('', 'a', 'b', 'ab', 'B', 'ba'), fc.boolean());
/** Few distinct small objects, so that an object in a query often equals, or is part of, a stored one. */
const smallObject: fc.Arbitrary<Json> = fc.record({ k: fc.constantFrom(1, 'a'), j: fc.constantFrom(1, 'a') }, { requiredKeys: [] });
const element: fc.Arbitrary<Json> = fc.oneof({ weight: 3, arbitrary: primitive }, smallObject, fc.array(fc.constantFrom(1, 'a'), { minLength: 1, maxLength: 2 }));
const objValue: fc.Arbitrary<Json> = fc.oneof({ weight: 3, arbitrary: primitive }, fc.constant(null), fc.array(primitive, { maxLength: 3 }), smallObject);
const row: fc.Arbitrary<Row> = fc.record(
  {
    n: fc.constantFrom(-2, -1, 0, 1, 2, 1.5, 10),
    s: fc.constantFrom('', 'a', 'b', 'ab', 'B', 'ba'),
    b: fc.boolean(),
    arr: fc.array(element, { maxLength: 3 }),
    obj: fc.record({ a: objValue, b: objValue, c: objValue }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const FIELDS = ['n', 's', 'b', 'arr', 'obj', 'obj.a', 'obj.b', 'obj.c', 'obj.a.k', 'missing', 'obj.zz'];
/** `$all` and `$containedBy` are array operators; they are generated on the JSON fields only. */
const ARRAY_FIELDS = new Set(['arr', 'obj.a', 'obj.b']);
const equalityValue: fc.Arbitrary<Json> = fc.oneof({ weight: 4, arbitrary: primitive }, fc.constant(null), fc.array(element, { maxLength: 2 }), { weight: 2, arbitrary: smallObject }, element);
const operand: Record<string, fc.Arbitrary<Json>> = {
  $eq: equalityValue,
  $ne: equalityValue,
  $lt: primitive,
  $lte: primitive,
  $gt: primitive,
  $gte: primitive,
  $in: fc.array(equalityValue, { maxLength: 3 }),
  $nin: fc.array(equalityValue, { maxLength: 3 }),
  $exists: fc.boolean(),
};
const arrayOperand: Record<string, fc.Arbitrary<Json>> = {
  ...operand,
  $all: fc.array(element, { maxLength: 3 }),
  $containedBy: fc.array(element, { maxLength: 4 }),
};
const operatorsFrom = (pool: Record<string, fc.Arbitrary<Json>>): fc.Arbitrary<Json> =>
  fc
    .uniqueArray(fc.constantFrom(...Object.keys(pool)), { minLength: 1, maxLength: 2 })
    .chain((names) => fc.tuple(...names.map((name) => pool[name] as fc.Arbitrary<Json>)).map((values) => Object.fromEntries(names.map((name, i) => [name, values[i] as Json]))));
const conditionFor = (field: string): fc.Arbitrary<Json> =>
  fc.oneof(equalityValue, { weight: 3, arbitrary: operatorsFrom(ARRAY_FIELDS.has(field) ? arrayOperand : operand) });

type Where = { [key: string]: Json };

const leaves: fc.Arbitrary<Where> = fc
  .uniqueArray(fc.oneof({ weight: 2, arbitrary: fc.constantFrom('arr', 'obj.a') }, fc.constantFrom(...FIELDS)), { minLength: 1, maxLength: 2 })
  .chain((fields) => fc.tuple(...fields.map(conditionFor)).map((conditions): Where => Object.fromEntries(fields.map((field, i) => [field, conditions[i] as Json]))));

const whereTree: fc.Arbitrary<Where> = fc.letrec((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'tree' }, leaves, tie('logical')),
  logical: fc
    .tuple(fc.constantFrom('$and', '$or', '$nor'), fc.array(tie('node') as fc.Arbitrary<Where>, { minLength: 1, maxLength: 3 }))
    .map(([operator, list]): Where => ({ [operator]: list })),
})).node as fc.Arbitrary<Where>;

// ---------------------------------------------------------------------------------------------------------

describe('fuzz: query compiler against a reference evaluator (pglite)', () => {
  let server: TestServer;
  let url: string;
  let run = 0;

  before(async () => {
    server = await startTestServer('pglite');
    url = server.url;
    const fields = { run: { type: 'String' }, n: { type: 'Number' }, s: { type: 'String' }, b: { type: 'Boolean' }, arr: { type: 'Array' }, obj: { type: 'Object' } };
    const created = await send(url, '/schemas/Diff', { method: 'POST', master: true, body: JSON.stringify({ fields }) });
    assert.equal(created.status, 200, created.text);
  });
  after(async () => server.stop());

  /** Creates `rows` under a fresh run tag and returns the objectIds the server selects for `where`, by row index. */
  async function select(rows: readonly Row[], wheres: readonly Where[]): Promise<{ ids: string[]; selected: number[][] }> {
    run++;
    const tag = `run${run}`;
    const saved = await send(url, '/batch', {
      method: 'POST',
      body: JSON.stringify({ requests: rows.map((body) => ({ method: 'POST', path: '/parse/classes/Diff', body: { ...body, run: tag } })) }),
    });
    assert.equal(saved.status, 200, saved.text);
    const ids = (saved.body as { success?: { objectId: string } }[]).map((entry) => {
      assert.ok(entry.success !== undefined, saved.text);
      return entry.success.objectId;
    });
    const selected: number[][] = [];
    for (const where of wheres) {
      const search = new URLSearchParams({ where: JSON.stringify({ $and: [{ run: tag }, where] }), keys: 'run', limit: '1000', count: '1' });
      const response = await send(url, `/classes/Diff?${search.toString()}`);
      const label = `rows ${JSON.stringify(rows)}\nwhere ${JSON.stringify(where)}`;
      assert.equal(response.status, 200, describeResponse(label, response));
      const found = new Set((response.body.results as { objectId: string }[]).map((result) => result.objectId));
      assert.equal(response.body.count, found.size, `count disagrees\n${label}`);
      selected.push(ids.flatMap((id, i) => (found.has(id) ? [i] : [])));
    }
    return { ids, selected };
  }

  test('counterexamples found by this property stay fixed (objects and arrays never match partially)', async () => {
    const rows: Row[] = [{ arr: [{ k: 1, j: 2 }] }, { arr: [{ k: 1 }] }, { arr: [[1, 1]] }, { arr: [[1]] }, { arr: ['a'] }, { obj: { a: [{ k: 1, j: 'a' }] } }, {}];
    const cases: [Where, number[]][] = [
      [{ arr: { k: 1 } }, [1]],
      [{ arr: {} }, []],
      [{ arr: { $eq: { j: 2, k: 1 } } }, [0]],
      [{ arr: { $ne: { k: 1 } } }, [0, 2, 3, 4, 5, 6]],
      [{ arr: { $in: [{ k: 1 }] } }, [1]],
      [{ arr: { $nin: [{ k: 1 }] } }, [0, 2, 3, 4, 5, 6]],
      [{ arr: { $all: [{ k: 1 }] } }, [1]],
      [{ arr: { $all: [[1]] } }, [3]],
      [{ arr: { $all: [[1], 'a'] } }, []],
      [{ arr: { $in: [[1]] } }, [3]],
      [{ arr: [1] }, [3]],
      [{ arr: [[1]] }, [3]],
      [{ arr: { $containedBy: [{ k: 1, j: 2, x: 3 }] } }, [5, 6]],
      [{ arr: { $containedBy: [[1, 1, 2]] } }, [5, 6]],
      [{ arr: { $containedBy: [{ k: 1 }, 'a'] } }, [1, 4, 5, 6]],
      [{ 'obj.a': { k: 1 } }, []],
      [{ 'obj.a': { $in: [{ j: 'a', k: 1 }] } }, [5]],
    ];
    const { selected } = await select(rows, cases.map(([where]) => where));
    cases.forEach(([where, expected], i) => {
      assert.deepEqual(selected[i], expected, `server: ${JSON.stringify(where)}`);
      assert.deepEqual(rows.flatMap((row, index) => (matches(row, where) ? [index] : [])), expected, `reference: ${JSON.stringify(where)}`);
    });
  });

  test('the server selects exactly the objects the reference selects', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 6 }), fc.array(whereTree, { minLength: 1, maxLength: 10 }), async (rows, wheres) => {
        const { selected } = await select(rows, wheres);
        wheres.forEach((where, i) => {
          const expected = rows.flatMap((row, index) => (matches(row, where) ? [index] : []));
          assert.deepEqual(selected[i], expected, `server (actual) and reference (expected) disagree on rows [index]\nrows ${JSON.stringify(rows)}\nwhere ${JSON.stringify(where)}`);
        });
      }),
      fuzzParameters(200),
    );
    await assertAlive(url);
  });
});
