// Configuration loading: defaults, precedence, Parse compatibility, validation, credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadResult } from '../src/config/load.ts';
import { OPTIONS, OPTION_NAMES } from '../src/config/options.ts';
import { UNSUPPORTED_OPTIONS } from '../src/config/unsupported.ts';
import { closest, editDistance } from '../src/config/suggest.ts';
import { credentialsPath } from '../src/config/credentials.ts';

const MASTER = 'Str0ng-Master-Key-For-Tests-0123456789';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'parsec-config-'));
}

/** A directory holding `config.json` with `content` (an object, or raw text). */
async function withConfigFile(content: unknown): Promise<{ cwd: string; file: string }> {
  const cwd = await tempDir();
  const file = join(cwd, 'config.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { cwd, file };
}

type Ok = Extract<LoadResult, { ok: true }>;

function expectOk(result: LoadResult): Ok {
  if (!result.ok) assert.fail(`expected a valid configuration, got problems:\n${result.problems.join('\n')}`);
  return result;
}

function expectProblems(result: LoadResult): string[] {
  if (result.ok) assert.fail('expected problems, but the configuration loaded');
  return result.problems;
}

/** Asserts that some line matches every pattern. */
function assertLine(lines: readonly string[], ...patterns: RegExp[]): void {
  assert.ok(
    lines.some((line) => patterns.every((p) => p.test(line))),
    `no line matches ${patterns.join(' and ')} in:\n${lines.join('\n')}`,
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

test('defaults: every option has its documented value', async () => {
  const cwd = await tempDir();
  const { config, warnings, generatedCredentials, credentialsFile } = expectOk(await loadConfig({ argv: [], env: {}, cwd }));
  assert.equal(config.port, 1337);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.mountPath, '/parse');
  assert.equal(config.serverURL, 'http://localhost:1337/parse');
  assert.equal(config.defaultLimit, 100);
  assert.equal(config.maxLimit, 1000);
  assert.equal(config.allowClientClassCreation, false);
  assert.equal(config.allowCustomObjectId, false);
  assert.equal(config.trustProxy, false);
  assert.deepEqual(config.masterKeyIps, ['127.0.0.1', '::1']);
  assert.equal(config.databaseURI, join(cwd, '.parsec', 'data'));
  assert.equal(config.logLevel, 'info');
  assert.equal(config.batchRequestLimit, 50);
  assert.equal(config.maxRequestBytes, 20 * 1024 * 1024);
  assert.equal(config.queryDepth, 10);
  assert.equal(config.databasePoolSize, 20);
  assert.equal(config.statementTimeoutMs, 30_000);
  assert.equal(config.vacuumIntervalMs, 10 * 60 * 1000);
  assert.equal(config.cloud, undefined);
  assert.equal(config.readOnlyMasterKey, undefined);
  assert.deepEqual(config.clientKeys, {});
  assert.deepEqual(config.accountLockout, { duration: 5, threshold: 5, unlockOnPasswordReset: false });
  assert.equal(config.passwordPolicy, undefined);
  assert.deepEqual(warnings, []);
  assert.equal(generatedCredentials, true);
  assert.equal(credentialsFile, credentialsPath(cwd));
  assert.ok(Object.isFrozen(config), 'the config is frozen');
});

test('precedence: defaults < config file < environment < flags', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'from-file', masterKey: MASTER, port: 1001, host: '127.0.0.1', defaultLimit: 7 });
  const env = { PARSEC_CONFIG: file, PARSEC_PORT: '1002', PARSEC_APP_ID: 'from-env' };

  const fileOnly = expectOk(await loadConfig({ argv: [], env: { PARSEC_CONFIG: file }, cwd })).config;
  assert.equal(fileOnly.port, 1001);
  assert.equal(fileOnly.appId, 'from-file');

  const withEnv = expectOk(await loadConfig({ argv: [], env, cwd })).config;
  assert.equal(withEnv.port, 1002);
  assert.equal(withEnv.appId, 'from-env');
  assert.equal(withEnv.host, '127.0.0.1', 'file value kept where nothing overrides it');
  assert.equal(withEnv.defaultLimit, 7);

  const withFlags = expectOk(await loadConfig({ argv: ['--port', '1003', '--app-id=from-flag'], env, cwd })).config;
  assert.equal(withFlags.port, 1003);
  assert.equal(withFlags.appId, 'from-flag');
  assert.equal(withFlags.serverURL, 'http://localhost:1003/parse', 'derived serverURL follows the final port');

  // --config beats PARSEC_CONFIG.
  const other = join(cwd, 'other.json');
  await writeFile(other, JSON.stringify({ appId: 'other', masterKey: MASTER, port: 1004 }));
  const flagFile = expectOk(await loadConfig({ argv: ['--config', other], env: { PARSEC_CONFIG: file }, cwd })).config;
  assert.equal(flagFile.port, 1004);
});

