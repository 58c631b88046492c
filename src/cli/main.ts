/**
 * The `parsec` executable: wires the real process (argv, env, signals, exit) to the command table.
 * All decisions live in the modules it imports, which are tested without a process.
 */
import { createCommands, runCli } from './commands.ts';
import type { CliIO } from './io.ts';
import type { AuditDeps } from './audit.ts';
import type { StartDeps } from './start.ts';

const io: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
};

const deps: StartDeps & AuditDeps = {
  // Loaded on demand so `parsec help` and `--version` work without loading the server and its database.
  startServer: async (config) => (await import('../server.ts')).startServer(config),
  loadApp: async (config, options) => (await import('../audit/load-app.ts')).loadAppForAudit(config, options),
  onSignals: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  },
  exit: (code) => process.exit(code),
};

process.exitCode = await runCli(process.argv.slice(2), io, createCommands(deps));
