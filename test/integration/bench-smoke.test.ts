// The performance suite's quick mode (`node --expose-gc dist/bench/run.js --quick`) runs every
// stage on small sizes and writes the report with every key the full run writes. Only the shape
// is checked here: targets belong to `npm run bench`, never to a timed test.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNNER = path.join(ROOT, 'dist/bench/run.js');

const FIGURES = [
  'otlp_spans_per_s_per_core',
  'ndjson_events_per_s_per_core',
  'embedded_e2e_events_per_s',
  'embedded_e2e_ratio_vs_raw',
  'kafka_e2e_events_per_s',
  'kafka_e2e_ratio_vs_raw',
  'detection_latency_p50_ms',
  'detection_latency_p99_ms',
  'time_to_contain_p99_ms',
  'state_bytes_per_identity',
  'state_hot_bytes_per_identity',
  'tokenize_per_s',
  'tokenize_cache_hit_ratio',
  'panel_query_p95_ms',
  // The hostile-body stage: a bound per request (ms), not a rate, so it has no raw limit.
  'hostile_worst_loop_block_ms',
  'hostile_worst_healthz_ms',
  // Records on the Kafka events topic per accepted event: a count of the bus's own batching, so it
  // has no raw limit either.
  'kafka_records_per_event',
];

const GOALS = [
  'embedded_e2e_ratio_vs_ceiling',
  'store_insert_rows_per_cpu_s',
  'detect_events_per_s_per_core',
  'audit_chain_us_per_event',
  'embedded_e2e_events_per_s_per_core',
  'kafka_records_per_event',
  'kafka_e2e_ratio_vs_raw',
  'kafka_e2e_events_per_s_per_core',
  'replay_events_per_s',
  'embedded_detection_latency_p99_ms',
  'embedded_time_to_contain_p99_ms',
  'kafka_detection_latency_p99_ms',
  'kafka_time_to_contain_p99_ms',
];

describe('npm run bench --quick', () => {
  it('writes every figure with its raw limit, ratio, target and scaling table', async () => {
    expect(existsSync(RUNNER), 'dist/bench/run.js is missing: npm run build').toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-smoke-'));
    const out = path.join(dir, 'latest.json');
    let report: Record<string, unknown>;
    try {
      await run(process.execPath, ['--expose-gc', RUNNER, '--quick', '--out', out], {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092' },
        timeout: 420_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      report = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const raw = report.raw as Record<string, unknown>;
    const ratio = report.ratio as Record<string, unknown>;
    for (const key of FIGURES) {
      expect(typeof report[key], key).toBe('number');
      expect(Number.isFinite(report[key]), key).toBe(true);
      if (
        !key.endsWith('_ratio_vs_raw') &&
        !key.startsWith('hostile_') &&
        key !== 'kafka_records_per_event'
      ) {
        expect(typeof raw[key], `raw.${key}`).toBe('number');
        expect(typeof ratio[key], `ratio.${key}`).toBe('number');
      }
    }
    const met = report.met as Record<string, unknown>;
    for (const [key, value] of Object.entries(report.targets as Record<string, unknown>)) {
      expect(FIGURES, key).toContain(key);
      expect(value, key).toBeTypeOf('object');
      expect(typeof met[key], `met.${key}`).toBe('boolean');
    }
    // Issue 18's table: every row a target, a met flag, a value and a raw companion (a stage that
    // failed would give 0).
    const goals = report.goals as Record<
      string,
      { value: number; raw: number; target: object; met: boolean }
    >;
    expect(Object.keys(goals)).toEqual(expect.arrayContaining(GOALS));
    for (const [key, g] of Object.entries(goals)) {
      expect(g.target, key).toBeTypeOf('object');
      expect(typeof g.met, key).toBe('boolean');
      expect(g.value, `goals.${key}`).toBeGreaterThan(0);
      expect(g.raw, `goals.${key}.raw`).toBeGreaterThan(0);
    }
    // The machine's ceiling from the parts' own rates: every part measured, so a number.
    const ceiling = report.ceiling as Record<string, unknown>;
    for (const key of ['embedded_e2e_events_per_s', 'kafka_e2e_events_per_s', 'kafka_e2e_ratio_vs_raw'])
      expect(ceiling[key], `ceiling.${key}`).toBeGreaterThan(0);
    // Where each e2e stage's CPU went, by thread: the event loop and the load generator at least.
    const details = report.details as Record<string, { cpu_us_per_event_by_thread?: Record<string, number> }>;
    for (const mode of ['embedded', 'kafka']) {
      const byThread = details[mode]?.cpu_us_per_event_by_thread ?? {};
      expect(byThread.main, `${mode}: main thread`).toBeGreaterThan(0);
      expect(Object.keys(byThread), mode).toContain('load');
    }
    const machine = report.machine as Record<string, unknown>;
    expect(typeof machine.cpus).toBe('number');
    expect(machine.node).toBe(process.version);
    const scaling = report.scaling as Array<Record<string, unknown>>;
    expect(scaling.length).toBeGreaterThanOrEqual(2);
    for (const row of scaling)
      for (const [k, v] of Object.entries(row)) expect(typeof v, `scaling.${k}`).toBe('number');
  }, 480_000);
});
