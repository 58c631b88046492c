import { invalidAuthData } from './adapter.ts';
import { claimedId, type BuiltInFactory } from './built-in.ts';
import { verifyJwt, type JwtRules } from './jwt.ts';
import { idList } from './options.ts';

/**
 * Google Sign-In: `{id, id_token}`. The ID token is verified against Google's published keys (RS256 only),
 * issued by Google, for one of this app's client ids (`clientId`, required), unexpired, with `sub` = id.
 */
export const googleAdapter: BuiltInFactory = ({ provider, options, jwks }) => {
  const rules: JwtRules = {
    algorithm: 'RS256',
    jwksUrl: 'https://www.googleapis.com/oauth2/v3/certs',
    issuers: ['accounts.google.com', 'https://accounts.google.com'],
    audiences: idList(provider, options, 'clientId', true),
    subjectClaim: 'sub',
  };
  return {
    async validateAuthData(authData) {
      if ((await verifyJwt(authData.id_token, claimedId(authData), rules, jwks)) === undefined) throw invalidAuthData(provider);
    },
  };
};
