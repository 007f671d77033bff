// Collector hot paths per core, each next to the raw limit of the same work on the same machine:
//   OTLP    gzip protobuf → decode → map → tokenize → bus (in-process, no-op consumer)
//           raw: gunzip + a walk over every protobuf field (no values decoded): framing alone
//   NDJSON  generic gateway lines → validate → normalize → tokenize → bus
//           raw: UTF-8 decode + split + JSON.parse of every line
//   tokenize the identifier stream of the same traffic through the tokenizer (cache + HMAC)
//           raw: Map lookups of the same keys, all hits (an ideal cache)
// Rates are per CPU second of this process, so they are what one core does.
import { createHmac, randomBytes } from 'node:crypto';
import protobuf from 'protobufjs/minimal.js';
import { createInProcessBus, TOPICS } from '../../src/bus/index.js';
import type { CollectorDeps } from '../../src/collectors/deps.js';
import { parseGenericBody } from '../../src/collectors/generic/server.js';
import { decodeBody } from '../../src/collectors/http/body.js';
import { createIngest } from '../../src/collectors/ingest.js';
import { decodeUtf8 } from '../../src/collectors/ndjson.js';
import { decodeTraceRequestProto } from '../../src/collectors/otlp/otlp.decoder.js';
import { ingestMapped } from '../../src/collectors/otlp/receive.js';
import { mapExportRequest } from '../../src/collectors/otlp/span.mapper.js';
import { createTokenizer, networkOf, normalizeIp } from '../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../src/telemetry/index.js';
import { measureRate, round } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { BENCH_TENANT, createCallers, genericBodies, otlpRequests } from '../lib/workload.js';

export interface PipelineStageOptions extends StageOptions {
  readonly identities: number;
  /** Wall seconds per measurement. */
  readonly seconds: number;
  /** Run one part only (profiling). */
  readonly only?: 'otlp' | 'ndjson' | 'tokenize';
}

export interface PipelineStageResult {
  readonly identities: number;
  readonly otlp_spans_per_s_per_core: number;
  readonly otlp_raw_spans_per_s_per_core: number;
  readonly ndjson_events_per_s_per_core: number;
  readonly ndjson_raw_events_per_s_per_core: number;
  readonly tokenize_per_s: number;
  readonly tokenize_raw_per_s: number;
  readonly tokenize_uncached_per_s: number;
  readonly tokenize_cache_hit_ratio: number;
  readonly otlp_bytes_per_span: number;
  readonly ndjson_bytes_per_event: number;
}

const MAX_BODY = 64 * 1024 * 1024;

async function collectorDeps(): Promise<CollectorDeps> {
  const bus = createInProcessBus();
  // The no-op consumer: durable, so a publish resolves once it "stored" the batch.
  await bus.subscribe({
    topic: TOPICS.events,
    group: 'noop',
    durable: true,
    maxBatch: 20_000,
    handler: async () => {},
  });
  return {
    auth: { check: () => ({ ok: true }) } as unknown as CollectorDeps['auth'],
    ingest: createIngest({ bus, maxInflight: 10_000_000 }),
    tokenizer: createTokenizer({ version: 1, secret: randomBytes(32) }),
    metrics: createMetrics(),
    logger: createLogger('silent', 'bench'),
    maxBodyBytes: MAX_BODY,
  };
}

// ------------------------------------------------------------------------------------------ OTLP

/** Message layouts of ExportTraceServiceRequest: field number → nested message layout. */
type Layout = Map<number, Layout | null>;
const ANY_VALUE: Layout = new Map();
const KEY_VALUE: Layout = new Map([
  [1, null],
  [2, ANY_VALUE],
]);
ANY_VALUE.set(5, new Map([[1, ANY_VALUE]])).set(6, new Map([[1, KEY_VALUE]]));
const SPAN: Layout = new Map<number, Layout | null>([
  [9, KEY_VALUE],
  [15, new Map()],
]);
const SCOPE_SPANS: Layout = new Map<number, Layout | null>([
  [1, new Map([[3, KEY_VALUE]])],
  [2, SPAN],
]);
const RESOURCE_SPANS: Layout = new Map<number, Layout | null>([
  [1, new Map([[1, KEY_VALUE]])],
  [2, SCOPE_SPANS],
]);
const REQUEST: Layout = new Map([[1, RESOURCE_SPANS]]);

