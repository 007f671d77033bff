// In-process counters and latency samples: the numbers health endpoints, reports, /metrics and
// the OpenTelemetry exporter read. Labels are stage names and reasons, never identifiers.

export interface Histogram {
  /** Upper bounds of the buckets (the +Inf bucket is implicit). */
  readonly bounds: readonly number[];
  /** Cumulative-free counts per bucket, one more than `bounds` (the last is +Inf). */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface MetricsSink {
  inc(name: string, by: number): void;
  observe(name: string, value: number): void;
}

export interface Metrics {
  inc(name: string, by?: number): void;
  observe(name: string, value: number): void;
  counter(name: string): number;
  /** Quantile q in [0,1] over the last observations of `name`. */
  quantile(name: string, q: number): number | undefined;
  snapshot(): Record<string, number>;
  /** Every counter, and a histogram per observed name (totals since start). */
  collect(): { counters: ReadonlyMap<string, number>; histograms: ReadonlyMap<string, Histogram> };
  /** Also send every inc/observe to `sink` (the OpenTelemetry bridge). */
  forward(sink: MetricsSink): void;
}

/**
 * Bucket bounds for observations: milliseconds from 1 ms to 10 min. Every observed metric of
 * vigil is a latency or a lag in ms; one set of bounds keeps /metrics simple to query.
 */
export const LATENCY_BOUNDS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
] as const;

interface MutableHistogram {
  counts: number[];
  sum: number;
  count: number;
}

export function createMetrics(window = 10_000): Metrics {
  const counters = new Map<string, number>();
  const samples = new Map<string, number[]>();
  const histograms = new Map<string, MutableHistogram>();
  const sinks: MetricsSink[] = [];
  return {
    inc(name, by = 1) {
      counters.set(name, (counters.get(name) ?? 0) + by);
      for (const s of sinks) s.inc(name, by);
    },
    observe(name, value) {
      let s = samples.get(name);
      if (!s) {
        s = [];
        samples.set(name, s);
      }
      s.push(value);
      if (s.length > window) s.splice(0, s.length - window);
      let h = histograms.get(name);
      if (!h) {
        h = { counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0), sum: 0, count: 0 };
        histograms.set(name, h);
      }
      const bucket = LATENCY_BOUNDS_MS.findIndex((b) => value <= b);
      h.counts[bucket < 0 ? LATENCY_BOUNDS_MS.length : bucket]!++;
      h.sum += value;
      h.count++;
      for (const sink of sinks) sink.observe(name, value);
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
    collect() {
      return {
        counters,
        histograms: new Map(
          [...histograms].map(([name, h]) => [
            name,
            { bounds: LATENCY_BOUNDS_MS, counts: [...h.counts], sum: h.sum, count: h.count },
          ]),
        ),
      };
    },
    forward(sink) {
      sinks.push(sink);
    },
  };
}
