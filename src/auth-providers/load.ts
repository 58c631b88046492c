import { importAdapterModule, instantiateAdapter } from '../adapters/load-module.ts';
import { isAuthAdapter, PROVIDER_NAME, type AuthAdapter, type AuthProvider, type AuthProviders } from './adapter.ts';
import { anonymousAdapter } from './anonymous.ts';
import { appleAdapter } from './apple.ts';
import type { BuiltInFactory } from './built-in.ts';
import { facebookAdapter } from './facebook.ts';
import type { AuthFetch } from './fetch.ts';
import { githubAdapter } from './github.ts';
import { googleAdapter } from './google.ts';
import { JwksCache } from './jwks.ts';
import { oauth2Adapter } from './oauth2.ts';
import { AuthOptionError } from './options.ts';

/** Parse's `auth` option: per provider `true`, a module path, `{module, options}`, Parse's flat `{module, ...options}`, built-in options, or (in code) an adapter. */
export type AuthOption = Readonly<Record<string, unknown>>;

export const BUILT_IN_PROVIDERS: ReadonlyMap<string, BuiltInFactory> = new Map([
  ['anonymous', anonymousAdapter],
  ['apple', appleAdapter],
  ['google', googleAdapter],
  ['facebook', facebookAdapter],
  ['github', githubAdapter],
  ['oauth2', oauth2Adapter],
]);

export interface AuthLoadContext {
  /** Parse's `enableAnonymousUsers`: the `anonymous` provider exists unless this is false. */
  readonly enableAnonymousUsers: boolean;
  readonly fetch: AuthFetch;
  readonly cwd: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A provider's options: `options` when given (`{module, options}`), else the entry itself without the loader's keys (Parse's flat form). */
function optionsOf(entry: Record<string, unknown>): Readonly<Record<string, unknown>> {
  if (isRecord(entry.options)) return Object.freeze({ ...entry.options });
  return Object.freeze(Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'module' && key !== 'enabled')));
}

async function adapterFor(name: string, entry: unknown, context: AuthLoadContext, jwks: JwksCache): Promise<{ adapter: AuthAdapter; options: Readonly<Record<string, unknown>>; builtIn: boolean }> {
  const builtIn = (factory: BuiltInFactory, options: Readonly<Record<string, unknown>>) => ({
    adapter: factory({ provider: name, options, fetch: context.fetch, jwks }),
    options,
    builtIn: true,
  });
  if (entry === true) {
    const factory = BUILT_IN_PROVIDERS.get(name);
    if (factory === undefined) throw new AuthOptionError(`auth.${name}: Parsec has no built-in "${name}" adapter; give {"module": "..."}`);
    return builtIn(factory, Object.freeze({}));
  }
  if (typeof entry === 'string') entry = { module: entry };
  if (!isRecord(entry)) throw new AuthOptionError(`auth.${name} must be true, a module, or an object of options`);
  if (isAuthAdapter(entry)) return { adapter: entry, options: entry, builtIn: false };
  const options = optionsOf(entry);
  const { module } = entry;
  if (module === undefined) {
    const factory = entry.oauth2 === true ? oauth2Adapter : BUILT_IN_PROVIDERS.get(name);
    if (factory === undefined) throw new AuthOptionError(`auth.${name}: Parsec has no built-in "${name}" adapter; give "module" (a Parse Server auth adapter) or "oauth2": true`);
    return builtIn(factory, options);
  }
  if (typeof module === 'string') {
    if (module === '') throw new AuthOptionError(`auth.${name}.module must not be empty`);
    const factory = BUILT_IN_PROVIDERS.get(module);
    if (factory !== undefined) return builtIn(factory, options);
  }
  const exported = typeof module === 'string' ? await importAdapterModule(module, context.cwd) : module;
  const adapter = await instantiateAdapter(exported, options);
  if (!isAuthAdapter(adapter)) throw new AuthOptionError(`auth.${name}: the adapter has no validateAuthData function`);
  return { adapter, options, builtIn: false };
}

/**
 * Builds the provider registry at start, one adapter instance per provider (two providers never share an
 * adapter's state). Every problem stops the start with the provider's name: a login method that silently
 * failed to load would be worse. `anonymous` is there unless `enableAnonymousUsers` is false, which wins
 * over an `auth.anonymous` entry.
 */
export async function loadAuthProviders(option: AuthOption | undefined, context: AuthLoadContext): Promise<AuthProviders> {
  const jwks = new JwksCache(context.fetch);
  const providers = new Map<string, AuthProvider>();
  const entries: [string, unknown][] = Object.entries(option ?? {});
  if (context.enableAnonymousUsers && !entries.some(([name]) => name === 'anonymous')) entries.push(['anonymous', true]);
  for (const [name, entry] of entries) {
    if (!PROVIDER_NAME.test(name)) throw new AuthOptionError(`auth: "${name}" is not a valid provider name (letters, digits and _, starting with a letter, at most 40)`);
    if (entry === false || (isRecord(entry) && entry.enabled === false)) continue;
    if (name === 'anonymous' && !context.enableAnonymousUsers) continue;
    const { adapter, options, builtIn } = await adapterFor(name, entry, context, jwks);
    providers.set(name, Object.freeze({ name, adapter, options, builtIn }));
  }
  return providers;
}
