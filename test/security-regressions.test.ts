/**
 * Regression tests for the prototype-pollution and injection advisories of Parse Server
 * (reference §7.2), replayed over HTTP against each engine. Every refused request must:
 * - answer with the exact Parse error code and HTTP status;
 * - change nothing (rows, schemas and the class list are re-read with the master key);
 * - leave `Object.prototype` untouched (the server runs in this process, so pollution would show here);
 * - return no database error text;
 * - not be delayed by `pg_sleep` payloads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../src/errors/codes.ts';
import { call, query, type HttpResult, type RequestOptions } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { assertNotPolluted } from './helpers/prototypes.ts';

/** The SQL payloads ask for `pg_sleep(3)`; an answer this fast proves none of them ran. */
const NO_DELAY_MS = 1500;
const PARSE_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));

/** Fragments of PostgreSQL/PGlite error text that must never reach a client. */
const DATABASE_TEXT = [
  /syntax error/i,
  /SQLSTATE/,
  /\bERROR:/,
  /invalid regular expression:/,
  /not balanced/,
  /invalid input syntax/i,
  /\bat character \d+/,
  /pg_catalog/,
  /\n\s+at /,
];

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Property names that the payloads try to plant on `Object.prototype`. */
const PLANTED = ['dummy', 'isAdmin', 'newField', 'score', 'evil', 'polluted', 'x', 'read', 'write', 'type'];

function assertNoDatabaseText(result: HttpResult, label: string): void {
  const text = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  for (const pattern of DATABASE_TEXT) assert.doesNotMatch(text, pattern, `${label}: database text in ${text}`);
}

