/**
 * Cloud Code and master-key behaviours the official JS SDK relies on (its integration suites ParseCloudTest
 * and ParseMasterKeyTest), written for Parsec and run on every engine: `Parse.Cloud.run` results and errors
 * (141, unknown functions), jobs started with the master key and their `_JobStatus` (succeeded, running,
 * failed, unknown), `getJobsData`, and the master key saving past an object's ACL.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/sdk-cloud.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const engine of engines()) {
  describe(`SDK cloud code and master key (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine, { cloud: CLOUD, rateLimit: [] });
      Parse = parseSdk(server.url);
    });
    after(async () => server.stop());

    const status = (id: string): Promise<any> => Parse.Cloud.getJobStatus(id);
    const settled = async (id: string): Promise<any> => {
      for (let i = 0; i < 100; i++) {
        const job = await status(id);
        if (job.get('status') !== 'running') return job;
        await sleep(50);
      }
      return status(id);
    };

    test('functions: a result, the same for a signed-in user, undefined, and a thrown string as 141', async () => {
      assert.equal(await Parse.Cloud.run('sdkBar', { key1: 'value2', key2: 'value1' }), 'Foo');
      const user = await Parse.User.signUp('sdk-cloud-user', 'somepassword');
      assert.equal(await Parse.Cloud.run('sdkBar', { key2: 'value1' }, { sessionToken: user.getSessionToken() }), 'Foo');
      await user.destroy({ useMasterKey: true });
      assert.equal(await Parse.Cloud.run('sdkUndefined', {}), undefined);
      await assert.rejects(Parse.Cloud.run('sdkBar', { key1: 'value1', key2: 'value2' }), (error: any) => error.code === 141 && error.message === 'bad stuff happened');
    });

    test('an unknown function is refused with Parse\'s message, whatever the params', async () => {
      for (const params of [{ key1: 'value1' }, { key1: new Parse.GeoPoint(50, 50) }]) {
        await assert.rejects(Parse.Cloud.run('unknown_function', params), (error: any) => error.code === 141 && error.message === 'Invalid function: "unknown_function"');
      }
      assert.throws(() => Parse.Cloud.run('sdkBar', { key1: new Parse.Object('TestClass') }));
    });

    test('jobs: params kept, quick and slow jobs succeed, a failing one records its message', async () => {
      const quick = await settled(await Parse.Cloud.startJob('sdkJob1', { startedBy: 'Monty Python' }));
      assert.equal(quick.get('status'), 'succeeded');
      assert.equal(quick.get('params').startedBy, 'Monty Python');
      const slowId = await Parse.Cloud.startJob('sdkSlowJob');
      assert.equal((await status(slowId)).get('status'), 'running');
      assert.equal((await settled(slowId)).get('status'), 'succeeded');
      const failing = await settled(await Parse.Cloud.startJob('sdkFailingJob'));
      assert.equal(failing.get('status'), 'failed');
      assert.equal(failing.get('message'), 'cloud job failed');
    });

    test('an unknown job is 141 "Invalid job."; an unknown status id is 101; getJobsData lists the jobs', async () => {
      await assert.rejects(Parse.Cloud.startJob('bad_job'), (error: any) => error.code === 141 && error.message === 'Invalid job.');
      await assert.rejects(Parse.Cloud.getJobStatus('not-a-real-id'), (error: any) => error.code === 101 && error.message === 'Object not found.');
      const data = await Parse.Cloud.getJobsData();
      assert.deepEqual([...data.jobs].sort(), ['sdkFailingJob', 'sdkJob1', 'sdkSlowJob']);
      assert.deepEqual(data.in_use, []);
    });

    test('the master key saves past an ACL; without a master key configured the SDK refuses to send it', async () => {
      const plain = await new Parse.Object('SdkMaster', { color: 'purple' }).save(null, { useMasterKey: true });
      assert.ok(plain.id);
      const owner = await Parse.User.signUp('sdk-master-owner', 'password');
      const locked = new Parse.Object('SdkMaster', { ACL: new Parse.ACL(owner) });
      await locked.save(null, { sessionToken: owner.getSessionToken() });
      locked.set('color', 'red');
      await assert.rejects(locked.save(), (error: any) => error.code === 101);
      await locked.save(null, { useMasterKey: true });
      assert.equal((await new Parse.Query('SdkMaster').get(locked.id, { useMasterKey: true })).get('color'), 'red');
      const masterKey = Parse.CoreManager.get('MASTER_KEY');
      try {
        Parse.CoreManager.set('MASTER_KEY', null);
        await assert.rejects(new Parse.Object('SdkMaster').save(null, { useMasterKey: true }));
      } finally {
        Parse.CoreManager.set('MASTER_KEY', masterKey);
      }
      assert.equal(await new Parse.Query('SdkMaster').count({ useMasterKey: true }), 2);
    });
  });
}
