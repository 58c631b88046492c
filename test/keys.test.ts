import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { APP_ID, JS_KEY, MASTER_KEY, REST_KEY, startTestServer, type TestServer } from './helpers/server.ts';

const READ_ONLY_KEY = 'read-only-master-key-0123456789';

describe('application keys and the AuthContext', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', { readOnlyMasterKey: READ_ONLY_KEY });
  });
  after(async () => server.stop());

  const unauthorized = { error: 'unauthorized' };

  test('a missing or wrong application id is 403 unauthorized', async () => {
    for (const headers of [{} as Record<string, string>, { 'X-Parse-Application-Id': 'other' }, { 'X-Parse-Application-Id': APP_ID.toUpperCase() }]) {
      const result = await call(server.url, '/classes/Thing', { bare: true, headers });
      assert.equal(result.status, 403);
      assert.deepEqual(result.body, unauthorized);
    }
  });

  test('prototype property names as application id are refused', async () => {
    for (const appId of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const result = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': appId, 'X-Parse-REST-API-Key': REST_KEY } });
      assert.equal(result.status, 403, appId);
    }
  });

  test('with client keys configured, one of them is required', async () => {
    const none = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID } });
    assert.equal(none.status, 403);
    const wrong = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-REST-API-Key': 'nope' } });
    assert.equal(wrong.status, 403);
    const js = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-Javascript-Key': JS_KEY } });
    assert.equal(js.status, 200);
    const swapped = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-Javascript-Key': REST_KEY } });
    assert.equal(swapped.status, 403, 'a key is only valid under its own name');
  });

  test('the JS SDK body-field form works like headers, over text/plain', async () => {
    const created = await call(server.url, '/classes/Thing', {
      bare: true,
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      rawBody: JSON.stringify({ _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _ClientVersion: 'js5.0.0', _InstallationId: 'abc', name: 'via body' }),
    });
    assert.equal(created.status, 201);
    const fetched = await call(server.url, `/classes/Thing/${created.body.objectId}`, {
      bare: true,
      method: 'POST',
      rawBody: JSON.stringify({ _method: 'GET', _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY }),
    });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.name, 'via body');
    assert.equal(fetched.body._ApplicationId, undefined);
    assert.equal(fetched.body._ClientVersion, undefined, 'credential fields never become data');
  });

  test('HTTP Basic auth carries the app id and a key', async () => {
    const basic = Buffer.from(`${APP_ID}:javascript-key=${JS_KEY}`).toString('base64');
    const result = await call(server.url, '/classes/Thing', { bare: true, headers: { Authorization: `Basic ${basic}` } });
    assert.equal(result.status, 200);
    const master = Buffer.from(`${APP_ID}:${MASTER_KEY}`).toString('base64');
    const schemas = await call(server.url, '/schemas', { bare: true, headers: { Authorization: `Basic ${master}` } });
    assert.equal(schemas.status, 200);
  });

  test('master-only routes answer 403 with Parse\'s body to everyone else', async () => {
    const result = await call(server.url, '/schemas');
    assert.equal(result.status, 403);
    assert.deepEqual(result.body, { error: 'unauthorized: master key is required' });
    const wrongMaster = await call(server.url, '/schemas', { headers: { 'X-Parse-Master-Key': 'guess' } });
    assert.equal(wrongMaster.status, 403);
  });

  test('non-string credentials never match (operator injection)', async () => {
    const result = await call(server.url, '/classes/Thing', {
      bare: true,
      method: 'POST',
      rawBody: JSON.stringify({ _method: 'GET', _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _MasterKey: { $ne: null } }),
    });
    assert.equal(result.status, 200);
    const schemas = await call(server.url, '/schemas', {
      bare: true,
      method: 'POST',
      rawBody: JSON.stringify({ _method: 'GET', _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _MasterKey: { $regex: '' } }),
    });
    assert.equal(schemas.status, 403);
    const token = await call(server.url, '/classes/Thing', {
      bare: true,
      method: 'POST',
      rawBody: JSON.stringify({ _method: 'GET', _ApplicationId: APP_ID, _JavaScriptKey: JS_KEY, _SessionToken: { $regex: 'r:' } }),
    });
    assert.equal(token.status, 400);
    assert.equal(token.body.code, 209);
  });

  test('a session token is refused until sessions exist (never silently ignored)', async () => {
    const result = await call(server.url, '/classes/Thing', { headers: { 'X-Parse-Session-Token': 'r:0123456789abcdef0123456789abcdef' } });
    assert.equal(result.status, 400);
    assert.deepEqual(result.body, { code: 209, error: 'Invalid session token' });
  });

  test('the read-only master key reads everything and writes nothing', async () => {
    const readOnly = { headers: { 'X-Parse-Master-Key': READ_ONLY_KEY } };
    const created = await call(server.url, '/classes/Thing', { method: 'POST', body: { n: 1 }, master: true });
    assert.equal((await call(server.url, '/schemas', readOnly)).status, 200);
    const write = await call(server.url, '/classes/Thing', { method: 'POST', body: { n: 2 }, ...readOnly });
    assert.equal(write.body.code, 119);
    const update = await call(server.url, `/classes/Thing/${created.body.objectId}`, { method: 'PUT', body: { n: 3 }, ...readOnly });
    assert.equal(update.body.code, 119);
    const remove = await call(server.url, `/classes/Thing/${created.body.objectId}`, { method: 'DELETE', ...readOnly });
    assert.equal(remove.body.code, 119);
    const schema = await call(server.url, '/schemas/Other', { method: 'POST', body: {}, ...readOnly });
    assert.equal(schema.body.code, 119);
    const batch = await call(server.url, '/batch', {
      method: 'POST',
      body: { requests: [{ method: 'PUT', path: `/parse/classes/Thing/${created.body.objectId}`, body: { n: 4 } }] },
      ...readOnly,
    });
    assert.equal(batch.body[0].error.code, 119);
    const after = await call(server.url, `/classes/Thing/${created.body.objectId}`);
    assert.equal(after.body.n, 1);
  });

  test('a URL too large for the HTTP parser still gets a Parse-shaped answer, and the server keeps serving', async () => {
    const result = await call(server.url, `/classes/Thing?where=${'a'.repeat(20_000)}`);
    assert.equal(result.status, 431);
    assert.equal(result.body.code, 107);
    assert.equal((await call(server.url, '/health', { bare: true })).status, 200);
  });

  test('health answers without keys; OPTIONS answers before key checks', async () => {
    const health = await call(server.url, '/health', { bare: true });
    assert.deepEqual(health.body, { status: 'ok' });
    const options = await call(server.url, '/classes/Thing', { bare: true, method: 'OPTIONS' });
    assert.equal(options.status, 200);
    assert.equal(options.headers.get('access-control-allow-origin'), '*');
  });
});

