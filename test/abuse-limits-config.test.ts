/**
 * The abuse-limit options as configuration: `rateLimit` and `requestComplexity` from a config file, the
 * environment and code, their defaults, and strict validation (every problem named at start, with a
 * did-you-mean for misspelt keys). Also the unit-level pieces the HTTP tests rely on: path normalisation,
 * rule paths, and the regular expression guard, each with a property test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadConfig, type LoadResult } from '../src/config/load.ts';
import { DEFAULT_RATE_LIMIT } from '../src/config/rate-limit-option.ts';
import { DEFAULT_REQUEST_COMPLEXITY } from '../src/config/request-complexity-option.ts';
import { UNSUPPORTED_OPTIONS } from '../src/config/unsupported.ts';
import { formatUsage } from '../src/cli/usage.ts';
import { expandLiteralQuotes } from '../src/query/parse-where.ts';
import { regexHazard } from '../src/query/regex-guard.ts';
import { compileRequestPath, matchablePaths, normalisePath } from '../src/security/request-path.ts';
import { createParsec } from '../src/server.ts';
import { FUZZ_SEED, fuzzParameters } from './helpers/fuzz.ts';
import { testConfig } from './helpers/server.ts';

const MASTER = 'Str0ng-Master-Key-For-Tests-0123456789';

async function load(content: Record<string, unknown>, env: Record<string, string> = {}): Promise<LoadResult> {
  const cwd = await mkdtemp(join(tmpdir(), 'parsec-abuse-'));
  const file = join(cwd, 'config.json');
  await writeFile(file, JSON.stringify({ appId: 'a', masterKey: MASTER, ...content }));
  return loadConfig({ argv: ['--config', file], env, cwd });
}

function ok(result: LoadResult): Extract<LoadResult, { ok: true }> {
  if (!result.ok) assert.fail(`expected a valid configuration, got:\n${result.problems.join('\n')}`);
  return result;
}

function problems(result: LoadResult): string {
  if (result.ok) assert.fail('expected problems, but the configuration loaded');
  return result.problems.join('\n');
}

test('rateLimit: on by default; [], false and null turn it off; one rule or an array; JSON or false in PARSEC_RATE_LIMIT', async () => {
  assert.deepEqual(ok(await load({})).config.rateLimit, DEFAULT_RATE_LIMIT);
  for (const off of [[], false, null]) assert.deepEqual(ok(await load({ rateLimit: off })).config.rateLimit, [], JSON.stringify(off));
  const one = { requestPath: '/functions/*', requestTimeWindow: 1000, requestCount: 2, requestMethods: 'post|get', zone: 'user', errorResponseMessage: 'Slow.', includeMasterKey: true, includeInternalRequests: false };
  assert.deepEqual(ok(await load({ rateLimit: one })).config.rateLimit, [{ ...one, requestMethods: ['POST', 'GET'] }]);
  assert.deepEqual(ok(await load({}, { PARSEC_RATE_LIMIT: 'false' })).config.rateLimit, []);
  assert.deepEqual(ok(await load({}, { PARSEC_RATE_LIMIT: '[{"requestPath":"/login","requestTimeWindow":60000,"requestCount":3}]' })).config.rateLimit, [
    { requestPath: '/login', requestTimeWindow: 60000, requestCount: 3 },
  ]);
  assert.match(problems(await load({}, { PARSEC_RATE_LIMIT: '{not json' })), /PARSEC_RATE_LIMIT must be JSON/);
  // No longer an unimplemented option: it loads without the "less protected" error.
  assert.equal(UNSUPPORTED_OPTIONS.has('rateLimit'), false);
  assert.equal(UNSUPPORTED_OPTIONS.has('requestComplexity'), false);
});

test('rateLimit: every problem of every rule is named, with a did-you-mean for misspelt keys', async () => {
  const text = problems(
    await load({
      rateLimit: [
        { requstPath: '/login', requestTimeWindow: 60000, requestCount: 3 },
        { requestPath: 'login', requestTimeWindow: -1, requestCount: 1.5 },
        { requestPath: '/x', requestTimeWindow: '60000', requestCount: 0, requestMethods: ['PATCH'], zone: 'planet', includeMasterKey: 'yes' },
        { requestPath: '/x/:bad-name', requestTimeWindow: 1, requestCount: 1, redisUrl: 'redis://cache' },
        { requestPath: '/parse/login', requestTimeWindow: 1, requestCount: 1 },
        'not a rule',
      ],
    }),
  );
  for (const expected of [
    /rateLimit\[0\]: "requstPath" is not one of its fields\. Did you mean "requestPath"\?/,
    /rateLimit\[0\]\.requestPath is required/,
    /rateLimit\[1\]\.requestPath must start with "\/"/,
    /rateLimit\[1\]\.requestTimeWindow must be a positive number of milliseconds/,
    /rateLimit\[1\]\.requestCount must be a whole number >= 1/,
    /rateLimit\[2\]\.requestTimeWindow must be a positive number/,
    /rateLimit\[2\]\.requestMethods may only contain GET, POST, PUT, DELETE/,
    /rateLimit\[2\]\.zone must be one of ip, user, session, global/,
    /rateLimit\[2\]\.includeMasterKey must be true or false/,
    /rateLimit\[3\]\.requestPath has an invalid parameter segment/,
    /rateLimit\[3\]\.redisUrl: not a per-rule setting in Parsec/,
    /rateLimit\[5\] must be an object/,
  ]) {
    assert.match(text, expected);
  }
  // Paths are relative to the mount path, as in Parse: a rule naming it would never match.
  assert.match(problems(await load({ rateLimit: [{ requestPath: '/parse/login', requestTimeWindow: 1, requestCount: 1 }] })), /includes the mount path.*write "\/login"/);
});

test('requestComplexity: defaults, partial objects keep the others, -1 is no limit, Parse\'s queryDepth/batchRequestLimit spellings', async () => {
  assert.deepEqual(ok(await load({})).config.requestComplexity, DEFAULT_REQUEST_COMPLEXITY);
  const partial = ok(await load({ requestComplexity: { includeDepth: 3, queryArraySize: -1, graphQLDepth: 50, graphQLFields: -1 } })).config;
  assert.deepEqual(partial.requestComplexity, { ...DEFAULT_REQUEST_COMPLEXITY, includeDepth: 3, queryArraySize: -1 });
  const parseNames = ok(await load({ requestComplexity: { queryDepth: 4, batchRequestLimit: 7 } })).config;
  assert.equal(parseNames.queryDepth, 4);
  assert.equal(parseNames.batchRequestLimit, 7);
  assert.equal('queryDepth' in parseNames.requestComplexity, false);
  const fromEnv = ok(await load({}, { PARSEC_REQUEST_COMPLEXITY: '{"subqueryDepth": 2}' })).config;
  assert.equal(fromEnv.requestComplexity.subqueryDepth, 2);
  const text = problems(await load({ requestComplexity: { includDepth: 3, includeCount: 0, regexLength: 2.5, queryDepth: -1, subqueryDepth: '5' } }));
  for (const expected of [
    /"includDepth" is not one of its fields\. Did you mean "includeDepth"\?/,
    /includeCount must be a whole number >= 1, or -1 for no limit/,
    /regexLength must be a whole number >= 1, or -1/,
    /queryDepth must be a whole number >= 1 \(Parsec always bounds it/,
    /subqueryDepth must be a whole number/,
  ]) {
    assert.match(text, expected);
  }
  assert.match(problems(await load({ requestComplexity: [] })), /requestComplexity must be an object/);
  assert.match(problems(await load({ queryDepth: 6, requestComplexity: { queryDepth: 4 } })), /requestComplexity\.queryDepth \(4\) and queryDepth \(6\) set the same limit/);
});

test('explain options: Parsec always keeps explain to the master key, so Parse\'s switches only warn', async () => {
  for (const [name, value] of [['allowPublicExplain', false], ['allowPublicExplain', true], ['nonMasterExplain', false]] as const) {
    const { warnings } = ok(await load({ [name]: value }));
    assert.ok(warnings.some((warning) => warning.includes(`${name}:`) && warning.includes('master key')), warnings.join('\n'));
  }
});

test('parsec help lists both options with their defaults', () => {
  const text = formatUsage([{ name: 'start', summary: 'Start' }]);
  assert.match(text, /PARSEC_RATE_LIMIT {2}rateLimit/);
  assert.match(text, /PARSEC_REQUEST_COMPLEXITY {2}requestComplexity/);
  assert.match(text, /default: per client IP: \/login and \/verifyPassword 20 a minute/);
  assert.match(text, /"includeDepth":5,"includeCount":20,"subqueryDepth":5,"queryArraySize":1000,"regexLength":1000/);
});

test('a config given in code is checked at start like a config file', async () => {
  const bad = testConfig({ rateLimit: [{ requestPath: '/login', requestTimeWindow: 1000, requestCount: 3, zone: 'planet' as never }] });
  await assert.rejects(createParsec(bad), /Invalid rateLimit configuration:\nrateLimit\[0\]\.zone must be one of/);
  const worse = testConfig({ requestComplexity: { ...DEFAULT_REQUEST_COMPLEXITY, includeDepth: 0 } });
  await assert.rejects(createParsec(worse), /Invalid requestComplexity configuration: .*includeDepth must be a whole number/);
});

// --- the pieces the HTTP tests rely on, as properties --------------------------------------------------------

/** Spellings of `path` that reach the same route: any case, percent-encoded letters, extra and trailing slashes, a query string. */
const spellings = (path: string): fc.Arbitrary<string> =>
  fc
    .record({
      chars: fc.array(fc.constantFrom('same', 'upper', 'lower', 'encoded'), { minLength: path.length, maxLength: path.length }),
      doubled: fc.boolean(),
      trailing: fc.constantFrom('', '/', '//'),
      search: fc.constantFrom('', '?x=1', '?where=%7B%7D&_method=GET'),
    })
    .map(({ chars, doubled, trailing, search }) => {
      const body = [...path]
        .map((char, index) => {
          if (char === '/') return doubled && index === 0 ? '//' : '/';
          const how = chars[index];
          if (how === 'upper') return char.toUpperCase();
          if (how === 'lower') return char.toLowerCase();
          if (how === 'encoded') return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
          return char;
        })
        .join('');
      return `${body}${trailing}${search}`;
    });

