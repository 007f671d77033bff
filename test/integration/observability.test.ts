// vigil observing itself: Prometheus text on GET /metrics (stable names, no identifiers in
// labels), /healthz and /readyz from the real state of the dependencies, and its own traces and
// metrics exported over OTLP/HTTP to a receiver. Readiness is tested by taking a dependency away
// for real without touching the shared services: Redis through a TCP proxy this test closes, and
// a private Kafka broker this test starts and kills (test/helpers/own-kafka.ts).
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { waitForDrain } from '../../src/cli/drain.js';
import { summary } from '../../src/store/index.js';
import { type OwnKafka, startOwnKafka } from '../helpers/own-kafka.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

/** A Prometheus text exposition, parsed strictly enough to catch malformed lines. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (\S+)$/.exec(
        line,
      );
    if (!sample) throw new Error(`not a Prometheus line: ${line}`);
    const value = Number(sample[4] === '+Inf' ? Infinity : sample[4]);
    if (Number.isNaN(value) && sample[4] !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.set(`${sample[1]}${sample[2] ?? ''}`, value);
  }
  return { types, samples };
}

interface Received {
  spans: Array<{ name: string; attributes: Record<string, unknown> }>;
  metrics: Set<string>;
  raw: string[];
}

/** A tiny OTLP/HTTP (JSON) receiver: what the JS http exporters send. */
async function startOtlpReceiver(): Promise<{ url: string; received: Received; close(): Promise<void> }> {
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  const received: Received = { spans: [], metrics: new Set(), raw: [] };
  type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
  const attrs = (list: Array<{ key: string; value: AnyValue }> = []) =>
    Object.fromEntries(
      list.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue]),
    );
  app.post('/v1/traces', async (req) => {
    received.raw.push(JSON.stringify(req.body));
    const body = req.body as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; attributes?: [] }> }> }>;
    };
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          received.spans.push({ name: s.name, attributes: attrs(s.attributes) });
    return {};
  });
  app.post('/v1/metrics', async (req) => {
    received.raw.push(JSON.stringify(req.body));
    const body = req.body as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string }> }> }>;
    };
    for (const rm of body.resourceMetrics ?? [])
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) received.metrics.add(m.name);
    return {};
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    received,
    close: () => app.close(),
  };
}

const readyz = async (v: TestVigil) => {
  const r = await fetch(`${v.app.adminUrl}/readyz`, {
    headers: { authorization: `Bearer ${v.app.adminToken}` },
  });
  return { status: r.status, body: (await r.json()) as { ready: boolean; checks?: Record<string, boolean> } };
};

