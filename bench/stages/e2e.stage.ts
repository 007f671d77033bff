// End to end: gateways POST generic NDJSON to a whole vigil (collector, store, detect, respond) —
// embedded (in-process bus, embedded ClickHouse) or distributed over the real Kafka broker
// (embedded ClickHouse still). Phases, after every identity was seen once (steady state):
//   idle       probes alone: the raw companions of detection latency and time to contain;
//   saturated  as fast as vigil takes events; the sustained rate is what got stored AND detected
//              per second over a window after a warm-up;
//   paced      at 80 % of that rate, probes in the traffic: detection latency (event accepted →
//              finding stored, both this machine's clock) and time to contain (finding → the
//              containment webhook target acknowledged).
// Raw companions of the rates: embedded, the engine inserting the same rows with INSERT … SELECT;
// Kafka, kafkajs producing and consuming the same payloads with nothing else.
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { encodeJson, partitionKey, TOPICS } from '../../src/bus/index.js';
import { chunkBySize } from '../../src/bus/kafka.bus.js';
import { type RunningVigil, startVigil } from '../../src/cli/app.js';
import { waitForDrain } from '../../src/cli/drain.js';
import { parseGenericBody } from '../../src/collectors/generic/server.js';
import { blankEvent } from '../../src/collectors/normalize.js';
import { loadConfig } from '../../src/config/index.js';
import { createTokenizer } from '../../src/privacy/index.js';
import { sealBatch, tableShape } from '../../src/store/audit-chain/index.js';
import { eventRow } from '../../src/store/rows.js';
import { createLogger } from '../../src/telemetry/index.js';
import { createLoadClient, type LoadClient } from '../lib/load-client.js';
import { cpuSeconds, quantile, round, sleep, threadCpu, threadCpuBetween } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { BENCH_TENANT, createGenericLines } from '../lib/workload.js';

export interface E2eStageOptions extends StageOptions {
  readonly mode: 'embedded' | 'kafka';
  readonly identities: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly perBody: number;
  readonly idleProbes: number;
  readonly probeEveryMs: number;
  readonly kafkaBrokers?: string;
  /** Kafka raw: messages produced and consumed. */
  readonly rawMessages?: number;
}

export interface E2eStageResult {
  readonly mode: string;
  readonly identities: number;
  /** Embedded: `window_events_per_s`; Kafka: `burst_events_per_s` (see the saturation phase). */
  readonly events_per_s: number;
  /**
   * Per CPU second of vigil (the process's less the load worker's thread): embedded, the window's
   * events; Kafka, the burst's (0 where a thread's CPU is not known).
   */
  readonly events_per_cpu_s: number;
  /** The saturated window's CPU by thread (main, engine pools by name, …), µs per event. */
  readonly cpu_us_per_event_by_thread: Record<string, number>;
  /** min(stored, detected) per second over the measured window of the saturated phase. */
  readonly window_events_per_s: number;
  /** Events accepted in the saturated phase ÷ time from its first send until all were stored and detected. */
  readonly burst_events_per_s: number;
  readonly stored_per_s: number;
  readonly detected_per_s: number;
  readonly accepted_per_s: number;
  /** The paced phase (latency and containment are measured there): its target and what got in. */
  readonly paced_events_per_s: number;
  readonly paced_accepted_per_s: number;
  readonly raw_events_per_s: number;
  readonly raw_what: string;
  /** Embedded: the store's insert of a row, per CPU second (storeInsertPerCpuSecond). */
  readonly store_insert_rows_per_cpu_s: number;
  /** Embedded: the audit chain's sealing of a stored row, CPU µs (auditChainCost). */
  readonly audit_chain_us_per_event?: number;
  /** Embedded: one SHA-256 of each of the same rows' JSON text, CPU µs (the floor of a per-row digest). */
  readonly audit_chain_raw_us_per_event?: number;
  /** Kafka: kafkajs producing the same payloads once and consuming them in two groups. */
  readonly raw_two_groups_events_per_s?: number;
  /** Kafka: records on the events topic per event the collectors accepted (1 without batching). */
  readonly kafka_records_per_event?: number;
  readonly throttled_requests: number;
  readonly failed_requests: number;
  readonly detection_latency_p50_ms: number;
  readonly detection_latency_p99_ms: number;
  readonly detection_latency_max_ms: number;
  readonly detection_latency_idle_p50_ms: number;
  readonly detection_latency_idle_p99_ms: number;
  /** Probes sent during saturation: queues growing, for context only. */
  readonly detection_latency_saturated_p50_ms: number;
  readonly detection_latency_saturated_p99_ms: number;
  readonly time_to_contain_p50_ms: number;
  readonly time_to_contain_p99_ms: number;
  readonly time_to_contain_idle_p50_ms: number;
  readonly time_to_contain_idle_p99_ms: number;
  readonly time_to_contain_saturated_p99_ms: number;
  readonly probes: number;
  readonly probes_detected: number;
  readonly probes_contained: number;
  readonly events_stored: number;
  /** The detect stage's counters at the end (rebalances, checkpoint lookups, states loaded …). */
  readonly detect_counters: Record<string, number>;
  readonly last_error?: string;
}

