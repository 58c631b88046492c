import { LatencyRecorder, round } from './latency.ts';

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

export interface LoopSummary {
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly completed: number;
  readonly errors: number;
}

/**
 * A warm-up run, then the measured run, summarised; failures of either are counted and the first one is
 * reported on stderr under `label`.
 */
export async function measureLoops(
  label: string,
  concurrency: number,
  warmupSec: number,
  durationSec: number,
  next: () => Promise<unknown>,
): Promise<LoopSummary> {
  const warmup = await loops(concurrency, warmupSec, next);
  const measured = await loops(concurrency, durationSec, next);
  const errors = warmup.errors + measured.errors;
  if (errors > 0) process.stderr.write(`[bench] ${label}: ${errors} failures, first: ${describeError(warmup.firstError ?? measured.firstError)}\n`);
  const [p50 = Number.NaN, p99 = Number.NaN] = measured.latency.percentiles(50, 99);
  return { perSec: round(measured.completed / measured.seconds, 1), p50Ms: round(p50, 2), p99Ms: round(p99, 2), completed: measured.completed, errors };
}