test('a parse-server config.json loads unchanged, with warnings for unimplemented keys', async () => {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'cloud'));
  await writeFile(join(cwd, 'cloud', 'main.js'), '// cloud code\n');
  const parseConfig = {
    appId: 'x',
    masterKey: MASTER,
    databaseURI: 'postgres://parse:secret@db.example.com:5432/parse',
    port: 1337,
    cloud: './cloud/main.js',
    serverURL: 'https://api.example.com/parse',
    verbose: true,
    mountGraphQL: false,
    maxUploadSize: '5mb',
    enforcePrivateUsers: false,
  };
  await writeFile(join(cwd, 'config.json'), JSON.stringify(parseConfig));

  const { config, warnings, generatedCredentials, credentialsFile } = expectOk(
    await loadConfig({ argv: ['--config', 'config.json'], env: {}, cwd }),
  );
  assert.equal(config.appId, 'x');
  assert.equal(config.masterKey, MASTER);
  assert.equal(config.databaseURI, parseConfig.databaseURI);
  assert.equal(config.cloud, join(cwd, 'cloud', 'main.js'));
  assert.equal(config.serverURL, 'https://api.example.com/parse');
  assert.equal(config.maxRequestBytes, 5 * 1024 * 1024, 'maxUploadSize is the body limit');
  assertLine(warnings, /verbose/, /not implemented/);
  assertLine(warnings, /mountGraphQL/);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.equal(config.enforcePrivateUsers, false, 'an implemented Parse option is applied, not warned about');
  assert.equal(generatedCredentials, false);
  assert.equal(credentialsFile, undefined);
  assert.equal(await exists(join(cwd, '.parsec')), false, 'nothing is generated when both keys are configured');
});

test('parse-server config: string numbers and the one-app "apps" form load as parse-server reads them', async () => {
  const { cwd, file } = await withConfigFile({ apps: [{ appId: 'a', masterKey: MASTER, port: '8081', allowClientClassCreation: 'false' }] });
  const { config } = expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assert.equal(config.port, 8081);
  assert.equal(config.allowClientClassCreation, false);

  const two = await withConfigFile({ apps: [{ appId: 'a' }, { appId: 'b' }] });
  assertLine(expectProblems(await loadConfig({ argv: ['--config', two.file], env: {}, cwd: two.cwd })), /apps/, /exactly one/);
});

test('null in the config file means "not set" and falls back to the default', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, maxLimit: null, cloud: null });
  const { config } = expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assert.equal(config.maxLimit, 1000);
  assert.equal(config.cloud, undefined);
});

test('options that protect the app and are not implemented are errors', async () => {
  for (const [key, value] of [
    ['requestKeywordDenylist', [{ key: 'secret' }]],
    ['preventSignupWithUnverifiedEmail', true],
    ['userSensitiveFields', ['phone']],
    ['allowOrigin', 'https://app.example.com'],
  ] as const) {
    const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, [key]: value });
    const problems = expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
    assertLine(problems, new RegExp(`${key}: `), /less protected/);
  }
});

test('protectedFields is read, validated and defaults to hiding _User.email', async () => {
  const cwd = await tempDir();
  const defaults = expectOk(await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: MASTER }, cwd }));
  assert.deepEqual(defaults.config.protectedFields, { _User: { '*': ['email'] } });
  const set = expectOk(await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: MASTER, PARSEC_PROTECTED_FIELDS: '{"Note":{"*":["secret"],"role:Staff":[]}}' }, cwd }));
  assert.deepEqual(set.config.protectedFields, { Note: { '*': ['secret'], 'role:Staff': [] } });
  for (const bad of ['{"Note":{"*":"secret"}}', '{"Note":{"bad audience!":["x"]}}', '[]', '{"1x":{}}']) {
    const problems = expectProblems(await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: MASTER, PARSEC_PROTECTED_FIELDS: bad }, cwd }));
    assertLine(problems, /PARSEC_PROTECTED_FIELDS/, /invalid|must be/);
  }
});

test('an unimplemented option asking for less protection is only a warning', async () => {
  const { cwd, file } = await withConfigFile({
    appId: 'a',
    masterKey: MASTER,
    requestKeywordDenylist: [],
    allowOrigin: '*',
    maintenanceKeyIps: ['0.0.0.0/0', '::/0'],
  });
  const { warnings } = expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  for (const key of ['requestKeywordDenylist', 'allowOrigin', 'maintenanceKeyIps']) assertLine(warnings, new RegExp(`${key}: `));
});

test('a misspelt option is an error with a suggestion', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, masterKeyIp: ['127.0.0.1'], acountLockout: {} });
  const problems = expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assertLine(problems, /masterKeyIp is not a known option/, /Did you mean "masterKeyIps"\?/);
  // Suggestions cover the unimplemented table too.
  assertLine(problems, /acountLockout/, /Did you mean "accountLockout"\?/);

  const flagProblems = expectProblems(await loadConfig({ argv: ['--prot', '80', '--master-ky=x'], env: {}, cwd }));
  assertLine(flagProblems, /unknown flag --prot\b/, /"--port"/);
  assertLine(flagProblems, /unknown flag --master-ky\b/, /"--master-key"/);
  assert.equal(flagProblems.length, 2, 'the unknown flag consumes its value instead of adding a second problem');
});

