/**
 * Loading cloud code: ES modules (.mjs, with a sibling module and top-level await), TypeScript (.ts, through
 * tsx, in process and through the `parsec` CLI), CommonJS requiring a sibling that registers more functions;
 * startup failures (a throw or a rejection at load, an invalid validator key, a handler that is not a
 * function) that must stop the start with the cloud code's own error and leave nothing running; trigger
 * registration by class or by name; and servers in one process that never see each other's functions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ParsecConfig } from '../src/config/types.ts';
import { createParsec } from '../src/server.ts';
import { call, type HttpResult } from './helpers/http.ts';
import { APP_ID, engines, freshPostgresDatabase, MASTER_KEY, REST_KEY, startTestServer, testConfig, type Engine, type TestServer } from './helpers/server.ts';

const fixture = (relative: string): string => fileURLToPath(new URL(`./fixtures/cloud/loading/${relative}`, import.meta.url));
const ESM = fixture('esm/main.mjs');
const ESM_TOP_LEVEL_AWAIT = fixture('esm/top-level-await.mjs');
const CJS = fixture('cjs/main.cjs');
const TS = fixture('ts/main.ts');
const BIN = fileURLToPath(new URL('../bin/parsec.js', import.meta.url));

/** Startup-only behaviour needs one engine: PostgreSQL when available (a server starts in a fraction of PGlite's time). */
const STARTUP_ENGINE: Engine = engines().includes('postgres') ? 'postgres' : 'pglite';

const run = (server: TestServer, name: string, params: Record<string, unknown> = {}): Promise<HttpResult> =>
  call(server.url, `/functions/${name}`, { method: 'POST', body: params });

async function expectResult(server: TestServer, name: string, expected: unknown, params: Record<string, unknown> = {}): Promise<void> {
  const result = await run(server, name, params);
  assert.equal(result.status, 200, `${name} → ${result.status} ${JSON.stringify(result.body)}`);
  assert.deepEqual(result.body, { result: expected }, name);
}

async function expectMissing(server: TestServer, name: string): Promise<void> {
  const result = await run(server, name);
  assert.equal(result.status, 400, `${name} → ${result.status} ${JSON.stringify(result.body)}`);
  assert.deepEqual(result.body, { code: 141, error: `Invalid function: "${name}"` });
}

