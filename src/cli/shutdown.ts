/**
 * Signal handling for a running server: the first SIGINT/SIGTERM closes it once (in-flight requests finish),
 * a second one forces exit 1 for when closing hangs. Kept free of `process` so it can be tested.
 */

export interface Shutdown {
  /** Call for every SIGINT/SIGTERM received. */
  readonly onSignal: (signal: string) => void;
  /** Resolves with the exit code once the server is closed: 0, or 1 if closing failed. */
  readonly done: Promise<number>;
}

export function createShutdown(
  close: () => Promise<void>,
  forceExit: (code: number) => void,
  report: (line: string) => void,
): Shutdown {
  let closing = false;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const onSignal = (signal: string): void => {
    if (closing) {
      report(`${signal} received again: exiting without waiting for the server to close`);
      forceExit(1);
      return;
    }
    closing = true;
    report(`${signal} received: closing the server (send it again to force exit)`);
    close().then(
      () => finish(0),
      (err: unknown) => {
        report(`error while closing the server: ${err instanceof Error ? err.message : String(err)}`);
        finish(1);
      },
    );
  };
  return { onSignal, done };
}