test('every problem is reported at once, from every layer', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'a', port: 'eighty', accountLockout: { threshold: 3 }, mountPath: '/' });
  const problems = expectProblems(
    await loadConfig({
      argv: ['--config', file, '--host', 'bad host!', 'stray'],
      env: { PARSEC_MASTER_KEY_IPS: '300.1.1.1', PARSEC_DEFAULT_LIMIT: '5000', PARSEC_TRUST_PROXY: 'yes' },
      cwd,
    }),
  );
  assertLine(problems, /port/, /whole number/);
  assertLine(problems, /accountLockout/);
  assertLine(problems, /mountPath/);
  assertLine(problems, /--host/);
  assertLine(problems, /unexpected argument #5/);
  assertLine(problems, /PARSEC_MASTER_KEY_IPS/, /300\.1\.1\.1/);
  assertLine(problems, /PARSEC_TRUST_PROXY/, /true, false, or a list/);
  assertLine(problems, /defaultLimit \(5000\) must not be larger than maxLimit \(1000\)/);
  assert.equal(problems.length, 8, problems.join('\n'));
});

test('numbers from environment and flags are parsed strictly', async () => {
  const cwd = await tempDir();
  for (const bad of ['', ' 80', '80 ', '80a', '1e3', '0x50', '+80', '-1', '08', '8.0', 'Infinity', '0', '65536', '99999999999999999999']) {
    const problems = expectProblems(await loadConfig({ argv: [], env: { PARSEC_PORT: bad }, cwd }));
    assertLine(problems, /PARSEC_PORT/);
    assert.equal(problems.length, 1, `${JSON.stringify(bad)}: ${problems.join('\n')}`);
  }
  const problems = expectProblems(await loadConfig({ argv: ['--port=1.5'], env: { PARSEC_STATEMENT_TIMEOUT_MS: '3000000000' }, cwd }));
  assertLine(problems, /flag --port/);
  assertLine(problems, /PARSEC_STATEMENT_TIMEOUT_MS/, /between 1 and 2147483647/);

  const ok = expectOk(await loadConfig({ argv: ['--port', '65535'], env: { PARSEC_VACUUM_INTERVAL_MS: '0', PARSEC_TRUST_PROXY: '1' }, cwd }));
  assert.equal(ok.config.port, 65535);
  assert.equal(ok.config.vacuumIntervalMs, 0);
  assert.equal(ok.config.trustProxy, true);
});

test('trustProxy: true/false, or the proxies as IPs, CIDRs and named ranges (a list or a comma string)', async () => {
  const cases: [unknown, unknown][] = [
    [true, true],
    [false, false],
    [['loopback', '10.0.0.0/8', '192.168.1.7'], ['loopback', '10.0.0.0/8', '192.168.1.7']],
    ['loopback, 10.0.0.1', ['loopback', '10.0.0.1']],
    [[], false],
  ];
  for (const [given, expected] of cases) {
    const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, trustProxy: given });
    assert.deepEqual(expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd })).config.trustProxy, expected, JSON.stringify(given));
  }
  const fromEnv = expectOk(await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: MASTER, PARSEC_TRUST_PROXY: 'uniquelocal,::1' }, cwd: await tempDir() }));
  assert.deepEqual(fromEnv.config.trustProxy, ['uniquelocal', '::1']);
  for (const bad of [5, ['10.0.0.0/33'], ['proxy.example.com'], [1]]) {
    const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, trustProxy: bad });
    assertLine(expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd })), /trustProxy must be true, false, or a list/);
  }
});

test('config file values are type-checked', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, port: 13.5, trustProxy: 5, masterKeyIps: '10.0.0.1', maxLimit: 0 });
  const problems = expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assertLine(problems, /port must be an integer/);
  assertLine(problems, /trustProxy must be true, false/);
  assertLine(problems, /maxLimit must be between 1/);
  // A comma string is read like the environment form, as parse-server does.
  assert.equal(problems.some((p) => p.includes('masterKeyIps')), false, problems.join('\n'));
});

test('masterKeyIps accepts IPs and CIDRs of both families and rejects anything else', async () => {
  const cwd = await tempDir();
  const good = '127.0.0.1, ::1,10.0.0.0/8,fe80::/10,::ffff:192.0.2.1,0.0.0.0/0';
  const { config, warnings } = expectOk(await loadConfig({ argv: [], env: { PARSEC_MASTER_KEY_IPS: good }, cwd }));
  assert.deepEqual(config.masterKeyIps, ['127.0.0.1', '::1', '10.0.0.0/8', 'fe80::/10', '::ffff:192.0.2.1', '0.0.0.0/0']);
  assertLine(warnings, /masterKeyIps contains 0\.0\.0\.0\/0/, /every IPv4 address/);

  const empty = expectOk(await loadConfig({ argv: [], env: { PARSEC_MASTER_KEY_IPS: '' }, cwd }));
  assert.deepEqual(empty.config.masterKeyIps, [], 'an empty list disables the master key over HTTP');

  for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/', '::1/129', '1.2.3', '10.0.0.1/8/1', '1.2.3.4,,5.6.7.8', '10.0.0.0/08']) {
    const problems = expectProblems(await loadConfig({ argv: [], env: { PARSEC_MASTER_KEY_IPS: bad }, cwd }));
    assertLine(problems, /PARSEC_MASTER_KEY_IPS/);
  }
});

