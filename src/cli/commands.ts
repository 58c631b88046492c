/**
 * The subcommand table and dispatcher. A new subcommand (e.g. `audit`) is one more entry in
 * `createCommands`; help, dispatch and did-you-mean pick it up from the table.
 */
import { HELP_COMMAND, VERSION_COMMAND, resolveInvocation } from './args.ts';
import { auditCommand, type AuditDeps } from './audit.ts';
import { EXIT_USAGE, type CliIO, type Command } from './io.ts';
import { startCommand, type StartDeps } from './start.ts';
import { formatUsage } from './usage.ts';
import { readVersion } from './version.ts';

export function createCommands(deps: StartDeps & AuditDeps): ReadonlyMap<string, Command> {
  const commands = new Map<string, Command>();
  commands.set('start', startCommand(deps));
  commands.set('audit', auditCommand(deps));
  commands.set(HELP_COMMAND, {
    summary: 'Show this help',
    run: (_args, io) => {
      io.out(usage(commands));
      return Promise.resolve(0);
    },
  });
  commands.set(VERSION_COMMAND, {
    summary: 'Print the version (also --version)',
    run: async (_args, io) => {
      io.out(await readVersion());
      return 0;
    },
  });
  return commands;
}

function usage(commands: ReadonlyMap<string, Command>): string {
  return formatUsage([...commands].map(([name, command]) => ({ name, summary: command.summary })));
}

/** Runs the command line `argv` (without node and script) and resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIO, commands: ReadonlyMap<string, Command>): Promise<number> {
  const invocation = resolveInvocation(argv, new Set(commands.keys()));
  const command = invocation.kind === 'run' ? commands.get(invocation.command) : undefined;
  if (invocation.kind === 'unknown' || command === undefined) {
    io.err(`error: ${invocation.kind === 'unknown' ? invocation.message : `unknown command ${invocation.command}`}`);
    io.err(usage(commands));
    return EXIT_USAGE;
  }
  return command.run(invocation.args, io);
}
