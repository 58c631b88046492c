import { createHmac } from 'node:crypto';
import { invalidAuthData } from './adapter.ts';
import { claimedId, type BuiltInFactory } from './built-in.ts';
import { fetchJson } from './fetch.ts';
import { verifyJwt, type JwtRules } from './jwt.ts';
import { idList } from './options.ts';

const GRAPH = 'https://graph.facebook.com';

const idOf = (value: unknown): string | undefined => {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
};

/**
 * Facebook Login. `appIds` (required, a list) are this app's Facebook app ids.
 * - `{id, access_token}`: the Graph API must say the token belongs to user `id` (`/me`) and was issued
 *   for one of `appIds` (`/app`); with `appSecret`, calls carry `appsecret_proof` as Facebook recommends.
 * - `{id, token}` (Limited Login): an OpenID Connect token verified like Google's, RS256 only, audience
 *   one of `appIds`.
 */
export const facebookAdapter: BuiltInFactory = ({ provider, options, fetch, jwks }) => {
  const appIds = idList(provider, options, 'appIds', false);
  const appSecret = typeof options.appSecret === 'string' && options.appSecret !== '' ? options.appSecret : undefined;
  const limitedLogin: JwtRules = {
    algorithm: 'RS256',
    jwksUrl: 'https://limited.facebook.com/.well-known/oauth/openid/jwks/',
    issuers: ['https://www.facebook.com', 'https://limited.facebook.com'],
    audiences: appIds,
    subjectClaim: 'sub',
  };
  const graph = (path: string, token: string): Promise<unknown> => {
    const url = new URL(`${GRAPH}/${path}`);
    url.searchParams.set('access_token', token);
    if (appSecret !== undefined) url.searchParams.set('appsecret_proof', createHmac('sha256', appSecret).update(token).digest('hex'));
    return fetchJson(fetch, url.href);
  };
  return {
    async validateAuthData(authData) {
      const id = claimedId(authData);
      if (authData.token !== undefined) {
        if ((await verifyJwt(authData.token, id, limitedLogin, jwks)) === undefined) throw invalidAuthData(provider);
        return;
      }
      const token = authData.access_token;
      if (typeof token !== 'string' || token === '') throw invalidAuthData(provider);
      const [me, app] = await Promise.all([graph('me?fields=id', token), graph('app', token)]);
      if (idOf(me) !== id) throw invalidAuthData(provider);
      const appId = idOf(app);
      if (appId === undefined || !appIds.includes(appId)) throw invalidAuthData(provider);
    },
  };
};