/** Visits every field of every message; strings and bytes are skipped, not decoded. */
function walk(r: protobuf.Reader, end: number, layout: Layout): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const wire = tag & 7;
    if (wire === 2) {
      const len = r.uint32();
      const child = layout.get(tag >>> 3);
      if (child) walk(r, r.pos + len, child);
      else r.pos += len;
    } else r.skipType(wire);
  }
}

async function benchOtlp(opts: PipelineStageOptions) {
  const perRequest = 1_000;
  const requests = otlpRequests(opts.identities, opts.quick ? 10 : 60, perRequest);
  const deps = await collectorDeps();
  const step = async (i: number) => {
    const body = decodeBody(requests[i % requests.length]!, 'gzip', MAX_BODY);
    const mapped = mapExportRequest(decodeTraceRequestProto(body), {
      tokenizer: deps.tokenizer,
      now: Date.now(),
    });
    await ingestMapped(deps, mapped);
    return mapped.events.length;
  };
  const raw = (i: number) => {
    const body = decodeBody(requests[i % requests.length]!, 'gzip', MAX_BODY);
    const r = protobuf.Reader.create(body);
    walk(r, r.len, REQUEST);
    return perRequest;
  };
  const mapped = mapExportRequest(decodeTraceRequestProto(decodeBody(requests[0]!, 'gzip', MAX_BODY)), {
    tokenizer: deps.tokenizer,
    now: Date.now(),
  });
  if (mapped.events.length !== perRequest)
    throw new Error(
      `OTLP workload: ${mapped.events.length} of ${perRequest} spans mapped (${mapped.errorMessage})`,
    );
  const bytes = decodeBody(requests[0]!, 'gzip', MAX_BODY).length / perRequest;
  await measureRate(step, { minSeconds: opts.seconds / 4 }); // warm-up: JIT, tokenizer cache
  const ours = await measureRate(step, { minSeconds: opts.seconds });
  await measureRate(raw, { minSeconds: opts.seconds / 4 });
  const rawRate = await measureRate(raw, { minSeconds: opts.seconds / 2 });
  return { ours: ours.perCpuSecond, raw: rawRate.perCpuSecond, bytes };
}

// ---------------------------------------------------------------------------------------- NDJSON

async function benchNdjson(opts: PipelineStageOptions) {
  const perBody = 1_000;
  const bodies = genericBodies(opts.identities, opts.quick ? 20 : 120, perBody, 'bench');
  const deps = await collectorDeps();
  const step = async (i: number) => {
    const { events, rejected } = parseGenericBody(
      bodies[i % bodies.length]!,
      'application/x-ndjson',
      deps,
      Date.now(),
    );
    if (rejected.length) throw new Error(`NDJSON workload rejected: ${rejected[0]!.reason}`);
    await deps.ingest.submit(events);
    deps.metrics.inc('ingest_accepted_generic', events.length);
    return events.length;
  };
  const raw = (i: number) => {
    const lines = decodeUtf8(bodies[i % bodies.length]!).split('\n');
    let n = 0;
    for (const line of lines) if (line !== '' && JSON.parse(line)) n++;
    return n;
  };
  await measureRate(step, { minSeconds: opts.seconds / 4 });
  const ours = await measureRate(step, { minSeconds: opts.seconds });
  await measureRate(raw, { minSeconds: opts.seconds / 4 });
  const rawRate = await measureRate(raw, { minSeconds: opts.seconds / 2 });
  return { ours: ours.perCpuSecond, raw: rawRate.perCpuSecond, bytes: bodies[0]!.length / perBody };
}

// -------------------------------------------------------------------------------------- tokenize