async function signUpAndRead(server: TestServer, username: string): Promise<{ response: Record<string, unknown>; stored: Record<string, unknown> }> {
  const created = await call(server.url, '/users', { method: 'POST', body: { username, password: 'pw-123456' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const stored = await call(server.url, `/users/${created.body.objectId}`, { master: true });
  assert.equal(stored.status, 200);
  return { response: created.body, stored: stored.body };
}

/**
 * `startTestServer`, except that on PostgreSQL the database is dropped even when the start fails (the shared
 * helper only drops it from `stop()`, which a server that never started does not have).
 */
async function startServer(engine: Engine, overrides: Partial<ParsecConfig>): Promise<TestServer> {
  if (engine !== 'postgres') return startTestServer(engine, overrides);
  const database = await freshPostgresDatabase();
  try {
    // 'pglite' only tells the helper not to create a database of its own: the URI given is PostgreSQL's.
    const server = await startTestServer('pglite', { ...overrides, databaseURI: database.uri });
    return {
      ...server,
      async stop() {
        await server.stop();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/**
 * Counts of the process's network handles by kind: a half-started server would leave a listener or database
 * connections behind. (Timers are not counted: the servers already running in this process make their own.)
 */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (kind.startsWith('TCP')) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/**
 * `createParsec` with a cloud file that must refuse to start: returns its rejection, after checking that no
 * network handle (database socket, listener) was left behind and, on PostgreSQL, no connection stays open.
 */
async function failedStart(cloud: string, overrides: Partial<ParsecConfig> = {}): Promise<Error> {
  const database = STARTUP_ENGINE === 'postgres' ? await freshPostgresDatabase() : undefined;
  try {
    const before = activeResources();
    let failure: unknown;
    try {
      const parsec = await createParsec(testConfig({ cloud, databaseURI: database?.uri ?? 'memory://', ...overrides }));
      await parsec.close();
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof Error, `createParsec must reject for ${path.basename(cloud)}`);
    // Sockets being closed may take a moment to leave the list; anything still there after 2 s was left open.
    const leftovers = (): Array<[string, number]> => [...activeResources()].filter(([kind, count]) => count > (before.get(kind) ?? 0));
    for (let wait = 0; wait < 40 && leftovers().length > 0; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(leftovers(), [], 'nothing of the refused server is left running');
    if (database !== undefined) {
      const name = new URL(database.uri).pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.PARSEC_TEST_DATABASE_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        assert.equal(Number(rows[0]?.n), 0, 'no database connection stays open');
      } finally {
        await admin.end();
      }
    }
    return failure;
  } finally {
    await database?.drop();
  }
}

for (const engine of engines()) {
  describe(`cloud code loading (${engine})`, () => {
    let esm: TestServer;
    let cjs: TestServer;
    let ts: TestServer;
    before(async () => {
      esm = await startServer(engine, { cloud: ESM });
      cjs = await startServer(engine, { cloud: CJS });
      ts = await startServer(engine, { cloud: TS });
    });
    after(async () => {
      for (const server of [esm, cjs, ts]) await server?.stop();
    });

    test('an ES module (.mjs) using the global Parse, with a sibling module it imports', async () => {
      await expectResult(esm, 'whichCloud', 'esm');
      await expectResult(esm, 'esmHello', 'esm hello Ada!', { name: 'Ada' });
      await expectResult(esm, 'esmSibling', 'registered by a sibling ES module');
    });

    test('TypeScript (.ts) through tsx: annotations, interfaces and an enum', async () => {
      await expectResult(ts, 'whichCloud', 'ts');
      await expectResult(ts, 'tsHello', { text: 'ts hello Bo', tier: 2 }, { name: 'Bo' });
    });

    test('CommonJS (.cjs) requiring a sibling module that registers more functions', async () => {
      await expectResult(cjs, 'whichCloud', 'cjs');
      await expectResult(cjs, 'cjsHello', 'CJS HELLO CY', { name: 'Cy' });
      await expectResult(cjs, 'cjsSibling', 'registered by a required module');
      await expectResult(cjs, 'cjsModuleState', 1);
    });

    test('Parse.Cloud.beforeSave(Parse.User, …) registers for _User: a sign-up runs it', async () => {
      const { response, stored } = await signUpAndRead(esm, `by-class-${engine}`);
      assert.equal(stored.registeredVia, 'Parse.User');
      assert.equal(response.registeredVia, 'Parse.User', 'the field set by beforeSave is echoed to the client');
      const updated = await call(esm.url, `/users/${response.objectId as string}`, { method: 'PUT', master: true, body: { registeredVia: 'changed' } });
      assert.equal(updated.status, 200);
      assert.equal((await call(esm.url, `/users/${response.objectId as string}`, { master: true })).body.registeredVia, 'changed', 'only a new user is marked');
    });

    test("Parse.Cloud.beforeSave('_User', …) registers for _User too", async () => {
      const { stored } = await signUpAndRead(cjs, `by-name-${engine}`);
      assert.equal(stored.registeredVia, '_User');
      const { stored: none } = await signUpAndRead(ts, `no-trigger-${engine}`);
      assert.equal(none.registeredVia, undefined, 'a server without the trigger does not run it');
    });

    test("servers in one process with different cloud code never see each other's functions or triggers", async () => {
      for (const [server, own, others] of [
        [esm, ['esmHello', 'esmSibling'], ['cjsHello', 'cjsSibling', 'cjsModuleState', 'tsHello']],
        [cjs, ['cjsHello', 'cjsSibling'], ['esmHello', 'esmSibling', 'tsHello']],
        [ts, ['tsHello'], ['esmHello', 'esmSibling', 'cjsHello', 'cjsSibling']],
      ] as const) {
        for (const name of own) assert.equal((await run(server, name)).status, 200, name);
        for (const name of others) await expectMissing(server, name);
      }
      await expectResult(esm, 'whichCloud', 'esm');
      await expectResult(cjs, 'whichCloud', 'cjs');
      await expectResult(ts, 'whichCloud', 'ts');
    });

    // Loading and refusing to start do not depend on the engine: checked once, on the faster one.
    if (engine !== STARTUP_ENGINE) return;

    test('a second server with the same cloud files runs their registrations again, sibling modules included, with fresh module state', async () => {
      const again: TestServer[] = [];
      try {
        for (const cloud of [CJS, ESM]) again.push(await startServer(engine, { cloud }));
        const [cjsTwo, esmTwo] = again as [TestServer, TestServer];
        for (const server of [cjs, cjsTwo]) {
          await expectResult(server, 'cjsSibling', 'registered by a required module');
          await expectResult(server, 'cjsModuleState', 1);
        }
        for (const server of [esm, esmTwo]) {
          await expectResult(server, 'esmSibling', 'registered by a sibling ES module');
          await expectResult(server, 'esmHello', 'esm hello world!');
        }
      } finally {
        for (const server of again) await server.stop();
      }
    });

    test('an ES module with top-level await loads (it can only be imported, not required)', async () => {
      const server = await startServer(engine, { cloud: ESM_TOP_LEVEL_AWAIT });
      try {
        await expectResult(server, 'awaitedHello', 'awaited at load');
      } finally {
        await server.stop();
      }
    });

    test('a cloud file that throws at load: createParsec rejects with that error and leaves nothing running', async () => {
      const error = await failedStart(fixture('broken/throws-at-load.js'));
      assert.equal(error.message, 'cloud code failed at load: PAYMENT_API_KEY is not set');
      assert.match(error.stack ?? '', /throws-at-load\.js/, "the cloud code's own error, with its stack");
      // The servers already running are not disturbed, and the failed file's registrations reached none of them.
      await expectResult(cjs, 'whichCloud', 'cjs');
      await expectResult(esm, 'esmSibling', 'registered by a sibling ES module');
      for (const server of [esm, cjs, ts]) await expectMissing(server, 'registeredBeforeTheFailure');
    });

    test('an ES module whose top-level await rejects: createParsec rejects with that rejection', async () => {
      const error = await failedStart(fixture('broken/rejects-at-load.mjs'));
      assert.equal(error.message, 'cloud code rejected at load: the config service is down');
    });

    test('an invalid validator key ({ requireUsr: true }) stops the start, naming the function and the key', async () => {
      const error = await failedStart(fixture('broken/invalid-validator-key.js'));
      assert.equal(error.message, 'Parse.Cloud.define("typoGuarded"): validator key \'requireUsr\' is not valid. Did you mean \'requireUser\'?');
    });

    test('a handler that is not a function stops the start, naming the function (or the trigger and its class)', async () => {
      const functionError = await failedStart(fixture('broken/handler-not-function.js'));
      assert.equal(functionError.message, 'Parse.Cloud.define("notAFunction"): the handler must be a function.');
      const triggerError = await failedStart(fixture('broken/trigger-handler-not-function.js'));
      assert.equal(triggerError.message, 'Parse.Cloud.beforeSave("Invoice"): the handler must be a function.');
    });
  });
}

// --- the `parsec` CLI, as a user starts it ------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `parsec start --cloud <file>` and calls `whichCloud` once it listens; the child is always stopped. */
async function whichCloudThroughCli(cwd: string, cloud: string): Promise<unknown> {
  const database = STARTUP_ENGINE === 'postgres' ? await freshPostgresDatabase() : undefined;
  try {
    return await whichCloudThroughCliWith(cwd, cloud, database?.uri ?? 'memory://');
  } finally {
    await database?.drop();
  }
}

async function whichCloudThroughCliWith(cwd: string, cloud: string, databaseURI: string): Promise<unknown> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--host', '127.0.0.1'], {
    cwd,
    env: {
      ...process.env,
      PARSEC_APP_ID: APP_ID,
      PARSEC_MASTER_KEY: MASTER_KEY,
      PARSEC_REST_API_KEY: REST_KEY,
      PARSEC_DATABASE_URI: databaseURI,
      PARSEC_CLOUD: cloud,
      PARSEC_LOG_LEVEL: 'error',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parsec did not start in time\n${stdout}\n${stderr}`)), 60_000);
      child.stdout.on('data', () => {
        if (/listening at/.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`parsec exited with ${code}: ${stderr.trim()}`));
      });
    });
    const result = await fetch(`http://127.0.0.1:${port}/parse/functions/whichCloud`, {
      method: 'POST',
      headers: { 'X-Parse-Application-Id': APP_ID, 'X-Parse-REST-API-Key': REST_KEY, 'Content-Type': 'application/json' },
      body: '{}',
    });
    return ((await result.json()) as { result?: unknown }).result;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

describe('the parsec CLI loads cloud code as a user starts it', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'parsec-cloud-loading-'));
  });
  after(async () => rm(cwd, { recursive: true, force: true }));

  test('parsec start --cloud loads an ES module and TypeScript, as the in-process tests do', async () => {
    // Both at once: each child spends most of its time starting its database.
    const [esm, ts] = await Promise.allSettled([whichCloudThroughCli(cwd, ESM), whichCloudThroughCli(cwd, TS)]);
    assert.deepEqual(esm, { status: 'fulfilled', value: 'esm' }, 'main.mjs');
    assert.deepEqual(ts, { status: 'fulfilled', value: 'ts' }, 'main.ts');
  });
});
