/**
 * The forms of a request path that rate-limit rules are matched against. Every spelling that reaches the
 * same route must meet the same rules (reference §7.7: `/LOGIN`, `/login/`, `/login?x=1`, `/log%69n`), so
 * rules and paths are compared after the same normalisation, and a route with two names is matched under
 * both (`POST /classes/_User` is sign-up as much as `POST /users`).
 */

/** Each segment percent-decoded (as the router decodes parameters), lower case, no empty segments. */
function segmentsOf(path: string): string[] {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment; // the router refuses it anyway (107 "Malformed URL.")
      }
    })
    .map((segment) => segment.toLowerCase())
    .filter((segment) => segment !== '');
}

/** `/Login/`, `//login` and `/log%69n` all become `/login`; the root is `/`. The query string is never part of a path. */
export function normalisePath(path: string): string {
  return `/${segmentsOf(path.split('?', 1)[0] ?? '').join('/')}`;
}

/** Server classes that have a route of their own beside `/classes/<name>` (same handler, same checks). */
const ALIASES: readonly (readonly [string, string])[] = [
  ['/users', '/classes/_user'],
  ['/roles', '/classes/_role'],
  ['/sessions', '/classes/_session'],
];

/** The normalised path and, for a server class, its other name: a rule matches if it matches either. */
export function matchablePaths(path: string): string[] {
  const normal = normalisePath(path);
  const forms = [normal];
  for (const [short, long] of ALIASES) {
    for (const [from, to] of [[short, long], [long, short]] as const) {
      if (normal === from || normal.startsWith(`${from}/`)) forms.push(to + normal.slice(from.length));
    }
  }
  return forms;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A rule's `requestPath` as a matcher of normalised paths: `*` matches anything (slashes included), a
 * trailing `/*` also matches the path without it (`/functions/*` covers `/functions/`), `:name` matches
 * one segment, everything else literally and without regard to case.
 */
export function compileRequestPath(pattern: string): RegExp {
  if (pattern === '*') return /^.*$/s;
  let source = '';
  for (const segment of segmentsOf(pattern)) {
    if (segment === '*') source += '(?:/.*)?';
    else if (segment.startsWith(':')) source += '/[^/]+';
    else source += `/${segment.split('*').map(escape).join('.*')}`;
  }
  return new RegExp(`^${source === '' ? '/' : source}$`, 's');
}
