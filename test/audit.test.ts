// `parsec audit` and GET /security over the sample apps in examples/: the unsafe reviews app must produce
// each expected finding, its safe twin none; the baseline gate, SARIF, and the runtime report's access rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAppForAudit } from '../src/audit/load-app.ts';
import { createCommands, runCli } from '../src/cli/commands.ts';
import type { CliIO } from '../src/cli/io.ts';
import { loadConfig } from '../src/config/load.ts';
import { createParsec } from '../src/server.ts';
import { engines, freshPostgresDatabase } from './helpers/server.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const UNSAFE = join(EXAMPLES, 'reviews-unsafe');
const SAFE = join(EXAMPLES, 'reviews');
// The safe twin keeps its master key out of its config file; here it comes from the environment.
const SAFE_ENV = { PARSEC_MASTER_KEY: 'Q7v!x2-Lr9#tZ4-mW8$kP3-eN6%' };

interface Database {
  readonly uri: string;
  drop(): Promise<void>;
}

async function database(engine: string): Promise<Database> {
  if (engine === 'postgres') return freshPostgresDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'parsec-audit-'));
  return { uri: dir, drop: () => rm(dir, { recursive: true, force: true }) };
}

function captureIO(cwd: string, env: Record<string, string> = {}): { io: CliIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line), env, cwd }, out, err };
}

const commands = createCommands({
  startServer: () => Promise.reject(new Error('not started here')),
  onSignals: () => undefined,
  exit: () => undefined,
  loadApp: loadAppForAudit,
});

async function audit(cwd: string, uri: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string[] }> {
  const { io, out, err } = captureIO(cwd, env);
  const code = await runCli(['audit', '--config', 'parsec.json', '--database', uri, ...extra], io, commands);
  return { code, out: out.join('\n'), err };
}

