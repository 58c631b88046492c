/**
 * `parsec start`: load the configuration, start the server, print how to reach it, and close it on
 * SIGINT/SIGTERM. The server and the process hooks are injected, so this runs in tests without either.
 */
import { loadConfig } from '../config/load.ts';
import type { ParsecConfig } from '../config/types.ts';
import { startupLines } from './banner.ts';
import { EXIT_USAGE, type CliIO, type Command } from './io.ts';
import { createShutdown } from './shutdown.ts';
import { readVersion } from './version.ts';

/** The part of src/server.ts's RunningServer the CLI uses. */
export interface ServerHandle {
  readonly url: string;
  close(): Promise<void>;
}

export interface StartDeps {
  readonly startServer: (config: ParsecConfig) => Promise<ServerHandle>;
  /** Calls `handler` on every SIGINT and SIGTERM. */
  readonly onSignals: (handler: (signal: string) => void) => void;
  /** Ends the process. After a close, so a handle left open by mistake cannot keep it alive. */
  readonly exit: (code: number) => void;
}

export function startCommand(deps: StartDeps): Command {
  return {
    summary: 'Start the server (the default command)',
    run: (args, io) => runStart(args, io, deps),
  };
}

async function runStart(args: readonly string[], io: CliIO, deps: StartDeps): Promise<number> {
  const loaded = await loadConfig({ argv: args, env: io.env, cwd: io.cwd });
  if (!loaded.ok) {
    for (const problem of loaded.problems) io.err(`error: ${problem}`);
    io.err('parsec: the configuration above must be fixed; see `parsec help`');
    return EXIT_USAGE;
  }
  for (const warning of loaded.warnings) io.err(`warning: ${warning}`);

  let server: ServerHandle;
  try {
    server = await deps.startServer(loaded.config);
  } catch (err) {
    io.err(`error: the server could not start: ${err instanceof Error ? err.message : String(err)}`);
    // A half-started server may hold handles (database, port) that would keep the process alive.
    deps.exit(1);
    return 1;
  }
  const version = await readVersion();
  const info = { version, url: server.url, config: loaded.config, generatedCredentials: loaded.generatedCredentials };
  const lines = startupLines(loaded.credentialsFile === undefined ? info : { ...info, credentialsFile: loaded.credentialsFile });
  for (const line of lines) io.out(line);

  const shutdown = createShutdown(() => server.close(), deps.exit, io.err);
  deps.onSignals(shutdown.onSignal);
  const code = await shutdown.done;
  deps.exit(code);
  return code;
}
