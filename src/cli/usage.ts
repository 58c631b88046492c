/**
 * `parsec help`, generated from the options table so the flags and variables listed are always the real ones.
 */
import { EXTRA_FLAGS, OPTIONS, OPTION_NAMES, type OptionName } from '../config/options.ts';

export interface CommandSummary {
  readonly name: string;
  readonly summary: string;
}

function defaultText(name: OptionName): string {
  const spec = OPTIONS[name];
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value: unknown = spec.default;
  if (value === undefined) return 'unset';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function optionLines(name: OptionName): string[] {
  const spec = OPTIONS[name];
  const names = [spec.flag, spec.env, name].filter((n): n is string => n !== undefined).join('  ');
  return [`  ${names}`, `      ${spec.help} (${spec.type.label}; default: ${defaultText(name)})`];
}

export function formatUsage(commands: readonly CommandSummary[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [
    'Usage: parsec [command] [--flag value | --flag=value ...]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options of `parsec start` (flag, environment variable, config file key):',
    ...EXTRA_FLAGS.flatMap((extra) => [`  ${[extra.flag, extra.env].filter(Boolean).join('  ')}`, `      ${extra.help}`]),
    ...OPTION_NAMES.flatMap(optionLines),
    '',
    'Precedence: defaults < config file < environment < flags.',
    'Lists in variables and flags are comma-separated; booleans are true, false, 1 or 0; object options are JSON.',
    'Parse options Parsec does not implement yet are named at startup; those whose absence would leave the',
    'app less protected than configured (requestKeywordDenylist, userSensitiveFields, encryptionKey, ...) stop the start.',
  ];
  return lines.join('\n');
}
