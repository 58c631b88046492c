import { createPublicKey, type KeyObject } from 'node:crypto';
import { fetchJson, type AuthFetch } from './fetch.ts';

/** How long a provider's key set is trusted before it is fetched again. */
const TTL_MS = 60 * 60 * 1000;
/** An unknown `kid` triggers a fresh fetch (keys rotate), but not more often than this per key set. */
const REFETCH_FLOOR_MS = 60 * 1000;

interface CachedSet {
  readonly keys: ReadonlyMap<string, Record<string, unknown>>;
  readonly fetchedAt: number;
}

function keysOf(document: unknown): Map<string, Record<string, unknown>> {
  const keys = new Map<string, Record<string, unknown>>();
  const list = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) return keys;
  for (const key of list) {
    if (typeof key !== 'object' || key === null) continue;
    const kid = (key as { kid?: unknown }).kid;
    if (typeof kid === 'string' && !keys.has(kid)) keys.set(kid, key as Record<string, unknown>);
  }
  return keys;
}

/**
 * Key sets (JWKS) by URL, fetched through the injectable fetch and cached for TTL_MS. Concurrent lookups
 * share one fetch; a failed fetch keeps the previous set (a provider blip does not log everyone out).
 */
export class JwksCache {
  private readonly sets = new Map<string, CachedSet>();
  private readonly inFlight = new Map<string, Promise<CachedSet>>();

  constructor(
    private readonly fetcher: AuthFetch,
    private readonly now: () => number = Date.now,
  ) {}

  private refresh(url: string): Promise<CachedSet> {
    const running = this.inFlight.get(url);
    if (running !== undefined) return running;
    const fetching = (async () => {
      const document = await fetchJson(this.fetcher, url);
      const keys = keysOf(document);
      const previous = this.sets.get(url);
      const set = keys.size > 0 || previous === undefined ? { keys, fetchedAt: this.now() } : { ...previous, fetchedAt: this.now() };
      this.sets.set(url, set);
      return set;
    })().finally(() => this.inFlight.delete(url));
    this.inFlight.set(url, fetching);
    return fetching;
  }

  /** The public key `kid` of the set at `url`, as a JWK object, or undefined. */
  async jwk(url: string, kid: string): Promise<Record<string, unknown> | undefined> {
    let set = this.sets.get(url);
    const age = set === undefined ? Infinity : this.now() - set.fetchedAt;
    if (set === undefined || age > TTL_MS) set = await this.refresh(url);
    else if (!set.keys.has(kid) && age > REFETCH_FLOOR_MS) set = await this.refresh(url);
    return set.keys.get(kid);
  }
}

/** A JWK as a key object, or undefined when it is not a usable public key. */
export function publicKeyFromJwk(jwk: Record<string, unknown>): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}