test('__proto__, constructor and prototype keys in the config file are refused and never applied', async () => {
  const text = '{"appId":"a","masterKey":"' + MASTER + '","__proto__":{"polluted":true,"port":1},"passwordPolicy":{"constructor":{"prototype":{"polluted":true}}}}';
  const { cwd, file } = await withConfigFile(text);
  const problems = expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assertLine(problems, /key "__proto__" is not allowed/);
  assertLine(problems, /key "passwordPolicy\.constructor" is not allowed/);
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(({} as Record<string, unknown>)['port'], undefined);
});

test('prototype names are refused as app id', async () => {
  const cwd = await tempDir();
  for (const appId of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype']) {
    const problems = expectProblems(await loadConfig({ argv: ['--app-id', appId, '--master-key', MASTER], env: {}, cwd }));
    assertLine(problems, /--app-id/, /prototype name/);
  }
});

test('keys: non-empty, no surrounding spaces, never echoed, and distinct from the master key', async () => {
  const cwd = await tempDir();
  const secret = ' my-secret-value ';
  const problems = expectProblems(
    await loadConfig({
      argv: [],
      env: { PARSEC_MASTER_KEY: secret, PARSEC_APP_ID: '', PARSEC_JAVASCRIPT_KEY: 'same-as-ro-key-123', PARSEC_READ_ONLY_MASTER_KEY: 'same-as-ro-key-123' },
      cwd,
    }),
  );
  assertLine(problems, /PARSEC_MASTER_KEY must not start or end with white space/);
  assertLine(problems, /PARSEC_APP_ID must not be empty/);
  assertLine(problems, /javascriptKey must differ from readOnlyMasterKey/);
  assert.equal(problems.some((p) => p.includes('my-secret-value') || p.includes('same-as-ro-key')), false, 'secrets are not echoed');

  const same = expectProblems(await loadConfig({ argv: [], env: { PARSEC_MASTER_KEY: MASTER, PARSEC_READ_ONLY_MASTER_KEY: MASTER }, cwd }));
  assertLine(same, /readOnlyMasterKey must differ from masterKey/);
});

test('cloud code, ledger and maintenance options: defaults, and bad values refused with every problem named', async () => {
  const cwd = await tempDir();
  const { config } = expectOk(await loadConfig({ argv: [], env: {}, cwd }));
  assert.equal(config.cloudActsAsCaller, true);
  assert.equal(config.requireFunctionAccess, true);
  assert.equal(config.cloudTimeoutMs, 30_000);
  assert.equal(config.ledgerRetentionDays, 90);
  assert.equal(config.maintenanceKey, undefined);
  const problems = expectProblems(
    await loadConfig({
      argv: [],
      env: {
        PARSEC_MASTER_KEY: MASTER,
        PARSEC_MAINTENANCE_KEY: MASTER,
        PARSEC_CLOUD_TIMEOUT_MS: '0',
        PARSEC_LEDGER_RETENTION_DAYS: '-1',
        PARSEC_REQUIRE_FUNCTION_ACCESS: 'maybe',
        PARSEC_CLOUD_ACTS_AS_CALLER: 'anonymous',
      },
      cwd,
    }),
  );
  assertLine(problems, /maintenanceKey must differ from masterKey/);
  assertLine(problems, /PARSEC_CLOUD_TIMEOUT_MS/);
  assertLine(problems, /PARSEC_LEDGER_RETENTION_DAYS/);
  assertLine(problems, /PARSEC_REQUIRE_FUNCTION_ACCESS/);
  assertLine(problems, /PARSEC_CLOUD_ACTS_AS_CALLER/);
  assert.equal(problems.some((p) => p.includes(MASTER)), false, 'keys are not echoed');
  const { cwd: fileCwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, maintenanceKey: 'maintenance-key-0123456789', maintenanceKeyIps: ['10.0.0.0/8'] });
  assertLine(expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd: fileCwd })), /maintenanceKeyIps: /, /masterKeyIps/);
});

test('a weak configured master key and --master-key on the command line are warned about', async () => {
  const cwd = await tempDir();
  const { warnings } = expectOk(await loadConfig({ argv: ['--master-key', 'short', '--app-id', 'a'], env: {}, cwd }));
  assertLine(warnings, /masterKey is weak/);
  assertLine(warnings, /--master-key is visible/);
  assert.equal(warnings.some((w) => w.includes('short')), false);
});

