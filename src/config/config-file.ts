/**
 * Reads the JSON config file into a map of top-level keys. JSON.parse itself never pollutes prototypes (it
 * defines `__proto__` as an own property), but such keys are still refused anywhere in the file: a value that
 * is later spread or merged by someone else must never carry them, and a config asking for them is a mistake
 * or an attack either way.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type ConfigFile =
  | { readonly ok: true; readonly path: string; readonly entries: ReadonlyMap<string, unknown> }
  | { readonly ok: false; readonly problems: readonly string[] };

export async function readConfigFile(file: string, cwd: string): Promise<ConfigFile> {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    return { ok: false, problems: [`config file ${path} ${why}`] };
  }
  return parseConfigText(text, path);
}

/** Parses config text; `path` only names the file in messages. */
export function parseConfigText(text: string, path: string): ConfigFile {
  let root: unknown;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { ok: false, problems: [`config file ${path} is not valid JSON${jsonErrorLocation(err, text)}`] };
  }
  if (!isPlainObject(root)) return { ok: false, problems: [`config file ${path} must contain a JSON object`] };

  const problems = forbiddenKeyPaths(root, '').map(
    (keyPath) => `config file ${path}: key "${keyPath}" is not allowed (__proto__, constructor and prototype are refused anywhere)`,
  );
  const app = unwrapApps(root, path, problems);
  const entries = new Map<string, unknown>();
  if (app !== undefined) {
    for (const [name, value] of Object.entries(app)) if (!FORBIDDEN_KEYS.has(name)) entries.set(name, value);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, path, entries };
}

/** parse-server's older format `{"apps":[{...}]}` holds one app; more than one is not supported there either. */
function unwrapApps(root: Record<string, unknown>, path: string, problems: string[]): Record<string, unknown> | undefined {
  if (!Object.hasOwn(root, 'apps')) return root;
  const apps = root['apps'];
  const first: unknown = Array.isArray(apps) && apps.length === 1 ? apps[0] : undefined;
  const others = Object.keys(root).filter((name) => name !== 'apps' && !FORBIDDEN_KEYS.has(name));
  if (others.length > 0) problems.push(`config file ${path}: "apps" cannot be combined with other top-level keys (${others.join(', ')})`);
  if (!isPlainObject(first)) {
    problems.push(`config file ${path}: "apps" must be an array holding exactly one app object`);
    return undefined;
  }
  return first;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted paths of every forbidden key, at any depth, inside objects and arrays. */
function forbiddenKeyPaths(value: unknown, prefix: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item: unknown, i) => forbiddenKeyPaths(item, `${prefix}[${i}]`));
  if (!isPlainObject(value)) return [];
  return Object.keys(value).flatMap((name) => {
    const keyPath = prefix === '' ? name : `${prefix}.${name}`;
    return FORBIDDEN_KEYS.has(name) ? [keyPath] : forbiddenKeyPaths(value[name], keyPath);
  });
}

/**
 * " at line L, column C" from JSON.parse's error. The engine's own message is not repeated because newer
 * versions quote the surrounding text, which in a config file may be a key.
 */
function jsonErrorLocation(err: unknown, text: string): string {
  const position = err instanceof Error ? /position (\d+)/.exec(err.message)?.[1] : undefined;
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
