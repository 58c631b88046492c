/**
 * `GET /cloud_code/jobs/data` (reference §3.6, §8.1): the jobs cloud code defined and those in use by a schedule,
 * as Parse Server answers `{jobs, in_use}`; the master key (or read-only master key) only. Parsec has no job
 * schedules (`_JobSchedule`), so `in_use` is always empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertOk, call } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const ACCOUNTS = fileURLToPath(new URL('./fixtures/cloud/accounts.js', import.meta.url));
const READ_ONLY_KEY = 'read-only-key-for-jobs-0123456789';

for (const engine of engines()) {
  describe(`cloud code jobs data (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { cloud: ACCOUNTS, readOnlyMasterKey: READ_ONLY_KEY });
    });
    after(async () => server.stop());

    test('the master key and the read-only master key get the defined jobs and none in use', async () => {
      const data = assertOk(await call(server.url, '/cloud_code/jobs/data', { master: true }), 'jobs data');
      assert.deepEqual(Object.keys(data).sort(), ['in_use', 'jobs']);
      assert.deepEqual([...data.jobs].sort(), ['countNotes', 'failingJob']);
      assert.deepEqual(data.in_use, []);
      assert.deepEqual(assertOk(await call(server.url, '/cloud_code/jobs/data', { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } }), 'read-only').jobs.sort(), ['countNotes', 'failingJob']);
    });

    test('clients and users are refused with 403', async () => {
      const anonymous = await call(server.url, '/cloud_code/jobs/data');
      assert.equal(anonymous.status, 403);
      assert.deepEqual(anonymous.body, { error: 'unauthorized: master key is required' });
      const user = assertOk(await call(server.url, '/users', { method: 'POST', body: { username: `jobs-${engine}`, password: 'pw-123456' } }), 'sign up', 201);
      assert.equal((await call(server.url, '/cloud_code/jobs/data', { headers: { 'X-Parse-Session-Token': user.sessionToken } })).status, 403);
    });
  });

  test(`without cloud code the job list is empty (${engine})`, async () => {
    const server = await startTestServer(engine);
    try {
      assert.deepEqual(assertOk(await call(server.url, '/cloud_code/jobs/data', { master: true }), 'no cloud code'), { jobs: [], in_use: [] });
    } finally {
      await server.stop();
    }
  });
}