test('mountPath is normalised and checked', async () => {
  const cwd = await tempDir();
  const load = (mount: string): Promise<LoadResult> => loadConfig({ argv: ['--mount', mount], env: {}, cwd });
  assert.equal(expectOk(await load('api/')).config.mountPath, '/api');
  assert.equal(expectOk(await load('//v1/parse//')).config.mountPath, '/v1/parse');
  assert.equal(expectOk(await load('/parse')).config.serverURL, 'http://localhost:1337/parse');
  for (const bad of ['/', '/a/../b', '/a b', '/a//b', '/a?x=1', '/%2e%2e']) assertLine(expectProblems(await load(bad)), /--mount/);
});

test('serverURL: checked when given, derived from host, port and mount otherwise', async () => {
  const cwd = await tempDir();
  for (const bad of ['ftp://x/parse', 'localhost:1337/parse', 'https://user:pw@example.com/parse']) {
    assertLine(expectProblems(await loadConfig({ argv: ['--server-url', bad], env: {}, cwd })), /--server-url/);
  }
  const bound = expectOk(await loadConfig({ argv: ['--host', '10.1.2.3', '--port', '8080', '--mount', '/api'], env: {}, cwd }));
  assert.equal(bound.config.serverURL, 'http://10.1.2.3:8080/api', 'a server bound to one address is reached there');
  const v6 = expectOk(await loadConfig({ argv: ['--host', 'fd00::1'], env: {}, cwd }));
  assert.equal(v6.config.serverURL, 'http://[fd00::1]:1337/parse');
});

test('maxRequestBytes accepts bytes and Parse size strings; one name per file', async () => {
  const cwd = await tempDir();
  const sizes: [string, number][] = [
    ['1048576', 1048576],
    ['20mb', 20 * 1024 * 1024],
    ['1.5MB', 1.5 * 1024 * 1024],
    ['512kb', 512 * 1024],
    ['1gb', 1024 ** 3],
  ];
  for (const [text, bytes] of sizes) {
    assert.equal(expectOk(await loadConfig({ argv: [], env: { PARSEC_MAX_REQUEST_BYTES: text }, cwd })).config.maxRequestBytes, bytes, text);
  }
  for (const bad of ['0', 'lots', '20 tb', '-5mb']) {
    assertLine(expectProblems(await loadConfig({ argv: [], env: { PARSEC_MAX_REQUEST_BYTES: bad }, cwd })), /PARSEC_MAX_REQUEST_BYTES/);
  }
  const both = await withConfigFile({ appId: 'a', masterKey: MASTER, maxUploadSize: '1mb', maxRequestBytes: 5 });
  assertLine(expectProblems(await loadConfig({ argv: ['--config', both.file], env: {}, cwd: both.cwd })), /maxRequestBytes and maxUploadSize set the same option/);
});

test('logLevel accepts Parse\'s verbose as debug and refuses unknown levels', async () => {
  const cwd = await tempDir();
  assert.equal(expectOk(await loadConfig({ argv: ['--log-level', 'verbose'], env: {}, cwd })).config.logLevel, 'debug');
  assertLine(expectProblems(await loadConfig({ argv: ['--log-level', 'loud'], env: {}, cwd })), /--log-level must be one of/);
});

test('databaseURI: MongoDB is refused without echoing the URI; PGlite paths resolve against cwd', async () => {
  const cwd = await tempDir();
  for (const uri of ['mongodb://user:hunter2@localhost:27017/parse', 'mongodb+srv://user:hunter2@cluster0.example.net/parse']) {
    const problems = expectProblems(await loadConfig({ argv: ['--database', uri], env: {}, cwd }));
    assertLine(problems, /MongoDB/, /PostgreSQL only/);
    assert.equal(problems.some((p) => p.includes('hunter2')), false, 'the password is not echoed');
  }
  assertLine(expectProblems(await loadConfig({ argv: ['--database', 'mysql://x/y'], env: {}, cwd })), /mysql:\/\/ is not supported/);
  assert.equal(expectOk(await loadConfig({ argv: ['--database', 'data/db'], env: {}, cwd })).config.databaseURI, join(cwd, 'data', 'db'));
  assert.equal(expectOk(await loadConfig({ argv: ['--database', 'memory://'], env: {}, cwd })).config.databaseURI, 'memory://');
  const pg = 'postgresql://u:p@localhost:5432/app?sslmode=require';
  assert.equal(expectOk(await loadConfig({ argv: [], env: { PARSEC_DATABASE_URI: pg }, cwd })).config.databaseURI, pg);

  // A parse-server config pointing at MongoDB loads when the environment points Parsec at PostgreSQL instead.
  const { file } = await withConfigFile({ appId: 'a', masterKey: MASTER, databaseURI: 'mongodb://localhost/parse' });
  expectOk(await loadConfig({ argv: ['--config', file], env: { PARSEC_DATABASE_URI: pg }, cwd }));
});

test('cloud must exist', async () => {
  const cwd = await tempDir();
  assertLine(expectProblems(await loadConfig({ argv: ['--cloud', 'cloud/missing.js'], env: {}, cwd })), /cloud/, /does not exist/);
});

