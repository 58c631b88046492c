import { invalidAuthData } from './adapter.ts';
import { claimedId, type BuiltInFactory } from './built-in.ts';
import { fetchJson } from './fetch.ts';
import { requiredString } from './options.ts';

/**
 * GitHub: `{id, access_token}`. GitHub's "check a token" API, authenticated with this app's OAuth client id
 * and secret (both required), answers only for tokens issued to this app and names their user: that user's
 * id must be `id`. A token issued to any other app is refused (asking `/user` would accept it).
 */
export const githubAdapter: BuiltInFactory = ({ provider, options, fetch }) => {
  const clientId = requiredString(provider, options, 'clientId');
  const clientSecret = requiredString(provider, options, 'clientSecret');
  const url = `https://api.github.com/applications/${encodeURIComponent(clientId)}/token`;
  const authorization = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  return {
    async validateAuthData(authData) {
      const token = authData.access_token;
      if (typeof token !== 'string' || token === '') throw invalidAuthData(provider);
      const answer = await fetchJson(fetch, url, {
        method: 'POST',
        headers: { authorization, accept: 'application/vnd.github+json', 'content-type': 'application/json', 'user-agent': 'parsec' },
        body: JSON.stringify({ access_token: token }),
      });
      const record = typeof answer === 'object' && answer !== null ? (answer as { user?: { id?: unknown }; app?: { client_id?: unknown } }) : undefined;
      const userId = record?.user?.id;
      if ((typeof userId !== 'number' && typeof userId !== 'string') || String(userId) !== claimedId(authData)) throw invalidAuthData(provider);
      if (record?.app?.client_id !== undefined && record.app.client_id !== clientId) throw invalidAuthData(provider);
    },
  };
};
