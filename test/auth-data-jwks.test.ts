/**
 * The JWKS cache behind the built-in adapters, with a fake clock and fetch: one fetch per key set, shared
 * by concurrent lookups; a rotated-in key is found (refetch on an unknown kid, at most once a minute); the
 * set is refreshed after an hour; a failed refresh keeps the keys it had.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JwksCache } from '../src/auth-providers/jwks.ts';
import { verifyJwt, type JwtRules } from '../src/auth-providers/jwt.ts';
import { fakeFetch, nowSeconds, rsaKey, signToken } from './fixtures/auth/tokens.ts';

const URL_ = 'https://keys.example/jwks';

test('JWKS: shared fetch, key rotation with a refetch floor, TTL, failures keep the old set', async () => {
  const first = rsaKey('k1');
  const second = rsaKey('k2');
  let served: unknown = { keys: [first.jwk] };
  let status = 200;
  const fake = fakeFetch({ [URL_]: () => [status, served] });
  let now = 1_000_000;
  const cache = new JwksCache(fake.fetch, () => now);
  const fetches = (): number => fake.calls.length;

  const found = await Promise.all([cache.jwk(URL_, 'k1'), cache.jwk(URL_, 'k1'), cache.jwk(URL_, 'k1')]);
  assert.ok(found.every((jwk) => jwk?.kid === 'k1'));
  assert.equal(fetches(), 1, 'concurrent lookups share one fetch');

  served = { keys: [first.jwk, second.jwk] };
  assert.equal(await cache.jwk(URL_, 'k2'), undefined, 'an unknown kid right after a fetch does not fetch again');
  assert.equal(fetches(), 1);
  now += 61_000;
  assert.equal((await cache.jwk(URL_, 'k2'))?.kid, 'k2', 'a rotated-in key is found once the floor has passed');
  assert.equal(fetches(), 2);
  assert.equal(await cache.jwk(URL_, 'nope'), undefined);
  assert.equal(fetches(), 2, 'a bogus kid cannot make every request fetch');

  status = 500;
  now += 3_600_001;
  assert.equal((await cache.jwk(URL_, 'k1'))?.kid, 'k1', 'a failed refresh keeps the keys');
  assert.equal(fetches(), 3);
  status = 200;
  served = { keys: [second.jwk] };
  now += 3_600_001;
  assert.equal(await cache.jwk(URL_, 'k1'), undefined, 'after the TTL a key removed by the provider is gone');
});

test('verifyJwt accepts exp within the clock skew and refuses it beyond', async () => {
  const key = rsaKey('s1');
  const cache = new JwksCache(fakeFetch({ [URL_]: () => [200, { keys: [key.jwk] }] }).fetch);
  const rules: JwtRules = { algorithm: 'RS256', jwksUrl: URL_, issuers: ['iss'], audiences: ['aud'], subjectClaim: 'sub' };
  const token = (exp: number) => signToken(key, { iss: 'iss', aud: 'aud', sub: 'u', exp });
  assert.ok(await verifyJwt(token(nowSeconds() - 30), 'u', rules, cache));
  assert.equal(await verifyJwt(token(nowSeconds() - 90), 'u', rules, cache), undefined);
  assert.equal(await verifyJwt(token(nowSeconds() + 600), 'other', rules, cache), undefined);
});
