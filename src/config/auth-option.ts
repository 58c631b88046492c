/**
 * Parse's `auth` option: per provider `true`, a module name or path, `{"module": ..., "options": {...}}`,
 * Parse's flat `{"module": ..., ...options}`, options of a built-in adapter (`{"clientId": ...}`), `oauth2:
 * true`, or `false` / `{"enabled": false}`. Shapes are checked here; each built-in adapter checks its own
 * options when the server starts. The value holds client secrets, so problems never echo it.
 */
import { PROVIDER_NAME } from '../auth-providers/adapter.ts';
import type { AuthOption } from '../auth-providers/load.ts';
import { jsonOption, type Parsed, type ValueType } from './value-types.ts';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function readEntry(name: string, entry: unknown): string | undefined {
  if (!PROVIDER_NAME.test(name)) return `"${name}" is not a valid provider name (letters, digits and _, starting with a letter, at most 40)`;
  if (typeof entry === 'boolean') return undefined;
  if (typeof entry === 'string') return entry === '' ? `${name} must not be an empty module name` : undefined;
  if (!isRecord(entry)) return `${name} must be true, false, a module name or path, or an object`;
  const { module, options, enabled } = entry;
  if (module !== undefined && (typeof module !== 'string' || module === '')) return `${name}.module must be a non-empty module name or path`;
  if (options !== undefined && !isRecord(options)) return `${name}.options must be an object`;
  if (enabled !== undefined && typeof enabled !== 'boolean') return `${name}.enabled must be true or false`;
  return undefined;
}

function readAuth(value: unknown): Parsed<AuthOption> {
  if (!isRecord(value)) return { ok: false, reason: 'must be an object of providers, like {"google": {"clientId": "..."}, "myProvider": {"module": "./auth/my-provider.js"}}' };
  const problems = Object.entries(value).map(([name, entry]) => readEntry(name, entry)).filter((problem) => problem !== undefined);
  if (problems.length > 0) return { ok: false, reason: `is invalid: ${problems.join('; ')}` };
  return { ok: true, value: Object.freeze({ ...value }) };
}

// Secret: client secrets (GitHub, Facebook app secret, introspection credentials) live in these options.
export const auth: ValueType<AuthOption> = jsonOption('{provider: true | module | {"module", "options"} | built-in options}', true, readAuth, '{"google": {"clientId": "..."}}');
