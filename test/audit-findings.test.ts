// The audit's findings on configurations and functions the sample apps do not cover, each with its
// negative (the safe setting produces nothing), and the documentation listing every finding id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CloudRegistry } from '../src/cloud/registry.ts';
import type { Validator } from '../src/cloud/validator.ts';
import type { ParsecConfig } from '../src/config/types.ts';
import { buildReport } from '../src/audit/report.ts';
import { DEFAULT_REQUEST_COMPLEXITY } from '../src/config/request-complexity-option.ts';
import { testConfig } from './helpers/server.ts';

declare const Parse: { Query: new (name: string) => { find(options?: object): Promise<unknown[]> } };
declare const externalHelper: () => unknown;

function report(overrides: Partial<ParsecConfig> = {}, functions: Record<string, [(request: never) => unknown, Validator | undefined]> = {}): string[] {
  const registry = new CloudRegistry();
  for (const [name, [handler, validator]] of Object.entries(functions)) {
    registry.functions.set(name, { name, handler: handler as never, validator, declaredAt: undefined });
  }
  const built = buildReport({ config: testConfig(overrides), registry, plugins: new Map(), schemas: [] });
  return built.findings.map((finding) => `${finding.id} ${finding.severity} ${finding.subject}`);
}

// testConfig leaves client-class creation on for the test suite's convenience; the audit baseline here is a safe server.
const SAFE: Partial<ParsecConfig> = { masterKey: 'Kq7!vR2#pX9-mT4$wL6', allowClientClassCreation: false, passwordPolicy: { validatorPattern: /^.{12,}$/ } };

test('a safe configuration with well-declared functions has no findings', () => {
  assert.deepEqual(
    report(SAFE, {
      mine: [() => new Parse.Query('Note').find(), { requireUser: true }],
      admin: [() => new Parse.Query('Note').find({ useMasterKey: true }), { requireMaster: true }],
      limited: [() => 1, { public: true, rateLimit: { requestTimeWindow: 1000, requestCount: 1 } }],
    }),
    [],
  );
});

test('functions: unknown escalation when public is PSC002; requireFunctionAccess makes PSC003 high', () => {
  const found = report(SAFE, {
    maybe: [(request: { master: boolean }) => new Parse.Query('N').find({ useMasterKey: request.master }), { public: true, rateLimit: { requestTimeWindow: 1, requestCount: 1 } }],
    hidden: [() => externalHelper(), { public: true, rateLimit: { requestTimeWindow: 1, requestCount: 1 } }],
    bare: [() => 1, undefined],
  });
  assert.deepEqual(found, ['PSC003 high function bare', 'PSC002 medium function hidden', 'PSC002 medium function maybe']);
  assert.deepEqual(report({ ...SAFE, requireFunctionAccess: false }, { bare: [() => 1, undefined] }), ['PSC003 medium function bare']);
  // A validator function decides itself: no access finding, and its params are not judged.
  assert.deepEqual(report(SAFE, { custom: [(request: { params: { x: unknown } }) => request.params.x, () => undefined] }), []);
});