interface ProbeFinding {
  finding_id: string;
  /** The credential token (a probe's own). */
  entity: string;
  stored: number;
  observed: number;
  detected: number;
}

async function probeFindings(app: RunningVigil): Promise<ProbeFinding[]> {
  await app.writers.findings.flush();
  const rows = await app.store.client.query<Record<string, string | number>>(
    `SELECT finding_id, entity,
              toUnixTimestamp64Milli(min(stored_time)) AS stored,
              toUnixTimestamp64Milli(min(first_observed_time)) AS observed,
              toUnixTimestamp64Milli(min(detected_time)) AS detected
            FROM findings WHERE tenant = {t:String} AND detector = 'auth-failures'
            GROUP BY finding_id, entity`,
    { t: BENCH_TENANT },
  );
  return rows.map((r) => ({
    finding_id: String(r.finding_id),
    entity: String(r.entity),
    stored: Number(r.stored),
    observed: Number(r.observed),
    detected: Number(r.detected),
  }));
}

/** When (performance.now()) `done` first held, polled every 20 ms for at most 180 s. */
async function throughAt(done: () => boolean): Promise<number> {
  const deadline = performance.now() + 180_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error('the burst was not stored and detected within 180 s');
    await sleep(20);
  }
  return performance.now();
}

/**
 * Waits until the pipeline handled `events`. When it does not, the error says where events are:
 * counters, and over Kafka each group's records not yet committed (lag still falling: slow; lag
 * 0 with events missing: lost).
 */
async function drain(
  app: RunningVigil,
  events: number,
  kafka?: { brokers: string[]; prefix: string },
): Promise<void> {
  if (await waitForDrain(app, { detectedAtLeast: events, timeoutMs: 180_000 })) return;
  const lag = kafka ? await groupLag(kafka.brokers, kafka.prefix) : '';
  throw new Error(
    `pipeline did not drain within 180 s after the load: detected ${app.metrics.counter('detect_events')} of ${events}` +
      `, stored ${app.writers.events.stats.inserted} (buffered ${app.writers.events.stats.buffered})` +
      `, action jobs pending ${(await app.queue?.pending()) ?? 0}${lag}`,
  );
}

