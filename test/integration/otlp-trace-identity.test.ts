// Identity across a trace, with spans the official SDK makes and the official exporter sends to a
// running vigil: the HTTP server span names the user, the vector-store span under it does not.
// The database event takes the user of its nearest ancestor whether that ancestor arrives in the
// same request, an earlier one or a later one within VIGIL_TRACE_IDENTITY_WAIT; else it keeps the
// service and says so. Raw user ids never reach the store.
import { randomBytes } from 'node:crypto';
import {
  type Context,
  context as otelContext,
  propagation,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const WAIT_MS = 1_500;
const USER = 'alice@example.com';
const SERVICE = 'rag-api';

/** Two OTLP credentials of the same deployment (two senders). */
const OTHER_TOKENS = [
  `one-${randomBytes(8).toString('hex')}`,
  `two-${randomBytes(8).toString('hex')}`,
] as const;

type ExportResult = Parameters<Parameters<ProtoExporter['export']>[1]>[0];

/** What the contrib BaggageSpanProcessor does: every baggage entry copied onto the starting span. */
const baggageToAttributes: SpanProcessor = {
  onStart(span, parentContext) {
    for (const [key, entry] of propagation.getBaggage(parentContext)?.getAllEntries() ?? [])
      span.setAttribute(key, entry.value);
  },
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A RAG app's tracer: finished spans land in memory, to be exported in batches the test chooses. */
function ragTracer(tenant: string) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE, 'vigil.tenant': tenant }),
    spanProcessors: [baggageToAttributes, new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('vigil-trace-identity-test');
  const finished = (span: Span): ReadableSpan =>
    memory.getFinishedSpans().find((s) => s.spanContext().spanId === span.spanContext().spanId)!;
  return {
    server(attributes: Record<string, string> = { 'enduser.id': USER }, ctx?: Context): Span {
      return tracer.startSpan(
        'POST /ask',
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', ...attributes } },
        ctx,
      );
    },
    internal(parent: Span): Span {
      return tracer.startSpan(
        'retrieve',
        { kind: SpanKind.INTERNAL },
        trace.setSpan(otelContext.active(), parent),
      );
    },
    /** The vector-store span as OpenLLMetry's Qdrant instrumentation makes it: no user. */
    search(parent?: Span | Context): Span {
      const ctx =
        parent === undefined
          ? undefined
          : 'spanContext' in parent
            ? trace.setSpan(otelContext.active(), parent)
            : parent;
      return tracer.startSpan(
        'qdrant.search',
        {
          kind: SpanKind.CLIENT,
          attributes: { 'db.system': 'qdrant', 'qdrant.search.collection_name': 'docs' },
        },
        ctx,
      );
    },
    done(...spans: Span[]): ReadableSpan[] {
      for (const s of spans) s.end();
      return spans.map(finished);
    },
  };
}

interface Row {
  actor: string;
  actor_type: string;
  source: string;
  span_id: string;
}