describe('master key IP allow-list', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', { masterKeyIps: ['10.0.0.0/8'] });
  });
  after(async () => server.stop());

  test('the right master key from a disallowed address is refused, not downgraded', async () => {
    const result = await call(server.url, '/schemas', { master: true });
    assert.equal(result.status, 403);
    assert.deepEqual(result.body, { error: 'unauthorized' });
    const object = await call(server.url, '/classes/Thing', { master: true });
    assert.equal(object.status, 403);
  });

  test('X-Forwarded-For is ignored unless trustProxy is set', async () => {
    const result = await call(server.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '10.1.2.3' } });
    assert.equal(result.status, 403);
  });
});

describe('trustProxy: whose X-Forwarded-For is believed', () => {
  // The tests reach the server from loopback, so loopback plays the proxy here.
  let listed: TestServer;
  let everyone: TestServer;
  before(async () => {
    listed = await startTestServer('pglite', { masterKeyIps: ['10.0.0.0/8'], trustProxy: ['loopback'] });
    everyone = await startTestServer('pglite', { masterKeyIps: ['127.0.0.1'], trustProxy: true });
  });
  after(async () => {
    await listed.stop();
    await everyone.stop();
  });

  test('with the proxies listed, the address the proxy appended is the client', async () => {
    const allowed = await call(listed.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '10.1.2.3' } });
    assert.equal(allowed.status, 200, 'a client inside masterKeyIps, as the proxy saw it');
    const outside = await call(listed.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(outside.status, 403);
  });

  test('with the proxies listed, what a client prepends itself is never reached', async () => {
    // The client sent "X-Forwarded-For: 10.1.2.3" and the proxy appended the client's real address.
    const spoofed = await call(listed.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '10.1.2.3, 203.0.113.9' } });
    assert.equal(spoofed.status, 403);
    assert.deepEqual(spoofed.body, { error: 'unauthorized' });
  });

  test('trustProxy: true believes the leftmost entry (why the audit flags it)', async () => {
    const spoofed = await call(everyone.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '127.0.0.1, 203.0.113.9' } });
    assert.equal(spoofed.status, 200, 'only safe when the proxy overwrites the header');
    const other = await call(everyone.url, '/schemas', { master: true, headers: { 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(other.status, 403);
  });
});

