// In-process counters and latency samples: the numbers health endpoints and reports read.
// Labels are stage names and reasons, never identifiers.

export interface Metrics {
  inc(name: string, by?: number): void;
  observe(name: string, value: number): void;
  counter(name: string): number;
  /** Quantile q in [0,1] over the last observations of `name`. */
  quantile(name: string, q: number): number | undefined;
  snapshot(): Record<string, number>;
}

export function createMetrics(window = 10_000): Metrics {
  const counters = new Map<string, number>();
  const samples = new Map<string, number[]>();
  return {
    inc(name, by = 1) {
      counters.set(name, (counters.get(name) ?? 0) + by);
    },
    observe(name, value) {
      let s = samples.get(name);
      if (!s) {
        s = [];
        samples.set(name, s);
      }
      s.push(value);
      if (s.length > window) s.splice(0, s.length - window);
    },
    counter: (name) => counters.get(name) ?? 0,
    quantile(name, q) {
      const s = samples.get(name);
      if (!s?.length) return undefined;
      const sorted = [...s].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    },
    snapshot() {
      const out: Record<string, number> = Object.fromEntries(counters);
      for (const name of samples.keys()) {
        out[`${name}_p50`] = this.quantile(name, 0.5)!;
        out[`${name}_p99`] = this.quantile(name, 0.99)!;
      }
      return out;
    },
  };
}
