// The CLI without a process: subcommand dispatch, usage, startup output and signal handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInvocation } from '../src/cli/args.ts';
import { startupLines, describeDatabase } from '../src/cli/banner.ts';
import { createCommands, runCli } from '../src/cli/commands.ts';
import type { CliIO } from '../src/cli/io.ts';
import { createShutdown } from '../src/cli/shutdown.ts';
import type { AuditDeps } from '../src/cli/audit.ts';
import type { ServerHandle, StartDeps } from '../src/cli/start.ts';
import { formatUsage } from '../src/cli/usage.ts';
import { OPTIONS, OPTION_NAMES } from '../src/config/options.ts';
import type { ParsecConfig } from '../src/config/types.ts';

const COMMANDS = new Set(['start', 'help', 'version']);
const MASTER = 'Str0ng-Master-Key-For-Tests-0123456789';

test('dispatch: start is the default, also when flags come first', () => {
  assert.deepEqual(resolveInvocation([], COMMANDS), { kind: 'run', command: 'start', args: [] });
  assert.deepEqual(resolveInvocation(['--port', '8080'], COMMANDS), { kind: 'run', command: 'start', args: ['--port', '8080'] });
  assert.deepEqual(resolveInvocation(['start', '--port', '8080'], COMMANDS), { kind: 'run', command: 'start', args: ['--port', '8080'] });
});

test('dispatch: help and version, in every spelling', () => {
  for (const argv of [['help'], ['--help'], ['-h'], ['start', '--help'], ['--port', '1', '-h']]) {
    assert.equal(resolveInvocation(argv, COMMANDS).kind === 'run' && resolveInvocation(argv, COMMANDS).command, 'help', argv.join(' '));
  }
  for (const argv of [['version'], ['--version'], ['-v']]) {
    const invocation = resolveInvocation(argv, COMMANDS);
    assert.equal(invocation.kind === 'run' && invocation.command, 'version', argv.join(' '));
  }
});

test('dispatch: an unknown subcommand is reported with a suggestion', () => {
  const invocation = resolveInvocation(['strat'], COMMANDS);
  assert.equal(invocation.kind, 'unknown');
  assert.match(invocation.kind === 'unknown' ? invocation.message : '', /unknown command "strat"\. Did you mean "start"\?/);
  const far = resolveInvocation(['deploy'], COMMANDS);
  assert.equal(far.kind === 'unknown' && far.message, 'unknown command "deploy"');
});

test('usage lists every flag and environment variable from the options table', () => {
  const usage = formatUsage([{ name: 'start', summary: 'Start' }]);
  for (const name of OPTION_NAMES) {
    const spec = OPTIONS[name];
    assert.ok(usage.includes(spec.env), spec.env);
    if (spec.flag !== undefined) assert.ok(usage.includes(spec.flag), spec.flag);
  }
  assert.match(usage, /--config {2}PARSEC_CONFIG/);
  assert.match(usage, /default: 1337/);
});

interface Recorded {
  readonly io: CliIO;
  readonly out: string[];
  readonly err: string[];
}

function fakeIO(cwd: string, env: Record<string, string> = {}): Recorded {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd }, out, err };
}

/** Start dependencies that record instead of touching the process. */
function fakeDeps() {
  const calls = { started: [] as ParsecConfig[], closed: 0, exits: [] as number[] };
  let signal: ((name: string) => void) | undefined;
  const server: ServerHandle = {
    url: 'http://localhost:1337/parse',
    close: () => {
      calls.closed++;
      return Promise.resolve();
    },
  };
  const deps: StartDeps & AuditDeps = {
    loadApp: () => Promise.reject(new Error('the audit is not run by these tests')),
    startServer: (config) => {
      calls.started.push(config);
      return Promise.resolve(server);
    },
    onSignals: (handler) => {
      signal = handler;
    },
    exit: (code) => {
      calls.exits.push(code);
    },
  };
  const sendSignal = (name: string): void => {
    if (signal === undefined) assert.fail('no signal handler installed');
    signal(name);
  };
  return { deps, calls, sendSignal };
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), 'condition not reached');
}

test('parsec start: invalid config prints every problem on stderr and exits 2 without starting', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-cli-'));
  const { deps, calls } = fakeDeps();
  const { io, out, err } = fakeIO(cwd, { PARSEC_PORT: 'x' });
  const code = await runCli(['start', '--prot', '1', '--database', 'mongodb://h/db'], io, createCommands(deps));
  assert.equal(code, 2);
  assert.equal(calls.started.length, 0);
  assert.deepEqual(out, []);
  assert.equal(err.filter((line) => line.startsWith('error: ')).length, 3, err.join('\n'));
  assert.ok(err.some((line) => /--prot.*"--port"/.test(line)));
});

