/**
 * LiveQuery across nodes: two `parsec start` processes on one PostgreSQL database; a write through node A
 * reaches a subscriber of node B (announced with NOTIFY from the writing transaction), with B deciding the
 * event under the subscriber's own rights, a change too large for a NOTIFY payload included. Runs only
 * with PARSEC_TEST_DATABASE_URL (PGlite is one process by construction).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startNode, type ClusterNode } from './helpers/cluster.ts';
import { call } from './helpers/http.ts';
import { APP_ID, freshPostgresDatabase, MASTER_KEY } from './helpers/server.ts';
import { ok, RawClient } from './helpers/livequery.ts';

const enabled = process.env.PARSEC_TEST_DATABASE_URL !== undefined;

describe('LiveQuery across nodes (postgres)', { skip: !enabled && 'PARSEC_TEST_DATABASE_URL is not set' }, () => {
  let database: { uri: string; drop: () => Promise<void> };
  let a: ClusterNode;
  let b: ClusterNode;

  before(async () => {
    database = await freshPostgresDatabase();
    const env = {
      PARSEC_APP_ID: APP_ID,
      PARSEC_MASTER_KEY: MASTER_KEY,
      PARSEC_DATABASE_URI: database.uri,
      PARSEC_LOG_LEVEL: 'warn',
      PARSEC_RATE_LIMIT: '[]',
      PARSEC_LIVE_QUERY: JSON.stringify({ classNames: ['Doc'] }),
    };
    a = await startNode('A', env);
    b = await startNode('B', env);
  });
  after(async () => {
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await database?.drop();
  });

  test('a write on node A reaches a subscriber on node B, decided with the subscriber\'s rights', async () => {
    ok(await call(a.url, '/schemas/Doc', { method: 'POST', master: true, body: { className: 'Doc', fields: { kind: { type: 'String' } } } }), 'class');
    const user = ok(await call(a.url, '/users', { method: 'POST', body: { username: 'nodeuser', password: 'pw-123456' } }), 'sign up');
    const subscriber = await RawClient.connected(b.url.replace(/^http/, 'ws'), { sessionToken: user.sessionToken });
    assert.equal((await subscriber.subscribe(1, { className: 'Doc', where: { kind: 'x' } })).op, 'subscribed');
    const hidden = ok(await call(a.url, '/classes/Doc', { method: 'POST', master: true, body: { kind: 'x', title: 'not for the user', ACL: {} } }), 'hidden');
    const shown = ok(await call(a.url, '/classes/Doc', { method: 'POST', master: true, body: { kind: 'x', title: 'for the user', big: 'y'.repeat(20_000), ACL: { [user.objectId]: { read: true } } } }), 'shown');
    const event = await subscriber.next((frame) => frame.op === 'create', 'the create on node B', 10_000);
    assert.equal(event.object.objectId, shown.objectId);
    assert.equal(event.object.big.length, 20_000, 'a change over the NOTIFY limit travels through the table');
    ok(await call(a.url, `/classes/Doc/${shown.objectId as string}`, { method: 'PUT', master: true, body: { title: 'edited by master' } }), 'edit');
    const update = await subscriber.next((frame) => frame.op === 'update' && frame.object.title === 'edited by master', 'the update on node B', 10_000);
    assert.equal(update.original.objectId, shown.objectId);
    assert.ok(!subscriber.frames.some((frame) => frame.object?.objectId === hidden.objectId), 'the unreadable object never reached the subscriber');
    subscriber.close();
  });
});
