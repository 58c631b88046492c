/**
 * The built-in auth adapters, offline: Google, Apple, Facebook (Graph API and Limited Login), GitHub and
 * OAuth2/OpenID Connect (JWKS and token introspection). Providers are replaced by a fake fetch serving key
 * sets and API answers; tokens are signed here. Each adapter must accept a valid token and refuse a wrong
 * audience, an expired token and a wrong algorithm (HMAC with the public key, `none`, another key type),
 * among others, over HTTP, creating nothing when it refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call } from './helpers/http.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { ecKey, fakeFetch, hmacWithPublicKey, nowSeconds, rsaKey, signToken, unsignedToken, type SigningKey } from './fixtures/auth/tokens.ts';

const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const APPLE_JWKS = 'https://appleid.apple.com/auth/keys';
const FACEBOOK_JWKS = 'https://limited.facebook.com/.well-known/oauth/openid/jwks/';
const IDP_JWKS = 'https://idp.example/jwks';

const keys = {
  google: rsaKey('google-1'),
  apple: rsaKey('apple-1'),
  facebook: rsaKey('facebook-1'),
  idp: ecKey('idp-ec'),
  idpRsa: rsaKey('idp-rsa'),
  attacker: rsaKey('google-1'),
  attackerEc: ecKey('google-1'),
};

const AUTH = {
  google: { clientId: 'google-client' },
  apple: { clientId: ['com.example.app', 'com.example.web'] },
  facebook: { appIds: ['fb-app'], appSecret: 'fb-secret' },
  github: { clientId: 'gh-client', clientSecret: 'gh-secret' },
  keycloak: { oauth2: true, jwksUri: IDP_JWKS, issuer: 'https://idp.example', clientId: 'my-app', algorithm: 'ES256' },
  introspected: { oauth2: true, tokenIntrospectionEndpointUrl: 'https://idp.example/introspect', appidField: 'aud', appIds: ['my-app'], authorizationHeader: 'Basic aW50cm86c2VjcmV0' },
};

const bodyOf = (init: { body?: string } | undefined): string => init?.body ?? '';

function providers() {
  return fakeFetch({
    [GOOGLE_JWKS]: () => [200, { keys: [keys.google.jwk] }],
    [APPLE_JWKS]: () => [200, { keys: [keys.apple.jwk] }],
    [FACEBOOK_JWKS]: () => [200, { keys: [keys.facebook.jwk] }],
    [IDP_JWKS]: () => [200, { keys: [keys.idp.jwk, keys.idpRsa.jwk] }],
    'https://graph.facebook.com/me': (url) => {
      const token = url.searchParams.get('access_token');
      return token === 'fb-good' || token === 'fb-other-app' ? [200, { id: 'fb-user' }] : [400, { error: { message: 'Invalid OAuth access token.' } }];
    },
    'https://graph.facebook.com/app': (url) => {
      const token = url.searchParams.get('access_token');
      if (token === 'fb-good') return [200, { id: 'fb-app' }];
      if (token === 'fb-other-app') return [200, { id: 'someone-elses-app' }];
      return [400, {}];
    },
    'https://api.github.com/applications/gh-client/token': (_url, init) => {
      if (init?.headers?.authorization !== `Basic ${Buffer.from('gh-client:gh-secret').toString('base64')}`) return [401, {}];
      const token = (JSON.parse(bodyOf(init)) as { access_token?: string }).access_token;
      // GitHub answers 404 for a token this app did not issue.
      return token === 'gh-good' ? [200, { user: { id: 4242 }, app: { client_id: 'gh-client' } }] : [404, { message: 'Not Found' }];
    },
    'https://idp.example/introspect': (_url, init) => {
      if (init?.headers?.authorization !== AUTH.introspected.authorizationHeader) return [401, {}];
      const token = new URLSearchParams(bodyOf(init)).get('token');
      if (token === 'intro-good') return [200, { active: true, sub: 'intro-user', aud: ['my-app', 'account'] }];
      if (token === 'intro-other-app') return [200, { active: true, sub: 'intro-user', aud: 'their-app' }];
      if (token === 'intro-inactive') return [200, { active: false, sub: 'intro-user', aud: 'my-app' }];
      return [200, { active: false }];
    },
  });
}

interface JwtProvider {
  readonly name: 'google' | 'apple' | 'facebook' | 'keycloak';
  readonly key: SigningKey;
  readonly issuer: string;
  readonly audience: string;
  /** Where the token goes in authData. */
  readonly field: 'id_token' | 'token';
  /** A key of the other family whose kid is in the set, for "a valid signature with the wrong algorithm". */
  readonly otherAlgorithm: SigningKey;
}