test('parsec start: prints URL, app id and the generated master key; closes once on signal, then exits 0', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-cli-'));
  const { deps, calls, sendSignal } = fakeDeps();
  const { io, out } = fakeIO(cwd);
  const running = runCli([], io, createCommands(deps));
  await waitFor(() => out.length > 0);
  const config = calls.started[0];
  assert.ok(config);
  const text = out.join('\n');
  assert.match(text, /listening at http:\/\/localhost:1337\/parse/);
  assert.ok(text.includes(config.appId));
  assert.ok(text.includes(config.masterKey), 'a generated master key is shown once, so the user can use it');
  assert.ok(text.includes(join(cwd, '.parsec', 'credentials.json')), 'and where it is kept');

  sendSignal('SIGINT');
  assert.equal(await running, 0);
  assert.equal(calls.closed, 1);
  assert.deepEqual(calls.exits, [0]);
});

test('parsec start: a configured master key is never printed', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-cli-'));
  const { deps, sendSignal } = fakeDeps();
  const { io, out } = fakeIO(cwd, { PARSEC_MASTER_KEY: MASTER, PARSEC_APP_ID: 'my-app' });
  const running = runCli(['start'], io, createCommands(deps));
  await waitFor(() => out.length > 0);
  const text = out.join('\n');
  assert.equal(text.includes(MASTER), false);
  assert.match(text, /master key: from the configuration \(not shown\)/);
  assert.match(text, /app id: +my-app/);
  sendSignal('SIGTERM');
  assert.equal(await running, 0);
});

test('parsec with an unknown subcommand prints the error and usage, exit 2', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-cli-'));
  const { deps, calls } = fakeDeps();
  const { io, err } = fakeIO(cwd);
  assert.equal(await runCli(['bogus'], io, createCommands(deps)), 2);
  assert.match(err[0] ?? '', /^error: unknown command "bogus"/);
  assert.match(err.join('\n'), /Usage: parsec/);
  assert.equal(calls.started.length, 0);
});

test('parsec help and --version print to stdout and exit 0', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-cli-'));
  const { deps } = fakeDeps();
  const help = fakeIO(cwd);
  assert.equal(await runCli(['--help'], help.io, createCommands(deps)), 0);
  assert.match(help.out.join('\n'), /--master-key {2}PARSEC_MASTER_KEY/);
  assert.match(help.out.join('\n'), /^ {2}version /m, 'subcommands come from the table');
  const version = fakeIO(cwd);
  assert.equal(await runCli(['--version'], version.io, createCommands(deps)), 0);
  assert.match(version.out[0] ?? '', /^\d+\.\d+\.\d+/);
});

test('shutdown: the first signal closes once, a second one forces exit 1', async () => {
  let closes = 0;
  let release: () => void = () => undefined;
  const exits: number[] = [];
  const shutdown = createShutdown(
    () => {
      closes++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    (code) => exits.push(code),
    () => undefined,
  );
  shutdown.onSignal('SIGINT');
  shutdown.onSignal('SIGTERM');
  assert.equal(closes, 1, 'close is called once');
  assert.deepEqual(exits, [1], 'the second signal forces exit 1');
  release();
  assert.equal(await shutdown.done, 0);
});

test('shutdown: a failing close ends with status 1 and says why', async () => {
  const lines: string[] = [];
  const shutdown = createShutdown(() => Promise.reject(new Error('socket stuck')), () => undefined, (l) => lines.push(l));
  shutdown.onSignal('SIGTERM');
  assert.equal(await shutdown.done, 1);
  assert.ok(lines.some((l) => l.includes('socket stuck')));
});

test('startup lines never show a PostgreSQL password', () => {
  assert.equal(describeDatabase('postgres://u:hunter2@db.example.com:5432/app'), 'PostgreSQL db.example.com:5432/app');
  const config = {
    appId: 'a',
    masterKey: 'k',
    serverURL: 'http://localhost:1/parse',
    databaseURI: 'postgres://u:hunter2@db/app',
    host: '127.0.0.1',
  } as ParsecConfig;
  const lines = startupLines({ version: '1.0.0', url: 'http://localhost:1/parse', config, generatedCredentials: false });
  assert.equal(lines.join('\n').includes('hunter2'), false);
  assert.equal(lines.some((l) => l.includes('all network interfaces')), false, 'no note for a loopback-only server');
});