test('options: each unsafe setting has its finding, and only that one', () => {
  const cases: [Partial<ParsecConfig>, string][] = [
    [{ expireInactiveSessions: false }, 'PSC211 medium option expireInactiveSessions'],
    [{ sessionLength: 2 * 365 * 86_400 }, 'PSC212 low option sessionLength'],
    [{ protectedFields: { _User: { '*': [] } } }, 'PSC223 medium option protectedFields'],
    [{ passwordPolicy: undefined }, 'PSC224 low option passwordPolicy'],
    [{ accountLockout: undefined }, 'PSC226 medium option accountLockout'],
    [{ cloudActsAsCaller: false }, 'PSC232 low option cloudActsAsCaller'],
    [{ serverURL: 'http://api.example.com/parse' }, 'PSC233 medium option serverURL'],
    [{ databaseURI: 'postgres://app:secret@db.internal/app' }, 'PSC234 medium option databaseURI'],
    [{ trustProxy: true }, 'PSC235 medium option trustProxy'],
    [{ allowClientClassCreation: true }, 'PSC231 medium option allowClientClassCreation'],
    [{ readOnlyMasterKey: 'readonly' }, 'PSC201 high option readOnlyMasterKey'],
    [{ masterKey: 'test-app' + 'A1!xxxxxxxxxx', appId: 'test-appA1!xxxxxxxxxx' }, 'PSC201 high option masterKey'],
    [{ clientKeys: {} }, 'PSC203 info option javascriptKey / restAPIKey / clientKey'],
    [{ requestComplexity: { ...DEFAULT_REQUEST_COMPLEXITY, regexLength: -1 } }, 'PSC227 low option requestComplexity'],
  ];
  for (const [overrides, expected] of cases) assert.deepEqual(report({ ...SAFE, ...overrides }), [expected], JSON.stringify(overrides));
  // Safe neighbours of those settings.
  for (const overrides of [{ serverURL: 'http://localhost:1337/parse' }, { serverURL: 'https://api.example.com/parse' }, { databaseURI: 'postgres://app:Vx9!q2Lm#r7Tz4@db/app' }, { databaseURI: 'postgres://db/app' }]) {
    assert.deepEqual(report({ ...SAFE, ...overrides }), [], JSON.stringify(overrides));
  }
});

test('rate limits: the default rules cover the account endpoints; removing them is reported per endpoint', () => {
  const none = report({ ...SAFE, rateLimit: [] });
  assert.deepEqual(none, [
    'PSC225 medium option rateLimit (POST /requestPasswordReset)',
    'PSC225 medium option rateLimit (POST /users)',
    'PSC225 medium option rateLimit (POST /verificationEmailRequest)',
    'PSC225 low option rateLimit (POST /login)',
  ]);
  // A rule for other methods does not count; a wildcard rule does; the /classes/_User spelling of sign-up counts too.
  const rules = [
    { requestPath: '/login', requestMethods: ['GET'], requestTimeWindow: 1000, requestCount: 1 },
    { requestPath: '/classes/_User', requestTimeWindow: 1000, requestCount: 1 },
    { requestPath: '/request*', requestTimeWindow: 1000, requestCount: 1 },
    { requestPath: '/verificationEmailRequest', requestTimeWindow: 1000, requestCount: 1 },
  ];
  assert.deepEqual(report({ ...SAFE, rateLimit: rules }), ['PSC225 low option rateLimit (POST /login)']);
  assert.deepEqual(report({ ...SAFE, rateLimit: [{ requestPath: '*', requestTimeWindow: 1000, requestCount: 100 }] }), []);
});

test('anonymous users: a login-only function that escalates is PSC007, unless anonymous sign-up is off', () => {
  const functions = {
    escalates: [() => new Parse.Query('Note').find({ useMasterKey: true }), { requireUser: true }],
    maybe: [(request: { master: boolean }) => new Parse.Query('N').find({ useMasterKey: request.master }), { requireUser: true }],
    asCaller: [() => new Parse.Query('Note').find(), { requireUser: true }],
    staff: [() => new Parse.Query('Note').find({ useMasterKey: true }), { requireAnyUserRoles: ['staff'] }],
  } satisfies Record<string, [(request: never) => unknown, Validator]>;
  assert.deepEqual(report(SAFE, functions), ['PSC007 high function escalates', 'PSC007 medium function maybe']);
  assert.deepEqual(report({ ...SAFE, enableAnonymousUsers: false }, functions), []);
  assert.deepEqual(report({ ...SAFE, auth: { anonymous: { enabled: false } } }, functions), []);
  assert.deepEqual(report({ ...SAFE, auth: { anonymous: false } }, functions), []);
});

