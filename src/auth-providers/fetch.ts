/**
 * The one way auth providers reach the network. Built-in adapters call only URLs fixed in code or in the
 * server's configuration (never one a client or a token names), through this function, so tests replace it
 * with an offline double and an operator can route it through a proxy.
 */
export interface AuthFetchInit {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface AuthFetchResponse {
  readonly status: number;
  json(): Promise<unknown>;
}

export type AuthFetch = (url: string, init?: AuthFetchInit) => Promise<AuthFetchResponse>;

/** A provider that does not answer within this time fails the login instead of holding the request. */
const TIMEOUT_MS = 10_000;

export const defaultAuthFetch: AuthFetch = async (url, init = {}) => {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: response.status, json: () => response.json() as Promise<unknown> };
};

/** The JSON of a 2xx answer, or undefined for anything else (an error status, a body that is not JSON, a network failure). */
export async function fetchJson(fetcher: AuthFetch, url: string, init?: AuthFetchInit): Promise<unknown> {
  try {
    const response = await fetcher(url, init);
    if (response.status < 200 || response.status > 299) return undefined;
    return await response.json();
  } catch {
    return undefined;
  }
}
