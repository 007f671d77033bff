// Prometheus text exposition (format 0.0.4) of the Metrics object and of the process: what
// GET /metrics on the admin port answers. Names are stable: `vigil_<counter>_total` for every
// counter, `vigil_<observed>` histograms (ms), `process_*` / `nodejs_*` for the runtime. No
// labels carry identifiers; the few labels are fixed words.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from './metrics.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A metric name Prometheus accepts, from an internal counter name. */
export function promName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([^A-Za-z_])/, '_$1');
  return clean.startsWith('vigil_') ? clean : `vigil_${clean}`;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

/** Runtime metrics of the process, sampled at scrape time. */
export function createProcessCollector(): { render(): string; stop(): void } {
  // Event-loop delay: a histogram the runtime keeps; reported as mean and p99 seconds.
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  return {
    render() {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      let fds: number | undefined;
      try {
        fds = readdirSync('/proc/self/fd').length;
      } catch {
        fds = undefined; // not Linux: leave the metric out
      }
      const lines: string[] = [];
      const gauge = (name: string, help: string, value: number, type = 'gauge') =>
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${num(value)}`);
      gauge('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.', cpu.user / 1e6, 'counter');
      gauge(
        'process_cpu_system_seconds_total',
        'System CPU time spent, in seconds.',
        cpu.system / 1e6,
        'counter',
      );
      gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.', mem.rss);
      gauge(
        'process_start_time_seconds',
        'Start time of the process since the Unix epoch, in seconds.',
        startSeconds,
      );
      if (fds !== undefined) gauge('process_open_fds', 'Open file descriptors.', fds);
      gauge('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', mem.heapTotal);
      gauge('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes.', mem.heapUsed);
      gauge(
        'nodejs_external_memory_bytes',
        'Memory of C++ objects bound to JavaScript, in bytes.',
        mem.external,
      );
      gauge(
        'nodejs_active_resources',
        'Active handles and requests keeping the event loop alive.',
        process.getActiveResourcesInfo().length,
      );
      const mean = Number.isFinite(loop.mean) ? loop.mean / 1e9 : 0;
      gauge(
        'nodejs_eventloop_lag_mean_seconds',
        'Mean event-loop delay since the last scrape, in seconds.',
        mean,
      );
      gauge(
        'nodejs_eventloop_lag_p99_seconds',
        'p99 event-loop delay since the last scrape, in seconds.',
        loop.percentile(99) / 1e9,
      );
      loop.reset();
      return `${lines.join('\n')}\n`;
    },
    stop: () => loop.disable(),
  };
}

/** The text of GET /metrics: vigil's counters and histograms, gauges, then the process. */
export function renderPrometheus(
  metrics: Metrics,
  opts: { process?: { render(): string }; gauges?: Record<string, number> } = {},
): string {
  const { counters, histograms } = metrics.collect();
  const lines: string[] = [];
  lines.push('# HELP vigil_up 1 while the process serves requests.', '# TYPE vigil_up gauge', 'vigil_up 1');
  for (const [name, value] of [...counters].sort(([a], [b]) => a.localeCompare(b))) {
    const metric = `${promName(name)}_total`;
    lines.push(
      `# HELP ${metric} Count of ${name.replace(/_/g, ' ')}.`,
      `# TYPE ${metric} counter`,
      `${metric} ${num(value)}`,
    );
  }
  for (const [name, h] of [...histograms].sort(([a], [b]) => a.localeCompare(b))) {
    const metric = promName(name);
    lines.push(`# HELP ${metric} Distribution of ${name.replace(/_/g, ' ')}.`, `# TYPE ${metric} histogram`);
    let cumulative = 0;
    h.bounds.forEach((bound, i) => {
      cumulative += h.counts[i]!;
      lines.push(`${metric}_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += h.counts[h.bounds.length]!;
    lines.push(
      `${metric}_bucket{le="+Inf"} ${cumulative}`,
      `${metric}_sum ${num(h.sum)}`,
      `${metric}_count ${h.count}`,
    );
  }
  for (const [name, value] of Object.entries(opts.gauges ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const metric = promName(name);
    lines.push(
      `# HELP ${metric} Current ${name.replace(/_/g, ' ')}.`,
      `# TYPE ${metric} gauge`,
      `${metric} ${num(value)}`,
    );
  }
  return `${lines.join('\n')}\n${opts.process?.render() ?? ''}`;
}
