// `npm run bench`: the performance suite. Runs each stage in its own process (bench/stages/), puts
// every figure next to the raw limit of the same machine measured in the same run, and writes
// bench/results/latest.json plus a short table. Targets live here, never in timed unit tests.
//
//   node --expose-gc dist/bench/run.js [--quick] [--out FILE] [--profile DIR] [--only a,b]
//     --quick    small sizes (the smoke test's mode; figures are not comparable to a full run)
//     --out      where the JSON goes (default bench/results/latest.json, or latest-quick.json)
//     --profile  write a CPU profile (node --cpu-prof) of every stage into DIR
//     --only     stages to run: pipeline, detect, embedded, kafka, replay, panels, hostile (others report zeros)
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/config/index.js';
import { round } from './lib/measure.js';
import { runStage, type StageOptions } from './lib/stage.js';
import type { DetectStageResult } from './stages/detect.stage.js';
import type { E2eStageResult } from './stages/e2e.stage.js';
import type { HostileStageResult } from './stages/hostile.stage.js';
import type { PanelsStageResult } from './stages/panels.stage.js';
import type { PipelineStageResult } from './stages/pipeline.stage.js';
import type { ReplayStageResult } from './stages/replay.stage.js';

interface Args {
  readonly quick: boolean;
  readonly out: string;
  readonly profileDir?: string;
  readonly only?: ReadonlySet<string>;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const results = path.join(packageRoot(), 'bench/results');
  const only = value('--only');
  return {
    quick,
    out: path.resolve(value('--out') ?? path.join(results, quick ? 'latest-quick.json' : 'latest.json')),
    profileDir: value('--profile') ? path.resolve(value('--profile')!) : undefined,
    only: only ? new Set(only.split(',').map((s) => s.trim())) : undefined,
  };
}

/** Headline size: identities of the organisation the headline figures are measured at. */
const IDENTITIES = 10_000;
const SCALING = [1_000, 10_000, 100_000];

type Direction = 'min' | 'max';
interface Figure {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly raw: number;
  /** ours / raw. For rates below 1 means slower than the raw limit; for costs above 1 means dearer. */
  readonly ratio: number;
  readonly rawDefinition: string;
  readonly target?: { readonly [d in Direction]?: number };
}

/** A row of issue 18's table: a target and the raw limit it is read against. */
interface Goal {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly raw: number;
  readonly rawDefinition: string;
  readonly target: { readonly [d in Direction]?: number };
}

const ratio = (a: number, b: number) =>
  b > 0 && Number.isFinite(a) && Number.isFinite(b) ? round(a / b, 4) : 0;
const num = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? 0 : n);

function metGoal(g: Goal): boolean {
  return met({ ...g, ratio: 0 });
}