describe('the .NET/Unity key', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', { clientKeys: { dotNetKey: 'dotnet-key' } });
  });
  after(async () => server.stop());

  test('X-Parse-Windows-Key carries dotNetKey (windowsKey in Parse configs)', async () => {
    const ok = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-Windows-Key': 'dotnet-key' } });
    assert.equal(ok.status, 200);
    const wrong = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-Windows-Key': 'nope' } });
    assert.equal(wrong.status, 403);
  });
});

describe('no client keys configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', { clientKeys: {} });
  });
  after(async () => server.stop());

  test('the application id alone identifies the app, as in Parse', async () => {
    const result = await call(server.url, '/classes/Thing', { bare: true, headers: { 'X-Parse-Application-Id': APP_ID } });
    assert.equal(result.status, 200);
  });
});

describe('the maintenance key', () => {
  const MAINTENANCE_KEY = 'maintenance-key-0123456789abcdef';
  let server: TestServer;
  let restricted: TestServer;
  before(async () => {
    server = await startTestServer('pglite', { maintenanceKey: MAINTENANCE_KEY });
    restricted = await startTestServer('pglite', { maintenanceKey: MAINTENANCE_KEY, masterKeyIps: ['10.0.0.0/8'] });
  });
  after(async () => {
    await server.stop();
    await restricted.stop();
  });
  const maintenance = { headers: { 'X-Parse-Maintenance-Key': MAINTENANCE_KEY } };

  test('reads and writes objects past ACLs and sets server-managed user fields', async () => {
    const hidden = await call(server.url, '/classes/Vault', { method: 'POST', master: true, body: { secret: 1, ACL: {} } });
    assert.equal(hidden.status, 201);
    const read = await call(server.url, `/classes/Vault/${hidden.body.objectId}`, maintenance);
    assert.equal(read.status, 200);
    assert.equal(read.body.secret, 1);
    const updated = await call(server.url, `/classes/Vault/${hidden.body.objectId}`, { method: 'PUT', body: { secret: 2 }, ...maintenance });
    assert.equal(updated.status, 200);
    const user = await call(server.url, '/users', { method: 'POST', body: { username: 'maint-user', password: 'pw-123456', email: 'm@example.com' } });
    const verify = await call(server.url, `/users/${user.body.objectId}`, { method: 'PUT', body: { emailVerified: true }, ...maintenance });
    assert.equal(verify.status, 200);
    const asClient = await call(server.url, `/users/${user.body.objectId}`, {
      method: 'PUT',
      body: { emailVerified: false },
      headers: { 'X-Parse-Session-Token': user.body.sessionToken },
    });
    assert.equal(asClient.body.code, 119);
    const stored = await call(server.url, `/users/${user.body.objectId}`, { master: true });
    assert.equal(stored.body.emailVerified, true);
  });

  test('is not a master key: no schema changes, no /loginAs', async () => {
    const schema = await call(server.url, '/schemas/Fresh', { method: 'POST', body: {}, ...maintenance });
    assert.equal(schema.status, 403);
    const loginAs = await call(server.url, '/loginAs', { method: 'POST', body: { userId: 'x' }, ...maintenance });
    assert.equal(loginAs.status, 403);
    const classes = await call(server.url, '/schemas', { master: true });
    assert.ok(!classes.body.results.some((entry: { className: string }) => entry.className === 'Fresh'));
  });

  test('a wrong maintenance key, or the right one from a disallowed address, is refused', async () => {
    const wrong = await call(server.url, '/classes/Vault', { headers: { 'X-Parse-Maintenance-Key': 'not-the-key' } });
    assert.equal(wrong.status, 403);
    const elsewhere = await call(restricted.url, '/classes/Vault', maintenance);
    assert.equal(elsewhere.status, 403);
    assert.deepEqual(elsewhere.body, { error: 'unauthorized' });
  });
});