test('config file errors: missing file, invalid JSON (location only), not an object', async () => {
  const cwd = await tempDir();
  assertLine(expectProblems(await loadConfig({ argv: ['--config', 'nope.json'], env: {}, cwd })), /nope\.json does not exist/);
  const broken = await withConfigFile('{"masterKey": "topsecret", oops}');
  const problems = expectProblems(await loadConfig({ argv: ['--config', broken.file], env: {}, cwd: broken.cwd }));
  assertLine(problems, /is not valid JSON/);
  assert.equal(problems.some((p) => p.includes('topsecret')), false, 'file content is not echoed');
  const array = await withConfigFile('[1,2]');
  assertLine(expectProblems(await loadConfig({ argv: ['--config', array.file], env: {}, cwd: array.cwd })), /must contain a JSON object/);
});

test('flags: missing values and repeated flags are problems', async () => {
  const cwd = await tempDir();
  const problems = expectProblems(await loadConfig({ argv: ['--port', '1', '--port', '2', '--host', '--mount'], env: {}, cwd }));
  assertLine(problems, /--port is given more than once/);
  assertLine(problems, /--host needs a value/);
  assertLine(problems, /--mount needs a value/);
  // --flag=value keeps a value that starts with dashes.
  assert.equal(expectOk(await loadConfig({ argv: ['--app-id=--odd--'], env: {}, cwd })).config.appId, '--odd--');
});

test('environment: unknown PARSEC_* and parse-server variables are warned about', async () => {
  const cwd = await tempDir();
  const { warnings } = expectOk(
    await loadConfig({
      argv: [],
      env: { PARSEC_MASTER_KEY_IP: '1.2.3.4', PARSE_SERVER_MASTER_KEY: 'x', PORT: '5000', HOME: '/root', PARSEC_TEST_DATABASE_URL: 'postgres://x/y' },
      cwd,
    }),
  );
  assertLine(warnings, /PARSEC_MASTER_KEY_IP is not a Parsec setting/, /Did you mean "PARSEC_MASTER_KEY_IPS"\?/);
  assertLine(warnings, /PARSE_SERVER_MASTER_KEY/, /not read by Parsec/);
  assertLine(warnings, /PORT is set/);
  assert.equal(warnings.length, 3, warnings.join('\n'));
});

test('credentials: generated once with private modes, reused later, configured values win', async () => {
  const cwd = await tempDir();
  const first = expectOk(await loadConfig({ argv: [], env: {}, cwd }));
  const file = credentialsPath(cwd);
  assert.equal(first.generatedCredentials, true);
  assert.equal(first.credentialsFile, file);
  assert.match(first.config.appId, /^parsec-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  assert.ok(Buffer.from(first.config.masterKey, 'base64url').length >= 32, 'at least 32 random bytes');
  if (process.platform !== 'win32') {
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(cwd, '.parsec'))).mode & 0o777, 0o700);
  }
  const stored: unknown = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual({ ...(stored as object), createdAt: undefined }, { appId: first.config.appId, masterKey: first.config.masterKey, createdAt: undefined });

  const second = expectOk(await loadConfig({ argv: [], env: {}, cwd }));
  assert.equal(second.config.appId, first.config.appId);
  assert.equal(second.config.masterKey, first.config.masterKey);
  assert.equal(second.generatedCredentials, true);

  const configured = expectOk(await loadConfig({ argv: [], env: { PARSEC_MASTER_KEY: MASTER }, cwd }));
  assert.equal(configured.config.masterKey, MASTER);
  assert.equal(configured.config.appId, first.config.appId, 'the stored app id fills the gap');
  assert.equal(configured.generatedCredentials, false, 'a configured master key is not "generated"');
  assert.equal(configured.credentialsFile, file);
});

test('credentials: concurrent first starts agree on one set', async () => {
  const cwd = await tempDir();
  const results = await Promise.all([1, 2, 3, 4].map(() => loadConfig({ argv: [], env: {}, cwd })));
  const keys = new Set(results.map((r) => expectOk(r).config.masterKey));
  assert.equal(keys.size, 1);
});

test('credentials: a file others can read, or a broken file, stops the start', async () => {
  const cwd = await tempDir();
  expectOk(await loadConfig({ argv: [], env: {}, cwd }));
  const file = credentialsPath(cwd);
  if (process.platform !== 'win32') {
    await chmod(file, 0o644);
    assertLine(expectProblems(await loadConfig({ argv: [], env: {}, cwd })), /other users may access it \(mode 644\)/, /chmod 600/);
    await chmod(file, 0o600);
  }
  await writeFile(file, '{"appId": "a"}');
  assertLine(expectProblems(await loadConfig({ argv: [], env: {}, cwd })), /has no valid masterKey/);
  // With both keys configured the file is not needed, and not read.
  expectOk(await loadConfig({ argv: [], env: { PARSEC_APP_ID: 'a', PARSEC_MASTER_KEY: MASTER }, cwd }));
});

