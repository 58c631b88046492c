import { invalidAuthData } from './adapter.ts';
import { claimedId, type BuiltInFactory } from './built-in.ts';
import { fetchJson } from './fetch.ts';
import { verifyJwt, type JwtAlgorithm, type JwtRules } from './jwt.ts';
import { AuthOptionError, httpsUrl, idList, requiredString } from './options.ts';

const ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'ES256'];

function idFieldOf(provider: string, options: Readonly<Record<string, unknown>>): string {
  return options.useridField === undefined ? 'sub' : requiredString(provider, options, 'useridField');
}

/**
 * Any OpenID Connect provider (Keycloak, Auth0, Okta, Azure AD…), chosen with `oauth2: true` (Parse's switch)
 * or `module: "oauth2"`. Two ways to verify, each with an audience check:
 * - `jwksUri` + `issuer` + `clientId`: `{id, id_token}` verified locally like Google's; `algorithm` is pinned
 *   (RS256 by default, or ES256); `useridField` names the claim that must equal `id` (default `sub`).
 * - `tokenIntrospectionEndpointUrl` (Parse's oauth2 adapter): `{id, access_token}` posted to the endpoint
 *   (with `authorizationHeader` when given); the answer must be `active`, its `useridField` (default `sub`)
 *   must equal `id`, and its `appidField` must name one of `appIds` (both required).
 */
export const oauth2Adapter: BuiltInFactory = ({ provider, options, fetch, jwks }) => {
  const useridField = idFieldOf(provider, options);
  if (options.jwksUri !== undefined) {
    const algorithm = options.algorithm ?? 'RS256';
    if (!ALGORITHMS.includes(algorithm as JwtAlgorithm)) throw new AuthOptionError(`auth.${provider}.algorithm must be one of ${ALGORITHMS.join(', ')}`);
    const rules: JwtRules = {
      algorithm: algorithm as JwtAlgorithm,
      jwksUrl: httpsUrl(provider, options, 'jwksUri'),
      issuers: [requiredString(provider, options, 'issuer')],
      audiences: idList(provider, options, 'clientId', true),
      subjectClaim: useridField,
    };
    return {
      async validateAuthData(authData) {
        if ((await verifyJwt(authData.id_token, claimedId(authData), rules, jwks)) === undefined) throw invalidAuthData(provider);
      },
    };
  }
  if (options.tokenIntrospectionEndpointUrl === undefined) {
    throw new AuthOptionError(`auth.${provider} needs jwksUri (with issuer and clientId) or tokenIntrospectionEndpointUrl (with appidField and appIds)`);
  }
  const endpoint = httpsUrl(provider, options, 'tokenIntrospectionEndpointUrl');
  const appidField = requiredString(provider, options, 'appidField');
  const appIds = idList(provider, options, 'appIds', false);
  const authorization = options.authorizationHeader === undefined ? undefined : requiredString(provider, options, 'authorizationHeader');
  return {
    async validateAuthData(authData) {
      const token = authData.access_token;
      if (typeof token !== 'string' || token === '') throw invalidAuthData(provider);
      const answer = await fetchJson(fetch, endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: new URLSearchParams({ token }).toString(),
      });
      if (typeof answer !== 'object' || answer === null) throw invalidAuthData(provider);
      const record = answer as Record<string, unknown>;
      const subject = Object.hasOwn(record, useridField) ? record[useridField] : undefined;
      if (record.active !== true || (typeof subject !== 'string' && typeof subject !== 'number') || String(subject) !== claimedId(authData)) throw invalidAuthData(provider);
      const app = Object.hasOwn(record, appidField) ? record[appidField] : undefined;
      const apps = Array.isArray(app) ? app : [app];
      if (!apps.some((value) => typeof value === 'string' && appIds.includes(value))) throw invalidAuthData(provider);
    },
  };
};
