import { LatencyRecorder } from './latency.ts';

export interface LoopRun {
  readonly latency: LatencyRecorder;
  /** Operations that completed without throwing. */
  readonly completed: number;
  readonly errors: number;
  readonly seconds: number;
  readonly firstError: unknown;
}

/**
 * `concurrency` async loops, each starting its next operation as soon as the last one settled, until
 * `durationSec` have passed (operations in flight at the deadline are awaited and counted). Used for the
 * database limit (parent) and the hashing limit (inside Parsec's child, on Parsec's own thread pool).
 */
export async function loops(concurrency: number, durationSec: number, next: () => Promise<unknown>): Promise<LoopRun> {
  const latency = new LatencyRecorder();
  let completed = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + durationSec * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        await next();
        latency.record(performance.now() - begun);
        completed++;
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { latency, completed, errors, seconds: (performance.now() - start) / 1000, firstError };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}