describe('OTLP identity across a trace (real SDK spans, official exporter)', () => {
  let v: TestVigil;
  let exporter: ProtoExporter;
  beforeAll(async () => {
    v = await startTestVigil({
      env: { VIGIL_TRACE_IDENTITY_WAIT: `${WAIT_MS}ms`, VIGIL_SOURCE_TOKEN_OTLP: OTHER_TOKENS.join(',') },
    });
    exporter = new ProtoExporter({
      url: `${v.app.otlpHttpUrl}/v1/traces`,
      headers: { authorization: `Bearer ${v.app.sourceTokens.otlp}` },
    });
  });
  afterAll(async () => {
    await exporter?.shutdown();
    await v?.stop();
  });

  const exporterOf = (token: string) =>
    new ProtoExporter({
      url: `${v.app.otlpHttpUrl}/v1/traces`,
      headers: { authorization: `Bearer ${token}` },
    });
  const send = (spans: ReadableSpan[]) =>
    new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  const userToken = (tenant: string) => v.app.tokenizer.token('actor', tenant, USER, 'user');
  const serviceToken = (tenant: string) => v.app.tokenizer.token('actor', tenant, SERVICE, 'service');
  const rows = (tenant: string, n: number) =>
    waitFor(
      async () => {
        return v.app.store.client.query<Row>(
          `SELECT actor, actor_type, attributes['vigil.identity_source'] AS source, span_id
                  FROM events WHERE tenant = {tenant:String} ORDER BY span_id`,
          { tenant },
        );
      },
      (r) => r.length >= n,
      { timeoutMs: 10_000, what: `${n} events of ${tenant}` },
    );
  const counter = (name: string) => v.app.metrics.counter(name);

  it('same request: the database span takes the user of its server span', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const search = app.search(server);
    const before = counter('otlp_identity_ancestor');
    // A child ends before its parent: the order a batch processor sends them in.
    expect((await send(app.done(search, server))).code).toBe(0);
    const [row] = await rows(tenant, 1);
    expect(row).toEqual({
      actor: userToken(tenant),
      actor_type: 'user',
      source: 'ancestor',
      span_id: search.spanContext().spanId,
    });
    expect(row!.actor).not.toContain('alice');
    expect(counter('otlp_identity_ancestor')).toBe(before + 1);
  });

  it('earlier request: the server span came first, the database span a request later', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const search = app.search(server);
    const [, serverDone] = app.done(search, server);
    expect((await send([serverDone!])).code).toBe(0);
    expect((await send([app.done(search)[0]!])).code).toBe(0);
    const [row] = await rows(tenant, 1);
    expect([row!.actor, row!.source]).toEqual([userToken(tenant), 'ancestor']);
  });

  it('later request within the wait: the database span is held (not yet acknowledged) until its parent comes', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const search = app.search(server);
    const [searchDone, serverDone] = app.done(search, server);
    const waited = counter('otlp_identity_waited');
    let answered = false;
    const first = send([searchDone!]).then((r) => {
      answered = true;
      return r;
    });
    // Held: the request waits for the ancestor and is not acknowledged meanwhile (an absence,
    // so a fixed look after a while well inside the wait).
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    const started = Date.now();
    expect((await send([serverDone!])).code).toBe(0);
    expect((await first).code).toBe(0);
    // Released by the parent's arrival, not by the end of the wait.
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    const [row] = await rows(tenant, 1);
    expect([row!.actor, row!.actor_type, row!.source]).toEqual([userToken(tenant), 'user', 'ancestor']);
    expect(counter('otlp_identity_waited')).toBe(waited + 1);
  });

  it('grandparent: the user is found up the chain, across an internal span', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const retrieve = app.internal(server);
    const search = app.search(retrieve);
    const [searchDone, retrieveDone, serverDone] = app.done(search, retrieve, server);
    expect((await send([retrieveDone!, serverDone!])).code).toBe(0);
    expect((await send([searchDone!])).code).toBe(0);
    const [row] = await rows(tenant, 1);
    expect([row!.actor, row!.source]).toEqual([userToken(tenant), 'ancestor']);
  });

  it('baggage: an entry a baggage processor copied onto the span is the span’s own user', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const ctx = propagation.setBaggage(
      otelContext.active(),
      propagation.createBaggage({ 'enduser.id': { value: USER } }),
    );
    const server = app.server({}, ctx);
    const search = app.search(trace.setSpan(ctx, server));
    expect((await send(app.done(search, server))).code).toBe(0);
    const [row] = await rows(tenant, 1);
    expect([row!.actor, row!.source]).toEqual([userToken(tenant), 'span']);
  });

  it('never: after the wait the event keeps the service, says so, and is counted', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const search = app.search(server);
    const [searchDone] = app.done(search, server);
    const fallback = counter('otlp_identity_service_fallback');
    const started = Date.now();
    expect((await send([searchDone!])).code).toBe(0);
    // Held for the whole wait, then stored (acknowledged only once durable).
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50);
    const [row] = await rows(tenant, 1);
    expect(row).toEqual({
      actor: serviceToken(tenant),
      actor_type: 'service',
      source: 'service_fallback',
      span_id: search.spanContext().spanId,
    });
    expect(counter('otlp_identity_service_fallback')).toBe(fallback + 1);
  });

  it('a root database span, or one whose ancestors name nobody, falls back at once', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const lone = app.search();
    const anonymous = app.server({});
    const under = app.search(anonymous);
    const started = Date.now();
    expect((await send(app.done(lone, under, anonymous))).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    const got = await rows(tenant, 2);
    expect(got.map((r) => [r.actor, r.source])).toEqual([
      [serviceToken(tenant), 'service_fallback'],
      [serviceToken(tenant), 'service_fallback'],
    ]);
  });

  it('a span sent with another credential never lends its user', async () => {
    const tenant = uniqueName('ti');
    const app = ragTracer(tenant);
    const server = app.server();
    const search = app.search(server);
    const [searchDone, serverDone] = app.done(search, server);
    const a = exporterOf(OTHER_TOKENS[0]);
    const b = exporterOf(OTHER_TOKENS[1]);
    try {
      expect((await new Promise<ExportResult>((r) => a.export([serverDone!], r))).code).toBe(0);
      expect((await new Promise<ExportResult>((r) => b.export([searchDone!], r))).code).toBe(0);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
    // Token two's span waited for an ancestor among its own spans, found none, and fell back.
    const [row] = await rows(tenant, 1);
    expect([row!.actor_type, row!.source]).toEqual(['service', 'service_fallback']);
  });
});
