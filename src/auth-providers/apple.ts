import { invalidAuthData } from './adapter.ts';
import { claimedId, type BuiltInFactory } from './built-in.ts';
import { verifyJwt, type JwtRules } from './jwt.ts';
import { idList } from './options.ts';

/**
 * Sign in with Apple: `{id, token}` (the identity token). Verified against Apple's published keys (RS256
 * only), issued by Apple, for one of this app's bundle or service ids (`clientId`, required), unexpired,
 * with `sub` = id.
 */
export const appleAdapter: BuiltInFactory = ({ provider, options, jwks }) => {
  const rules: JwtRules = {
    algorithm: 'RS256',
    jwksUrl: 'https://appleid.apple.com/auth/keys',
    issuers: ['https://appleid.apple.com'],
    audiences: idList(provider, options, 'clientId', true),
    subjectClaim: 'sub',
  };
  return {
    async validateAuthData(authData) {
      if ((await verifyJwt(authData.token, claimedId(authData), rules, jwks)) === undefined) throw invalidAuthData(provider);
    },
  };
};
