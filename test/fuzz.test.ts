/**
 * Property-based robustness tests against a running server: arbitrary and Parse-shaped JSON as `where`, find
 * options, create/update bodies and batches. Every answer is < 500, JSON, and Parse-shaped when it is an error;
 * refused writes leave no trace; failing transactional batches leave nothing and poison nothing.
 * The seed is printed with every failure; replay with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { assertAlive, assertErrorBody, assertWellFormed, describeResponse, FUZZ_SEED, fuzzParameters, send, type FuzzResponse } from './helpers/fuzz.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: plain JSON, and JSON biased toward the shapes Parse gives meaning to.

const FIELD_KEYS = [
  'name', 'n', 'tags', 'data', 'flag', 'when', 'ptr', 'fresh', 'data.x', 'data.a.b', 'data.my-field', 'tags.0',
  'objectId', 'createdAt', 'updatedAt', 'ACL', 'className', 'length', '__proto__', 'constructor', 'prototype',
  'data.__proto__', 'a.b', '$x', 'a$', '.', '', '"', "'", 'ü', '😀', 'a b', '_rperm', '_wperm', 'Name',
  'n"; --', "n'; --", 'data.x" --', 'data.x\' || pg_sleep(1) || \'', 'toString', 'hasOwnProperty',
];
const OPERATORS = [
  '$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$all', '$containedBy', '$exists', '$regex', '$options',
  '$inQuery', '$notInQuery', '$select', '$dontSelect', '$relatedTo', '$or', '$and', '$nor', '$text', '$nearSphere',
  '$within', '$geoWithin', '$geoIntersects', '$maxDistance', '$where', '$expr', '$elemMatch', '$size', '$not',
  '$type', '$mod', '$', '$$', '$__proto__', '$relativeTime', '$box', '$search', '$centerSphere',
];
const TYPES = ['Date', 'Pointer', 'GeoPoint', 'File', 'Bytes', 'Polygon', 'Object', 'Relation', 'ACL', 'Bogus', '', '__proto__'];
const OPS = ['Increment', 'Add', 'AddUnique', 'Remove', 'Delete', 'AddRelation', 'RemoveRelation', 'Batch', 'SetOnInsert', 'Bogus', ''];
const CLASS_NAMES = ['Fuzz', 'FuzzW', 'FuzzU', 'FuzzB', '_User', '_Role', 'Bad-Name', 'constructor', '__proto__', 'Missing', '_Join:x:Fuzz'];

const oddString = fc.oneof(
  fc.constantFrom(
    "'", '"', '\\', "'; SELECT pg_sleep(1); --", '$$', '\u0000', '\ud800', '\udc00x', '😀', 'a\nb', '[abc', '(', '.*',
    '\\Q', '\\E', '%', '_', 'null', 'true', '1e400', '2020-01-01T00:00:00.000Z', 'not a date', 'abc', 'aaaaaaaaaa', '',
  ),
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 1e308, -1e308, 2 ** 53, 2 ** 63, 5e-324, 0.1, 1.5, 90, -90.5, 180, 181, 1e21),
);
const scalar = fc.oneof(oddString, anyNumber, fc.boolean(), fc.constant(null));
const fieldKey = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELD_KEYS) }, fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));
const operatorKey = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...OPERATORS) }, fc.string({ maxLength: 6 }).map((s) => `$${s}`));
const className = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CLASS_NAMES) }, oddString);

interface Shapes {
  value: unknown;
  object: unknown;
  typed: unknown;
  op: unknown;
  operators: unknown;
  where: unknown;
}

const shapes = fc.letrec<Shapes>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'parse-json' },
    scalar,
    tie('object'),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('typed'),
    tie('op'),
    tie('operators'),
  ),
  object: fc.dictionary(fieldKey, tie('value'), { maxKeys: 4 }),
  typed: fc.record(
    {
      __type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TYPES) }, oddString),
      iso: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), oddString, anyNumber),
      className,
      objectId: fc.oneof(fc.constantFrom('abc', 'aaaaaaaaaa'), oddString, anyNumber),
      latitude: fc.oneof(anyNumber, tie('value')),
      longitude: anyNumber,
      name: oddString,
      url: oddString,
      base64: fc.oneof(fc.constantFrom('aGVsbG8=', '!!'), oddString),
      coordinates: fc.oneof(fc.array(fc.array(anyNumber, { maxLength: 3 }), { maxLength: 4 }), tie('value')),
    },
    { requiredKeys: ['__type'] },
  ),
  op: fc.record(
    {
      __op: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...OPS) }, oddString),
      amount: fc.oneof(anyNumber, tie('value')),
      objects: fc.oneof(fc.array(tie('value'), { maxLength: 3 }), tie('value')),
      ops: fc.array(tie('op'), { maxLength: 2 }),
    },
    { requiredKeys: ['__op'] },
  ),
  operators: fc.dictionary(operatorKey, tie('value'), { minKeys: 1, maxKeys: 3 }),
  where: fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fieldKey }, fc.constantFrom('$or', '$and', '$nor', '$relatedTo', '$text')),
    fc.oneof({ maxDepth: 3, depthIdentifier: 'where' }, tie('value'), fc.array(tie('where'), { maxLength: 3 })),
    { maxKeys: 4 },
  ),
}));

/**
 * Well-formed `where` trees: known operators with operands of plausible (and implausible) types on fields
 * the class has, does not have, or reaches by dot notation, so that queries get past validation into the
 * compiler (where most combinations fold to constants or cross types).
 */