/** Records of the events topic not yet committed by the store and detect groups, twice 5 s apart. */
async function groupLag(brokers: string[], prefix: string): Promise<string> {
  const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  const topic = `${prefix}${TOPICS.events}`;
  const lagOf = async (group: string) => {
    const high = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: `${prefix}${group}`, topics: [topic] });
    return high.reduce((n, p) => {
      const c = committed?.partitions.find((x) => x.partition === p.partition)?.offset ?? '-1';
      return n + Number(p.high) - Math.max(Number(p.low), Number(c));
    }, 0);
  };
  try {
    await admin.connect();
    const before = [await lagOf('store'), await lagOf('detect')];
    await sleep(5_000);
    const after = [await lagOf('store'), await lagOf('detect')];
    return `; records not committed (store, detect): ${before.join(', ')} then 5 s later ${after.join(', ')}`;
  } catch (err) {
    return `; lag unknown: ${String(err)}`;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function kafkaReachable(brokers: string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'bench-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(
      `Kafka broker ${brokers.join(',')} unreachable (bash scripts/services.sh up): ${String(err)}`,
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Records written to a topic: the sum of its partitions' high watermarks (a topic of this run). */
async function topicRecords(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'bench-count', brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * A table of the events table's layout: same engine and key, no deduplication window (copies of
 * stored rows must not be dropped as repeats).
 */
async function createEventsCopy(app: RunningVigil, table: string): Promise<void> {
  await app.store.client.command(`CREATE TABLE ${table} AS events ENGINE = ReplacingMergeTree(observed_time)
            PARTITION BY toDate(time) ORDER BY (tenant, actor, time, event_id)`);
}

/** The engine inserting the stored rows again, INSERT … SELECT into a table of the same layout. */
async function rawInsertSelect(app: RunningVigil): Promise<number> {
  const c = app.store.client;
  await createEventsCopy(app, 'bench_raw');
  const t0 = performance.now();
  await c.command('INSERT INTO bench_raw SELECT * FROM events', undefined, {
    insert_deduplication_token: randomUUID(),
  });
  const seconds = (performance.now() - t0) / 1000;
  const [row] = await c.query<{ n: string }>('SELECT count() AS n FROM bench_raw');
  await c.command('DROP TABLE bench_raw');
  return Number(row?.n ?? 0) / seconds;
}

/** Up to `rows` stored events as the writer sends them (its columns), read back from the run. */
async function storedRows(app: RunningVigil, rows = 40_000): Promise<Record<string, unknown>[]> {
  const columns = Object.keys(eventRow(blankEvent(0)));
  return await app.store.client.query<Record<string, unknown>>(
    `SELECT ${columns.join(', ')} FROM events LIMIT {n:UInt32}`,
    { n: rows },
  );
}

/**
 * The store's own cost of a stored event, per CPU second of the whole process (the engine runs in
 * it): the writer's insert (the store client's `insert`: row arrays to JSONCompactEachRow, the
 * engine parsing and inserting them) over rows read back from the run, into a table of the same
 * layout.
 * No audit chain, no retries. Background merges are stopped meanwhile (the process's CPU time
 * would count them), and the best of a few rounds is kept: it is one of the parts of the
 * machine's ceiling (bench/run.ts), an upper bound.
 */
async function storeInsertPerCpuSecond(
  app: RunningVigil,
  read: Record<string, unknown>[],
  rounds = 3,
): Promise<number> {
  const c = app.store.client;
  await createEventsCopy(app, 'bench_store');
  await c.command('SYSTEM STOP MERGES');
  try {
    let best = 0;
    for (let round = 0; round < rounds; round++) {
      let cpu = 0;
      // Slices of the writer's batch size, as the writer inserts.
      for (let i = 0; i < read.length; i += 5_000) {
        const slice = read.slice(i, i + 5_000);
        const before = process.cpuUsage();
        await c.insert('bench_store', slice);
        cpu += cpuSeconds(before);
      }
      best = Math.max(best, read.length / cpu);
    }
    return best;
  } finally {
    await c.command('SYSTEM START MERGES');
    await c.command('DROP TABLE bench_store');
  }
}

/**
 * The audit chain's cost of a stored row, CPU µs: sealing batches of the writer's size (each row's
 * canonical form, key and content digests, the batch digest and head) over rows read back from the
 * run, best of a few rounds; raw: one SHA-256 of each row's JSON text, the floor of any per-row
 * digest. The chain record's insert and head file, once per batch, are not counted.
 */
async function auditChainCost(
  app: RunningVigil,
  read: Record<string, unknown>[],
  rounds = 3,
): Promise<{ us: number; raw: number }> {
  const shape = await tableShape(app.store.client, 'events');
  const key = randomBytes(32);
  let best = Number.POSITIVE_INFINITY;
  let raw = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    let prev = { seq: 0, head: '0'.repeat(64) };
    const before = process.cpuUsage();
    for (let i = 0; i < read.length; i += 5_000) {
      const record = sealBatch(shape, read.slice(i, i + 5_000), {
        chain: 'bench',
        prev,
        key,
        now: Date.now(),
      });
      prev = { seq: record.batch_seq, head: record.head };
    }
    best = Math.min(best, (cpuSeconds(before) * 1e6) / read.length);
    const rawBefore = process.cpuUsage();
    for (const row of read) hash('sha256', JSON.stringify(row), 'hex');
    raw = Math.min(raw, (cpuSeconds(rawBefore) * 1e6) / read.length);
  }
  return { us: best, raw };
}

/** kafkajs alone: the same payloads (canonical events as the bus encodes them), produced with the
 * bus's producer settings and batch sizes at the same concurrency, consumed by `groups` groups
 * (vigil reads the events topic in two: store and detect). */
async function rawKafka(
  opts: E2eStageOptions,
  brokers: string[],
  prefix: string,
  groups = 1,
): Promise<number> {
  const total = opts.rawMessages ?? 200_000;
  const tokenizer = createTokenizer({ version: 1, secret: randomBytes(32) });
  const line = createGenericLines(opts.identities, 99);
  const batches: Array<Array<{ key: string; value: Buffer }>> = [];
  const now = Date.now();
  for (let n = 0; n < total; n += opts.perBody) {
    const lines: string[] = [];
    for (let i = 0; i < opts.perBody; i++) lines.push(line(`raw-${n + i}`, now));
    const { events } = parseGenericBody(
      Buffer.from(lines.join('\n')),
      'application/x-ndjson',
      { tokenizer },
      now,
    );
    batches.push(events.map((e) => ({ key: partitionKey(e.tenant, e.actor), value: encodeJson(e) })));
  }
  const count = batches.reduce((n, b) => n + b.length, 0);
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const topic = `${prefix}raw`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const consumers = Array.from({ length: groups }, (_, g) =>
    kafka.consumer({ groupId: `${prefix}raw-${g}`, maxBytesPerPartition: 4 * 1024 * 1024 }),
  );
  let consumed = 0;
  let done!: () => void;
  const allConsumed = new Promise<void>((r) => {
    done = r;
  });
  for (const consumer of consumers) {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        if (consumed >= count * groups) done();
      },
    });
  }
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      for (let b = next++; b < batches.length; b = next++) {
        for (const chunk of chunkBySize(batches[b]!, 768 * 1024))
          await producer.send({ topic, acks: -1, messages: chunk });
      }
    }),
  );
  await Promise.race([allConsumed, sleep(120_000)]);
  const seconds = (performance.now() - t0) / 1000;
  for (const consumer of consumers) await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  if (consumed < count * groups) throw new Error(`raw Kafka: consumed ${consumed} of ${count * groups}`);
  return count / seconds;
}

