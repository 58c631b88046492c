/**
 * Picks the subcommand from the command line. Everything after it is left to the command (for `start`, the
 * configuration loader parses the flags). Pure, so the dispatch rules are unit-tested without a process.
 */
import { didYouMean } from '../config/suggest.ts';

export const DEFAULT_COMMAND = 'start';
export const HELP_COMMAND = 'help';
export const VERSION_COMMAND = 'version';

export type Invocation =
  | { readonly kind: 'run'; readonly command: string; readonly args: readonly string[] }
  | { readonly kind: 'unknown'; readonly command: string; readonly message: string };

export function resolveInvocation(argv: readonly string[], commands: ReadonlySet<string>): Invocation {
  // Help wins wherever it appears (`parsec start --help`): asking how to use a command must never run it.
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'run', command: HELP_COMMAND, args: [] };
  const first = argv[0];
  if (first === '--version' || first === '-v') return { kind: 'run', command: VERSION_COMMAND, args: [] };
  // No subcommand, or flags straight away: `parsec --port 8080` means `parsec start --port 8080`.
  if (first === undefined || first.startsWith('-')) return { kind: 'run', command: DEFAULT_COMMAND, args: argv };
  if (commands.has(first)) return { kind: 'run', command: first, args: argv.slice(1) };
  return { kind: 'unknown', command: first, message: `unknown command ${JSON.stringify(first)}.${didYouMean(first, commands)}`.replace(/\.$/, '') };
}