const QUERY_FIELDS = ['name', 'n', 'tags', 'data', 'data.x', 'data.a.b', 'data.my-field', 'flag', 'when', 'ptr', 'objectId', 'createdAt', 'missing', 'missing.x'];
const pointer = fc.record({ __type: fc.constant('Pointer'), className: fc.constantFrom('Fuzz', 'Other'), objectId: fc.constantFrom('abc', 'aaaaaaaaaa') });
const date = fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => ({ __type: 'Date', iso: d.toISOString() }));
const operand = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(fc.constantFrom('alpha', 'a', 'c', '', 'two'), fc.constantFrom(-1, 0, 1, 2.5), fc.boolean()) },
  fc.constant(null),
  pointer,
  date,
  fc.record({ __type: fc.constant('GeoPoint'), latitude: fc.constantFrom(0, 45), longitude: fc.constantFrom(0, 90) }),
  fc.record({ __type: fc.constant('Bytes'), base64: fc.constant('aGVsbG8=') }),
  fc.array(fc.oneof(fc.constantFrom('a', 'b', 1, true), pointer), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('x', 'b', 'a'), fc.constantFrom(1, 'c', 'two'), { maxKeys: 2 }),
);
const validWhere: fc.Arbitrary<unknown> = fc.letrec((tie) => {
  const subQuery = fc.record({ className: fc.constantFrom('Fuzz', 'Missing', 'FuzzW'), where: tie('where') });
  const operators = fc.dictionary(
    fc.constantFrom('$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$all', '$containedBy', '$exists', '$regex', '$inQuery', '$notInQuery', '$select', '$dontSelect'),
    fc.oneof(operand, fc.array(operand, { maxLength: 3 }), fc.boolean(), fc.constantFrom('^a', 'b$', '.*'), subQuery, fc.record({ key: fc.constantFrom(...QUERY_FIELDS), query: subQuery })),
    { minKeys: 1, maxKeys: 2 },
  );
  return {
    where: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'valid-where' },
      fc.dictionary(fc.constantFrom(...QUERY_FIELDS), fc.oneof(operand, operators), { minKeys: 1, maxKeys: 3 }),
      fc.record({ $or: fc.array(tie('where'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ $and: fc.array(tie('where'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ $nor: fc.array(tie('where'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ $relatedTo: fc.record({ object: pointer, key: fc.constantFrom('ptr', 'rel', 'name') }) }),
    ),
  };
}).where;

/** JSON text: arbitrary JSON, Parse-shaped JSON, or (sometimes) text that is not JSON at all. */
const jsonText = (shaped: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: shaped.map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
    fc.string({ maxLength: 20 }),
    fc.constantFrom('{', '{"a":}', '[1,', 'NaN', '{"a":1}}', '\ufeff{}', ''),
  );

const bodyObject = fc.oneof(shapes.object, shapes.value);

/**
 * A path segment that stays one: an empty one, `.` or `..` would be another route (URL parsers resolve dot
 * segments, encoded or not), and text `encodeURIComponent` refuses (unpaired surrogates) cannot be in a URL.
 */
function segment(text: string): string {
  try {
    const encoded = encodeURIComponent(text);
    return /^(|\.|\.\.)$/.test(encoded) ? `seg${encoded}` : encoded;
  } catch {
    return 'x';
  }
}

// ---------------------------------------------------------------------------------------------------------

const SEEDED_ROWS = [
  { name: 'alpha', n: 1, tags: ['a', 'b'], data: { x: 1, a: { b: 'c' }, 'my-field': 2 }, flag: true, when: { __type: 'Date', iso: '2020-01-01T00:00:00.000Z' } },
  { name: 'beta', n: 2.5, tags: [], data: { x: 'two' }, flag: false },
  { name: 'gamma', tags: ['c'] },
  { n: -1, data: {} },
];

describe('fuzz (pglite)', () => {
  let server: TestServer;
  let url: string;
  const fuzzIds: string[] = [];

  before(async () => {
    server = await startTestServer('pglite');
    url = server.url;
    for (const row of SEEDED_ROWS) {
      const created = await send(url, '/classes/Fuzz', { method: 'POST', body: JSON.stringify(row) });
      assert.equal(created.status, 201, created.text);
      fuzzIds.push(created.body.objectId as string);
    }
    const target = await send(url, '/classes/Fuzz', { method: 'POST', body: JSON.stringify({ name: 'pointer target' }) });
    fuzzIds.push(target.body.objectId as string);
    const withPointer = await send(url, '/classes/Fuzz', {
      method: 'POST',
      body: JSON.stringify({ name: 'pointing', ptr: { __type: 'Pointer', className: 'Fuzz', objectId: target.body.objectId } }),
    });
    assert.equal(withPointer.status, 201, withPointer.text);
    fuzzIds.push(withPointer.body.objectId as string);
  });
  after(async () => server.stop());

  const seededCount = (): number => fuzzIds.length;

  test('where: any JSON, in the URL or the POST form, answers < 500 with a Parse-shaped body', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(jsonText(shapes.where), { weight: 2, arbitrary: validWhere.map((where) => JSON.stringify(where)) }),
        fc.constantFrom('url', 'post'),
        fc.boolean(),
        fc.oneof({ weight: 4, arbitrary: fc.constant('Fuzz') }, fc.constantFrom('Missing', '_User', 'Bad-Name')),
        async (where, transport, master, target) => {
          const path = `/classes/${encodeURIComponent(target)}`;
          const response =
            transport === 'url' && where.length < 4000
              ? await send(url, `${path}?where=${encodeURIComponent(where)}`, { master })
              : await send(url, path, { method: 'POST', body: `{"_method":"GET","where":${JSON.stringify(where)}}`, master });
          const label = `${transport} ${target} where=${where}`;
          assertWellFormed(response, label);
          if (response.status === 200) {
            assert.ok(Array.isArray(response.body.results), describeResponse(label, response));
            if (target === 'Fuzz') assert.ok(response.body.results.length <= seededCount(), describeResponse(label, response));
          }
        },
      ),
      fuzzParameters(300),
    );
    await assertAlive(url);
  });

  test('find options (order, keys, excludeKeys, include, limit, skip, count): any value answers < 500; keys project', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    const key = fc.oneof({ weight: 3, arbitrary: fieldKey }, oddString);
    const list = fc.oneof(
      { weight: 3, arbitrary: fc.array(fc.tuple(fc.constantFrom('', '-', ' ', '+'), key), { maxLength: 4 }).map((items) => items.map(([sign, k]) => sign + k).join(',')) },
      oddString,
      { weight: 1, arbitrary: fc.array(key, { maxLength: 3 }) },
      fc.jsonValue({ maxDepth: 2 }),
    );
    const numeric = fc.oneof(
      fc.integer().map(String),
      anyNumber,
      fc.constantFrom('-1', '1e3', '0x10', ' 5 ', 'Infinity', 'NaN', '-0', '1.0', '9007199254740993', '99999999999999999999', '', ' ', '1,2'),
      fc.jsonValue({ maxDepth: 1 }),
      oddString,
    );
    const options = fc.record(
      {
        order: list,
        keys: list,
        excludeKeys: list,
        include: list,
        limit: numeric,
        skip: numeric,
        count: fc.oneof(numeric, fc.boolean()),
        where: fc.constantFrom({}, { n: { $gte: 0 } }, { name: { $exists: true } }),
      },
      { requiredKeys: [] },
    );
    const extra = fc.dictionary(fc.oneof(fc.constantFrom('hint', 'explain', 'readPreference', 'includeAll', 'redirectClassNameForKey', '__proto__'), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 1 });
    await fc.assert(
      fc.asyncProperty(options, extra, fc.constantFrom('url', 'post'), async (chosen, more, transport) => {
        const all: Record<string, unknown> = { ...chosen, ...more };
        let response: FuzzResponse;
        const sent: Record<string, unknown> = {};
        if (transport === 'url') {
          const search = new URLSearchParams();
          for (const [name, value] of Object.entries(all)) {
            const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
            search.append(name, text);
            sent[name] = search.get(name);
          }
          response = await send(url, `/classes/Fuzz?${search.toString()}`);
        } else {
          Object.assign(sent, all);
          response = await send(url, '/classes/Fuzz', { method: 'POST', body: JSON.stringify({ _method: 'GET', ...all }) });
        }
        const label = `${transport} ${JSON.stringify(all)}`;
        assertWellFormed(response, label);
        if (response.status !== 200) return;
        const shown = describeResponse(label, response);
        const results = response.body.results as Record<string, unknown>[];
        assert.ok(Array.isArray(results), shown);
        assert.ok(results.length <= seededCount(), shown);
        if ('count' in response.body) assert.ok(Number.isSafeInteger(response.body.count) && response.body.count >= 0 && response.body.count <= seededCount(), shown);
        // Projection: only the requested top-level fields (plus the ones Parse always returns) come back.
        const fieldsOf = (raw: unknown): Set<string> | undefined => {
          const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? (raw as string[]) : undefined;
          return items === undefined ? undefined : new Set(items.map((item) => item.trim()).filter((item) => item !== '').map((item) => item.split('.')[0] as string));
        };
        const always = new Set(['objectId', 'createdAt', 'updatedAt', 'ACL']);
        const keys = 'keys' in sent ? fieldsOf(sent.keys) : undefined;
        const excluded = 'excludeKeys' in sent ? fieldsOf(sent.excludeKeys) : undefined;
        for (const result of results) {
          for (const field of Object.keys(result)) {
            if (always.has(field)) continue;
            if (keys !== undefined) assert.ok(keys.has(field), `${field} returned but not in keys: ${shown}`);
            if (excluded !== undefined) assert.ok(!excluded.has(field), `${field} returned but excluded: ${shown}`);
          }
        }
      }),
      fuzzParameters(250),
    );
    await assertAlive(url);
  });

  /** The observable state of a class: its row count and schema, as the master key sees them. */
  async function classState(target: string): Promise<unknown> {
    const count = await send(url, `/classes/${encodeURIComponent(target)}?count=1&limit=0`, { master: true });
    const schema = await send(url, `/schemas/${encodeURIComponent(target)}`, { master: true });
    return { count: count.body, schema: [schema.status, schema.body] };
  }

  test('create bodies: the server answers well-formed, and a refused create leaves the class as it was', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    const target = fc.oneof({ weight: 4, arbitrary: fc.constant('FuzzW') }, fc.stringMatching(/^[A-Za-z0-9]{1,6}$/).map((suffix) => `New${suffix}`));
    await fc.assert(
      fc.asyncProperty(jsonText(bodyObject), target, fc.constantFrom('application/json', 'text/plain'), async (body, targetClass, contentType) => {
        const before = await classState(targetClass);
        const response = await send(url, `/classes/${targetClass}`, { method: 'POST', body, contentType });
        const label = `POST /classes/${targetClass} ${body}`;
        assertWellFormed(response, label);
        const after = await classState(targetClass);
        if (response.status >= 400) {
          assert.deepEqual(after, before, `a refused create changed the class: ${describeResponse(label, response)}`);
          return;
        }
        assert.equal(response.status, 201, describeResponse(label, response));
        const { count } = before as { count: { count: number } };
        assert.equal((after as { count: { count: number } }).count.count, count.count + 1, describeResponse(label, response));
        const fetched = await send(url, `/classes/${targetClass}/${encodeURIComponent(response.body.objectId as string)}`, { master: true });
        assert.equal(fetched.status, 200, describeResponse(`${label} then GET`, fetched));
      }),
      fuzzParameters(250),
    );
    await assertAlive(url);
  });

  test('update bodies: the server answers well-formed, and a refused update changes neither row nor schema', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    const seed = await send(url, '/classes/FuzzU', { method: 'POST', body: JSON.stringify({ name: 'u', n: 1, tags: ['a'], data: { x: 1, a: { b: 2 } }, flag: true }) });
    assert.equal(seed.status, 201, seed.text);
    const id = seed.body.objectId as string;
    const objectId = fc.oneof({ weight: 6, arbitrary: fc.constant(id) }, fc.constantFrom('doesNotExist', fuzzIds[0] as string), oddString);
    await fc.assert(
      fc.asyncProperty(jsonText(bodyObject), objectId, async (body, target) => {
        const path = `/classes/FuzzU/${segment(target)}`;
        const state = async (): Promise<unknown> => [(await send(url, `/classes/FuzzU/${id}`, { master: true })).body, await classState('FuzzU')];
        const before = await state();
        const response = await send(url, path, { method: 'PUT', body });
        const label = `PUT ${path} ${body}`;
        assertWellFormed(response, label);
        if (response.status >= 400) {
          assert.deepEqual(await state(), before, `a refused update changed data: ${describeResponse(label, response)}`);
          return;
        }
        assert.equal(typeof response.body.updatedAt, 'string', describeResponse(label, response));
      }),
      fuzzParameters(250),
    );
    await assertAlive(url);
  });

  test('batch bodies: any JSON answers < 500 with results aligned to the requests', async (t) => {
    t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
    const existing = fuzzIds[0] as string;
    const subRequest = fc.record(
      {
        method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') }, fc.constantFrom('PATCH', 'get', 'post', 'OPTIONS'), oddString),
        path: fc.oneof(
          {
            weight: 6,
            arbitrary: fc.constantFrom(
              '/parse/classes/FuzzB', `/parse/classes/Fuzz/${existing}`, '/parse/classes/FuzzB/nope', '/parse/schemas', '/parse/schemas/FuzzB',
              '/parse/batch', '/parse/classes/_User', '/parse/health', '/parse/classes/Bad-Name', '/elsewhere/classes/X', '/parse', '/parse/',
              '/parse/classes/FuzzB?x=1', '/parse/classes/%zz', '/parse/classes/FuzzB%00', '/parse/classes/Fuzz', '/parse/classes/constructor',
            ),
          },
          oddString.map((s) => `/parse/${s}`),
          oddString,
        ),
        body: fc.oneof(bodyObject, shapes.where.map((where) => ({ where })), fc.jsonValue({ maxDepth: 3 })),
      },
      { requiredKeys: ['method', 'path'] },
    );
    const batch = fc.record({ requests: fc.array(subRequest, { maxLength: 6 }), transaction: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, scalar) }, { requiredKeys: ['requests'] });
    const body = fc.oneof(
      { weight: 5, arbitrary: batch.map((value) => JSON.stringify(value)) },
      jsonText(fc.record({ requests: shapes.value })),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (text, master) => {
        const response = await send(url, '/batch', { method: 'POST', body: text, master });
        const label = `POST /batch ${text}`;
        const shown = describeResponse(label, response);
        assert.ok(response.status < 500, `server error: ${shown}`);
        assert.ok(response.json, `not JSON: ${shown}`);
        if (!Array.isArray(response.body)) {
          assertWellFormed(response, label);
          assert.ok(response.status >= 400, `a batch answered with a non-array success: ${shown}`);
          return;
        }
        const requests = (JSON.parse(text) as { requests: unknown[] }).requests;
        assert.equal(response.body.length, requests.length, `results not aligned: ${shown}`);
        for (const entry of response.body as Record<string, unknown>[]) {
          assert.equal(Object.keys(entry).length, 1, shown);
          if ('error' in entry) assertErrorBody(entry.error, shown);
          else assert.ok('success' in entry, shown);
        }
        if (response.status >= 400) {
          // A failed transaction: one real error, every other entry marked as not run.
          const errors = (response.body as { error?: { code: number } }[]).filter((entry) => entry.error !== undefined && entry.error.code !== -1);
          assert.equal(errors.length, 1, `a failed transaction reports exactly one cause: ${shown}`);
          assert.ok((response.body as object[]).every((entry) => 'error' in entry), shown);
        } else {
          assert.equal(response.status, 200, shown);
        }
      }),
      fuzzParameters(250),
    );
    await assertAlive(url);
  });
});

