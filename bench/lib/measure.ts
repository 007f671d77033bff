// Measuring helpers: CPU-time rates (what one core does, whatever else shares the machine),
// quantiles, heap snapshots after a full collection.

/** CPU seconds (user + system) of this process since `since`. */
export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

export interface Rate {
  /** Items per CPU second of this process: the figure per core. */
  readonly perCpuSecond: number;
  /** Items per wall-clock second. */
  readonly perSecond: number;
  readonly items: number;
  readonly cpuSeconds: number;
  readonly seconds: number;
}

/**
 * Runs `step` (which returns how many items it handled) until `minSeconds` of wall time passed and
 * at least `minSteps` steps ran; returns the rates.
 */
export async function measureRate(
  step: (i: number) => number | Promise<number>,
  opts: { minSeconds: number; minSteps?: number; maxSteps?: number },
): Promise<Rate> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let items = 0;
  let i = 0;
  const minSteps = opts.minSteps ?? 1;
  while (i < (opts.maxSteps ?? Number.POSITIVE_INFINITY)) {
    items += await step(i++);
    if (i >= minSteps && performance.now() - t0 >= opts.minSeconds * 1000) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(cpu0);
  return { perCpuSecond: items / cpu, perSecond: items / seconds, items, cpuSeconds: cpu, seconds };
}

/** Quantile q ∈ [0, 1] by nearest rank; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** Heap in use (V8 heap + array buffers) after full collections; needs --expose-gc. */
export function settledHeapBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function round(n: number, digits = 0): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
