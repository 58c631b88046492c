/**
 * `trustProxy`: whose `X-Forwarded-For` Parsec believes. The client address decides `masterKeyIps`, per-IP
 * rate limits and `request.ip`, so this is a security option. A list of the proxies' addresses is the safe
 * form: the header is read from the right, skipping those proxies, and the first address that is not one of
 * them is the client — whatever a client prepends itself is never reached. `true` believes the whole header
 * (the leftmost entry wins, as Express's `trust proxy: true`), which is only right when the proxy overwrites
 * the header rather than appending to it.
 */
import { ipList, type Parsed, type ValueType } from './value-types.ts';

/** false; true (every hop trusted); or the proxies' IPs, CIDR ranges and the names loopback, linklocal, uniquelocal. */
export type TrustProxy = boolean | readonly string[];

/** proxy-addr's names for the private ranges a proxy usually sits in. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function readList(entries: readonly string[]): Parsed<TrustProxy> {
  const named = entries.filter((entry) => NAMED_RANGES.has(entry));
  const addresses = entries.filter((entry) => !NAMED_RANGES.has(entry));
  const checked = ipList.fromJson(addresses);
  if (!checked.ok) return { ok: false, reason: `must be true, false, or a list of the proxies' IPs/CIDRs (or loopback, linklocal, uniquelocal): ${checked.reason}` };
  // An empty list trusts nobody: the same as false, and said so in one form.
  return { ok: true, value: entries.length === 0 ? false : Object.freeze([...named, ...checked.value]) };
}

function fromText(text: string): Parsed<TrustProxy> {
  const trimmed = text.trim();
  if (trimmed === 'true' || trimmed === '1') return { ok: true, value: true };
  if (trimmed === 'false' || trimmed === '0' || trimmed === '') return { ok: true, value: false };
  return readList(trimmed.split(',').map((part) => part.trim()));
}

export const trustProxyType: ValueType<TrustProxy> = {
  label: 'true|false|comma-separated proxy IPs/CIDRs',
  secret: false,
  fromJson: (value) => {
    if (typeof value === 'boolean') return { ok: true, value };
    // A comma string is read like the environment form (Express and Parse Server accept "loopback, 10.0.0.1").
    if (typeof value === 'string') return fromText(value);
    if (Array.isArray(value) && value.every((entry): entry is string => typeof entry === 'string')) return readList(value.map((entry) => entry.trim()));
    return { ok: false, reason: `must be true, false, or a list of the proxies' IPs/CIDRs, got ${JSON.stringify(value) ?? typeof value}` };
  },
  fromText,
};
