/**
 * The evaluation statement itself: many questions answered against a row's two images in one pass, split
 * into several statements past PostgreSQL's select-list limit, with answers in the order asked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANONYMOUS } from '../src/auth/context.ts';
import { evaluateProbes, type Probe } from '../src/livequery/evaluate.ts';
import { callerAccess } from '../src/security/access.ts';
import { call } from './helpers/http.ts';
import { engines, startTestServer } from './helpers/server.ts';
import { ok } from './helpers/livequery.ts';

for (const engine of engines()) {
  test(`1,500 questions about one write are answered in order, before and after (${engine})`, async () => {
    const server = await startTestServer(engine);
    try {
      ok(await call(server.url, '/schemas/Counter', { method: 'POST', master: true, body: { className: 'Counter', fields: { n: { type: 'Number' } } } }), 'class');
      const { services } = server.parsec;
      const schema = services.schemas.get('Counter');
      assert.ok(schema !== undefined);
      const access = callerAccess(ANONYMOUS, services);
      const probes: Probe[] = Array.from({ length: 1500 }, (_, index) => ({
        condition: { type: 'compare', target: { field: 'n', path: [] }, operator: '=', value: { kind: 'number', value: index } },
        access,
      }));
      // The read permission of an anonymous caller, as a question too: public before, private after.
      const readable = access.readFilter('Counter', 'find');
      assert.ok(readable !== undefined);
      probes.push({ condition: readable, access });
      const image = (n: number, rperm: string[]) => ({ objectId: 'abc', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', _rperm: rperm, _wperm: rperm, n });
      const result = await evaluateProbes(services.driver, 'Counter', schema, (name) => services.schemas.get(name), { before: image(7, ['*']), after: image(1234, ['someone']) }, probes);
      const trueAt = (answers: readonly boolean[] | undefined) => (answers ?? []).flatMap((answer, index) => (answer ? [index] : []));
      assert.deepEqual(trueAt(result.before?.answers), [7, 1500]);
      assert.deepEqual(trueAt(result.after?.answers), [1234]);
      assert.equal(result.after?.row.n, 1234);
      assert.equal(result.before?.row.createdAt, '2026-01-01T00:00:00.000Z');
    } finally {
      await server.stop();
    }
  });
}
