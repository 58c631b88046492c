/** The process as commands see it; main.ts wires the real one, tests pass fakes. */

export interface CliIO {
  /** One line to standard output. */
  readonly out: (line: string) => void;
  /** One line to standard error. */
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface Command {
  /** One line for `parsec help`. */
  readonly summary: string;
  /** Resolves with the exit status. */
  readonly run: (args: readonly string[], io: CliIO) => Promise<number>;
}

/** Exit status for a command line or configuration the user must fix. */
export const EXIT_USAGE = 2;
