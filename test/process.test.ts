import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'parsec.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

interface Started {
  child: ChildProcess;
  stdout: string;
  appId: string;
  masterKey: string | undefined;
}

/** Starts `parsec` as a user would and waits until it prints its banner. */
async function startParsec(cwd: string, args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { cwd, env: { ...process.env, PARSEC_LOG_LEVEL: 'error' } });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parsec did not start in time\n${stdout}\n${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/master key:/.test(stdout) && /database:/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parsec exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
  const appId = /app id:\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const masterKey = /master key:\s+([A-Za-z0-9_-]{20,})/.exec(stdout)?.[1];
  return { child, stdout, appId, masterKey };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

async function run(cwd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

describe('the parsec process, as a user starts it', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parsec-process-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('first start generates credentials and embedded data; a restart keeps both; SIGTERM exits 0', async () => {
    const port = await freePort();
    const first = await startParsec(dir, ['--port', String(port), '--host', '127.0.0.1']);
    assert.match(first.stdout, new RegExp(`listening at http://localhost:${port}/parse`));
    assert.ok(first.masterKey !== undefined && first.masterKey.length >= 40, 'a strong master key is printed');
    const base = `http://127.0.0.1:${port}/parse`;
    const headers = { 'X-Parse-Application-Id': first.appId, 'X-Parse-Master-Key': first.masterKey, 'Content-Type': 'application/json' };
    const created = await fetch(`${base}/classes/Note`, { method: 'POST', headers, body: JSON.stringify({ text: 'kept' }) });
    assert.equal(created.status, 201);
    const { objectId } = (await created.json()) as { objectId: string };
    const health = await fetch(`${base}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(await stop(first.child), 0);

    const second = await startParsec(dir, ['--port', String(port), '--host', '127.0.0.1']);
    assert.equal(second.appId, first.appId);
    assert.equal(second.masterKey, first.masterKey);
    const fetched = await fetch(`${base}/classes/Note/${objectId}`, { headers });
    assert.equal(((await fetched.json()) as { text: string }).text, 'kept');
    assert.equal(await stop(second.child, 'SIGINT'), 0);
  });

  test('an invalid configuration prints every problem and exits 2', async () => {
    const config = path.join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ appId: 'x', masterKey: 'y'.repeat(32), masterKeyIp: ['1.2.3.4'], port: 'nope', accountLockout: { threshold: 3 } }));
    const result = await run(dir, ['start', '--config', config]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /masterKeyIps/, 'a typo gets a did-you-mean');
    assert.match(result.stderr, /port/);
    assert.match(result.stderr, /accountLockout/);
  });
});