function met(f: Figure): boolean {
  if (!f.target) return true;
  if (f.target.min !== undefined && !(f.value >= f.target.min)) return false;
  if (f.target.max !== undefined && !(f.value > 0 && f.value <= f.target.max)) return false;
  return true;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const q = args.quick;
  const base: StageOptions = { quick: q, profileDir: args.profileDir };
  if (args.profileDir) mkdirSync(args.profileDir, { recursive: true });
  const errors: Record<string, string> = {};
  const wants = (stage: string) => !args.only || args.only.has(stage);
  const started = Date.now();
  const loadStart = loadavg();
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  async function stage<R>(
    name: string,
    file: string,
    opts: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<R | undefined> {
    if (!wants(name)) return undefined;
    const t0 = Date.now();
    log(`${name} …`);
    try {
      const r = await runStage<R>(file, { ...base, ...opts }, timeoutMs);
      log(`${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
      return r;
    } catch (err) {
      errors[name] = err instanceof Error ? err.message : String(err);
      log(`${name} FAILED: ${errors[name]}`);
      return undefined;
    }
  }

  const sizes = q ? [1_000, IDENTITIES] : SCALING;
  const pipelineBy = new Map<number, PipelineStageResult>();
  const detectBy = new Map<number, DetectStageResult>();
  for (const n of sizes) {
    const p = await stage<PipelineStageResult>(
      `pipeline`,
      'pipeline',
      { identities: n, seconds: q ? 0.5 : 3 },
      300_000,
    );
    if (p) pipelineBy.set(n, p);
    const d = await stage<DetectStageResult>(`detect`, 'detect', { identities: q ? n / 10 : n }, 600_000);
    if (d) detectBy.set(n, d);
  }
  const stateSize = q ? IDENTITIES : 100_000;
  const e2eOpts = {
    identities: IDENTITIES,
    warmupSeconds: q ? 1 : 4,
    seconds: q ? 3 : 12,
    concurrency: 16,
    perBody: 4_000,
    idleProbes: q ? 3 : 10,
    probeEveryMs: 250,
  };
  const embedded = await stage<E2eStageResult>('embedded', 'e2e', { ...e2eOpts, mode: 'embedded' }, 600_000);
  const kafka = await stage<E2eStageResult>(
    'kafka',
    'e2e',
    {
      ...e2eOpts,
      mode: 'kafka',
      kafkaBrokers: process.env.KAFKA_BROKERS || '127.0.0.1:19092',
      rawMessages: q ? 40_000 : 200_000,
    },
    600_000,
  );
  // Issue 18: `vigil replay` of a 240k-event file on embedded defaults.
  const replay = await stage<ReplayStageResult>(
    'replay',
    'replay',
    { events: q ? 24_000 : 240_000, identities: IDENTITIES },
    q ? 300_000 : 900_000,
  );
  const panels = await stage<PanelsStageResult>(
    'panels',
    'panels',
    { events: q ? 300_000 : 10_000_000, identities: IDENTITIES, runs: 3 },
    900_000,
  );

  // Hostile senders, one request at a time against a whole vigil at the default body limit: the
  // worst event-loop block per route (a behavioural bound: /healthz must answer within 1 s).
  const hostile = await stage<HostileStageResult>(
    'hostile',
    'hostile',
    {
      maxBodyBytes: 16 * 1024 * 1024,
      items: q ? 100_000 : 1_000_000,
      fillBytes: q ? 2 * 1024 * 1024 : 16 * 1024 * 1024 - 1024,
      depth: 100_000,
      requestTimeoutMs: 60_000,
      parseItems: q ? 2_000 : 10_000,
    },
    q ? 240_000 : 600_000,
  );

  const pipeline = pipelineBy.get(IDENTITIES);
  const state = detectBy.get(stateSize);
  const figures: Figure[] = [
    {
      key: 'otlp_spans_per_s_per_core',
      label: 'OTLP spans/s per core',
      value: num(pipeline?.otlp_spans_per_s_per_core),
      raw: num(pipeline?.otlp_raw_spans_per_s_per_core),
      ratio: ratio(num(pipeline?.otlp_spans_per_s_per_core), num(pipeline?.otlp_raw_spans_per_s_per_core)),
      rawDefinition: 'gunzip + a walk over every protobuf field of the same requests, no value decoded',
      target: { min: 100_000 },
    },
    {
      key: 'ndjson_events_per_s_per_core',
      label: 'NDJSON events/s per core',
      value: num(pipeline?.ndjson_events_per_s_per_core),
      raw: num(pipeline?.ndjson_raw_events_per_s_per_core),
      ratio: ratio(
        num(pipeline?.ndjson_events_per_s_per_core),
        num(pipeline?.ndjson_raw_events_per_s_per_core),
      ),
      rawDefinition: 'UTF-8 decode + split + JSON.parse of the same bodies',
      target: { min: 150_000 },
    },
    {
      key: 'embedded_e2e_events_per_s',
      label: 'embedded e2e events/s',
      value: num(embedded?.events_per_s),
      raw: num(embedded?.raw_events_per_s),
      ratio: ratio(num(embedded?.events_per_s), num(embedded?.raw_events_per_s)),
      rawDefinition: 'the engine inserting the same stored rows with INSERT … SELECT',
    },
    {
      key: 'kafka_e2e_events_per_s',
      label: 'Kafka e2e events/s',
      value: num(kafka?.events_per_s),
      raw: num(kafka?.raw_events_per_s),
      ratio: ratio(num(kafka?.events_per_s), num(kafka?.raw_events_per_s)),
      rawDefinition:
        'kafkajs producing and consuming the same payloads (same producer settings, batches, concurrency)',
    },
    {
      key: 'detection_latency_p50_ms',
      label: 'detection latency p50 ms',
      value: num(embedded?.detection_latency_p50_ms),
      raw: num(embedded?.detection_latency_idle_p50_ms),
      ratio: ratio(num(embedded?.detection_latency_p50_ms), num(embedded?.detection_latency_idle_p50_ms)),
      rawDefinition: 'the same probe through the same pipeline at idle',
    },
    {
      key: 'detection_latency_p99_ms',
      label: 'detection latency p99 ms',
      value: num(embedded?.detection_latency_p99_ms),
      raw: num(embedded?.detection_latency_idle_p99_ms),
      ratio: ratio(num(embedded?.detection_latency_p99_ms), num(embedded?.detection_latency_idle_p99_ms)),
      rawDefinition:
        'the same probe through the same pipeline at idle (ours: paced at 80 % of the sustained rate)',
      target: { max: 1_000 },
    },
    {
      key: 'time_to_contain_p99_ms',
      label: 'time to contain p99 ms',
      value: num(embedded?.time_to_contain_p99_ms),
      raw: num(embedded?.time_to_contain_idle_p99_ms),
      ratio: ratio(num(embedded?.time_to_contain_p99_ms), num(embedded?.time_to_contain_idle_p99_ms)),
      rawDefinition: 'the same probe at idle',
      target: { max: 2_000 },
    },
    {
      key: 'state_bytes_per_identity',
      label: `state bytes/identity @${num(state?.identities) / 1000}k`,
      value: num(state?.state_bytes_per_identity),
      raw: num(state?.state_raw_bytes_per_identity),
      ratio: ratio(num(state?.state_bytes_per_identity), num(state?.state_raw_bytes_per_identity)),
      rawDefinition: 'the same entity keys in one Map per detector, no state',
      target: { max: 2_048 },
    },
    {
      // The same identities right after they all acted (no checkpoint since): states live up to
      // the pipeline's detection.max_hot_entities per detector family, the rest packed.
      key: 'state_hot_bytes_per_identity',
      label: `state bytes/identity, all active @${num(state?.identities) / 1000}k`,
      value: num(state?.state_hot_bytes_per_identity),
      raw: num(state?.state_raw_bytes_per_identity),
      ratio: ratio(num(state?.state_hot_bytes_per_identity), num(state?.state_raw_bytes_per_identity)),
      rawDefinition: 'the same entity keys in one Map per detector, no state',
      target: { max: 2_048 },
    },
    {
      key: 'tokenize_per_s',
      label: 'tokenize/s',
      value: num(pipeline?.tokenize_per_s),
      raw: num(pipeline?.tokenize_raw_per_s),
      ratio: ratio(num(pipeline?.tokenize_per_s), num(pipeline?.tokenize_raw_per_s)),
      rawDefinition: 'Map lookups of the same cache keys, every one a hit',
    },
    {
      key: 'tokenize_cache_hit_ratio',
      label: 'tokenize cache hit ratio',
      value: num(pipeline?.tokenize_cache_hit_ratio),
      raw: 1,
      ratio: num(pipeline?.tokenize_cache_hit_ratio),
      rawDefinition: 'every lookup a hit',
    },
    {
      key: 'panel_query_p95_ms',
      label: 'panel query p95 ms',
      value: num(panels?.panel_query_p95_ms),
      raw: num(panels?.raw_scan_ms),
      ratio: ratio(num(panels?.panel_query_p95_ms), num(panels?.raw_scan_ms)),
      rawDefinition: 'the engine scanning one column of the same 30-day window of events',
      target: { max: 500 },
    },
  ];
  const kafkaRatio = ratio(num(kafka?.events_per_s), num(kafka?.raw_events_per_s));
  // Records on the events topic per accepted event; 0 when the stage did not run (then not met).
  const kafkaRecords = num(kafka?.kafka_records_per_event);
  const kafkaRecordsMet = kafkaRecords > 0 && kafkaRecords <= 0.05;
  const ceiling = ceilings({
    cores: cpus().length,
    ndjsonPerCore: num(pipeline?.ndjson_events_per_s_per_core),
    detectPerCore: num(detectBy.get(IDENTITIES)?.detect_events_per_s_per_core),
    storePerCpuSecond: num(embedded?.store_insert_rows_per_cpu_s),
    kafkaRaw: num(kafka?.raw_events_per_s),
    kafkaRawTwoGroups: num(kafka?.raw_two_groups_events_per_s),
  });
  // Issue 18's table: targets per core and against this run's ceiling and raw limits (an absolute
  // events/s target is a target for the machine, not for vigil).
  const detect10k = detectBy.get(IDENTITIES);
  const goals: Goal[] = [
    {
      key: 'embedded_e2e_ratio_vs_ceiling',
      label: 'embedded e2e ÷ ceiling',
      value: ratio(num(embedded?.events_per_s), ceiling.embedded_e2e_events_per_s),
      raw: ceiling.embedded_e2e_events_per_s,
      rawDefinition: 'the ceiling of this run (events/s): its parts measured alone, see ceiling.definition',
      target: { min: 0.8 },
    },
    {
      key: 'store_insert_rows_per_cpu_s',
      label: 'store insert rows per CPU s',
      value: num(embedded?.store_insert_rows_per_cpu_s),
      raw: num(embedded?.raw_events_per_s),
      rawDefinition: 'the engine copying the same stored rows with INSERT … SELECT (rows/s)',
      target: { min: 300_000 },
    },
    {
      key: 'detect_events_per_s_per_core',
      label: `detect events/s per core @${IDENTITIES / 1000}k`,
      value: num(detect10k?.detect_events_per_s_per_core),
      raw: num(detect10k?.detect_raw_events_per_s_per_core),
      rawDefinition: "the same traffic, each detector's entity key and one Map lookup per event",
      target: { min: 100_000 },
    },
    {
      key: 'audit_chain_us_per_event',
      label: 'audit chain µs per event',
      value: num(embedded?.audit_chain_us_per_event),
      raw: num(embedded?.audit_chain_raw_us_per_event),
      rawDefinition: "one SHA-256 of each stored row's JSON text (CPU µs)",
      target: { max: 2 },
    },
    {
      key: 'embedded_e2e_events_per_s_per_core',
      label: 'embedded e2e events per vigil CPU s',
      value: num(embedded?.events_per_cpu_s),
      raw: round(ceiling.embedded_e2e_events_per_s / Math.max(1, ceiling.parts.cores)),
      rawDefinition:
        "the ceiling per core: the parts' own CPU per event summed (the window's events over the process's CPU less the load worker's thread)",
      target: { min: 25_000 },
    },
    {
      key: 'kafka_records_per_event',
      label: 'Kafka records per event',
      value: num(kafka?.kafka_records_per_event),
      raw: 1,
      rawDefinition: "one record per event (kafkajs's unit)",
      target: { max: 0.05 },
    },
    {
      key: 'kafka_e2e_ratio_vs_raw',
      label: 'Kafka e2e ÷ raw kafkajs',
      value: kafkaRatio,
      raw: num(kafka?.raw_events_per_s),
      rawDefinition: 'kafkajs producing and consuming the same payloads (events/s)',
      target: { min: 0.5 },
    },
    {
      key: 'kafka_e2e_events_per_s_per_core',
      label: 'Kafka e2e events per vigil CPU s',
      value: num(kafka?.events_per_cpu_s),
      raw: round(ceiling.kafka_e2e_events_per_s / Math.max(1, ceiling.parts.cores)),
      rawDefinition:
        'the Kafka ceiling per core (the burst’s events over the process’s CPU less the load worker’s thread; the broker excluded)',
      target: { min: 10_000 },
    },
    {
      key: 'replay_events_per_s',
      label: `vigil replay events/s (${num(replay?.events) / 1000}k events)`,
      value: num(replay?.replay_events_per_s),
      raw: num(replay?.replay_raw_events_per_s),
      rawDefinition: 'the same file read line by line, every line JSON.parse’d',
      target: { min: 50_000 },
    },
    ...(['embedded', 'kafka'] as const).flatMap((mode) => {
      const r = mode === 'embedded' ? embedded : kafka;
      return [
        {
          key: `${mode}_detection_latency_p99_ms`,
          label: `${mode} detection latency p99 ms`,
          value: num(r?.detection_latency_p99_ms),
          raw: num(r?.detection_latency_idle_p99_ms),
          rawDefinition: 'the same probe through the same pipeline at idle',
          target: { max: 1_000 },
        },
        {
          key: `${mode}_time_to_contain_p99_ms`,
          label: `${mode} time to contain p99 ms`,
          value: num(r?.time_to_contain_p99_ms),
          raw: num(r?.time_to_contain_idle_p99_ms),
          rawDefinition: 'the same probe at idle',
          target: { max: 2_000 },
        },
      ];
    }),
  ];

  const scaling = sizes.map((n) => {
    const p = pipelineBy.get(n);
    const d = detectBy.get(n);
    return {
      identities: n,
      otlp_spans_per_s_per_core: num(p?.otlp_spans_per_s_per_core),
      ndjson_events_per_s_per_core: num(p?.ndjson_events_per_s_per_core),
      tokenize_per_s: num(p?.tokenize_per_s),
      tokenize_cache_hit_ratio: num(p?.tokenize_cache_hit_ratio),
      detect_events_per_s_per_core: num(d?.detect_events_per_s_per_core),
      state_bytes_per_identity: num(d?.state_bytes_per_identity),
      state_hot_bytes_per_identity: num(d?.state_hot_bytes_per_identity),
      state_identities: num(d?.identities),
    };
  });

  const hostileWorst = (by: Record<string, number> | undefined) =>
    Math.max(0, ...Object.values(by ?? {}).map(num));
  const hostileBlock = hostileWorst(hostile?.worst_loop_block_ms);
  const hostileHealthz = hostileWorst(hostile?.worst_healthz_ms);
  const report: Record<string, unknown> = {
    generated: new Date().toISOString(),
    quick: q,
    identities: IDENTITIES,
    duration_s: Math.round((Date.now() - started) / 1000),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? '',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      total_mem_gb: round(totalmem() / 2 ** 30, 1),
      free_mem_gb: round(freemem() / 2 ** 30, 1),
      load_average_start: loadStart.map((l) => round(l, 2)),
      load_average_end: loadavg().map((l) => round(l, 2)),
    },
    ...Object.fromEntries(figures.map((f) => [f.key, f.value])),
    embedded_e2e_ratio_vs_raw: ratio(num(embedded?.events_per_s), num(embedded?.raw_events_per_s)),
    kafka_e2e_ratio_vs_raw: kafkaRatio,
    kafka_records_per_event: kafkaRecords,
    raw: Object.fromEntries(figures.map((f) => [f.key, f.raw])),
    ratio: Object.fromEntries(figures.map((f) => [f.key, f.ratio])),
    raw_definition: Object.fromEntries(figures.map((f) => [f.key, f.rawDefinition])),
    hostile_worst_loop_block_ms: hostileBlock,
    hostile_worst_healthz_ms: hostileHealthz,
    targets: {
      ...Object.fromEntries(figures.filter((f) => f.target).map((f) => [f.key, f.target])),
      kafka_e2e_ratio_vs_raw: { min: 0.5 },
      kafka_records_per_event: { max: 0.05 },
      hostile_worst_healthz_ms: { max: 1_000 },
    },
    met: {
      ...Object.fromEntries(figures.filter((f) => f.target).map((f) => [f.key, met(f)])),
      kafka_e2e_ratio_vs_raw: kafkaRatio >= 0.5,
      kafka_records_per_event: kafkaRecordsMet,
      hostile_worst_healthz_ms: hostile !== undefined && hostileHealthz < 1_000,
    },
    goals: Object.fromEntries(
      goals.map((g) => [
        g.key,
        {
          value: g.value,
          raw: g.raw,
          raw_definition: g.rawDefinition,
          target: g.target,
          met: metGoal(g),
        },
      ]),
    ),
    ceiling,
    scaling,
    details: {
      pipeline: Object.fromEntries(pipelineBy),
      detect: Object.fromEntries(detectBy),
      embedded,
      kafka,
      panels,
      hostile,
      replay,
    },
    errors,
  };
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);

  const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(round(n, 3)));
  const rows = [
    ['figure', 'ours', 'raw', 'ratio', 'target', 'met'],
    ...figures.map((f) => [
      f.label,
      fmt(f.value),
      fmt(f.raw),
      fmt(f.ratio),
      f.target ? (f.target.min !== undefined ? `≥ ${fmt(f.target.min)}` : `≤ ${fmt(f.target.max!)}`) : '',
      f.target ? (met(f) ? 'yes' : 'NO') : '',
    ]),
    ['Kafka e2e ratio vs raw', fmt(kafkaRatio), '', '', '≥ 0.5', kafkaRatio >= 0.5 ? 'yes' : 'NO'],
    ['Kafka records per event', fmt(kafkaRecords), '', '', '≤ 0.05', kafkaRecordsMet ? 'yes' : 'NO'],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = rows.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
  );
  const goalRows = [
    ['target (issue 18)', 'ours', 'raw', 'target', 'met'],
    ...goals.map((g) => [
      g.label,
      fmt(g.value),
      fmt(g.raw),
      g.target.min !== undefined ? `≥ ${fmt(g.target.min)}` : `≤ ${fmt(g.target.max!)}`,
      metGoal(g) ? 'yes' : 'NO',
    ]),
  ];
  const goalWidths = goalRows[0]!.map((_, i) => Math.max(...goalRows.map((r) => r[i]!.length)));
  out.push(
    '',
    ...goalRows.map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(goalWidths[i]!) : c.padStart(goalWidths[i]!))).join('  '),
    ),
  );
  out.push(
    '',
    `ceiling on this machine (its parts' own rates, nothing else): embedded ${fmt(ceiling.embedded_e2e_events_per_s)} events/s, Kafka ${fmt(ceiling.kafka_e2e_events_per_s)} events/s (ratio ${fmt(ceiling.kafka_e2e_ratio_vs_raw)})`,
  );
  out.push('', 'scaling (identities: OTLP/s, NDJSON/s, tokenize/s, hit ratio, detect/s, state B/identity)');
  for (const s of scaling)
    out.push(
      `  ${fmt(s.identities).padStart(7)}: ${fmt(s.otlp_spans_per_s_per_core)}, ${fmt(s.ndjson_events_per_s_per_core)}, ${fmt(s.tokenize_per_s)}, ${s.tokenize_cache_hit_ratio}, ${fmt(s.detect_events_per_s_per_core)}, ${fmt(s.state_bytes_per_identity)}`,
    );
  if (hostile) {
    out.push(
      '',
      'hostile senders (route: worst event-loop block ms / slowest /healthz ms during one request)',
    );
    for (const route of Object.keys(hostile.worst_loop_block_ms))
      out.push(
        `  ${route.padEnd(10)}: ${fmt(hostile.worst_loop_block_ms[route]!)} / ${fmt(hostile.worst_healthz_ms[route] ?? 0)}`,
      );
    const u = hostile.unauthenticated;
    out.push(
      `  unauthenticated ${fmt(u.upload_bytes)} B upload: ${u.status} after ${fmt(u.ms)} ms, ${fmt(u.bytes_written_before_answer)} B sent by then`,
      `  generic parse µs/item: ${Object.entries(hostile.generic_parse_us_per_item)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`,
    );
  }
  for (const [name, message] of Object.entries(errors))
    out.push(`error in ${name}: ${message.split('\n')[0]}`);
  out.push(
    `machine: ${cpus().length} cpus, node ${process.version}, load ${loadStart.map((l) => l.toFixed(1)).join(' ')}; ${args.out}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * The most the machine could do end to end if vigil's parts cost only what each costs measured
 * alone in this run, ran in parallel on every core, and nothing else (HTTP, bus copies, audit
 * chain, checkpoints, the load generator) cost anything: CPU seconds per event summed, cores
 * divided by that. Kafka adds kafkajs and the broker moving each event through one producer and
 * two consumer groups (store, detect), measured as such. An upper bound, to read the targets by.
 */
function ceilings(p: {
  cores: number;
  ndjsonPerCore: number;
  detectPerCore: number;
  storePerCpuSecond: number;
  kafkaRaw: number;
  kafkaRawTwoGroups: number;
}) {
  const rates = [p.ndjsonPerCore, p.detectPerCore, p.storePerCpuSecond];
  const known = rates.every((r) => r > 0);
  const vigilCpu = rates.reduce((sum, r) => sum + 1 / r, 0);
  const embedded = known ? p.cores / vigilCpu : 0;
  const kafka = known && p.kafkaRawTwoGroups > 0 ? p.cores / (p.cores / p.kafkaRawTwoGroups + vigilCpu) : 0;
  return {
    embedded_e2e_events_per_s: round(embedded),
    kafka_e2e_events_per_s: round(kafka),
    kafka_e2e_ratio_vs_raw: ratio(kafka, p.kafkaRaw),
    parts: {
      cores: p.cores,
      ndjson_events_per_s_per_core: p.ndjsonPerCore,
      detect_events_per_s_per_core: p.detectPerCore,
      store_insert_rows_per_cpu_s: p.storePerCpuSecond,
      kafka_raw_events_per_s: p.kafkaRaw,
      kafka_raw_two_groups_events_per_s: p.kafkaRawTwoGroups,
    },
    definition:
      "cores / (CPU seconds per event of the NDJSON collector + the detectors + the store's insert" +
      ' [+ kafkajs and the broker, one producer and two consumer groups]), each measured alone in this run',
  };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