test('an invalid configuration writes nothing', async () => {
  const cwd = await tempDir();
  expectProblems(await loadConfig({ argv: ['--port', 'x'], env: {}, cwd }));
  assert.equal(await exists(join(cwd, '.parsec')), false);
});

test('options table: names, variables and flags are unique and complete', () => {
  const envs = OPTION_NAMES.map((name) => OPTIONS[name].env);
  assert.ok(envs.every((env) => /^PARSEC_[A-Z0-9_]+$/.test(env)));
  assert.equal(new Set(envs).size, envs.length);
  const flags = OPTION_NAMES.flatMap((name) => OPTIONS[name].flag ?? []);
  assert.equal(new Set(flags).size, flags.length);
  for (const required of ['--port', '--host', '--mount', '--app-id', '--master-key', '--javascript-key', '--rest-api-key', '--client-key', '--database', '--cloud']) {
    assert.ok(flags.includes(required), required);
  }
  for (const name of OPTION_NAMES) assert.equal(UNSUPPORTED_OPTIONS.has(name), false, `${name} is in both tables`);
  for (const name of ['encryptionKey', 'userSensitiveFields', 'requestKeywordDenylist']) {
    assert.equal(UNSUPPORTED_OPTIONS.get(name)?.severity, 'error', name);
  }
});

test('accountLockout: on by default, false or null turn it off, a parse-server value loads, JSON in the environment', async () => {
  const load = async (content: Record<string, unknown>, env: Record<string, string> = {}) => {
    const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, ...content });
    return loadConfig({ argv: ['--config', file], env, cwd });
  };
  assert.equal(expectOk(await load({ accountLockout: false })).config.accountLockout, undefined);
  assert.equal(expectOk(await load({ accountLockout: null })).config.accountLockout, undefined, 'Parse reads null as no lockout');
  const parse = expectOk(await load({ accountLockout: { duration: 0.5, threshold: 3, unlockOnPasswordReset: true } }));
  assert.deepEqual(parse.config.accountLockout, { duration: 0.5, threshold: 3, unlockOnPasswordReset: true });
  assert.deepEqual(parse.warnings, []);
  const partial = expectOk(await load({ accountLockout: { duration: 99999, threshold: 999 } })).config.accountLockout;
  assert.deepEqual(partial, { duration: 99999, threshold: 999, unlockOnPasswordReset: false }, 'unlockOnPasswordReset defaults to false, as in Parse');

  const fromEnv = expectOk(await load({ accountLockout: false }, { PARSEC_ACCOUNT_LOCKOUT: '{"duration":10,"threshold":4}' })).config;
  assert.deepEqual(fromEnv.accountLockout, { duration: 10, threshold: 4, unlockOnPasswordReset: false }, 'the environment wins over the file');
  for (const off of ['false', '0', 'null']) {
    assert.equal(expectOk(await load({}, { PARSEC_ACCOUNT_LOCKOUT: off })).config.accountLockout, undefined, off);
  }
  assertLine(expectProblems(await load({}, { PARSEC_ACCOUNT_LOCKOUT: '{duration:5}' })), /PARSEC_ACCOUNT_LOCKOUT must be JSON/);
});

test('accountLockout and passwordPolicy: every invalid field is reported, together with the other problems', async () => {
  const { cwd, file } = await withConfigFile({
    appId: 'a',
    masterKey: MASTER,
    accountLockout: { duration: 0, threshold: 1000, unlockOnPasswordReset: 'yes', treshold: 3 },
    passwordPolicy: {
      validatorPattern: '([a-z]',
      validatorCallback: 'x => true',
      validationError: '',
      doNotAllowUsername: 1,
      maxPasswordAge: -1,
      maxPasswordHistory: 21,
      resetTokenValidityDuration: 0,
      resetTokenReuseIfValid: 'no',
      resetPasswordSuccessOnInvalidEmail: null,
      minLength: 8,
    },
    port: 'eighty',
  });
  const problems = expectProblems(await loadConfig({ argv: ['--config', file], env: { PARSEC_PASSWORD_POLICY: '[]' }, cwd }));
  const lockout = problems.find((p) => p.includes('accountLockout')) ?? '';
  for (const part of [/duration must be a number of minutes above 0 to 99999, got a number 0/, /threshold must be an integer from 1 to 999, got a number 1000/, /unlockOnPasswordReset must be true or false/, /"treshold" is not one of its fields\. Did you mean "threshold"\?/]) {
    assert.match(lockout, part);
  }
  const policy = problems.find((p) => p.includes('config.json: passwordPolicy')) ?? '';
  for (const part of [
    /validatorPattern is not a valid regular expression/,
    /validatorCallback cannot be given in a JSON config/,
    /validationError must be a non-empty string/,
    /doNotAllowUsername must be true or false/,
    /maxPasswordAge must be a number of days from 0 upwards/,
    /maxPasswordHistory must be an integer from 0 to 20, got a number 21/,
    /resetTokenValidityDuration must be a number of seconds above 0/,
    /resetTokenReuseIfValid must be true or false/,
    /resetPasswordSuccessOnInvalidEmail must be true or false/,
    /"minLength" is not one of its fields/,
  ]) {
    assert.match(policy, part);
  }
  assertLine(problems, /PARSEC_PASSWORD_POLICY must be an object/);
  assertLine(problems, /port/, /whole number/);
  assert.equal(problems.length, 4, problems.join('\n'));

  const missing = await withConfigFile({ appId: 'a', masterKey: MASTER, accountLockout: {} });
  const both = expectProblems(await loadConfig({ argv: ['--config', missing.file], env: {}, cwd: missing.cwd }));
  assertLine(both, /accountLockout is invalid: duration is required; threshold is required/);
});