test(`property: every spelling of a limited path meets its rule (seed ${FUZZ_SEED})`, () => {
  for (const [path, rule] of [['/login', '/login'], ['/functions/pingLimited', '/functions/*'], ['/classes/_User', '/users'], ['/users/abc', '/classes/_User/:id'], ['/requestPasswordReset', '/REQUESTPASSWORDRESET/']] as const) {
    const matcher = compileRequestPath(rule);
    fc.assert(
      fc.property(spellings(path), (spelt) => {
        assert.ok(matchablePaths(spelt).some((form) => matcher.test(form)), `${spelt} → ${JSON.stringify(matchablePaths(spelt))} does not meet ${rule}`);
        assert.equal(normalisePath(spelt), normalisePath(path).toLowerCase());
      }),
      fuzzParameters(200),
    );
  }
  assert.equal(compileRequestPath('/login').test(normalisePath('/login/extra')), false, 'a rule is anchored at both ends');
  assert.equal(compileRequestPath('/classes/:className').test('/classes/a/b'), false, ':name is one segment');
});

test(`property: the regular expression guard refuses every nested repetition, accepts it un-nested, never throws (seed ${FUZZ_SEED})`, () => {
  const atom = fc.constantFrom('a', '\\w', '[a-z]', '.', '(?:ab)', '\\d', '[^x]');
  const inner = fc.constantFrom('*', '+', '?', '{1,5}', '{2,}', '*?');
  const outer = fc.constantFrom('*', '+', '{2,9}', '{3}', '+?');
  fc.assert(
    fc.property(atom, inner, outer, fc.constantFrom('', 'x', '^'), fc.constantFrom('', '$', 'b'), (a, i, o, prefix, suffix) => {
      assert.match(regexHazard(`${prefix}(${a}${i}c?)${o}${suffix}`) ?? '', /nests quantifiers/);
      assert.match(regexHazard(`${prefix}((${a}${i})x)${o}${suffix}`) ?? '', /nests quantifiers/);
      assert.equal(regexHazard(`${prefix}(${a}x)${o}${a}${i}${suffix}`), undefined);
      // The SDKs quote literal text; once expanded it holds no quantifier at all.
      assert.equal(regexHazard(expandLiteralQuotes(`${prefix}\\Q(${a}${i})${o}\\E`)), undefined);
    }),
    fuzzParameters(300),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (pattern) => {
      const hazard = regexHazard(pattern);
      assert.ok(hazard === undefined || typeof hazard === 'string');
    }),
    fuzzParameters(500),
  );
});