/** A Parse error answer: exactly `{code, error}`, the expected code and Parse's status for that code. */
function assertParseError(result: HttpResult, code: number, label: string, status = code === ErrorCode.OBJECT_NOT_FOUND ? 404 : 400): void {
  const shown = `${label}: ${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, status, shown);
  assert.equal(typeof result.body, 'object', shown);
  assert.deepEqual(Object.keys(result.body as object).sort(), ['code', 'error'], shown);
  assert.equal(result.body.code, code, shown);
  assert.ok(PARSE_CODES.has(result.body.code as number), shown);
  assert.equal(typeof result.body.error, 'string', shown);
  assertNoDatabaseText(result, label);
}

async function timed(request: Promise<HttpResult>): Promise<{ result: HttpResult; ms: number }> {
  const started = performance.now();
  const result = await request;
  return { result, ms: performance.now() - started };
}

const raw = (method: string, text: string, extra: RequestOptions = {}): RequestOptions => ({
  method,
  rawBody: text,
  ...extra,
  headers: { ...JSON_HEADERS, ...extra.headers },
});

/** Deterministic rows of the main target class; `data` is an Object field with keys that need quoting. */
const GAMES = [
  {
    name: 'alpha',
    playerName: 'p1',
    score: 1,
    stats: { counter: 1 },
    data: { x: 1, 'my-field': 3, key: 'c' },
    obj: { safe: true },
    tags: ['a'],
    owner: { __type: 'Pointer', className: 'Game', objectId: 'abc' },
  },
  { name: 'beta', playerName: 'p2', score: 2, stats: { counter: 2 }, data: { x: 2, 'my-field': 1, key: 'a' }, obj: { safe: true }, tags: ['b'] },
  { name: 'gamma', playerName: 'p3', score: 3, stats: { counter: 3 }, data: { x: 3, 'my-field': 2, key: 'b' }, obj: { safe: false }, tags: [] },
];

for (const engine of engines()) {
  describe(`security regressions §7.2 (${engine})`, () => {
    let server: TestServer;
    let alphaId: string;

    before(async () => {
      server = await startTestServer(engine);
      for (const game of GAMES) {
        const created = await call(server.url, '/classes/Game', { method: 'POST', body: game });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        if (game.name === 'alpha') alphaId = created.body.objectId;
      }
      const locked = await call(server.url, '/schemas/Locked', {
        method: 'POST',
        master: true,
        body: { fields: { name: { type: 'String' }, score: { type: 'String' } } },
      });
      assert.equal(locked.status, 200, JSON.stringify(locked.body));
      assert.equal((await call(server.url, '/classes/Locked', { method: 'POST', body: { name: 'kept', score: 'high' } })).status, 201);
    });
    after(async () => server.stop());

    /**
     * Every row of every class, every schema and the class list, as the master key sees them — except the
     * privilege ledger's rows, which record these very master-key reads.
     */
    async function snapshot(): Promise<unknown> {
      const schemas = await call(server.url, '/schemas', { master: true });
      assert.equal(schemas.status, 200);
      const classes = (schemas.body.results as { className: string }[]).map((schema) => schema.className).filter((name) => name !== '_PrivilegeLedger').sort();
      const rows: Record<string, unknown> = {};
      for (const className of classes) {
        const found = await call(server.url, `/classes/${className}${query({ order: 'objectId', limit: 1000 })}`, { master: true });
        assert.equal(found.status, 200, JSON.stringify(found.body));
        rows[className] = found.body.results;
      }
      return { schemas: schemas.body.results, rows };
    }

    /** Runs `work` and asserts that the database and the process are exactly as they were before it. */
    async function nothingChanges(work: () => Promise<void>): Promise<void> {
      const before = await snapshot();
      await work();
      assert.deepEqual(await snapshot(), before, 'a refused request changed stored data or schemas');
      assertNotPolluted(PLANTED);
      const health = await call(server.url, '/health');
      assert.equal(health.status, 200, 'server still answers');
    }

    /** One refused request: exact code and status, fast, no database text, no pollution. */
    async function refused(label: string, path: string, options: RequestOptions, code: number, status?: number): Promise<HttpResult> {
      const { result, ms } = await timed(call(server.url, path, options));
      assertParseError(result, code, label, status);
      assert.ok(ms < NO_DELAY_MS, `${label}: took ${Math.round(ms)} ms`);
      assertNotPolluted(PLANTED);
      return result;
    }

    describe('prototype pollution', () => {
      test('constructor.prototype nested in a create body (GHSA-p6h4) → 105', () =>
        nothingChanges(async () => {
          const result = await refused('create', '/classes/Game', { method: 'POST', body: { obj: { constructor: { prototype: { dummy: 0 } } } } }, 105);
          assert.equal(result.body.error, 'Prohibited keyword in request data: {"key":"constructor"}.');
          await refused('new class', '/classes/PPFresh', { method: 'POST', body: { obj: { constructor: { prototype: { dummy: 0 } } } } }, 105);
          await refused('update', `/classes/Game/${alphaId}`, { method: 'PUT', body: { obj: { constructor: { prototype: { dummy: 0 } } } } }, 105);
        }));

      test('dotted __proto__ / constructor.prototype keys in create and update bodies → 105', () =>
        nothingChanges(async () => {
          for (const key of ['obj.__proto__.dummy', 'obj.constructor.prototype.dummy', 'obj.prototype.dummy', '__proto__.dummy', 'constructor.prototype.dummy']) {
            await refused(`create ${key}`, '/classes/Game', { method: 'POST', body: { [key]: 0 } }, 105);
            await refused(`create ${key} in a new class`, '/classes/PPFresh', { method: 'POST', body: { [key]: 0 } }, 105);
            await refused(`update ${key}`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { [key]: 1 } }, 105);
          }
        }));

      test('Increment through obj.constructor.prototype.dummy (GHSA-p6h4) → 105', () =>
        nothingChanges(async () => {
          for (const key of ['obj.constructor.prototype.dummy', 'obj.__proto__.dummy', 'stats.__proto__']) {
            await refused(key, `/classes/Game/${alphaId}`, { method: 'PUT', body: { [key]: { __op: 'Increment', amount: 1 } } }, 105);
          }
          await refused('Add', `/classes/Game/${alphaId}`, { method: 'PUT', body: { 'obj.__proto__.list': { __op: 'Add', objects: [1] } } }, 105);
        }));

      test('a forbidden key after a sibling object or array, sent as raw JSON (GHSA-q342, GHSA-9ccr) → 105', () =>
        nothingChanges(async () => {
          const bodies = [
            '{"profile":{"name":"a"},"__proto__":{"isAdmin":true}}',
            '{"obj":{"metadata":{},"__proto__":{"isAdmin":true}}}',
            '{"obj":{"tags":["safe"],"constructor":{"prototype":{"isAdmin":true}}}}',
            '{"field1":{"safe":true},"field2":{"__proto__":{"isAdmin":true}}}',
            '{"list":[{"a":1},{"__proto__":{"isAdmin":true}}]}',
            '{"name":"x","__proto__":{"newField":"bypassed"}}',
            '{"__proto__":{"score":42}}',
            '{"name":"x","prototype":{"polluted":true}}',
          ];
          for (const body of bodies) {
            await refused(`create Game ${body}`, '/classes/Game', raw('POST', body), 105);
            await refused(`create Locked ${body}`, '/classes/Locked', raw('POST', body), 105);
            await refused(`update ${body}`, `/classes/Game/${alphaId}`, raw('PUT', body), 105);
            // The SDK's text/plain form goes through the same parser.
            await refused(`text/plain ${body}`, '/classes/Game', raw('POST', body, { headers: { 'Content-Type': 'text/plain' } }), 105);
          }
          const locked = await call(server.url, '/schemas/Locked', { master: true });
          assert.equal(locked.body.fields.newField, undefined, 'no column was added through __proto__');
          assert.equal(locked.body.fields.score.type, 'String', 'the type of score was not changed');
        }));

      test('__proto__ and constructor inside where, in the URL and in the POST form → 105', () =>
        nothingChanges(async () => {
          const wheres = [
            '{"__proto__":{"dummy":1}}',
            '{"obj":{"__proto__":{"dummy":1}}}',
            '{"obj":{"$eq":{"constructor":{"prototype":{"dummy":1}}}}}',
            '{"tags":{"$in":[{"__proto__":{"dummy":1}}]}}',
            '{"$or":[{"name":"alpha"},{"__proto__":{"dummy":1}}]}',
            '{"$and":[{"name":{"$ne":"zeta","constructor":{"prototype":{"dummy":1}}}}]}',
            '{"tags":{"$inQuery":{"className":"Game","where":{"__proto__":{"dummy":1}}}}}',
            '{"obj.__proto__.dummy":1}',
            '{"constructor":{"$exists":true}}',
            '{"prototype":1}',
          ];
          for (const where of wheres) {
            await refused(`GET ${where}`, `/classes/Game?where=${encodeURIComponent(where)}`, {}, 105);
            await refused(`GET count ${where}`, `/classes/Game?count=1&limit=0&where=${encodeURIComponent(where)}`, {}, 105);
            await refused(`GET master ${where}`, `/classes/Game?where=${encodeURIComponent(where)}`, { master: true }, 105);
            await refused(`POST form ${where}`, '/classes/Game', raw('POST', `{"_method":"GET","where":${where}}`), 105);
          }
        }));

      test('query-string parameters named __proto__ or constructor → 102', () =>
        nothingChanges(async () => {
          for (const parameters of ['__proto__[dummy]=1', '__proto__=x', 'constructor[prototype][dummy]=1', 'constructor=1', 'where=%7B%7D&__proto__.dummy=1']) {
            const result = await refused(parameters, `/classes/Game?${parameters}`, {}, 102);
            assert.match(result.body.error, /^Invalid parameter for query: /);
          }
        }));

      test('__proto__ in batch sub-request bodies → 105 and nothing from the batch runs', () =>
        nothingChanges(async () => {
          const valid = '{"method":"POST","path":"/parse/classes/Game","body":{"name":"from batch"}}';
          const subRequests = [
            '{"method":"POST","path":"/parse/classes/Game","body":{"profile":{"name":"a"},"__proto__":{"isAdmin":true}}}',
            `{"method":"PUT","path":"/parse/classes/Game/${alphaId}","body":{"obj":{"constructor":{"prototype":{"dummy":0}}}}}`,
            '{"method":"GET","path":"/parse/classes/Game","body":{"where":{"obj":{"__proto__":{"dummy":1}}}}}',
            '{"method":"POST","path":"/parse/classes/Game","body":{"ACL":{"__proto__":{"read":true}}}}',
            '{"method":"POST","path":"/parse/classes/Game","__proto__":{"body":{"name":"smuggled"}}}',
          ];
          for (const sub of subRequests) {
            for (const transaction of [false, true]) {
              await refused(`batch ${sub}`, '/batch', raw('POST', `{"transaction":${transaction},"requests":[${valid},${sub}]}`), 105);
            }
          }
          // A prohibited key that is only visible after the key is split on dots fails that entry alone.
          const dotted = `{"method":"PUT","path":"/parse/classes/Game/${alphaId}","body":{"obj.constructor.prototype.dummy":{"__op":"Increment","amount":1}}}`;
          const single = await call(server.url, '/batch', raw('POST', `{"requests":[${dotted}]}`));
          assert.equal(single.status, 200, JSON.stringify(single.body));
          assert.equal(single.body[0].error.code, 105, JSON.stringify(single.body));
          const transactional = await call(server.url, '/batch', raw('POST', `{"transaction":true,"requests":[${valid},${dotted}]}`));
          assert.equal(transactional.status, 400, JSON.stringify(transactional.body));
          assert.equal(transactional.body[1].error.code, 105, JSON.stringify(transactional.body));
          assertNotPolluted(PLANTED);
        }));

      test('__proto__ / constructor as ACL keys → 105', () =>
        nothingChanges(async () => {
          const bodies = [
            '{"name":"x","ACL":{"__proto__":{"read":true}}}',
            '{"ACL":{"*":{"read":true},"constructor":{"write":true}}}',
            '{"ACL":{"*":{"__proto__":{"read":true}}}}',
            '{"ACL":{"*":{"read":true,"constructor":{"prototype":{"write":true}}}}}',
          ];
          for (const body of bodies) {
            await refused(`create ${body}`, '/classes/Game', raw('POST', body), 105);
            await refused(`update ${body}`, `/classes/Game/${alphaId}`, raw('PUT', body), 105);
          }
          // A well-formed ACL whose entry is named like a prototype method is only an (unknown) user id.
          const methodNamed = await call(server.url, '/classes/Game', { method: 'POST', body: { ACL: { toString: { read: true } }, name: 'acl' } });
          assert.equal(methodNamed.status, 201);
          const hidden = await call(server.url, `/classes/Game/${methodNamed.body.objectId}`);
          assert.equal(hidden.status, 404, 'the object is readable by user "toString" only');
          assert.equal((await call(server.url, `/classes/Game/${methodNamed.body.objectId}`, { method: 'DELETE', master: true })).status, 200);
        }));

      test('__proto__ / constructor in /schemas bodies → 105 and the schema is unchanged', () =>
        nothingChanges(async () => {
          const creates = [
            '{"className":"Fresh","fields":{"__proto__":{"type":"String"}}}',
            '{"className":"Fresh","fields":{"constructor":{"type":"String"}}}',
            '{"className":"Fresh","fields":{"name":{"type":"String"}},"__proto__":{"fields":{"evil":{"type":"String"}}}}',
            '{"className":"Fresh","classLevelPermissions":{"find":{"__proto__":true}}}',
            '{"className":"Fresh","indexes":{"__proto__":{"name":1}}}',
            '{"className":"Fresh","fields":{"name":{"type":"String","defaultValue":{"__proto__":{"x":1}}}}}',
          ];
          for (const body of creates) {
            await refused(`POST /schemas/Fresh ${body}`, '/schemas/Fresh', raw('POST', body, { master: true }), 105);
            await refused(`POST /schemas ${body}`, '/schemas', raw('POST', body, { master: true }), 105);
          }
          const updates = [
            '{"fields":{"constructor":{"type":"String"}}}',
            '{"fields":{"prototype":{"type":"Number"}}}',
            '{"fields":{"x":{"type":"String"},"__proto__":{"type":"String"}}}',
            '{"classLevelPermissions":{"find":{"*":true},"__proto__":{"find":{}}}}',
            '{"indexes":{"byName":{"name":1,"__proto__":1}}}',
          ];
          for (const body of updates) {
            await refused(`PUT /schemas/Game ${body}`, '/schemas/Game', raw('PUT', body, { master: true }), 105);
          }
          assertParseError(await call(server.url, '/schemas/Fresh', { master: true }), 103, 'Fresh was not created');
        }));
    });

    describe('SQL injection', () => {
      const SLEEP = "A'B';SELECT PG_SLEEP(3);--";

      test('$regex with a pg_sleep payload is a bound parameter (GHSA-6927) → 200, no match, no delay', () =>
        nothingChanges(async () => {
          const wheres = [
            { name: { $regex: SLEEP } },
            { name: { $regex: SLEEP, $options: 'i' } },
            { tags: { $regex: SLEEP } },
            { 'data.key': { $regex: SLEEP } },
            { name: SLEEP },
            { name: { $in: [SLEEP, `x"); SELECT pg_sleep(3); --`] } },
            { 'data.key': { $lt: SLEEP } },
            { $or: [{ name: { $regex: "^'; SELECT pg_sleep(3); --" } }, { playerName: "\\'; SELECT pg_sleep(3); --" }] },
          ];
          for (const where of wheres) {
            for (const master of [false, true]) {
              const { result, ms } = await timed(call(server.url, `/classes/Game${query({ where })}`, { master }));
              assert.equal(result.status, 200, JSON.stringify(result.body));
              assert.deepEqual(result.body, { results: [] });
              assert.ok(ms < NO_DELAY_MS, `${JSON.stringify(where)} took ${Math.round(ms)} ms`);
            }
          }
          // The bracket form of the advisory is not a Parse parameter at all.
          await refused('bracket form', `/classes/Game?where[name][$regex]=${encodeURIComponent(SLEEP)}`, {}, 102);
          await refused('objectId in the path', `/classes/Game/${encodeURIComponent(SLEEP)}`, {}, 101);
          await refused('update by objectId', `/classes/Game/${encodeURIComponent(SLEEP)}`, { method: 'PUT', body: { name: 'x' } }, 101);
          await refused('delete by objectId', `/classes/Game/${encodeURIComponent(SLEEP)}`, { method: 'DELETE' }, 101);
          await refused('pointer objectId', `/classes/Game${query({ where: { owner: { __type: 'Pointer', className: 'Game', objectId: SLEEP } } })}`, {}, 106);
          const batch = await timed(call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'GET', path: '/parse/classes/Game', body: { where: { name: { $regex: SLEEP } } } }] } }));
          assert.deepEqual(batch.result.body, [{ success: { results: [] } }]);
          assert.ok(batch.ms < NO_DELAY_MS);
        }));

      test('order with SQL (GHSA-qpr4) → 105, data unchanged, no delay; data.my-field still sorts', () =>
        nothingChanges(async () => {
          const orders = [
            `name' ASC; UPDATE "Game" SET name='hacked' WHERE true--`,
            `data.x' ASC; UPDATE "Game" SET name='hacked' WHERE true--`,
            `data.x$$; UPDATE "Game" SET name=$$hacked$$ WHERE true--`,
            `data.x$t$; UPDATE "Game" SET name=$t$hacked$t$ WHERE true--`,
            `data.x'||CHR(39)||'; UPDATE "Game" SET name=CHR(104) WHERE true--`,
            `data.x\\'; UPDATE "Game" SET name='hacked' WHERE true--`,
            `data.x' ASC, (SELECT pg_sleep(3))--`,
            `data.x') ASC; SELECT pg_sleep(3); --`,
            `-name" DESC; DROP TABLE "Game"; --`,
            `name;SELECT pg_sleep(3)`,
            `data."x"`,
            `data.x y`,
          ];
          for (const order of orders) {
            await refused(`order=${order}`, `/classes/Game${query({ order })}`, {}, 105);
            await refused(`order=${order} (master)`, `/classes/Game${query({ order })}`, { master: true }, 105);
          }
          const names = async (order: string): Promise<string[]> => {
            const result = await call(server.url, `/classes/Game${query({ order, where: { name: { $in: ['alpha', 'beta', 'gamma'] } } })}`);
            assert.equal(result.status, 200, JSON.stringify(result.body));
            return result.body.results.map((row: { name: string }) => row.name);
          };
          assert.deepEqual(await names('data.my-field'), ['beta', 'gamma', 'alpha']);
          assert.deepEqual(await names('-data.my-field'), ['alpha', 'gamma', 'beta']);
          assert.deepEqual(await names('data.key'), ['beta', 'gamma', 'alpha']);
          assert.deepEqual(await names('-data.x'), ['gamma', 'beta', 'alpha']);
        }));

      test('Increment with a non-number amount (GHSA-q3vj) → 107, counter unchanged', () =>
        nothingChanges(async () => {
          const amounts: unknown[] = ['0+(SELECT 1 FROM pg_sleep(3))', '1', { $gt: 0 }, [1], null, true];
          for (const amount of amounts) {
            const label = `amount ${JSON.stringify(amount)}`;
            await refused(`${label} nested`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { 'stats.counter': { __op: 'Increment', amount } } }, 107);
            await refused(`${label} top-level`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { score: { __op: 'Increment', amount } } }, 107);
            await refused(`${label} create`, '/classes/Game', { method: 'POST', body: { score: { __op: 'Increment', amount } } }, 107);
          }
        }));

      test('SQL in a dotted sub-key (GHSA-gqpp) → 105, no delay, no injected keys', () =>
        nothingChanges(async () => {
          const keys = [
            "stats.x' || (SELECT pg_sleep(3))::text || '",
            'stats.x" || (SELECT pg_sleep(3))::text || "',
            'stats.x":0,"evil',
            "stats.x}'::jsonb, (SELECT pg_sleep(3)), '{",
            'stats.x,evil',
            'stats.{evil}',
            'stats.x\\',
            'stats.x.$evil',
          ];
          for (const key of keys) {
            await refused(`Increment ${key}`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { [key]: { __op: 'Increment', amount: 1 } } }, 105);
            await refused(`set ${key}`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { [key]: 1 } }, 105);
            await refused(`create ${key}`, '/classes/Game', { method: 'POST', body: { [key]: 1 } }, 105);
            await refused(`where ${key}`, `/classes/Game${query({ where: { [key]: 1 } })}`, {}, 105);
          }
          const alpha = await call(server.url, `/classes/Game/${alphaId}`, { master: true });
          assert.deepEqual(alpha.body.stats, { counter: 1 });
        }));

      test('field names outside [A-Za-z][A-Za-z0-9_]* in where, even with the master key (GHSA-c442) → 105', () =>
        nothingChanges(async () => {
          const wheres: Record<string, unknown>[] = [
            { 'playerName" OR 1=1 --': { $regex: 'x' } },
            { "playerName' OR '1'='1": { $regex: 'x' } },
            { 'playerName; SELECT pg_sleep(3)': { $regex: 'x' } },
            { 'playerName) OR (1=1': { $exists: true } },
            { 'field"; DROP TABLE test --': 'v' },
            { 'data.x" OR 1=1 --': 1 },
            { $or: [{ name: 'alpha' }, { 'name" OR 1=1 --': 'x' }] },
            { _rperm: { $in: ['*'] } },
            { _wperm: 'x' },
            { _hashed_password: 'x' },
            { '': 'x' },
          ];
          for (const where of wheres) {
            for (const master of [false, true]) {
              await refused(`${JSON.stringify(where)} master=${master}`, `/classes/Game${query({ where })}`, { master }, 105);
            }
          }
          for (const [option, value] of [
            ['keys', 'name" FROM pg_tables; --'],
            ['excludeKeys', "name'; SELECT pg_sleep(3); --"],
            ['include', 'obj"; --'],
            ['order', 'name" --'],
          ]) {
            await refused(`${option}=${value}`, `/classes/Game${query({ [option as string]: value })}`, { master: true }, 105);
          }
          const sub = { className: 'Game', where: {} };
          await refused('$select key', `/classes/Game${query({ where: { name: { $select: { key: 'name" --', query: sub } } } })}`, { master: true }, 105);
          await refused('$relatedTo key', `/classes/Game${query({ where: { $relatedTo: { object: { __type: 'Pointer', className: 'Game', objectId: alphaId }, key: 'rel" --' } } })}`, { master: true }, 105);
          await refused('$inQuery class', `/classes/Game${query({ where: { tags: { $inQuery: { className: 'Game" WHERE 1=1; --', where: {} } } } })}`, { master: true }, 103);
          await refused('pointer target class', '/classes/Game', { method: 'POST', body: { newPointer: { __type: 'Pointer', className: 'X" --', objectId: 'abc' } } }, 103);
          await refused('relation target class', '/classes/Game', { method: 'POST', body: { members: { __op: 'AddRelation', objects: [{ __type: 'Pointer', className: 'Q"; --', objectId: 'abc' }] } } }, 103);
          await refused('index name', '/schemas/Game', { method: 'PUT', master: true, body: { indexes: { 'i"; DROP TABLE "Game"; --': { name: 1 } } } }, 105);
          await refused('index field', '/schemas/Game', { method: 'PUT', master: true, body: { indexes: { byName: { 'name"); DROP TABLE "Game"; --': 1 } } } }, 105);
        }));
    });

    describe('query complexity and invalid regular expressions', () => {
      const nest = (depth: number, operators: readonly string[]): unknown => {
        let where: unknown = { name: 'alpha' };
        for (let i = 0; i < depth; i++) where = { [operators[i % operators.length] as string]: [where] };
        return where;
      };

      test('where nested 50 deep in $or/$and/$nor (GHSA-9xp9) → 102, and the server still answers', () =>
        nothingChanges(async () => {
          for (const operators of [['$or'], ['$and'], ['$nor'], ['$or', '$and', '$nor']]) {
            const where = nest(50, operators);
            const result = await refused(`URL ${operators.join()}`, `/classes/Game${query({ where })}`, {}, 102);
            assert.equal(result.body.error, `Query condition nesting depth exceeds maximum allowed depth of ${server.config.queryDepth} (queryDepth).`);
            await refused(`URL master ${operators.join()}`, `/classes/Game${query({ where })}`, { master: true }, 102);
            await refused(`URL sub-query ${operators.join()}`, `/classes/Game${query({ where: { tags: { $inQuery: { className: 'Game', where } } } })}`, {}, 102);
            // In a body the JSON nesting limit (64 levels) is reached first.
            await refused(`POST form ${operators.join()}`, '/classes/Game', { method: 'POST', body: { _method: 'GET', where } }, 107);
            await refused(`batch ${operators.join()}`, '/batch', { method: 'POST', body: { requests: [{ method: 'GET', path: '/parse/classes/Game', body: { where } }] } }, 107);
          }
          const limit = server.config.queryDepth;
          const allowed = await call(server.url, `/classes/Game${query({ where: nest(limit, ['$or']) })}`);
          assert.equal(allowed.status, 200);
          assert.deepEqual(allowed.body.results.map((row: { name: string }) => row.name), ['alpha']);
          await refused('one past the limit', `/classes/Game${query({ where: nest(limit + 1, ['$or']) })}`, {}, 102);
        }));

      test('an invalid $regex (GHSA-9cp7) → 102 without database text, never 1/500', () =>
        nothingChanges(async () => {
          const patterns = ['[abc', '(', 'a{2,1}', '\\', '(?<n>x)', 'a**', '[[:foo:]]', '(a)\\2', '(?i)x', '***:x', 'x{99999}'];
          for (const pattern of patterns) {
            for (const field of ['name', 'tags', 'data.key']) {
              for (const master of [false, true]) {
                const result = await refused(`${field} ~ ${pattern} master=${master}`, `/classes/Game${query({ where: { [field]: { $regex: pattern } } })}`, { master }, 102);
                // A client's backreference is refused before the database sees it (the regular expression guard).
                if (!master && pattern === '(a)\\2') assert.match(result.body.error, /backreference/);
                else assert.equal(result.body.error, 'Invalid regular expression.');
              }
            }
          }
        }));
    });

    describe('class names', () => {
      const NAMES: [string, number][] = [
        ['_Join:users:_Role', 119],
        ['_GlobalConfig', 119],
        ['_Hooks', 119],
        ['__proto__', 119],
        ['constructor', 103],
        ['prototype', 103],
        ['Bad-Name', 103],
        ['Game"; DROP TABLE "Game"; --', 103],
        ["Game' OR 1=1", 103],
        ['1Game', 103],
      ];

      test('/classes/<name> → 119 or 103 for every method and key, never 5xx', () =>
        nothingChanges(async () => {
          for (const [name, code] of NAMES) {
            const path = `/classes/${encodeURIComponent(name)}`;
            for (const master of [false, true]) {
              await refused(`find ${name}`, path, { master }, code);
              await refused(`count ${name}`, `${path}?count=1&limit=0`, { master }, code);
              await refused(`get ${name}`, `${path}/abc`, { master }, code);
              await refused(`create ${name}`, path, { method: 'POST', body: { relatedId: 'x', owningId: 'y' }, master }, code);
              await refused(`update ${name}`, `${path}/abc`, { method: 'PUT', body: { a: 1 }, master }, code);
              await refused(`delete ${name}`, `${path}/abc`, { method: 'DELETE', master }, code);
            }
            const batch = await call(server.url, '/batch', {
              method: 'POST',
              body: { requests: [{ method: 'POST', path: `/parse/classes/${encodeURIComponent(name)}`, body: { a: 1 } }] },
            });
            assert.equal(batch.status, 200);
            assert.equal(batch.body[0].error.code, code, `batch ${name}: ${JSON.stringify(batch.body)}`);
          }
          assertNotPolluted(PLANTED);
        }));

      test('/schemas/<name> → 103 or 119 for invalid, internal and prototype-named classes', () =>
        nothingChanges(async () => {
          for (const [name, classCode] of NAMES) {
            const path = `/schemas/${encodeURIComponent(name)}`;
            // Reading a class that does not exist is 103 whatever the name.
            await refused(`GET ${name}`, path, { master: true }, 103);
            // Changing one: internal classes are the server's (119) once the name itself is valid.
            const changeCode = classCode === 119 && name !== '_Join:users:_Role' && name !== '__proto__' ? 119 : 103;
            await refused(`POST ${name}`, path, { method: 'POST', master: true, body: { fields: { a: { type: 'String' } } } }, changeCode);
            await refused(`PUT ${name}`, path, { method: 'PUT', master: true, body: { fields: { a: { type: 'String' } } } }, changeCode);
            await refused(`DELETE ${name}`, path, { method: 'DELETE', master: true }, changeCode);
          }
          // Schema lookups are by own name only: prototype methods are not classes.
          for (const name of ['toString', 'valueOf', 'hasOwnProperty', '__defineGetter__']) {
            await refused(`GET /schemas/${name}`, `/schemas/${name}`, { master: true }, 103);
          }
          for (const name of ['toString', 'valueOf', 'hasOwnProperty']) {
            await refused(`get /classes/${name}/abc`, `/classes/${name}/abc`, {}, 101);
            await refused(`update /classes/${name}/abc`, `/classes/${name}/abc`, { method: 'PUT', body: { a: 1 } }, 101);
            await refused(`delete /classes/${name}/abc`, `/classes/${name}/abc`, { method: 'DELETE' }, 101);
            const found = await call(server.url, `/classes/${name}`);
            assert.deepEqual([found.status, found.body], [200, { results: [] }]);
          }
        }));
    });

    describe('found by fuzzing (test/fuzz*.test.ts)', () => {
      const names = async (where: unknown, master = false): Promise<string[]> => {
        const scoped = { $and: [where, { name: { $in: ['alpha', 'beta', 'gamma'] } }] };
        const result = await call(server.url, `/classes/Game${query({ where: scoped, count: 1 })}`, { master });
        assert.equal(result.status, 200, `${JSON.stringify(where)}: ${result.status} ${JSON.stringify(result.body)}`);
        assert.equal(result.body.count, result.body.results.length, JSON.stringify(where));
        return result.body.results.map((row: { name: string }) => row.name).sort();
      };

      test('conditions that fold to TRUE/FALSE leave no unbound parameter behind (was 500, SQLSTATE 42P18)', () =>
        nothingChanges(async () => {
          const pointer = { __type: 'Pointer', className: 'Game', objectId: 'abc' };
          const sub = { className: 'Game', where: { score: 1 } };
          const all = ['alpha', 'beta', 'gamma'];
          const cases: [unknown, string[]][] = [
            [{ tags: { $in: [] } }, []],
            [{ 'data.x': { $nin: [] } }, all],
            [{ tags: { $all: [] } }, []],
            [{ 'data.key': { $all: [] } }, []],
            [{ missing: { $regex: 'a' } }, []],
            [{ score: { $regex: '1' } }, []],
            [{ data: { $regex: 'a' } }, []],
            [{ 'data.x': { $lt: [5] } }, []],
            [{ 'data.x': { $gt: pointer } }, []],
            [{ 'data.x': { $lte: { y: 1 } } }, []],
            [{ owner: { $lt: pointer } }, []],
            [{ owner: { $gte: pointer } }, []],
            [{ owner: pointer }, ['alpha']],
            [{ missing: { $inQuery: sub } }, []],
            [{ score: { $inQuery: sub } }, []],
            [{ missing: { $notInQuery: sub } }, all],
            [{ missing: { $select: { key: 'name', query: sub } } }, []],
            [{ name: { $select: { key: 'missing', query: sub } } }, []],
            [{ 'data.x': { $inQuery: { className: 'Nope', where: {} } } }, []],
            [{ 'data.key': { $nin: [], $exists: true } }, all],
            [{ $nor: [{ 'data.x': { $lte: null } }] }, all],
          ];
          for (const [where, expected] of cases) {
            for (const master of [false, true]) assert.deepEqual(await names(where, master), expected, JSON.stringify(where));
          }
        }));

      test('/schemas writes in a transactional batch join the transaction (was a PGlite deadlock, a leak on PostgreSQL)', { timeout: 30_000 }, async () => {
        const batch = (requests: unknown[]): Promise<{ result: HttpResult; ms: number }> =>
          timed(call(server.url, '/batch', { method: 'POST', master: true, body: { transaction: true, requests } }));
        const empty = await call(server.url, '/schemas/TxnEmpty', { method: 'POST', master: true, body: {} });
        assert.equal(empty.status, 200, JSON.stringify(empty.body));
        await nothingChanges(async () => {
          const failing: unknown[][] = [
            [{ method: 'POST', path: '/parse/schemas/TxnLeak', body: { fields: { a: { type: 'String' } } } }],
            [{ method: 'PUT', path: '/parse/schemas/Game', body: { fields: { leaked: { type: 'String' } } } }],
            [{ method: 'DELETE', path: '/parse/schemas/TxnEmpty' }],
            [
              { method: 'POST', path: '/parse/classes/TxnLeak', body: { a: 'x' } },
              { method: 'PUT', path: '/parse/schemas/TxnLeak', body: { fields: { b: { type: 'Number' } } } },
            ],
          ];
          for (const requests of failing) {
            const { result, ms } = await batch([...requests, { method: 'PUT', path: '/parse/classes/Game/doesNotExist', body: { name: 'x' } }]);
            assert.ok(ms < 5000, `took ${Math.round(ms)} ms`);
            assert.ok(result.status === 400 || result.status === 404, JSON.stringify(result.body));
            // One entry failed (the last one, or the schema change of a class the batch itself created, which is
            // checked against committed schemas); every other entry is marked as not run.
            const causes = (result.body as { error?: { code: number } }[]).filter((entry) => entry.error?.code !== -1);
            assert.equal(causes.length, 1, JSON.stringify(result.body));
            assert.ok([101, 103].includes(causes[0]?.error?.code as number), JSON.stringify(result.body));
          }
        });
        const { result, ms } = await batch([
          { method: 'POST', path: '/parse/schemas/TxnMade', body: { fields: { a: { type: 'String' } } } },
          { method: 'POST', path: '/parse/classes/TxnMade', body: { a: 'x' } },
          { method: 'DELETE', path: '/parse/schemas/TxnEmpty' },
        ]);
        assert.ok(ms < 5000, `took ${Math.round(ms)} ms`);
        assert.equal(result.status, 200, JSON.stringify(result.body));
        assert.equal((await call(server.url, '/schemas/TxnMade', { master: true })).body.fields.a.type, 'String');
        assertParseError(await call(server.url, '/schemas/TxnEmpty', { master: true }), 103, 'TxnEmpty was dropped');
        // Clean up, so that the other tests' snapshots do not depend on the order of the tests.
        const made = await call(server.url, '/classes/TxnMade', { master: true });
        for (const row of made.body.results as { objectId: string }[]) {
          assert.equal((await call(server.url, `/classes/TxnMade/${row.objectId}`, { method: 'DELETE', master: true })).status, 200);
        }
        assert.equal((await call(server.url, '/schemas/TxnMade', { method: 'DELETE', master: true })).status, 200);
        assert.equal((await call(server.url, '/health')).status, 200);
      });
    });

    describe('request bodies', () => {
      test('malformed JSON → 107', () =>
        nothingChanges(async () => {
          const bodies = ['{"a":', '{a:1}', "{'a':1}", '[1,2', '{"a":1}}', 'undefined', 'NaN', '{"a":1,}', '{"a":"\u0001"}', '\ufeff{"a":1}'];
          for (const body of bodies) {
            await refused(`create ${JSON.stringify(body)}`, '/classes/Game', raw('POST', body), 107);
            await refused(`update ${JSON.stringify(body)}`, `/classes/Game/${alphaId}`, raw('PUT', body), 107);
            await refused(`batch ${JSON.stringify(body)}`, '/batch', raw('POST', body), 107);
            await refused(`schemas ${JSON.stringify(body)}`, '/schemas/Game', raw('PUT', body, { master: true }), 107);
            await refused(`where ${JSON.stringify(body)}`, `/classes/Game?where=${encodeURIComponent(body)}`, {}, 107);
          }
        }));

      test('text the database cannot store (NUL, unpaired surrogates) → 107, never 1/500', () =>
        nothingChanges(async () => {
          for (const text of ['a\u0000b', '\udc00', 'x\ud800', '\ud800\ud800\udc00']) {
            const label = JSON.stringify(text);
            await refused(`create ${label}`, '/classes/Game', { method: 'POST', body: { name: text } }, 107);
            await refused(`create nested ${label}`, '/classes/Game', { method: 'POST', body: { obj: { k: text } } }, 107);
            await refused(`create key ${label}`, '/classes/Game', { method: 'POST', body: { obj: { [text]: 1 } } }, 107);
            await refused(`update ${label}`, `/classes/Game/${alphaId}`, { method: 'PUT', body: { tags: { __op: 'Add', objects: [text] } } }, 107);
            await refused(`where ${label}`, `/classes/Game${query({ where: { name: text } })}`, {}, 107);
            await refused(`regex ${label}`, `/classes/Game${query({ where: { 'data.key': { $regex: text } } })}`, {}, 107);
            await refused(`schema ${label}`, '/schemas/Game', { method: 'PUT', master: true, body: { fields: { label: { type: 'String', defaultValue: text } } } }, 107);
          }
          await refused('NUL in an objectId', '/classes/Game/abc%00def', {}, 107);
          await refused('NUL in an objectId (update)', '/classes/Game/abc%00def', { method: 'PUT', body: { name: 'x' } }, 107);
          await refused('NUL in a class name', '/classes/Game%00', {}, 107);
        }));

      test('a JSON array, string, number, boolean or null as a body → 107', () =>
        nothingChanges(async () => {
          for (const body of ['[1,2]', '[{"name":"x"}]', '"name"', '42', 'true', 'null']) {
            await refused(`create ${body}`, '/classes/Game', raw('POST', body), 107);
            await refused(`create in a new class ${body}`, '/classes/BodyFresh', raw('POST', body), 107);
            await refused(`update ${body}`, `/classes/Game/${alphaId}`, raw('PUT', body), 107);
            await refused(`batch ${body}`, '/batch', raw('POST', body), 107);
            await refused(`schemas ${body}`, '/schemas/BodyFresh', raw('POST', body, { master: true }), 107);
          }
          const batch = await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/classes/Game', body: [1, 2] }] } });
          assert.equal(batch.body[0].error.code, 107, JSON.stringify(batch.body));
        }));

      test('a body larger than maxRequestBytes → 413 with code 116, and the server stays up', () =>
        nothingChanges(async () => {
          const big = 'x'.repeat(server.config.maxRequestBytes + 1);
          await refused('create', '/classes/Game', { method: 'POST', body: { name: big } }, 116, 413);
          await refused('update', `/classes/Game/${alphaId}`, { method: 'PUT', body: { name: big } }, 116, 413);
          await refused('batch', '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/classes/Game', body: { name: big } }] } }, 116, 413);
          await refused('schemas', '/schemas/Game', { method: 'PUT', master: true, body: { fields: { big: { type: 'String', defaultValue: big } } } }, 116, 413);
          const after = await call(server.url, `/classes/Game${query({ where: { name: 'alpha' } })}`);
          assert.equal(after.status, 200);
          assert.equal(after.body.results.length, 1);
        }));
    });
  });
}