// ---------------------------------------------------------------------------------------------------------
// No partial writes: concurrent transactional batches mixing valid and invalid sub-requests.

type Step = { kind: 'create'; extra: string | undefined } | { kind: 'touch' } | { kind: 'badType' } | { kind: 'badOp' } | { kind: 'badKey' } | { kind: 'missing' } | { kind: 'badClass' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.option(fc.constantFrom('extra1', 'extra2', 'extra3', 'extra4', 'extra5', 'extra6'), { nil: undefined }).map((extra): Step => ({ kind: 'create', extra })) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'touch' }) },
  fc.constantFrom<Step>({ kind: 'badType' }, { kind: 'badOp' }, { kind: 'badKey' }, { kind: 'missing' }, { kind: 'badClass' }),
);

const FAILING: ReadonlySet<Step['kind']> = new Set(['badType', 'badOp', 'badKey', 'missing', 'badClass']);

for (const engine of engines()) {
  describe(`fuzz: transactional batches (${engine})`, () => {
    let server: TestServer;
    let url: string;
    let touchId: string;
    const committedExtras = new Set<string>();
    let run = 0;

    before(async () => {
      server = await startTestServer(engine, { batchRequestLimit: 20 });
      url = server.url;
      const created = await send(url, '/classes/Txn', { method: 'POST', body: JSON.stringify({ tag: 'seed', n: 0, touched: 'seed' }) });
      assert.equal(created.status, 201, created.text);
      touchId = created.body.objectId as string;
    });
    after(async () => server.stop());

    function subRequest(tag: string, index: number, item: Step): { method: string; path: string; body: unknown } {
      switch (item.kind) {
        case 'create':
          return { method: 'POST', path: '/parse/classes/Txn', body: { tag, n: index, ...(item.extra === undefined ? {} : { [item.extra]: tag }) } };
        case 'touch':
          return { method: 'PUT', path: `/parse/classes/Txn/${touchId}`, body: { touched: tag, n: { __op: 'Increment', amount: 1 } } };
        case 'badType':
          return { method: 'POST', path: '/parse/classes/Txn', body: { tag, n: 'not a number' } };
        case 'badOp':
          return { method: 'POST', path: '/parse/classes/Txn', body: { tag, n: { __op: 'Bogus' } } };
        case 'badKey':
          return { method: 'POST', path: '/parse/classes/Txn', body: { tag, 'bad-key': 1 } };
        case 'missing':
          return { method: 'PUT', path: '/parse/classes/Txn/doesNotExist', body: { tag } };
        case 'badClass':
          return { method: 'POST', path: '/parse/classes/Bad-Name', body: { tag } };
      }
    }

    test('concurrent batches that add fields while inserting into the same class (was a 500 deadlock on PostgreSQL)', async () => {
      // The counterexample of seed 1025869005: one batch inserts rows (locking the table) while another adds a
      // column (holding the class's schema lock); each then waits for the other. Aborted runs are rerun.
      for (let round = 0; round < 2; round++) {
        const batches: Step[][] = [
          [{ kind: 'create', extra: `extraA${round}` }, { kind: 'create', extra: undefined }, { kind: 'touch' }],
          [{ kind: 'create', extra: undefined }, { kind: 'create', extra: `extraB${round}` }],
          [{ kind: 'create', extra: `extraC${round}` }, { kind: 'create', extra: `extraA${round}` }],
          [{ kind: 'create', extra: undefined }, { kind: 'create', extra: `extraD${round}` }, { kind: 'create', extra: `extraB${round}` }],
        ];
        const responses = await Promise.all(
          batches.map((steps, i) =>
            send(url, '/batch', { method: 'POST', body: JSON.stringify({ transaction: true, requests: steps.map((item, index) => subRequest(`d${round}b${i}`, index, item)) }) }),
          ),
        );
        for (const response of responses) assert.equal(response.status, 200, describeResponse(`round ${round}`, response));
        for (const steps of batches) for (const item of steps) if (item.kind === 'create' && item.extra !== undefined) committedExtras.add(item.extra);
      }
    });

    test('nothing from a failed batch remains, successful ones are complete, and no connection is poisoned', async (t) => {
      t.diagnostic(`fast-check seed ${FUZZ_SEED}`);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 5 }), { minLength: 5, maxLength: 5 }), async (batches) => {
          run++;
          const tags = batches.map((_, i) => `r${run}b${i}`);
          const before = await send(url, `/classes/Txn/${touchId}`, { master: true });
          const responses = await Promise.all(
            batches.map((steps, i) =>
              send(url, '/batch', {
                method: 'POST',
                body: JSON.stringify({ transaction: true, requests: steps.map((item, index) => subRequest(tags[i] as string, index, item)) }),
              }),
            ),
          );
          const succeeded = new Set<string>();
          for (const [i, response] of responses.entries()) {
            const steps = batches[i] as Step[];
            const label = `batch ${tags[i]} ${JSON.stringify(steps)}`;
            const shown = describeResponse(label, response);
            assert.ok(response.status < 500, shown);
            assert.ok(Array.isArray(response.body), shown);
            const shouldFail = steps.some((item) => FAILING.has(item.kind));
            if (shouldFail) {
              assert.ok(response.status >= 400, `a batch with an invalid step succeeded: ${shown}`);
              const firstBad = steps.findIndex((item) => FAILING.has(item.kind));
              assertErrorBody(response.body[firstBad].error, shown);
            } else {
              assert.equal(response.status, 200, shown);
              succeeded.add(tags[i] as string);
              for (const item of steps) if (item.kind === 'create' && item.extra !== undefined) committedExtras.add(item.extra);
            }
            const rows = await send(url, `/classes/Txn?where=${encodeURIComponent(JSON.stringify({ tag: tags[i] }))}&count=1&limit=0`, { master: true });
            const creates = steps.filter((item) => item.kind === 'create').length;
            assert.equal(rows.body.count, shouldFail ? 0 : creates, `rows of ${label}: ${rows.text}`);
          }
          // The shared row was changed only by batches that committed, and by each of them exactly once.
          const touched = await send(url, `/classes/Txn/${touchId}`, { master: true });
          const touches = batches.reduce((sum, steps, i) => sum + (succeeded.has(tags[i] as string) ? steps.filter((item) => item.kind === 'touch').length : 0), 0);
          assert.equal(touched.body.n, before.body.n + touches, `touch count: ${touched.text}`);
          const touchedBy = batches.map((steps, i) => (steps.some((item) => item.kind === 'touch') && succeeded.has(tags[i] as string) ? tags[i] : undefined));
          if (touches > 0) assert.ok(touchedBy.includes(touched.body.touched as string), `touched by a failed batch: ${touched.text}`);
          else assert.equal(touched.body.touched, before.body.touched);
          // Schema changes of failed batches rolled back with them.
          const schema = await send(url, '/schemas/Txn', { master: true });
          for (const name of Object.keys(schema.body.fields as object)) {
            if (name.startsWith('extra')) assert.ok(committedExtras.has(name), `field ${name} was added by a failed batch`);
          }
          // Later requests still work, alone and in a transaction.
          const alone = await send(url, '/classes/Txn', { method: 'POST', body: JSON.stringify({ tag: `r${run}-after` }) });
          assert.equal(alone.status, 201, alone.text);
          const transactional = await send(url, '/batch', {
            method: 'POST',
            body: JSON.stringify({ transaction: true, requests: [{ method: 'GET', path: '/parse/classes/Txn', body: { where: { tag: `r${run}-after` } } }] }),
          });
          assert.equal(transactional.status, 200, transactional.text);
          assert.equal(transactional.body[0].success.results.length, 1, transactional.text);
        }),
        fuzzParameters(40),
      );
      await assertAlive(url);
    });
  });
}