const JWT_PROVIDERS: JwtProvider[] = [
  { name: 'google', key: keys.google, issuer: 'https://accounts.google.com', audience: 'google-client', field: 'id_token', otherAlgorithm: keys.attackerEc },
  { name: 'apple', key: keys.apple, issuer: 'https://appleid.apple.com', audience: 'com.example.web', field: 'token', otherAlgorithm: ecKey('apple-1') },
  { name: 'facebook', key: keys.facebook, issuer: 'https://www.facebook.com', audience: 'fb-app', field: 'token', otherAlgorithm: ecKey('facebook-1') },
  { name: 'keycloak', key: keys.idp, issuer: 'https://idp.example', audience: 'my-app', field: 'id_token', otherAlgorithm: keys.idpRsa },
];

for (const engine of engines()) {
  describe(`built-in auth adapters, offline (${engine})`, () => {
    let server: TestServer;
    let fake: ReturnType<typeof providers>;
    before(async () => {
      fake = providers();
      server = await startTestServer(engine, { rateLimit: [], auth: AUTH }, { authFetch: fake.fetch });
    });
    after(async () => server.stop());

    const logIn = (provider: string, authData: Record<string, unknown>) => call(server.url, '/users', { method: 'POST', body: { authData: { [provider]: authData } } });
    async function userCount(): Promise<number> {
      const { rows } = await server.parsec.services.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM "_User"');
      return rows[0]?.n ?? -1;
    }
    async function assertRefusedAll(provider: string, cases: [string, Record<string, unknown>][]): Promise<void> {
      const count = await userCount();
      for (const [label, authData] of cases) {
        const answer = await logIn(provider, authData);
        assert.equal(answer.status, 404, `${provider} ${label}: ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.deepEqual(answer.body, { code: 101, error: `${provider} auth is invalid for this user.` }, `${provider} ${label}`);
      }
      assert.equal(await userCount(), count, `${provider}: no refused token created a user`);
    }
    async function storedAuthData(userId: string): Promise<unknown> {
      const { rows } = await server.parsec.services.driver.query<{ authData: unknown }>('SELECT "authData" FROM "_User" WHERE "objectId" = $1', [userId]);
      return rows[0]?.authData;
    }

    for (const provider of JWT_PROVIDERS) {
      test(`${provider.name}: a valid token signs up then logs in; wrong audience, expired, wrong algorithm and the rest are refused`, async () => {
        const subject = `${provider.name}-user-${engine}`;
        const claims = (extra: Record<string, unknown> = {}) => ({ iss: provider.issuer, aud: provider.audience, sub: subject, iat: nowSeconds(), exp: nowSeconds() + 600, ...extra });
        const withToken = (token: string, id = subject) => ({ id, [provider.field]: token });
        await assertRefusedAll(provider.name, [
          ['wrong audience', withToken(signToken(provider.key, claims({ aud: 'another-app' })))],
          ['audience list without this app', withToken(signToken(provider.key, claims({ aud: ['another-app', 'third'] })))],
          ['expired', withToken(signToken(provider.key, claims({ exp: nowSeconds() - 3600 })))],
          ['no expiry', withToken(signToken(provider.key, claims({ exp: undefined })))],
          ['not yet valid', withToken(signToken(provider.key, claims({ nbf: nowSeconds() + 3600 })))],
          ['wrong algorithm: HS256 with the public key as secret', withToken(hmacWithPublicKey(provider.key, claims()))],
          ['wrong algorithm: none', withToken(unsignedToken(provider.key.kid, claims()))],
          ['wrong algorithm: the other key family', withToken(signToken(provider.otherAlgorithm, claims()))],
          ['header alg says one thing, key is another', withToken(signToken(provider.otherAlgorithm, claims(), { alg: provider.key.alg }))],
          ['wrong issuer', withToken(signToken(provider.key, claims({ iss: 'https://evil.example' })))],
          ['token of another user', withToken(signToken(provider.key, claims({ sub: 'someone-else' })))],
          ['signed by an unknown key with a known kid', withToken(signToken(provider.name === 'keycloak' ? ecKey(provider.key.kid) : rsaKey(provider.key.kid), claims()))],
          ['unknown kid', withToken(signToken(provider.key, claims(), { kid: 'rotated-away' }))],
          ['jku pointing elsewhere', withToken(signToken(keys.attacker, claims(), { kid: 'attacker', jku: 'https://evil.example/jwks' }))],
          ['tampered payload', withToken(signToken(provider.key, claims()).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify(claims({ sub: 'x' }))).toString('base64url')}.`), 'x')],
          ['garbage', withToken('not.a.token')],
          ['not a string', { id: subject, [provider.field]: { $ne: null } }],
          ['missing token', { id: subject }],
        ]);
        const created = await logIn(provider.name, withToken(signToken(provider.key, claims())));
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(await storedAuthData(created.body.objectId), { [provider.name]: { id: subject } }, 'the token is not stored');
        const again = await logIn(provider.name, withToken(signToken(provider.key, claims({ exp: nowSeconds() + 30 }))));
        assert.equal(again.status, 200);
        assert.equal(again.body.objectId, created.body.objectId);
        assert.deepEqual(again.body.authData, { [provider.name]: { id: subject } });
        const expiredLogin = await logIn(provider.name, withToken(signToken(provider.key, claims({ exp: nowSeconds() - 3600 }))));
        assert.equal(expiredLogin.body.code, 101, 'an expired token never logs in, even to a linked account');
      });
    }

    test('JWKS are fetched through the injected fetch once and cached', () => {
      for (const url of [GOOGLE_JWKS, APPLE_JWKS, FACEBOOK_JWKS, IDP_JWKS]) {
        const fetches = fake.calls.filter((c) => c.url === url).length;
        assert.equal(fetches, 1, `${url} fetched ${fetches} times`);
      }
      assert.ok(!fake.calls.some((c) => c.url.includes('evil.example')), 'a token never chooses where keys come from');
    });

    test('facebook (Graph API): the token must belong to the user and to this app; appsecret_proof is sent', async () => {
      await assertRefusedAll('facebook', [
        ['token issued to another app (GHSA-837q-jhwx-cmpv)', { id: 'fb-user', access_token: 'fb-other-app' }],
        ['token of another user', { id: 'fb-someone-else', access_token: 'fb-good' }],
        ['invalid token', { id: 'fb-user', access_token: 'fb-expired' }],
        ['no token', { id: 'fb-user' }],
      ]);
      const created = await logIn('facebook', { id: 'fb-user', access_token: 'fb-good' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(await storedAuthData(created.body.objectId), { facebook: { id: 'fb-user' } }, 'the access token is not stored');
      const me = fake.calls.find((c) => c.url.startsWith('https://graph.facebook.com/me'));
      assert.match(me?.url ?? '', /appsecret_proof=[0-9a-f]{64}/);
    });

    test('github: the token must be one this app issued (checked with the client secret) and name the user', async () => {
      await assertRefusedAll('github', [
        ['token of another app', { id: '4242', access_token: 'gh-foreign' }],
        ['token of another user', { id: '1', access_token: 'gh-good' }],
        ['no token', { id: '4242' }],
        ['not a string', { id: '4242', access_token: ['gh-good'] }],
      ]);
      const created = await logIn('github', { id: '4242', access_token: 'gh-good' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(await storedAuthData(created.body.objectId), { github: { id: '4242' } });
    });

    test('oauth2 with token introspection: active, this user (GHSA-fr88-w35c-r596), this app', async () => {
      await assertRefusedAll('introspected', [
        ['token of another app', { id: 'intro-user', access_token: 'intro-other-app' }],
        ['inactive token', { id: 'intro-user', access_token: 'intro-inactive' }],
        ['token of another user', { id: 'someone-else', access_token: 'intro-good' }],
        ['unknown token', { id: 'intro-user', access_token: 'made-up' }],
      ]);
      const created = await logIn('introspected', { id: 'intro-user', access_token: 'intro-good' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const sent = fake.calls.filter((c) => c.url === 'https://idp.example/introspect').at(-1);
      assert.equal(new URLSearchParams(bodyOf(sent?.init)).get('token'), 'intro-good', 'the access token is what is introspected (GHSA-69xg-f649-w5g2)');
    });

    test('a provider that does not answer fails the log-in with 101, never a 5xx', async () => {
      const down = fakeFetch({});
      const offline = await startTestServer(engine, { rateLimit: [], auth: { google: AUTH.google, github: AUTH.github } }, { authFetch: down.fetch });
      try {
        const claims = { iss: 'https://accounts.google.com', aud: 'google-client', sub: 'g', exp: nowSeconds() + 600 };
        for (const [provider, authData] of [
          ['google', { id: 'g', id_token: signToken(keys.google, claims) }],
          ['github', { id: '4242', access_token: 'gh-good' }],
        ] as const) {
          const answer = await call(offline.url, '/users', { method: 'POST', body: { authData: { [provider]: authData } } });
          assert.equal(answer.status, 404, JSON.stringify(answer.body));
          assert.equal(answer.body.code, 101);
        }
      } finally {
        await offline.stop();
      }
    });
  });
}
