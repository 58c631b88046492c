/**
 * The `liveQuery` option: off unless set (no upgrade is accepted then), its limits' defaults, and every
 * malformed value refused at start with the option named.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { loadConfig } from '../src/config/load.ts';
import { startTestServer } from './helpers/server.ts';
import { wsUrl } from './helpers/livequery.ts';

const BASE_ENV = { PARSEC_APP_ID: 'app', PARSEC_MASTER_KEY: 'a-master-key-that-is-long-enough-0123' };

async function load(value: string | undefined) {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-lq-'));
  return loadConfig({ argv: [], env: value === undefined ? BASE_ENV : { ...BASE_ENV, PARSEC_LIVE_QUERY: value }, cwd });
}

test('liveQuery is off unless set, and its limits default when only classNames is given', async () => {
  const off = await load(undefined);
  assert.ok(off.ok);
  assert.equal(off.config.liveQuery, undefined);
  const on = await load(JSON.stringify({ classNames: ['Message', '_User'] }));
  assert.ok(on.ok, JSON.stringify(on));
  assert.deepEqual(on.config.liveQuery, { classNames: ['Message', '_User'], maxConnectionsPerIp: 100, maxConnectionsPerUser: 20, maxSubscriptionsPerConnection: 100, maxMessageBytes: 65536 });
  const explicitOff = await load('false');
  assert.ok(explicitOff.ok);
  assert.equal(explicitOff.config.liveQuery, undefined);
});

test('malformed liveQuery values stop the start, naming the option', async () => {
  for (const value of ['[]', '"Message"', '{"classNames": "Message"}', '{"classNames": ["bad name"]}', '{"classNames": [1]}', '{"classNames": [], "maxConnectionsPerIp": 0}', '{"classNames": [], "maxMessageBytes": 1.5}', '{"classNames": [], "classname": []}', 'not json']) {
    const result = await load(value);
    assert.equal(result.ok, false, value);
    if (!result.ok) assert.ok(result.problems.some((problem) => problem.includes('PARSEC_LIVE_QUERY') || problem.includes('liveQuery')), `${value}: ${JSON.stringify(result.problems)}`);
  }
});

test('without liveQuery no WebSocket upgrade is accepted', async () => {
  const server = await startTestServer('pglite');
  try {
    const socket = new WebSocket(wsUrl(server));
    const outcome = await new Promise<string>((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('error', () => resolve('refused'));
      socket.once('unexpected-response', () => resolve('refused'));
    });
    socket.terminate();
    assert.equal(outcome, 'refused');
  } finally {
    await server.stop();
  }
});
