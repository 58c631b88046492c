/** Login and logout triggers, and background jobs with their `_JobStatus`. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const ACCOUNTS = fileURLToPath(new URL('./fixtures/cloud/accounts.js', import.meta.url));

async function waitForJob(url: string, statusId: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = await call(url, `/classes/_JobStatus/${statusId}`, { master: true });
    if (status.body.status !== 'running') return status.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the job did not finish');
}

for (const engine of engines()) {
  describe(`login triggers and jobs (${engine})`, () => {
    let server: TestServer;
    const events = async (): Promise<Record<string, unknown>[]> => (await call(server.url, '/functions/events', { method: 'POST', master: true, body: {} })).body.result;
    before(async () => {
      server = await startTestServer(engine, { cloud: ACCOUNTS });
      for (const username of ['regular-user', 'blocked-user']) {
        await call(server.url, '/users', { method: 'POST', body: { username, password: 'pw-123456', email: `${username}@example.com` } });
      }
      await events();
    });
    after(async () => server.stop());

    test('beforeLogin may refuse a login (after the password was right); afterLogin and afterLogout run', async () => {
      const wrong = await call(server.url, '/login', { method: 'POST', body: { username: 'blocked-user', password: 'wrong' } });
      assert.equal(wrong.body.code, 101, 'a wrong password never reaches the trigger');
      assert.deepEqual(await events(), []);
      const blocked = await call(server.url, '/login', { method: 'POST', body: { username: 'blocked-user', password: 'pw-123456' } });
      assert.deepEqual(blocked.body, { code: 119, error: 'This account is suspended.' });
      const sessions = await call(server.url, '/classes/_Session', { master: true });
      const blockedId = (await call(server.url, '/login', { method: 'POST', body: { username: 'regular-user', password: 'pw-123456' } })).body;
      assert.equal(typeof blockedId.sessionToken, 'string');
      const after = await call(server.url, '/classes/_Session', { master: true });
      assert.equal(after.body.results.length, sessions.body.results.length + 1, 'the refused login created no session');
      await call(server.url, '/logout', { method: 'POST', body: {}, headers: { 'X-Parse-Session-Token': blockedId.sessionToken } });
      assert.deepEqual(await events(), [
        { event: 'beforeLogin', username: 'regular-user' },
        { event: 'afterLogin', username: 'regular-user' },
        { event: 'afterLogout', className: '_Session', user: blockedId.objectId },
      ]);
    });

    test('beforePasswordResetRequest sees the user; the answer is {} either way', async () => {
      const known = await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'regular-user@example.com' } });
      assert.deepEqual(known.body, {});
      const unknown = await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'nobody@example.com' } });
      assert.deepEqual(unknown.body, {});
      assert.deepEqual(await events(), [{ event: 'beforePasswordResetRequest', username: 'regular-user' }]);
    });

    test('a job runs in the background with the master key and records its outcome', async () => {
      await call(server.url, '/classes/JobNote', { method: 'POST', master: true, body: { n: 1 } });
      const started = await call(server.url, '/jobs/countNotes', { method: 'POST', master: true, body: { label: 'test' } });
      assert.equal(started.status, 200);
      const statusId = started.headers.get('x-parse-job-status-id');
      assert.ok(statusId);
      const status = await waitForJob(server.url, statusId);
      assert.equal(status.status, 'succeeded');
      assert.equal(status.message, 'counted 1 with test');
      assert.equal(status.jobName, 'countNotes');
      const failed = await call(server.url, '/jobs/failingJob', { method: 'POST', master: true, body: {} });
      const failedStatus = await waitForJob(server.url, failed.headers.get('x-parse-job-status-id') ?? '');
      assert.equal(failedStatus.status, 'failed');
      assert.equal(failedStatus.message, 'job exploded');
    });

    test('jobs: not for clients, not for the read-only master key; unknown jobs are refused', async () => {
      const client = await call(server.url, '/jobs/countNotes', { method: 'POST', body: {} });
      assert.equal(client.status, 403);
      const unknown = await call(server.url, '/jobs/constructor', { method: 'POST', master: true, body: {} });
      assert.equal(unknown.body.code, 141);
      const statuses = await call(server.url, '/classes/_JobStatus', {});
      assert.equal(statuses.body.code, 119, 'job statuses are for the master key only');
      const write = await call(server.url, '/classes/_JobStatus', { method: 'POST', master: true, body: { status: 'succeeded' } });
      assert.equal(write.body.code, 119, 'only the server writes job statuses');
    });

    test('the SDK: Parse.Cloud.startJob, getJobStatus and getJobsData', async () => {
      const Parse = parseSdk(server.url);
      const statusId = await Parse.Cloud.startJob('countNotes', { label: 'sdk' });
      assert.equal(typeof statusId, 'string');
      const status = await waitForJob(server.url, statusId);
      assert.equal(status.status, 'succeeded');
      const fetched = await Parse.Cloud.getJobStatus(statusId);
      assert.equal(fetched.get('jobName'), 'countNotes');
      const data = await Parse.Cloud.getJobsData();
      assert.deepEqual([...data.jobs].sort(), ['countNotes', 'failingJob']);
    });
  });
}

describe('read-only master key and jobs', () => {
  test('refused with 119', async () => {
    const server = await startTestServer('pglite', { cloud: ACCOUNTS, readOnlyMasterKey: 'read-only-key-0123456789abcdef' });
    try {
      const result = await call(server.url, '/jobs/countNotes', { method: 'POST', body: {}, headers: { 'X-Parse-Master-Key': 'read-only-key-0123456789abcdef' } });
      assert.equal(result.body.code, 119);
    } finally {
      await server.stop();
    }
  });
});
