/**
 * The `liveQuery` option: off unless set (no upgrade is accepted then), its limits' defaults, its own `port`
 * (and Parse's spelling of it), and every malformed value refused at start with the option named.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
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

test('liveQuery.port and host: a port of its own, checked like the limits', async () => {
  const on = await load(JSON.stringify({ classNames: ['Message'], port: 1338, host: '127.0.0.1' }));
  assert.ok(on.ok, JSON.stringify(on));
  assert.equal(on.config.liveQuery?.port, 1338);
  assert.equal(on.config.liveQuery?.host, '127.0.0.1');
  const noHost = await load(JSON.stringify({ classNames: ['Message'], port: 1338 }));
  assert.ok(noHost.ok);
  assert.equal(noHost.config.liveQuery?.host, undefined, 'the REST host is used');
  const ownRedis = await load(JSON.stringify({ classNames: ['Message'], redisURL: 'redis://cache.internal:6379' }));
  assert.ok(ownRedis.ok, JSON.stringify(ownRedis));
  assert.equal(ownRedis.config.liveQuery?.redisURL, 'redis://cache.internal:6379');
  const cases: [string, RegExp][] = [
    ['{"classNames": [], "port": 0}', /port must be a whole number from 1 to 65535, got 0/],
    ['{"classNames": [], "port": 65536}', /port must be a whole number from 1 to 65535/],
    ['{"classNames": [], "port": -1}', /port must be/],
    ['{"classNames": [], "port": 1338.5}', /port must be/],
    ['{"classNames": [], "port": "1338"}', /port must be a whole number from 1 to 65535, got "1338"/],
    ['{"classNames": [], "port": null}', /port must be/],
    ['{"classNames": [], "port": 1338, "host": "not a host!"}', /host must be a host name or an IP address/],
    ['{"classNames": [], "port": 1338, "host": 5}', /host must be a string/],
    ['{"classNames": [], "host": "127.0.0.1"}', /host is only used with port/],
    ['{"classNames": [], "prot": 1338}', /"prot" is not one of its fields\. Did you mean "port"\?/],
    ['{"classNames": [], "redisURL": "http://127.0.0.1:6379"}', /redisURL must be a redis:\/\/ or rediss:\/\/ URL/],
    ['{"classNames": [], "redisURL": 6379}', /redisURL must be a redis:\/\/ or rediss:\/\/ URL, got 6379/],
    // The REST port (1337 by default) cannot be LiveQuery's own as well.
    ['{"classNames": [], "port": 1337}', /liveQuery\.port \(1337\) is the REST port/],
  ];
  for (const [value, pattern] of cases) {
    const result = await load(value);
    assert.equal(result.ok, false, value);
    if (!result.ok) assert.ok(result.problems.some((problem) => (problem.includes('PARSEC_LIVE_QUERY') || problem.includes('liveQuery')) && pattern.test(problem)), `${value}: ${JSON.stringify(result.problems)}`);
  }
  // Another interface of the same port number is another address.
  const otherHost = await loadConfig({ argv: [], env: { ...BASE_ENV, PARSEC_HOST: '127.0.0.1', PARSEC_LIVE_QUERY: '{"classNames": [], "port": 1337, "host": "::1"}' }, cwd: await mkdtemp(join(tmpdir(), 'parsec-lq-')) });
  assert.ok(otherHost.ok, JSON.stringify(otherHost));
});

/** Loads a config file holding `content` (Parse's spelling lives only in files). */
async function loadFile(content: Record<string, unknown>) {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-lq-'));
  const file = join(cwd, 'config.json');
  await writeFile(file, JSON.stringify({ appId: 'app', masterKey: 'a-master-key-that-is-long-enough-0123', ...content }));
  return loadConfig({ argv: ['--config', file], env: {}, cwd });
}

test('Parse\'s startLiveQueryServer and liveQueryServerOptions.port are read as liveQuery.port', async () => {
  const parse = await loadFile({ liveQuery: { classNames: ['Message'] }, startLiveQueryServer: true, liveQueryServerOptions: { port: 1338 } });
  assert.ok(parse.ok, JSON.stringify(parse));
  assert.equal(parse.config.liveQuery?.port, 1338);
  assert.deepEqual(parse.config.liveQuery?.classNames, ['Message']);
  assert.deepEqual(parse.warnings, []);

  const alone = await loadFile({ liveQuery: { classNames: ['Message'] }, startLiveQueryServer: true });
  assert.ok(alone.ok);
  assert.equal(alone.config.liveQuery?.port, undefined, 'Parse serves on the REST server then too');
  assert.deepEqual(alone.warnings, []);

  const withHost = await loadFile({ liveQuery: { classNames: [] }, liveQueryServerOptions: { port: 1338, host: '127.0.0.1', websocketTimeout: 10, logLevel: 'INFO' } });
  assert.ok(withHost.ok, JSON.stringify(withHost));
  assert.equal(withHost.config.liveQuery?.host, '127.0.0.1');
  assert.ok(withHost.warnings.some((warning) => /liveQueryServerOptions: websocketTimeout, logLevel are not implemented/.test(warning)), JSON.stringify(withHost.warnings));

  const off = await loadFile({ liveQuery: { classNames: [] }, startLiveQueryServer: false });
  assert.ok(off.ok);
  assert.ok(off.warnings.some((warning) => /startLiveQueryServer: false is not followed/.test(warning)), JSON.stringify(off.warnings));

  const orphan = await loadFile({ liveQueryServerOptions: { port: 1338 } });
  assert.ok(orphan.ok);
  assert.equal(orphan.config.liveQuery, undefined);
  assert.ok(orphan.warnings.some((warning) => /liveQueryServerOptions\.port is ignored/.test(warning)), JSON.stringify(orphan.warnings));

  const refused: [Record<string, unknown>, RegExp][] = [
    [{ liveQuery: { classNames: [] }, liveQueryServerOptions: { port: 'x' } }, /liveQueryServerOptions\.port must be a whole number from 1 to 65535/],
    [{ liveQuery: { classNames: [] }, liveQueryServerOptions: { port: 0 } }, /liveQueryServerOptions\.port must be/],
    [{ liveQuery: { classNames: [] }, liveQueryServerOptions: 1338 }, /liveQueryServerOptions must be an object/],
    [{ liveQuery: { classNames: [] }, startLiveQueryServer: 'yes' }, /startLiveQueryServer must be true or false/],
    [{ liveQuery: { classNames: [], port: 1339 }, liveQueryServerOptions: { port: 1338 } }, /liveQueryServerOptions and liveQuery both set/],
    // Parse's LiveQuery server would refuse clients without one of these keys: ignoring them is not an option.
    [{ liveQuery: { classNames: [] }, liveQueryServerOptions: { port: 1338, keyPairs: { javascriptKey: 'k' } } }, /keyPairs is not implemented by Parsec, and ignoring it would leave LiveQuery less protected/],
    [{ liveQuery: { classNames: [] }, liveQueryServerOptions: { port: 1337 } }, /liveQuery\.port \(1337\) is the REST port/],
  ];
  for (const [content, pattern] of refused) {
    const result = await loadFile(content);
    assert.equal(result.ok, false, JSON.stringify(content));
    if (!result.ok) assert.ok(result.problems.some((problem) => pattern.test(problem)), `${JSON.stringify(content)}: ${JSON.stringify(result.problems)}`);
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