test('passwordPolicy: the pattern is compiled at load; reset-token settings are kept and warned about', async () => {
  const { cwd, file } = await withConfigFile({
    appId: 'a',
    masterKey: MASTER,
    passwordPolicy: { validatorPattern: '^(?=.*[0-9]).{8,}$', validationError: 'Too weak.', doNotAllowUsername: true, maxPasswordAge: 90, maxPasswordHistory: 5, resetTokenValidityDuration: 3600, resetTokenReuseIfValid: true },
  });
  const { config, warnings } = expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  const policy = config.passwordPolicy;
  assert.ok(policy?.validatorPattern instanceof RegExp);
  assert.equal(policy.validatorPattern.test('abcdefg1'), true);
  assert.equal(policy.validatorPattern.test('abcdefgh'), false);
  assert.deepEqual({ ...policy, validatorPattern: undefined }, {
    validatorPattern: undefined,
    validationError: 'Too weak.',
    doNotAllowUsername: true,
    maxPasswordAge: 90,
    maxPasswordHistory: 5,
    resetTokenValidityDuration: 3600,
    resetTokenReuseIfValid: true,
    resetPasswordSuccessOnInvalidEmail: true,
  });
  assertLine(warnings, /passwordPolicy\.resetTokenReuseIfValid/, /not applied/);
  assert.ok(!warnings.some((w) => /resetTokenValidityDuration/.test(w)), 'the reset link lifetime is applied, so it is not warned about');
  assert.equal(warnings.length, 1, warnings.join('\n'));

  const reuseAlone = await withConfigFile({ appId: 'a', masterKey: MASTER, passwordPolicy: { resetTokenReuseIfValid: true } });
  assertLine(expectProblems(await loadConfig({ argv: ['--config', reuseAlone.file], env: {}, cwd: reuseAlone.cwd })), /resetTokenReuseIfValid needs resetTokenValidityDuration/);
  const off = expectOk(await loadConfig({ argv: [], env: { PARSEC_PASSWORD_POLICY: 'false' }, cwd: await tempDir() }));
  assert.equal(off.config.passwordPolicy, undefined);
  const fromEnv = expectOk(await loadConfig({ argv: [], env: { PARSEC_PASSWORD_POLICY: '{"maxPasswordHistory":2}' }, cwd: await tempDir() }));
  assert.equal(fromEnv.config.passwordPolicy?.maxPasswordHistory, 2);
});

test('did-you-mean: edit distance with transpositions, case-insensitive, bounded', () => {
  assert.equal(editDistance('masterKey', 'mastreKey'), 1);
  assert.equal(editDistance('port', 'prot'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('masterkeyips', ['masterKeyIps', 'maxLimit']), 'masterKeyIps');
  assert.equal(closest('zzzzzz', ['masterKeyIps', 'maxLimit']), undefined);
});

test('windowsKey is the config-file spelling of dotNetKey', async () => {
  const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, windowsKey: 'win-key' });
  const { config } = expectOk(await loadConfig({ argv: ['--config', file], env: {}, cwd }));
  assert.equal(config.clientKeys.dotNetKey, 'win-key');
});

test('emailAdapter: a module name, or {module, options}; anything else is a problem', async () => {
  const named = await withConfigFile({ appId: 'a', masterKey: MASTER, emailAdapter: 'parse-smtp-adapter' });
  assert.deepEqual(expectOk(await loadConfig({ argv: ['--config', named.file], env: {}, cwd: named.cwd })).config.emailAdapter, { module: 'parse-smtp-adapter', options: {} });
  const full = await withConfigFile({ appId: 'a', masterKey: MASTER, emailAdapter: { module: './mail.js', options: { apiKey: 'k' } }, verifyUserEmails: true });
  const loaded = expectOk(await loadConfig({ argv: ['--config', full.file], env: {}, cwd: full.cwd })).config;
  assert.deepEqual(loaded.emailAdapter, { module: './mail.js', options: { apiKey: 'k' } });
  assert.equal(loaded.verifyUserEmails, true);
  for (const bad of [{ options: {} }, { module: 5 }, { module: 'x', options: [] }, { module: 'x', extra: 1 }, 7]) {
    const { cwd, file } = await withConfigFile({ appId: 'a', masterKey: MASTER, emailAdapter: bad });
    assertLine(expectProblems(await loadConfig({ argv: ['--config', file], env: {}, cwd })), /emailAdapter/);
  }
});
