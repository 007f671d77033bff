// Detector state per identity and detector throughput, at a given number of identities.
// State: each identity makes 4 calls spread over 24 hours of event time (so hourly rings and
// windows are in use, as in steady state) with its own API key, sessions and a /24 network shared
// by 64 identities; the default pipeline's detectors run through the runtime as the detect stage
// runs them (hour batches, event time). State = V8 heap + array buffers after full collections
// (--expose-gc), everything the runtime keeps (state maps, keys, holders) included, measured twice:
// hot — every identity active since the last checkpoint (the worst case): live objects up to the
// pipeline's `detection.max_hot_entities`, the least recently active beyond it packed — and after the stage's next checkpoint with no event in between, when the runtime
// has packed every idle identity's states (src/detect/state/cold.ts): the steady state of an
// organisation whose identities act a few times a day (at any moment nearly all are idle).
// Throughput: the Zipf traffic of the other benchmarks (workload.ts) over 10 minutes of event
// time, in the detect stage's batches of 5,000, per CPU second.
// Raw companion: the same entity keys held in one Map per detector with no state at all, i.e. the
// least any per-entity state keyed like this can cost.
import path from 'node:path';
import { createDetectors } from '../../detectors/index.js';
import { blankEvent } from '../../src/collectors/normalize.js';
import { loadPipeline, packageRoot } from '../../src/config/index.js';
import { createDetectorRuntime, detectorRuntimeOptions } from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import { cpuSeconds, round, settledHeapBytes } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { BENCH_TENANT, createCallers } from '../lib/workload.js';

export interface DetectStageOptions extends StageOptions {
  readonly identities: number;
  /** Overrides the pipeline's `detection.max_hot_entities` (0: no cap). */
  readonly maxHotEntities?: number;
}

export interface DetectStageResult {
  readonly identities: number;
  readonly detectors: number;
  readonly events: number;
  readonly detect_events_per_s_per_core: number;
  /** The same traffic, each detector's entity key and one Map lookup per event: keyed state's floor. */
  readonly detect_raw_events_per_s_per_core: number;
  /** The state workload (every call closes an hour): the detectors' worst case. */
  readonly detect_state_workload_events_per_s_per_core: number;
  /** Identities idle since the last checkpoint (states packed): the steady state. */
  readonly state_bytes_per_identity: number;
  /** Every identity active since the last checkpoint: the worst case (live states up to the cap). */
  readonly state_hot_bytes_per_identity: number;
  /** The cap on live (hot) entities per detector family the hot figure was measured with. */
  readonly max_hot_entities: number;
  readonly state_raw_bytes_per_identity: number;
  readonly entities: Record<string, number>;
}

const HOUR = 3_600_000;
const HOURS = 24;
const CALLS_PER_IDENTITY = 4;
const OPS = ['search', 'search', 'search', 'search', 'fetch', 'scroll', 'upsert'] as const;

/** A 22-character stand-in for a token's digest part, unique per (kind, index). */
const digest = (kind: string, i: number) => `${kind}${i.toString(36)}_`.padEnd(22, 'x').slice(0, 22);

/** One bench event of identity `index` (tokens stand in for the tokenizer's output). */
function benchEvent(e: {
  id: string;
  index: number;
  time: number;
  op: (typeof OPS)[number];
  credential: string;
  session: string;
  collection: string;
}): AccessEvent {
  return {
    ...blankEvent(e.time),
    event_id: e.id,
    observed_time: e.time + 20,
    tenant: BENCH_TENANT,
    actor: `usr_k1_${digest('a', e.index)}`,
    actor_type: 'user',
    credential: e.credential,
    session: e.session,
    src_ip: `ip_k1_${digest('i', e.index)}`,
    src_net: `net_k1_${digest('n', e.index >> 6)}`,
    client: 'rag-api/5.1',
    system: 'qdrant',
    operation: e.op,
    operation_raw: e.op,
    collection: e.collection,
    top_k: e.op === 'search' ? 10 : 0,
    returned: e.op === 'scroll' ? 100 : 10,
    bytes_out: 20_480,
    status_code: 200,
    latency_ms: 12,
    attributes: { team: `team${e.index % 15}` },
  };
}

/** Events of hour h: the identities whose turn it is (i + h) % 6 === 0, in time order. */
function hourBatch(identities: number, h: number, start: number): AccessEvent[] {
  const out: AccessEvent[] = [];
  for (let i = h % 6 === 0 ? 0 : 6 - (h % 6); i < identities; i += 6) {
    const t = start + h * HOUR + ((i * 7919) % HOUR);
    const op = OPS[(i + h) % OPS.length]!;
    out.push(
      benchEvent({
        id: `e${h}-${i}`,
        index: i,
        time: t,
        op,
        credential: `key_k1_${digest('ka', i)}`,
        session: `ses_k1_${digest(`s${h >> 3}`, i)}`,
        collection: `kb_team${(i + (h % 3)) % 32}`,
      }),
    );
  }
  return out.sort((a, b) => a.time - b.time);
}