test('files: public and anonymous uploads, and active content let through, each have their finding', () => {
  const upload = (fileUpload: Partial<NonNullable<ParsecConfig['fileUpload']>>, more: Partial<ParsecConfig> = {}) =>
    report({ ...SAFE, ...more, fileUpload: { enableForPublic: false, enableForAnonymousUser: false, enableForAuthenticatedUser: true, ...fileUpload } });
  assert.deepEqual(upload({}), []);
  assert.deepEqual(upload({ enableForPublic: true }), ['PSC241 medium option fileUpload.enableForPublic']);
  assert.deepEqual(upload({ enableForAnonymousUser: true }), ['PSC242 medium option fileUpload.enableForAnonymousUser']);
  // No anonymous users, no anonymous uploads.
  assert.deepEqual(upload({ enableForAnonymousUser: true }, { enableAnonymousUsers: false }), []);
  assert.deepEqual(upload({ fileExtensions: ['*'] }), ['PSC243 medium option fileUpload.fileExtensions']);
  assert.deepEqual(upload({ fileExtensions: ['html?'] }), ['PSC243 medium option fileUpload.fileExtensions']);
  assert.deepEqual(upload({ fileExtensions: ['jpe?g', 'png', 'pdf'] }), []);
});

test('LiveQuery: the surface names each subscribable class and who may subscribe; a newly public one grows the baseline', async () => {
  const { compareWithBaseline } = await import('../src/audit/baseline.ts');
  const { formatText } = await import('../src/audit/format-text.ts');
  const clp = (find: Record<string, unknown>) => ({ find, get: find, count: find, create: {}, update: {}, delete: {}, addField: {}, protectedFields: {} });
  const schema = (className: string, find: Record<string, unknown>) => ({ className, fields: {}, classLevelPermissions: clp(find), indexes: {} });
  const build = (find: Record<string, unknown>) =>
    buildReport({ config: testConfig({ ...SAFE, liveQuery: { classNames: ['Chat', 'Ghost'], maxConnectionsPerIp: 1, maxConnectionsPerUser: 1, maxSubscriptionsPerConnection: 1, maxMessageBytes: 1000 } }), registry: new CloudRegistry(), plugins: new Map(), schemas: [schema('Chat', find)] as never });
  const members = build({ 'role:members': true });
  assert.deepEqual(members.surface.liveQuery, [
    { className: 'Chat', subscribableBy: 'role members' },
    { className: 'Ghost', subscribableBy: 'nobody yet: the class is not in the database' },
  ]);
  assert.match(formatText(members), /LiveQuery \(2 classes[^\n]*\n {2}Chat: subscribable by role members/);
  const open = build({ '*': true });
  assert.deepEqual(compareWithBaseline(open, members).growth, ['class Chat: anyone may now find, get, count', 'LiveQuery class Chat: anyone may now subscribe']);
  assert.equal(buildReport({ config: testConfig(SAFE), registry: new CloudRegistry(), plugins: new Map(), schemas: [] }).surface.liveQuery, undefined);
});

test('docs/security.md lists every finding id the audit can produce', async () => {
  const dir = fileURLToPath(new URL('../src/audit/', import.meta.url));
  const ids = new Set<string>();
  for (const file of await readdir(dir)) for (const match of (await readFile(dir + file, 'utf8')).matchAll(/PSC\d{3}/g)) ids.add(match[0]);
  const docs = await readFile(fileURLToPath(new URL('../docs/security.md', import.meta.url)), 'utf8');
  const documented = new Set([...docs.matchAll(/^\| (PSC\d{3}) \|/gm)].map((match) => match[1]));
  assert.ok(ids.size >= 20);
  assert.deepEqual([...ids].filter((id) => !documented.has(id)), [], 'ids without a row in the findings table');
  assert.deepEqual([...documented].filter((id) => id !== undefined && !ids.has(id)), [], 'documented ids the audit never produces');
});