async function run(
  opts: E2eStageOptions,
  load: LoadClient,
  dataDir: string,
  webhookSecret: string,
  token: string,
): Promise<E2eStageResult> {
  const runId = randomBytes(4).toString('hex');
  const brokers = (opts.kafkaBrokers ?? '127.0.0.1:19092').split(',');
  if (opts.mode === 'kafka') await kafkaReachable(brokers);
  const prefix = `bench-${runId}-`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VIGIL_DATA_DIR: dataDir,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_COLLECTOR_PORT: '0',
    VIGIL_ADMIN_PORT: '0',
    VIGIL_OTLP_HTTP_PORT: '0',
    VIGIL_OTLP_GRPC_PORT: '0',
    VIGIL_LOG_LEVEL: 'warn',
    VIGIL_WEBHOOK_URL: load.hookUrl,
    VIGIL_WEBHOOK_SECRET: webhookSecret,
    VIGIL_SOURCE_TOKEN_GENERIC: token,
    KAFKA_BROKERS: opts.mode === 'kafka' ? brokers.join(',') : '',
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: '',
    CLICKHOUSE_URL: '',
  };
  const logger = createLogger('warn', 'vigil-bench', path.join(dataDir, 'vigil.log'));
  const app = await startVigil(loadConfig(env), { logger }, env);
  try {
    load.target(app.collectorUrl!);
    const inserted = () => app.writers.events.stats.inserted;
    const detected = () => app.metrics.counter('detect_events');

    // Steady state: every identity known to the detectors (as after a restart from checkpoints),
    // so the window measures the flow, not the first sight of 10,000 identities.
    const primed = await load.prime();
    await waitForDrain(app, { detectedAtLeast: primed, timeoutMs: 120_000 });

    // Idle: probes one at a time, each given time to go all the way through.
    const idle: string[] = [];
    for (let i = 0; i < opts.idleProbes; i++) {
      const name = `probe-idle-${runId}-${i}`;
      if ((await load.probe(name)) !== 200) throw new Error(`idle probe ${name} was not accepted`);
      idle.push(name);
      await sleep(300);
    }
    await waitForDrain(app, { detectedAtLeast: primed + idle.length, timeoutMs: 30_000 });

    // Saturation: gateways send as fast as vigil takes them; after a warm-up, the window's rate
    // of events stored AND detected is the sustained rate (embedded). Over Kafka the collectors'
    // intake is not held back by the consumers (the broker buffers), so in one process the window
    // measures how the event loop was shared between intake and consumers, not what the pipeline
    // moves: the rate there is the burst's — everything accepted, divided by the time from the
    // first send until all of it was stored and detected.
    const accepted = { before: primed + idle.length };
    // vigil's CPU: the process's less the load worker's own thread (the broker is another process).
    const vigilCpu = async () => cpuSeconds({ user: 0, system: 0 }) - (await load.cpuSeconds());
    const saturate = async () => {
      const c0 = await vigilCpu();
      const t0 = performance.now();
      const [ins0, det0] = [inserted(), detected()];
      load.load({
        probeEveryMs: opts.probeEveryMs,
        probePrefix: `probe-sat-${runId}`,
        rate: 0,
        perBody: opts.perBody,
      });
      await sleep(opts.warmupSeconds * 1000);
      const c1 = await vigilCpu();
      const threads1 = threadCpu();
      const t1 = performance.now();
      const [ins1, det1] = [inserted(), detected()];
      await sleep(opts.seconds * 1000);
      const t2 = performance.now();
      const [ins2, det2] = [inserted(), detected()];
      const c2 = await vigilCpu();
      const threads2 = threadCpu();
      const stats = await load.stop();
      const window = (t2 - t1) / 1000;
      accepted.before += stats.accepted;
      const through = await throughAt(
        () => inserted() - ins0 >= stats.accepted && detected() - det0 >= stats.accepted,
      );
      await drain(app, accepted.before, opts.mode === 'kafka' ? { brokers, prefix } : undefined);
      const cThrough = await vigilCpu();
      const burst = stats.accepted / ((through - t0) / 1000);
      const windowRate = Math.min(ins2 - ins1, det2 - det1) / window;
      // Per CPU second of vigil: the window's events over its CPU (embedded), the burst's events
      // over the CPU from its first send until all were stored and detected (Kafka).
      const perCpuSecond =
        opts.mode === 'kafka'
          ? stats.accepted / (cThrough - c0)
          : Math.min(ins2 - ins1, det2 - det1) / (c2 - c1);
      // Where the window's CPU went, by thread, in µs per event: the event loop (`main`), the load
      // generator (`load`, not vigil's), Node's other threads in the order they started (V8's
      // helpers and the libuv pool first, then worker threads) and the engine's pools by name.
      const windowEvents = Math.max(1, Math.min(ins2 - ins1, det2 - det1));
      const byThread = Object.fromEntries(
        threadCpuBetween(threads1, threads2, new Map(load.tid() ? [[load.tid()!, 'load']] : [])).map(
          ([name, sec]) => [name, round((sec * 1e6) / windowEvents, 1)],
        ),
      );
      return {
        stats,
        perCpuSecond,
        byThread,
        sustained: opts.mode === 'kafka' ? burst : windowRate,
        windowRate,
        burst,
        stored: (ins2 - ins1) / window,
        detected: (det2 - det1) / window,
        acceptedRate: stats.accepted / (opts.warmupSeconds + opts.seconds),
      };
    };
    const sat = await saturate();

    // Latency under that load: gateways paced at 80 % of the sustained rate (at 100 % or more the
    // queues only grow and so would any latency), in smaller bodies, probes in the traffic.
    const pacedRate = Math.max(1_000, Math.round(0.8 * sat.sustained));
    load.load({
      probeEveryMs: opts.probeEveryMs,
      probePrefix: `probe-load-${runId}`,
      rate: pacedRate,
      perBody: Math.max(100, Math.round(opts.perBody / 4)),
    });
    await sleep((opts.warmupSeconds + opts.seconds) * 1000);
    const paced = await load.stop();
    accepted.before += paced.accepted;
    await drain(app, accepted.before, opts.mode === 'kafka' ? { brokers, prefix } : undefined);

    // Probes: latency from the store's own clock, containment from the receiver's.
    const probeNames = [...idle, ...sat.stats.probes, ...paced.probes];
    const kindOf = new Map(
      probeNames.map((n) => [
        app.tokenizer.token('credential', BENCH_TENANT, `key-${n}`),
        n.startsWith('probe-idle') ? 'idle' : n.startsWith('probe-sat') ? 'saturated' : 'load',
      ]),
    );
    let findings = await probeFindings(app);
    const deadline = Date.now() + 30_000;
    let deliveries = await load.deliveries();
    // Over Kafka, the respond group can deliver a probe's webhook before the store-findings group
    // stored its finding: wait for the findings too, not only for a delivery per stored finding.
    while (
      Date.now() < deadline &&
      (deliveries.length < findings.length || findings.length < probeNames.length)
    ) {
      await sleep(200);
      deliveries = await load.deliveries();
      findings = await probeFindings(app);
    }
    const deliveredAt = new Map<string, number>();
    for (const d of deliveries)
      if (d.verified && !deliveredAt.has(d.findingId)) deliveredAt.set(d.findingId, d.at);
    type Kind = 'idle' | 'load' | 'saturated';
    const lat: Record<Kind, number[]> = { idle: [], load: [], saturated: [] };
    const ttc: Record<Kind, number[]> = { idle: [], load: [], saturated: [] };
    for (const f of findings) {
      const kind = kindOf.get(f.entity) as Kind | undefined;
      if (!kind) continue;
      lat[kind].push(f.stored - f.observed);
      const at = deliveredAt.get(f.finding_id);
      if (at !== undefined) ttc[kind].push(at - f.detected);
    }

    const rawRate = opts.mode === 'embedded' ? await rawInsertSelect(app) : 0;
    const stored = opts.mode === 'embedded' ? await storedRows(app) : [];
    const storeRate = opts.mode === 'embedded' ? await storeInsertPerCpuSecond(app, stored) : 0;
    const chainCost = opts.mode === 'embedded' ? await auditChainCost(app, stored) : undefined;
    const records = opts.mode === 'kafka' ? await topicRecords(brokers, `${prefix}${TOPICS.events}`) : 0;
    return {
      mode: opts.mode,
      identities: opts.identities,
      events_per_s: round(sat.sustained),
      window_events_per_s: round(sat.windowRate),
      events_per_cpu_s:
        Number.isFinite(sat.perCpuSecond) && sat.perCpuSecond > 0 ? round(sat.perCpuSecond) : 0,
      cpu_us_per_event_by_thread: sat.byThread,
      burst_events_per_s: round(sat.burst),
      stored_per_s: round(sat.stored),
      detected_per_s: round(sat.detected),
      accepted_per_s: round(sat.acceptedRate),
      paced_events_per_s: pacedRate,
      paced_accepted_per_s: round(paced.accepted / (opts.warmupSeconds + opts.seconds)),
      raw_events_per_s: round(rawRate),
      store_insert_rows_per_cpu_s: round(storeRate),
      ...(chainCost
        ? {
            audit_chain_us_per_event: round(chainCost.us, 2),
            audit_chain_raw_us_per_event: round(chainCost.raw, 2),
          }
        : {}),
      raw_what: opts.mode === 'embedded' ? 'INSERT … SELECT of the stored rows' : 'kafkajs produce + consume',
      throttled_requests: sat.stats.throttled + paced.throttled,
      failed_requests: sat.stats.errors + paced.errors,
      detection_latency_p50_ms: quantile(lat.load, 0.5),
      detection_latency_p99_ms: quantile(lat.load, 0.99),
      detection_latency_max_ms: quantile(lat.load, 1),
      detection_latency_idle_p50_ms: quantile(lat.idle, 0.5),
      detection_latency_idle_p99_ms: quantile(lat.idle, 0.99),
      detection_latency_saturated_p50_ms: quantile(lat.saturated, 0.5),
      detection_latency_saturated_p99_ms: quantile(lat.saturated, 0.99),
      time_to_contain_p50_ms: quantile(ttc.load, 0.5),
      time_to_contain_p99_ms: quantile(ttc.load, 0.99),
      time_to_contain_idle_p50_ms: quantile(ttc.idle, 0.5),
      time_to_contain_idle_p99_ms: quantile(ttc.idle, 0.99),
      time_to_contain_saturated_p99_ms: quantile(ttc.saturated, 0.99),
      probes: probeNames.length,
      probes_detected: lat.idle.length + lat.load.length + lat.saturated.length,
      probes_contained: ttc.idle.length + ttc.load.length + ttc.saturated.length,
      events_stored: inserted(),
      detect_counters: Object.fromEntries(
        [
          'detect_events',
          'detect_rebalances',
          'detect_checkpoint_lookups',
          'detect_states_loaded',
          'detect_states_checkpointed',
          'detect_identities_bootstrapped',
        ].map((name) => [name, app.metrics.counter(name)]),
      ),
      ...(opts.mode === 'kafka' ? { kafka_records_per_event: round(records / accepted.before, 4) } : {}),
      last_error: sat.stats.lastError ?? paced.lastError,
    };
  } finally {
    await app.stop();
    // The run's topics hold ~a million events: leave the broker as it was (the test suite's
    // privacy scan reads every vigil topic on it).
    if (opts.mode === 'kafka') await deleteTopics(brokers, prefix);
  }
}

async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics });
  } catch {
    // Best effort: a broker that went away keeps them.
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

stageMain<E2eStageOptions, E2eStageResult>(async (opts) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const token = randomBytes(24).toString('base64url');
  const load = await createLoadClient({
    token,
    webhookSecret,
    identities: opts.identities,
    concurrency: opts.concurrency,
    perBody: opts.perBody,
    runId: randomBytes(4).toString('hex'),
  });
  try {
    const result = await run(opts, load, dataDir, webhookSecret, token);
    if (opts.mode !== 'kafka') return result;
    // After vigil stopped, so the raw run has the machine to itself as vigil had.
    const brokers = (opts.kafkaBrokers ?? '127.0.0.1:19092').split(',');
    const raw = await rawKafka(opts, brokers, `bench-raw-${randomBytes(4).toString('hex')}-`);
    const two = await rawKafka(opts, brokers, `bench-raw-${randomBytes(4).toString('hex')}-`, 2);
    return { ...result, raw_events_per_s: round(raw), raw_two_groups_events_per_s: round(two) };
  } finally {
    await load.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