/** The Zipf traffic as canonical events (tokens stand in for the tokenizer's output). */
function trafficEvents(identities: number, count: number, start: number): AccessEvent[] {
  const next = createCallers(identities, 23);
  const out: AccessEvent[] = [];
  for (let k = 0; k < count; k++) {
    const c = next();
    const t = start + Math.floor((k * 600_000) / count);
    const op = OPS[k % OPS.length]!;
    out.push(
      benchEvent({
        id: `t${k}`,
        index: c.index,
        time: t,
        op,
        credential: `key_k1_${digest(`k${c.credential.slice(-1)}`, c.index)}`,
        session: `ses_k1_${digest(c.session.slice(2, 12), c.index)}`,
        collection: `kb_team${(c.index + (k % 3)) % 32}`,
      }),
    );
  }
  return out;
}

stageMain<DetectStageOptions, DetectStageResult>(async (opts) => {
  const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
  const start = Math.floor(Date.now() / HOUR) * HOUR - HOURS * HOUR;
  const n = opts.identities;

  // Raw: the entity keys alone.
  const probe = createDetectors(pipeline);
  const base0 = settledHeapBytes();
  const maps: Array<Map<string, number>> = probe.map(() => new Map());
  for (let h = 0; h < HOURS; h++)
    for (const e of hourBatch(n, h, start))
      for (let k = 0; k < probe.length; k++) maps[k]!.set(probe[k]!.entityKey(e), 0);
  const rawBytes = settledHeapBytes() - base0;
  maps.length = 0;

  // The runtime.
  const base = settledHeapBytes();
  const maxHot = opts.maxHotEntities ?? pipeline.detection.max_hot_entities;
  const runtime = createDetectorRuntime(createDetectors(pipeline), {
    ...detectorRuntimeOptions(pipeline),
    maxHotEntities: maxHot || Number.POSITIVE_INFINITY,
  });
  let events = 0;
  let cpu = 0;
  for (let h = 0; h < HOURS; h++) {
    const batch = hourBatch(n, h, start);
    const now = start + (h + 1) * HOUR;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < batch.length; i += 5_000) runtime.process(batch.slice(i, i + 5_000), now);
    cpu += cpuSeconds(cpu0);
    events += batch.length;
  }
  runtime.takeDirty(); // a checkpoint: every identity acted since the last one, all stay hot
  const hotBytes = settledHeapBytes() - base;
  runtime.takeDirty(); // the next checkpoint, nobody active in between: idle states are packed
  const stateBytes = settledHeapBytes() - base;
  if (events !== n * CALLS_PER_IDENTITY)
    throw new Error(`detect workload: ${events} events for ${n} identities`);

  // Throughput on live-like traffic, after the state run (identities known, as in steady state:
  // packed, so unpacking on first sight is part of the cost).
  const traffic = trafficEvents(n, opts.quick ? 20_000 : 200_000, start + HOURS * HOUR);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < traffic.length; i += 5_000) {
    const batch = traffic.slice(i, i + 5_000);
    runtime.process(batch, batch.at(-1)!.time);
  }
  const trafficCpu = cpuSeconds(cpu0);

  // Raw: each detector's entity key of every traffic event and one Map lookup, nothing else.
  const keyed = probe.map(() => new Map<string, number>());
  for (const e of traffic) for (let k = 0; k < probe.length; k++) keyed[k]!.set(probe[k]!.entityKey(e), 1);
  const rawCpu0 = process.cpuUsage();
  let found = 0;
  for (const e of traffic)
    for (let k = 0; k < probe.length; k++) found += keyed[k]!.get(probe[k]!.entityKey(e))!;
  const rawCpu = cpuSeconds(rawCpu0);
  if (found !== traffic.length * probe.length) throw new Error('detect raw: a key was not found');
  return {
    identities: n,
    detectors: probe.length,
    events,
    detect_events_per_s_per_core: round(traffic.length / trafficCpu),
    detect_raw_events_per_s_per_core: round(traffic.length / rawCpu),
    detect_state_workload_events_per_s_per_core: round(events / cpu),
    state_bytes_per_identity: round(stateBytes / n),
    state_hot_bytes_per_identity: round(hotBytes / n),
    max_hot_entities: maxHot,
    state_raw_bytes_per_identity: round(rawBytes / n),
    entities: runtime.entities(),
  };
});
