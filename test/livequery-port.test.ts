/**
 * LiveQuery on a port of its own (`liveQuery.port`): served there exactly as on the REST port (the SDK's
 * client receives its events), no longer on the REST port, plain HTTP answered with a Parse-style 426, the
 * port freed at shutdown, and a port already taken failing the start.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { DEFAULT_LIVE_QUERY_LIMITS, type LiveQueryOptions } from '../src/config/live-query-option.ts';
import { call } from './helpers/http.ts';
import { hubOf, ok, RawClient, wsUrl } from './helpers/livequery.ts';
import { parseSdk } from './helpers/sdk.ts';
import { APP_ID, JS_KEY, startTestServer, type TestServer } from './helpers/server.ts';

const ownPort = (extra: Partial<LiveQueryOptions> = {}): LiveQueryOptions => ({ ...DEFAULT_LIVE_QUERY_LIMITS, classNames: ['Message'], port: 0, ...extra });

function liveUrl(server: TestServer): string {
  const address = hubOf(server).ownAddress;
  assert.ok(address !== undefined, 'LiveQuery has no port of its own');
  return `ws://127.0.0.1:${address.port}/`;
}

/** Whether a WebSocket handshake to `url` succeeds. */
async function handshake(url: string): Promise<'open' | 'refused'> {
  const socket = new WebSocket(url);
  const outcome = await new Promise<'open' | 'refused'>((resolve) => {
    socket.once('open', () => resolve('open'));
    socket.once('error', () => resolve('refused'));
    socket.once('unexpected-response', () => resolve('refused'));
  });
  socket.terminate();
  return outcome;
}

async function eventually(check: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Binds `port` on 127.0.0.1 (or any free one for 0) and returns the server holding it. */
async function occupy(port: number): Promise<Server> {
  const holder = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(port, '127.0.0.1', () => resolve());
  });
  return holder;
}

const release = (holder: Server): Promise<void> => new Promise((resolve) => holder.close(() => resolve()));

describe('LiveQuery on a port of its own', () => {
  let server: TestServer;
  let Parse: any;

  before(async () => {
    server = await startTestServer('pglite', { liveQuery: ownPort() });
    Parse = parseSdk(server.url);
  });
  after(async () => {
    await server.stop();
  });

  test('the SDK\'s LiveQueryClient subscribes there and receives a create', async () => {
    const client = new Parse.LiveQueryClient({ applicationId: APP_ID, serverURL: liveUrl(server), javascriptKey: JS_KEY });
    client.open();
    try {
      const query = new Parse.Query('Message');
      query.equalTo('room', 'a');
      const subscription = client.subscribe(query);
      const created: any[] = [];
      subscription.on('create', (object: any) => created.push(object.toJSON()));
      await subscription.subscribePromise;
      const message = ok(await call(server.url, '/classes/Message', { method: 'POST', body: { room: 'a', text: 'hi' } }), 'create');
      await call(server.url, '/classes/Message', { method: 'POST', body: { room: 'b' } });
      await hubOf(server).idle();
      await eventually(() => created.length >= 1, 'the create event');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        created.map((object) => [object.objectId, object.text]),
        [[message.objectId, 'hi']],
      );
    } finally {
      await client.close();
    }
  });

  test('the REST port no longer accepts LiveQuery upgrades, and still serves the REST API', async () => {
    assert.equal(await handshake(wsUrl(server)), 'refused');
    assert.equal(await handshake(liveUrl(server)), 'open');
    ok(await call(server.url, '/classes/Message', { method: 'GET' }), 'REST find');
  });

  test('a plain HTTP request on the LiveQuery port gets a Parse-style 426, never the REST API nor a 5xx', async () => {
    const base = liveUrl(server).replace(/^ws/, 'http');
    for (const [method, path, body] of [['GET', '/', undefined], ['GET', '/parse/classes/Message', undefined], ['POST', '/parse/classes/Message', '{"x":1}']] as const) {
      const response = await fetch(new URL(path, base), { method, body, headers: { 'X-Parse-Application-Id': APP_ID, 'Content-Type': 'application/json' } });
      assert.equal(response.status, 426, `${method} ${path}`);
      assert.equal(response.headers.get('upgrade'), 'websocket');
      assert.deepEqual(await response.json(), { code: 119, error: 'This port serves LiveQuery only: connect with a WebSocket.' });
    }
    const head = await fetch(base, { method: 'HEAD' });
    assert.equal(head.status, 426);
  });

  test('a raw client on the LiveQuery port: connect, subscribe, events, and the same limits as the REST port', async () => {
    const client = await RawClient.open(liveUrl(server));
    try {
      assert.equal((await client.connect()).op, 'connected');
      assert.equal((await client.subscribe(1, { className: 'Message', where: { room: 'raw' } })).op, 'subscribed');
      // The hub's own limits apply: an unserved class is refused as on the REST port.
      assert.equal((await client.subscribe(2, { className: 'Other', where: {} })).code, 119);
      await call(server.url, '/classes/Message', { method: 'POST', body: { room: 'raw' } });
      await hubOf(server).idle();
      const event = await client.next((frame) => frame.op === 'create', 'the create');
      assert.equal(event.object.room, 'raw');
    } finally {
      client.close();
    }
  });
});

test('the per-IP limit and trustProxy apply on the LiveQuery port as on the REST port', async () => {
  const server = await startTestServer('pglite', { trustProxy: true, liveQuery: ownPort({ maxConnectionsPerIp: 1 }) });
  const sockets: WebSocket[] = [];
  /** The code of the first frame a socket from `forwardedFor` receives within a short wait, or 'open' if none. */
  const from = async (forwardedFor: string): Promise<string> => {
    const socket = new WebSocket(liveUrl(server), { headers: { 'X-Forwarded-For': forwardedFor } });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('message', (data) => resolve(String((JSON.parse((data as Buffer).toString('utf8')) as { code: number }).code)));
      socket.once('open', () => setTimeout(() => resolve('open'), 100));
      socket.once('error', () => resolve('refused'));
    });
  };
  try {
    assert.equal(await from('203.0.113.1'), 'open');
    assert.equal(await from('203.0.113.2'), 'open', 'another forwarded address is another client');
    assert.equal(await from('203.0.113.1'), '155');
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.stop();
  }
});

test('shutdown closes the LiveQuery port\'s connections and frees the port', async () => {
  const server = await startTestServer('pglite', { liveQuery: ownPort() });
  const url = liveUrl(server);
  const port = Number(new URL(url).port);
  const client = await RawClient.connected(url);
  await server.stop();
  await eventually(() => client.closed !== undefined, 'the client is closed');
  assert.equal(client.closed?.code, 1001);
  // The port is free: a new server can bind it.
  await release(await occupy(port));
});

test('a LiveQuery port already in use fails the start with a clear error', async () => {
  const holder = await occupy(0);
  try {
    const address = holder.address();
    assert.ok(address !== null && typeof address === 'object');
    await assert.rejects(startTestServer('pglite', { liveQuery: ownPort({ port: address.port, host: '127.0.0.1' }) }), (error: Error) => {
      assert.match(error.message, new RegExp(`LiveQuery cannot listen on 127\\.0\\.0\\.1:${address.port} \\(liveQuery\\.port\\): the port is already in use`));
      return true;
    });
  } finally {
    await release(holder);
  }
});
