import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Parse Server's `loadAdapter`, which published adapters (files, push, email, auth) are written against: a
 * class is constructed with the options, a factory called with them, anything else used as it is.
 */
export function instantiateAdapter(exported: unknown, options: Readonly<Record<string, unknown>>): unknown {
  if (typeof exported !== 'function') return exported;
  if (/^class[\s{]/.test(Function.prototype.toString.call(exported))) return new (exported as new (o: unknown) => unknown)(options);
  try {
    return (exported as (o: unknown) => unknown)(options);
  } catch (error) {
    // A constructor function that refuses to be called without `new` (Parse's loadAdapter does the same).
    if (error instanceof TypeError) return new (exported as new (o: unknown) => unknown)(options);
    throw error;
  }
}

/** A module named in the configuration: a package name, or a path relative to the working directory. Its default export if it has one. */
export async function importAdapterModule(specifier: string, cwd: string): Promise<unknown> {
  const resolved = specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(cwd, specifier)).href : specifier;
  const loaded = (await import(resolved)) as { default?: unknown };
  return loaded.default ?? loaded;
}

/** Imports `module` and builds the adapter with `options`; a factory may return a promise. */
export async function loadAdapterModule(module: string, options: Readonly<Record<string, unknown>>, cwd: string): Promise<unknown> {
  return instantiateAdapter(await importAdapterModule(module, cwd), options);
}