async function benchTokenize(opts: PipelineStageOptions) {
  const events = opts.quick ? 200_000 : 1_000_000;
  const next = createCallers(opts.identities, 17);
  const callers = Array.from({ length: events }, next);
  const secret = randomBytes(32);
  const tokenizer = createTokenizer({ version: 1, secret });
  const chunk = 10_000;
  let tokens = 0;
  const step = (i: number) => {
    const from = (i * chunk) % callers.length;
    for (let k = from; k < from + chunk; k++) {
      const c = callers[k]!;
      tokenizer.token('actor', BENCH_TENANT, c.user, 'user');
      tokenizer.token('credential', BENCH_TENANT, c.credential);
      tokenizer.token('session', BENCH_TENANT, c.session);
      tokenizer.address(BENCH_TENANT, c.ip);
    }
    tokens += chunk * 5;
    return chunk * 5;
  };
  // One pass over the stream from a cold cache: the hit ratio is the stream's, not a re-run's.
  const ours = await measureRate(step, { minSeconds: 0, minSteps: events / chunk, maxSteps: events / chunk });
  const { hits, misses } = tokenizer.stats;
  if (hits + misses !== tokens) throw new Error(`tokenizer counted ${hits + misses} of ${tokens} lookups`);

  // Raw: the same keys in a plain Map, every lookup a hit.
  const keys: string[] = [];
  for (const c of callers.slice(0, 200_000)) {
    keys.push(`usr\u0000${BENCH_TENANT}\u0000${c.user}`, `key\u0000${BENCH_TENANT}\u0000${c.credential}`);
    keys.push(
      `ses\u0000${BENCH_TENANT}\u0000${c.session}`,
      `ip\u0000${BENCH_TENANT}\u0000${normalizeIp(c.ip)}`,
    );
    keys.push(`net\u0000${BENCH_TENANT}\u0000${networkOf(c.ip)}`);
  }
  const map = new Map(keys.map((k) => [k, k]));
  let sink = 0;
  const raw = await measureRate(
    () => {
      for (const k of keys) sink += map.get(k)!.length;
      return keys.length;
    },
    { minSeconds: opts.seconds / 4, minSteps: 2 },
  );
  // Context: every lookup computing its HMAC (no cache at all).
  const uncached = await measureRate(
    () => {
      for (let k = 0; k < 10_000; k++)
        sink += createHmac('sha256', secret).update(keys[k]!).digest('base64url').length;
      return 10_000;
    },
    { minSeconds: opts.seconds / 4 },
  );
  if (sink < 0) throw new Error('unreachable');
  return {
    ours: ours.perCpuSecond,
    raw: raw.perCpuSecond,
    uncached: uncached.perCpuSecond,
    hitRatio: hits / (hits + misses),
  };
}

stageMain<PipelineStageOptions, PipelineStageResult>(async (opts) => {
  const none = { ours: 0, raw: 0, bytes: 0, uncached: 0, hitRatio: 0 };
  const otlp = !opts.only || opts.only === 'otlp' ? await benchOtlp(opts) : none;
  const ndjson = !opts.only || opts.only === 'ndjson' ? await benchNdjson(opts) : none;
  const tok = !opts.only || opts.only === 'tokenize' ? await benchTokenize(opts) : none;
  return {
    identities: opts.identities,
    otlp_spans_per_s_per_core: round(otlp.ours),
    otlp_raw_spans_per_s_per_core: round(otlp.raw),
    ndjson_events_per_s_per_core: round(ndjson.ours),
    ndjson_raw_events_per_s_per_core: round(ndjson.raw),
    tokenize_per_s: round(tok.ours),
    tokenize_raw_per_s: round(tok.raw),
    tokenize_uncached_per_s: round(tok.uncached),
    tokenize_cache_hit_ratio: round(tok.hitRatio, 4),
    otlp_bytes_per_span: round(otlp.bytes),
    ndjson_bytes_per_event: round(ndjson.bytes),
  };
});