describe('metrics, health and OTLP export of vigil itself', () => {
  let v: TestVigil;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const analyst = `analyst-${randomBytes(12).toString('hex')}`;
  const tenant = 'obs';

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    v = await startTestVigil({
      env: {
        VIGIL_ANALYST_TOKEN: analyst,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
      },
    });
    const w = generateWorkload({ tenant, days: 3, people: 5, services: 2, seed: 5 });
    for (let i = 0; i < w.events.length; i += 5_000)
      expect((await v.post(w.events.slice(i, i + 5_000))).status).toBe(200);
    expect(await waitForDrain(v.app, { detectedAtLeast: w.events.length, timeoutMs: 60_000 })).toBe(true);
    await waitFor(
      () => summary(v.app.store.client, tenant),
      (s) => s.findings > 0 && s.actions > 0,
      { what: 'findings and actions', timeoutMs: 20_000 },
    );
  }, 120_000);
  afterAll(async () => {
    await v?.stop();
    await otlp?.close();
  });

  it('serves Prometheus text on GET /metrics to analysts, with stable names and no identifiers', async () => {
    expect((await fetch(`${v.app.adminUrl}/metrics`)).status).toBe(401);
    const denied = await fetch(`${v.app.adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${v.app.sourceToken}` },
    });
    expect(denied.status).toBe(403);
    const r = await fetch(`${v.app.adminUrl}/metrics`, { headers: { authorization: `Bearer ${analyst}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const { types, samples } = parsePrometheus(text);
    expect(samples.get('vigil_up')).toBe(1);
    for (const [name, type] of [
      ['vigil_ingest_accepted_generic_total', 'counter'],
      ['vigil_ingest_batches_total', 'counter'],
      ['vigil_bus_published_vigil_events_v1_total', 'counter'],
      ['vigil_bus_consumed_detect_total', 'counter'],
      ['vigil_store_inserts_total', 'counter'],
      ['vigil_store_inserted_rows_total', 'counter'],
      ['vigil_detect_findings_total', 'counter'],
      ['vigil_respond_actions_succeeded_total', 'counter'],
      ['vigil_detection_latency_ms', 'histogram'],
      ['vigil_store_insert_ms', 'histogram'],
      ['vigil_bus_consume_detect_ms', 'histogram'],
      ['vigil_ingest_inflight_events', 'gauge'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_cpu_user_seconds_total', 'counter'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
    ] as const)
      expect(types.get(name), name).toBe(type);
    expect(samples.get('vigil_ingest_accepted_generic_total')).toBeGreaterThan(1000);
    const latencyCount = samples.get('vigil_detection_latency_ms_count')!;
    expect(latencyCount).toBeGreaterThan(0);
    expect(samples.get('vigil_detection_latency_ms_bucket{le="+Inf"}')).toBe(latencyCount);
    // Labels are fixed words (only `le`); no token, tenant or address anywhere in the exposition.
    expect([...samples.keys()].every((k) => !k.includes('{') || /^[^{]+\{le="[^"]+"\}$/.test(k))).toBe(true);
    expect(text).not.toMatch(/usr_k\d|svc_k\d|@|\b\d+\.\d+\.\d+\.\d+\b/);
    expect(text).not.toContain(tenant);
  });

  it('answers /healthz while alive and /readyz from the store and the bus', async () => {
    const health = await fetch(`${v.app.adminUrl}/healthz`, {
      headers: { authorization: `Bearer ${analyst}` },
    });
    expect(health.status).toBe(200);
    expect(await readyz(v)).toEqual({
      status: 200,
      body: { ready: true, checks: { store: true, bus: true } },
    });
  });

  it('exports its own spans and metrics over OTLP/HTTP, with no identifiers', async () => {
    const names = await waitFor(
      () => new Set(otlp.received.spans.map((s) => s.name)),
      (n) =>
        ['ingest batch', 'publish vigil.events.v1', 'process vigil.events.v1', 'INSERT events'].every((x) =>
          n.has(x),
        ) && [...n].some((x) => x.startsWith('respond ')),
      { what: 'vigil spans at the OTLP receiver', timeoutMs: 20_000 },
    );
    expect(names).toContain('publish vigil.findings.v1');
    const consume = otlp.received.spans.find((s) => s.name === 'process vigil.events.v1')!;
    expect(consume.attributes).toMatchObject({ 'messaging.system': 'vigil-in-process' });
    expect(consume.attributes['messaging.consumer.group.name']).toBeTypeOf('string');
    await waitFor(
      () => otlp.received.metrics,
      (m) =>
        ['vigil.detection_latency_ms', 'vigil.store_inserts', 'vigil.ingest_accepted_generic'].every((x) =>
          m.has(x),
        ),
      { what: 'vigil metrics at the OTLP receiver', timeoutMs: 20_000 },
    );
    expect(otlp.received.raw.join('\n')).not.toMatch(/usr_k\d|svc_k\d|@example/);
  });
});

/** A TCP proxy to a real service, which the test can close (the port then refuses) and reopen. */
async function startProxy(target: { host: string; port: number }, port = 0) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection(target);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
    });
  const bound = await open(port);
  return {
    port: bound,
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
    up: () => open(bound),
  };
}

describe('readiness follows Redis', () => {
  let v: TestVigil;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    const redis = new URL(REDIS_URL);
    proxy = await startProxy({ host: redis.hostname, port: Number(redis.port) });
    v = await startTestVigil({
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, VIGIL_QUEUE_PREFIX: uniqueName('obs-redis') },
    });
  });
  afterAll(async () => v?.stop());

  it('is 200 with Redis, 503 while Redis is unreachable, and 200 again when it is back', async () => {
    expect(await readyz(v)).toEqual({
      status: 200,
      body: { ready: true, checks: { store: true, bus: true, redis: true } },
    });
    await proxy.down();
    const down = await waitFor(
      () => readyz(v),
      (r) => r.status === 503,
      { what: '503 without Redis', timeoutMs: 15_000 },
    );
    expect(down.body).toEqual({ ready: false, checks: { store: true, bus: true, redis: false } });
    await proxy.up();
    await waitFor(
      () => readyz(v),
      (r) => r.status === 200,
      { what: '200 with Redis back', timeoutMs: 15_000 },
    );
  });
});

describe('readiness follows Kafka', () => {
  let v: TestVigil | undefined;
  let kafka: OwnKafka | undefined;
  let brokerUp = false;

  beforeAll(async () => {
    kafka = await startOwnKafka();
    brokerUp = true;
    v = await startTestVigil({
      env: {
        KAFKA_BROKERS: kafka.brokers,
        KAFKA_TOPIC_PREFIX: `${uniqueName('obs')}.`,
        KAFKA_PARTITIONS: '1',
      },
    });
  }, 90_000);
  afterAll(async () => {
    // The broker comes back before vigil stops, so its consumers leave their group cleanly.
    if (kafka && !brokerUp) await kafka.restart().catch(() => undefined);
    await v?.stop();
    await kafka?.destroy();
  }, 60_000);

  it('is 200 with the broker, 503 once it is gone, and 200 again when it is back', async () => {
    expect(await readyz(v!)).toEqual({
      status: 200,
      body: { ready: true, checks: { store: true, bus: true } },
    });
    await kafka!.kill();
    brokerUp = false;
    const down = await waitFor(
      () => readyz(v!),
      (r) => r.status === 503,
      { what: '503 without Kafka', timeoutMs: 20_000 },
    );
    expect(down.body).toEqual({ ready: false, checks: { store: true, bus: false } });
    await kafka!.restart();
    brokerUp = true;
    await waitFor(
      () => readyz(v!),
      (r) => r.status === 200,
      { what: '200 with Kafka back', timeoutMs: 30_000 },
    );
  }, 90_000);
});
