// Measuring helpers: CPU-time rates (what one core does, whatever else shares the machine),
// quantiles, heap snapshots after a full collection, CPU by thread.
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * A thread's user + system CPU seconds from its /proc stat line (fields 14 and 15, in clock ticks of
 * 10 ms). The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
 */
export function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of each thread of this process (Linux /proc/self/task), by thread id. */
export interface ThreadCpu {
  readonly pid: number;
  readonly threads: ReadonlyMap<number, { readonly name: string; readonly seconds: number }>;
}

/** Every thread's user + system CPU seconds now (empty where /proc is not there). */
export function threadCpu(): ThreadCpu {
  const threads = new Map<number, { name: string; seconds: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return { pid: process.pid, threads };
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.set(Number(tid), { name, seconds: statCpuSeconds(stat) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { pid: process.pid, threads };
}

/**
 * CPU seconds spent between two readings: `main` (the event loop's thread), the threads named in
 * `known` (by id), every other thread Node starts (all named `node`: V8's helpers, the libuv pool,
 * worker threads) one by one as `node#k` in the order they were started, and the rest (the
 * embedded engine's pools) grouped by name; largest first. Threads that ended in between are not
 * counted.
 */
export function threadCpuBetween(
  a: ThreadCpu,
  b: ThreadCpu,
  known: ReadonlyMap<number, string> = new Map(),
): Array<[string, number]> {
  const by = new Map<string, number>();
  const nodeThreads = [...b.threads].filter(
    ([tid, t]) => t.name === 'node' && tid !== b.pid && !known.has(tid),
  );
  const order = new Map(nodeThreads.map(([tid], k) => [tid, k + 1]));
  for (const [tid, t] of b.threads) {
    const spent = t.seconds - (a.threads.get(tid)?.seconds ?? 0);
    if (spent <= 0) continue;
    const group =
      tid === b.pid ? 'main' : (known.get(tid) ?? (order.has(tid) ? `node#${order.get(tid)}` : t.name));
    by.set(group, (by.get(group) ?? 0) + spent);
  }
  return [...by].sort((x, y) => y[1] - x[1]);
}
