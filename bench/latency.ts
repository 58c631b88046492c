/**
 * Latency samples in milliseconds with sub-millisecond precision. autocannon's own histogram keeps whole
 * milliseconds, too coarse for a bare server or a primary-key lookup, so the HTTP and the database
 * measurements both record here and are summarised the same way.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  record(ms: number): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = ms;
  }

  get size(): number {
    return this.count;
  }

  /** Nearest-rank percentiles (p in 0..100); NaN when nothing was recorded. */
  percentiles(...ps: number[]): number[] {
    const sorted = this.samples.slice(0, this.count).sort();
    return ps.map((p) => {
      if (sorted.length === 0) return Number.NaN;
      const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
      return sorted[rank] ?? Number.NaN;
    });
  }
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
