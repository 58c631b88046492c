/**
 * Request complexity limits over HTTP, on each engine: sub-query depth, `$in`/`$nin`/`$all`/`$containedBy`
 * sizes, include count and depth, `$regex` length and the guard against catastrophic patterns, `where`
 * depth, batch size, `limit`, body size, and `explain`/`hint` for the master key only. Each refusal is
 * checked over the URL, the SDK's POST form and a batch sub-request: a Parse error (102, or 107/116 for
 * the transport limits) whose message names the limit, and nothing changes. The master and maintenance keys
 * are not limited by `requestComplexity`, as in Parse.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, query, type HttpResult } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const MAINTENANCE_KEY = 'test-maintenance-key-0123456789abcdef';
const MAINTENANCE = { 'X-Parse-Maintenance-Key': MAINTENANCE_KEY };

/** A Parse error with exactly this code and a message matching `message`. */
function assertParseError(result: HttpResult, status: number, code: number, message: RegExp | string, label: string): void {
  const shown = `${label}: ${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, status, shown);
  assert.deepEqual(Object.keys(result.body as object).sort(), ['code', 'error'], shown);
  assert.equal(result.body.code, code, shown);
  if (typeof message === 'string') assert.equal(result.body.error, message, shown);
  else assert.match(result.body.error, message, shown);
}

function nestedInQuery(depth: number, operator: '$inQuery' | '$select' = '$inQuery'): unknown {
  let where: unknown = { name: 'row0' };
  for (let i = 0; i < depth; i++) {
    where = operator === '$inQuery' ? { twin: { $inQuery: { className: 'Item', where } } } : { name: { $select: { query: { className: 'Item', where }, key: 'name' } } };
  }
  return where;
}

for (const engine of engines()) {
  describe(`request complexity (${engine})`, () => {
    let server: TestServer;
    let firstId = '';
    before(async () => {
      server = await startTestServer(engine, { maxLimit: 5, defaultLimit: 5, maintenanceKey: MAINTENANCE_KEY });
      for (let i = 0; i < 8; i++) {
        const created = await call(server.url, '/classes/Item', { method: 'POST', body: { name: `row${i}`, n: i, tags: [i, i + 1], text: i === 0 ? 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa!' : 'b' } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        if (i === 0) firstId = created.body.objectId as string;
      }
      await call(server.url, `/classes/Item/${firstId}`, { method: 'PUT', body: { twin: { __type: 'Pointer', className: 'Item', objectId: firstId } } });
    });
    after(async () => server.stop());

    const count = async (className: string): Promise<number> =>
      (await call(server.url, `/classes/${className}${query({ count: 1, limit: 0 })}`, { master: true })).body.count as number;

    /** The same find options over the URL, the SDK's POST form, and a batch GET sub-request: all refused alike. */
    async function refusedEverywhere(options: Record<string, unknown>, message: RegExp | string, label: string, path = '/classes/Item'): Promise<void> {
      assertParseError(await call(server.url, `${path}${query(options)}`), 400, 102, message, `${label} (URL)`);
      assertParseError(await call(server.url, path, { method: 'POST', body: { _method: 'GET', ...options } }), 400, 102, message, `${label} (POST form)`);
      const inBatch = await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'GET', path: `/parse${path}`, body: options }] } });
      assert.equal(inBatch.status, 200, JSON.stringify(inBatch.body));
      assert.equal(inBatch.body[0].error?.code, 102, `${label} (batch): ${JSON.stringify(inBatch.body)}`);
      if (typeof message === 'string') assert.equal(inBatch.body[0].error.error, message);
      else assert.match(inBatch.body[0].error.error as string, message);
    }

    async function allowed(options: Record<string, unknown>, label: string, headers: { master?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResult> {
      const result = await call(server.url, `/classes/Item${query(options)}`, headers);
      assert.equal(result.status, 200, `${label}: ${JSON.stringify(result.body)}`);
      return result;
    }

    test('the options hold the documented defaults', () => {
      assert.deepEqual(server.config.requestComplexity, { includeDepth: 5, includeCount: 20, subqueryDepth: 5, queryArraySize: 1000, regexLength: 1000 });
    });

    test('sub-queries nested deeper than subqueryDepth (5) → 102 naming it; 5 is answered; the master key is not limited', async () => {
      const message = 'Subquery nesting depth exceeds maximum allowed depth of 5 (requestComplexity.subqueryDepth).';
      await refusedEverywhere({ where: nestedInQuery(6) }, message, '$inQuery × 6');
      await refusedEverywhere({ where: nestedInQuery(6, '$select') }, message, '$select × 6');
      await refusedEverywhere({ where: { $or: [{ n: 1 }, nestedInQuery(6)] } }, message, 'inside $or');
      const five = await allowed({ where: nestedInQuery(5) }, '$inQuery × 5');
      assert.deepEqual(five.body.results.map((row: { name: string }) => row.name), ['row0']);
      await allowed({ where: nestedInQuery(6) }, 'master', { master: true });
      await allowed({ where: nestedInQuery(6) }, 'maintenance key', { headers: MAINTENANCE });
    });

    test('$in, $nin, $all and $containedBy with more than queryArraySize (1000) values → 102 naming it', async () => {
      const many = Array.from({ length: 1001 }, (_, i) => i);
      for (const [operator, field] of [['$in', 'n'], ['$nin', 'n'], ['$all', 'tags'], ['$containedBy', 'tags']] as const) {
        await refusedEverywhere({ where: { [field]: { [operator]: many } } }, `${operator} has 1001 values; the limit is 1000 (requestComplexity.queryArraySize).`, operator);
        await allowed({ where: { [field]: { [operator]: many.slice(0, 1000) } } }, `${operator} × 1000`);
        await allowed({ where: { [field]: { [operator]: many } } }, `${operator} × 1001, master`, { master: true });
      }
      await refusedEverywhere({ where: { twin: { $inQuery: { className: 'Item', where: { n: { $in: many } } } } } }, /queryArraySize/, 'inside a sub-query');
      const found = await allowed({ where: { n: { $in: many.slice(0, 1000) } }, order: 'n', limit: 2 }, 'results');
      assert.deepEqual(found.body.results.map((row: { n: number }) => row.n), [0, 1]);
    });

    test('more include paths than includeCount (20), or deeper than includeDepth (5) → 102 naming them', async () => {
      const many = Array.from({ length: 21 }, (_, i) => `p${i}`).join(',');
      await refusedEverywhere({ include: many }, 'Number of include fields (21) exceeds maximum allowed (20) (requestComplexity.includeCount).', '21 includes');
      await refusedEverywhere({ include: 'a.b.c.d.e.f' }, 'Include depth of 6 exceeds maximum allowed depth of 5 (requestComplexity.includeDepth).', 'include depth 6');
      // A dotted key includes its parent path, so it counts as an include of that depth.
      await refusedEverywhere({ keys: 'a.b.c.d.e.f.g' }, /Include depth of 6 exceeds/, 'keys implying depth 6');
      await refusedEverywhere({ include: 'a.b.c.d.e.f' }, /includeDepth/, 'a get', `/classes/Item/${firstId}`);
      await allowed({ include: Array.from({ length: 20 }, (_, i) => `p${i}`).join(',') }, '20 includes');
      const deep = await allowed({ include: 'twin.twin.twin.twin.twin', where: { name: 'row0' } }, 'include depth 5');
      assert.equal(deep.body.results[0].twin.twin.twin.twin.twin.__type, 'Object');
      await allowed({ include: many }, 'master: 21 includes', { master: true });
      await allowed({ include: 'a.b.c.d.e.f' }, 'master: depth 6', { master: true });
    });

    test('$regex longer than regexLength (1000), or shaped for catastrophic backtracking → 102 naming the limit', async () => {
      await refusedEverywhere({ where: { name: { $regex: 'a'.repeat(1001) } } }, '$regex pattern is 1001 characters long; the limit is 1000 (requestComplexity.regexLength).', 'length 1001');
      await allowed({ where: { name: { $regex: 'a'.repeat(1000) } } }, 'length 1000');
      for (const pattern of ['(a+)+$', '(a*)*b', '(\\w+\\s?)+$', '((a{1,9}){1,9}){1,9}', '(a?){30}a{30}', '(?:a|aa)+(b+)+']) {
        await refusedEverywhere({ where: { text: { $regex: pattern } } }, /^\$regex pattern refused by the regular expression guard: it nests quantifiers/, pattern);
      }
      await refusedEverywhere({ where: { text: { $regex: '(a*)\\1' } } }, /guard: it uses a backreference/, 'backreference');
      await refusedEverywhere({ where: { $or: [{ n: 1 }, { twin: { $inQuery: { className: 'Item', where: { text: { $regex: '(a+)+$' } } } } }] } }, /guard/, 'inside $or and a sub-query');
      // Quoted text (the SDKs' startsWith/contains/endsWith) is literal, whatever it contains.
      const literal = await allowed({ where: { text: { $regex: '^\\Q(a+)+\\E' } } }, 'a quoted literal');
      assert.deepEqual(literal.body.results, []);
      for (const pattern of ['^row[0-3]$', 'a+!$', '(ab*)?c', '^(foo|bar)+$', 'x{2,5}']) await allowed({ where: { name: { $regex: pattern } } }, pattern);
      // The master key is trusted with its patterns: PostgreSQL answers this one (its engine does not backtrack here).
      const master = await allowed({ where: { text: { $regex: '(a+)+!$' } } }, 'master', { master: true });
      assert.deepEqual(master.body.results.map((row: { name: string }) => row.name), ['row0']);
    });

    test('where nested deeper than queryDepth (10) → 102 naming it, for every caller', async () => {
      let where: unknown = { n: 1 };
      for (let i = 0; i < 11; i++) where = { $or: [where] };
      await refusedEverywhere({ where }, 'Query condition nesting depth exceeds maximum allowed depth of 10 (queryDepth).', '$or × 11');
      assertParseError(await call(server.url, `/classes/Item${query({ where })}`, { master: true }), 400, 102, /\(queryDepth\)/, 'master');
    });

    test('a batch larger than batchRequestLimit (50) → 107 naming it; nothing runs, whoever sends it', async () => {
      const before = await count('Item');
      const requests = Array.from({ length: 51 }, (_, i) => ({ method: 'POST', path: '/parse/classes/Item', body: { name: `batch${i}` } }));
      for (const master of [false, true]) {
        assertParseError(await call(server.url, '/batch', { method: 'POST', master, body: { requests } }), 400, 107, 'Batch request contains 51 sub-requests; the limit is 50 (batchRequestLimit).', `master=${master}`);
      }
      assert.equal(await count('Item'), before);
    });

    test('limit above maxLimit is clamped (as Parse), never an unbounded read', async () => {
      for (const limit of [5000, -1, 6]) assert.equal((await allowed({ limit }, `limit ${limit}`)).body.results.length, 5);
      assert.equal((await allowed({ limit: 5000 }, 'master', { master: true })).body.results.length, 5);
      const post = await call(server.url, '/classes/Item', { method: 'POST', body: { _method: 'GET', limit: 1_000_000 } });
      assert.equal(post.body.results.length, 5);
    });

    test('a body larger than maxRequestBytes → 413 with code 116 naming it; nothing is written', async () => {
      const before = await count('Item');
      const big = 'x'.repeat(server.config.maxRequestBytes);
      const message = `The request body is larger than maxRequestBytes (${server.config.maxRequestBytes} bytes).`;
      assertParseError(await call(server.url, '/classes/Item', { method: 'POST', body: { name: big } }), 413, 116, message, 'create');
      assertParseError(await call(server.url, '/batch', { method: 'POST', body: { requests: [{ method: 'POST', path: '/parse/classes/Item', body: { name: big } }] } }), 413, 116, message, 'batch');
      assertParseError(await call(server.url, '/classes/Item', { method: 'POST', master: true, body: { name: big } }), 413, 116, message, 'master');
      assert.equal(await count('Item'), before);
    });

    test('explain and hint: 102 for anyone but the master key (Parse 9\'s message); the master key gets the plan, or its rows', async () => {
      for (const name of ['explain', 'hint']) {
        const message = `Using the ${name} query parameter requires the master key`;
        for (const value of [true, 'true', false, '_id_', { n: 1 }]) await refusedEverywhere({ [name]: value }, message, `${name}=${JSON.stringify(value)}`);
        await refusedEverywhere({ [name]: true }, message, `${name} on a get`, `/classes/Item/${firstId}`);
        assertParseError(await call(server.url, `/classes/Item${query({ [name]: true })}`, { headers: MAINTENANCE }), 400, 102, message, `${name} with the maintenance key`);
      }
      const plan = await allowed({ explain: true, where: { n: { $gte: 2 } } }, 'master explain', { master: true });
      assert.equal(plan.body.results.length, 1, JSON.stringify(plan.body));
      assert.ok(Array.isArray(plan.body.results[0]['QUERY PLAN']), JSON.stringify(plan.body));
      assert.equal(typeof plan.body.results[0]['QUERY PLAN'][0].Plan, 'object', 'a PostgreSQL plan, not rows');
      const viaSdkForm = await call(server.url, '/classes/Item', { method: 'POST', master: true, body: { _method: 'GET', explain: true } });
      assert.ok(Array.isArray(viaSdkForm.body.results[0]['QUERY PLAN']), JSON.stringify(viaSdkForm.body));
      // PostgreSQL has no index hints: the master key's hint is accepted and the query answered as without it.
      const hinted = await allowed({ hint: 'n_1', where: { n: 3 } }, 'master hint', { master: true });
      assert.deepEqual(hinted.body.results.map((row: { n: number }) => row.n), [3]);
      // A get has no plan to explain: Parse's answer for an option a get does not take.
      assertParseError(await call(server.url, `/classes/Item/${firstId}${query({ explain: true })}`, { master: true }), 400, 102, 'Improper encode of parameter', 'master explain on a get');
    });
  });

  describe(`request complexity: -1 turns a limit off (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { requestComplexity: { includeDepth: -1, includeCount: -1, subqueryDepth: 2, queryArraySize: -1, regexLength: 10 } });
      await call(server.url, '/classes/Item', { method: 'POST', body: { n: 1 } });
    });
    after(async () => server.stop());

    test('-1 is no limit; a smaller number is a smaller limit', async () => {
      const ok = async (options: Record<string, unknown>): Promise<void> => {
        // The SDK's POST form: 3000 values would not fit in a URL.
        const result = await call(server.url, '/classes/Item', { method: 'POST', body: { _method: 'GET', ...options } });
        assert.equal(result.status, 200, JSON.stringify(result.body));
      };
      await ok({ where: { n: { $in: Array.from({ length: 3000 }, (_, i) => i) } } });
      await ok({ include: Array.from({ length: 40 }, (_, i) => `p${i}`).join(',') });
      await ok({ include: 'a.b.c.d.e.f.g.h' });
      assertParseError(await call(server.url, `/classes/Item${query({ where: nestedInQuery(3) })}`), 400, 102, /maximum allowed depth of 2 \(requestComplexity.subqueryDepth\)/, 'subqueryDepth 2');
      assertParseError(await call(server.url, `/classes/Item${query({ where: { n: { $regex: 'abcdefghijk' } } })}`), 400, 102, /the limit is 10 \(requestComplexity.regexLength\)/, 'regexLength 10');
    });
  });
}