/** Runs the example as `parsec start` would, lets `setup` shape its schema over HTTP, then stops it. */
async function withExampleServer(cwd: string, uri: string, env: Record<string, string>, work: (request: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>) => Promise<void>): Promise<void> {
  const loaded = await loadConfig({ argv: ['--config', 'parsec.json', '--database', uri], env, cwd });
  assert.ok(loaded.ok, JSON.stringify(loaded));
  const parsec = await createParsec({ ...loaded.config, logLevel: 'silent' }, { cwd });
  try {
    await parsec.app.listen({ port: 0, host: '127.0.0.1' });
    const address = parsec.app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/parse`;
    const { appId, masterKey } = loaded.config;
    await work(async (method, path, body, headers = { 'X-Parse-Master-Key': masterKey }) => {
      const response = await fetch(base + path, {
        method,
        headers: { 'X-Parse-Application-Id': appId, 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    });
  } finally {
    await parsec.close();
  }
}

const REVIEW_FIELDS = {
  movie: { type: 'String' },
  stars: { type: 'Number' },
  text: { type: 'String' },
  authorName: { type: 'String' },
  author: { type: 'Pointer', targetClass: '_User' },
};

const pairs = (report: any): string[] => report.findings.map((finding: any) => `${finding.id} ${finding.subject}`).sort();

for (const engine of engines()) {
  describe(`parsec audit over the sample apps (${engine})`, () => {
    let unsafeDb: Database;
    let safeDb: Database;
    let unsafeSecurity: any;

    before(async () => {
      unsafeDb = await database(engine);
      safeDb = await database(engine);
      await withExampleServer(UNSAFE, unsafeDb.uri, {}, async (request) => {
        // Review is locked down; Scratch keeps Parse's default permissions: everything public.
        const review = await request('POST', '/schemas/Review', { fields: REVIEW_FIELDS, classLevelPermissions: { find: { '*': true }, get: { '*': true }, count: { '*': true }, create: { requiresAuthentication: true }, update: {}, delete: {}, addField: {} } });
        assert.equal(review.status, 200, JSON.stringify(review.body));
        assert.equal((await request('POST', '/schemas/Scratch', { fields: { note: { type: 'String' } } })).status, 200);
        const security = await request('GET', '/security');
        assert.equal(security.status, 200, JSON.stringify(security.body));
        unsafeSecurity = security.body;
        // Not without the master key: the report is a map of the attack surface.
        const refused = await request('GET', '/security', undefined, {});
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.deepEqual(refused.body, { error: 'unauthorized: master key is required' });
      });
      await withExampleServer(SAFE, safeDb.uri, SAFE_ENV, async (request) => {
        const clp = { find: { requiresAuthentication: true }, get: { requiresAuthentication: true }, count: { requiresAuthentication: true }, create: { requiresAuthentication: true }, update: { pointerFields: ['author'] }, delete: { pointerFields: ['author'] }, addField: {} };
        const review = await request('POST', '/schemas/Review', { fields: REVIEW_FIELDS, classLevelPermissions: clp });
        assert.equal(review.status, 200, JSON.stringify(review.body));
        const users = await request('PUT', '/schemas/_User', { classLevelPermissions: { find: { requiresAuthentication: true }, get: { requiresAuthentication: true }, count: { requiresAuthentication: true }, create: { '*': true }, update: { '*': true }, delete: { '*': true }, addField: {}, protectedFields: { '*': ['email'] } } });
        assert.equal(users.status, 200, JSON.stringify(users.body));
      });
    });

    after(async () => {
      await unsafeDb.drop();
      await safeDb.drop();
    });

    test('the unsafe app: every expected finding, and nothing else', async () => {
      const { code, out, err } = await audit(UNSAFE, unsafeDb.uri, ['--format', 'json']);
      const report = JSON.parse(out);
      assert.deepEqual(pairs(report), [
        'PSC001 function exportReviews',
        'PSC001 function resetScores',
        'PSC003 function someCloudCode',
        'PSC004 function editReview',
        'PSC005 function exportReviews',
        'PSC005 function resetScores',
        'PSC006 beforeSave Review',
        'PSC101 class Scratch',
        'PSC102 class Scratch',
        'PSC103 class _User',
        'PSC201 option masterKey',
        'PSC202 option masterKeyIps',
        'PSC203 option javascriptKey / restAPIKey / clientKey',
        'PSC211 option expireInactiveSessions',
        'PSC221 option allowGetLogin',
        'PSC222 option enforcePrivateUsers',
        'PSC224 option passwordPolicy',
        'PSC225 option rateLimit (POST /login)',
        'PSC225 option rateLimit (POST /requestPasswordReset)',
        'PSC225 option rateLimit (POST /users)',
        'PSC225 option rateLimit (POST /verificationEmailRequest)',
        'PSC226 option accountLockout',
        'PSC231 option allowClientClassCreation',
      ]);
      assert.equal(code, 1, 'high findings fail the default --fail-on high');
      assert.match(err.join('\n'), /high finding PSC001: function resetScores/);
      const byName = new Map<string, any>(report.surface.functions.map((fn: any) => [fn.name, fn]));
      assert.equal(byName.get('resetScores').escalation, 'yes');
      assert.equal(byName.get('averageStars').escalation, 'no');
      assert.equal(byName.get('someCloudCode').audience, 'anyone');
      assert.deepEqual(byName.get('editReview').params, [{ name: 'reviewId', type: 'String', required: true }]);
      assert.match(report.findings.find((f: any) => f.id === 'PSC004').title, /text/);
      assert.equal(report.findings.find((f: any) => f.subject === 'function resetScores').location, 'cloud/main.js:28:13');
      const classes = new Map<string, any>(report.surface.classes.map((surface: any) => [surface.className, surface]));
      assert.equal(classes.get('Review').summary, 'anyone can find, get and count Review; logged-in users can create Review; only the master key can update, delete and addField Review');
      assert.deepEqual(classes.get('Scratch').publicOperations, ['find', 'get', 'count', 'create', 'update', 'delete', 'addField']);
      assert.match(classes.get('_Session').operations.find, /own rows only/);
      assert.equal(classes.get('_PrivilegeLedger').operations.find, 'the master key only');
    });

    test('GET /security answers the same findings, in Parse\'s security-check shape too', () => {
      assert.equal(unsafeSecurity.report.state, 'fail');
      assert.deepEqual(unsafeSecurity.report.groups.map((group: any) => group.name), ['Cloud Code', 'Class-level permissions', 'Parsec configuration']);
      const checks = unsafeSecurity.report.groups.flatMap((group: any) => group.checks);
      assert.ok(checks.every((check: any) => typeof check.title === 'string' && typeof check.warning === 'string' && typeof check.solution === 'string'));
      // Same server, same schema, same findings as the command line (class findings read from the live schema).
      assert.ok(pairs(unsafeSecurity.audit).includes('PSC001 function resetScores'));
      assert.ok(pairs(unsafeSecurity.audit).includes('PSC103 class _User'));
    });

    test('the safe twin: no finding at all, and the text report reads as the surface', async () => {
      const json = await audit(SAFE, safeDb.uri, ['--format', 'json', '--fail-on', 'low'], SAFE_ENV);
      assert.deepEqual(pairs(JSON.parse(json.out)), []);
      assert.equal(json.code, 0, json.err.join('\n'));
      const text = await audit(SAFE, safeDb.uri, [], SAFE_ENV);
      assert.equal(text.code, 0);
      assert.match(text.out, /resetScores: logged-in users with any of roles moderator — escalates with useMasterKey/);
      assert.match(text.out, /ping: anyone with the app keys \(declared public\)\n {4}rate limit: 60 per 60s per ip/);
      assert.match(text.out, /Review: logged-in users can find, get, count and create Review; users named in author can update and delete Review; only the master key can addField Review/);
      assert.match(text.out, /Findings: 0 high, 0 medium, 0 low, 0 info/);
    });

    test('--baseline: fails when the surface grew, passes against itself', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'parsec-baseline-'));
      try {
        const baseline = join(dir, 'baseline.json');
        await writeFile(baseline, (await audit(SAFE, safeDb.uri, ['--format', 'json'], SAFE_ENV)).out);
        const same = await audit(SAFE, safeDb.uri, ['--baseline', baseline, '--fail-on', 'low'], SAFE_ENV);
        assert.equal(same.code, 0, same.err.join('\n'));
        const grown = await audit(UNSAFE, unsafeDb.uri, ['--baseline', baseline, '--fail-on', 'high']);
        assert.equal(grown.code, 1);
        const messages = grown.err.join('\n');
        assert.match(messages, /surface grew: function resetScores: was callable by logged-in users with any of roles moderator, now by anyone with the app keys \(declared public\)/);
        assert.match(messages, /surface grew: function exportReviews now escalates to the master key/);
        assert.match(messages, /surface grew: class Scratch: anyone may now find, get, count, create, update, delete, addField/);
        assert.match(messages, /surface grew: class Review: anyone may now find, get, count/);
        assert.match(messages, /new high finding PSC202/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('--format sarif: a SARIF 2.1.0 log whose results point into the cloud code', async () => {
      const { out } = await audit(UNSAFE, unsafeDb.uri, ['--format', 'sarif']);
      const sarif = JSON.parse(out);
      assert.equal(sarif.version, '2.1.0');
      const [run] = sarif.runs;
      assert.equal(run.tool.driver.name, 'parsec audit');
      const ruleIds = new Set(run.tool.driver.rules.map((rule: any) => rule.id));
      assert.ok(run.results.every((result: any) => ruleIds.has(result.ruleId)));
      const escalation = run.results.find((result: any) => result.ruleId === 'PSC001');
      assert.equal(escalation.level, 'error');
      assert.deepEqual(escalation.locations[0].physicalLocation, { artifactLocation: { uri: 'cloud/main.js' }, region: { startLine: 39, startColumn: 13 } });
    });

    test('usage errors answer 2 and change nothing', async () => {
      assert.equal((await audit(SAFE, safeDb.uri, ['--format', 'xml'], SAFE_ENV)).code, 2);
      assert.equal((await audit(SAFE, safeDb.uri, ['--fail-on', 'info'], SAFE_ENV)).code, 2);
      const missing = await audit(SAFE, safeDb.uri, ['--baseline', join(tmpdir(), 'no-such-baseline.json')], SAFE_ENV);
      assert.equal(missing.code, 2);
      assert.match(missing.err.join('\n'), /cannot use .* as a baseline/);
      const dir = await mkdtemp(join(tmpdir(), 'parsec-baseline-'));
      try {
        await writeFile(join(dir, 'bad.json'), '{"findings": []}');
        const bad = await audit(SAFE, safeDb.uri, ['--baseline', join(dir, 'bad.json')], SAFE_ENV);
        assert.equal(bad.code, 2);
        assert.match(bad.err.join('\n'), /not a parsec audit JSON report/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('parsec audit and the embedded database', () => {
  test('refuses a data directory another process has open, instead of corrupting it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parsec-lock-'));
    try {
      await withExampleServer(SAFE, dir, SAFE_ENV, async () => {
        const { code, err } = await audit(SAFE, dir, [], SAFE_ENV);
        assert.equal(code, 2);
        assert.match(err.join('\n'), /already open in process \d+/);
      });
      // Released on close: the audit now runs.
      assert.equal((await audit(SAFE, dir, [], SAFE_ENV)).code, 0);
      assert.equal(await readFile(join(dir, 'parsec.lock'), 'utf8').catch(() => 'released'), 'released');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--no-database reports the cloud code without opening the database', async () => {
    const { code, out } = await audit(UNSAFE, '/nonexistent/never-opened', ['--no-database', '--format', 'json']);
    const report = JSON.parse(out);
    assert.equal(report.surface.classes, undefined);
    assert.ok(pairs(report).includes('PSC001 function resetScores'));
    assert.equal(code, 1);
  });
});
