// The trace context's bounds and release rules, on hand-built spans (the receivers' behaviour with
// real SDK spans is test/integration/otlp-trace-identity.test.ts).
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequestJson,
  type ExportTraceRequest,
  type OtlpSpan,
} from '../../../src/collectors/otlp/otlp.decoder.js';
import { createTraceIdentity, MAX_SPANS_PER_TRACE } from '../../../src/collectors/otlp/trace-identity.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createMetrics } from '../../../src/telemetry/index.js';
import { makeEvent } from '../../helpers/factories.js';

const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 5) });
const TENANT = 't-trace';
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
const traceId = (n: number) => hex(n + 1, 32);
const spanId = (n: number) => hex(n + 1, 16);

function span(
  trace: number,
  id: number,
  parent: number | undefined,
  attributes: Record<string, string> = {},
): OtlpSpan {
  return {
    traceId: traceId(trace),
    spanId: spanId(id),
    parentSpanId: parent === undefined ? '' : spanId(parent),
    name: 'x',
    kind: 0,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: new Map(Object.entries(attributes)),
    statusCode: 0,
    statusMessage: '',
    scope: '',
  };
}
const request = (...spans: OtlpSpan[]): ExportTraceRequest => ({
  resourceSpans: [{ resource: new Map([['vigil.tenant', TENANT]]), spans }],
});
const dbEvent = (trace: number, id: number) =>
  makeEvent({
    tenant: TENANT,
    actor: 'svc_token',
    actor_type: 'service',
    trace_id: traceId(trace),
    span_id: spanId(id),
  });
const scope = { caller: 'otlp:abc' };

describe('trace identity: bounds', () => {
  it('evicts the least recently written traces past maxSpans, counts it, and releases their waiters at once', async () => {
    const metrics = createMetrics();
    const ti = createTraceIdentity({ tokenizer, metrics, waitMs: 10_000, maxSpans: 1_000, ttlMs: 60_000 });
    // A database span whose parent (span 1) never comes: it waits on trace 0.
    const waiting = dbEvent(0, 2);
    const held = ti.resolve(request(span(0, 2, 1)), [waiting], scope);
    expect(ti.stats().waiting).toBe(1);
    // 600 traces of one span each (2 units apiece) push trace 0 out.
    for (let t = 1; t <= 600; t++) await ti.resolve(request(span(t, 1, undefined)), [], scope);
    expect(metrics.counter('trace_context_evicted')).toBeGreaterThan(0);
    expect(ti.stats().spans).toBeLessThanOrEqual(1_000);
    // Released well before its 10 s wait, with the service.
    expect(await held).toEqual({ span: 0, ancestor: 0, service_fallback: 1, waited: 1 });
    expect(waiting.attributes['vigil.identity_source']).toBe('service_fallback');
    expect(ti.stats().waiting).toBe(0);
  });

  it('records at most MAX_SPANS_PER_TRACE spans of one trace, and counts the rest', async () => {
    const metrics = createMetrics();
    const ti = createTraceIdentity({ tokenizer, metrics, waitMs: 0, maxSpans: 100_000, ttlMs: 60_000 });
    const spans = Array.from({ length: MAX_SPANS_PER_TRACE + 10 }, (_, i) => span(0, i, undefined));
    await ti.resolve(request(...spans), [], scope);
    expect(ti.stats().spans).toBe(MAX_SPANS_PER_TRACE);
    expect(metrics.counter('trace_context_span_limit')).toBe(10);
  });

  it('falls back at once beyond maxWaiting events, counted', async () => {
    const metrics = createMetrics();
    const ti = createTraceIdentity({
      tokenizer,
      metrics,
      waitMs: 200,
      maxSpans: 1_000,
      ttlMs: 60_000,
      maxWaiting: 1,
    });
    const first = ti.resolve(request(span(0, 2, 1)), [dbEvent(0, 2)], scope);
    const second = await ti.resolve(request(span(1, 2, 1)), [dbEvent(1, 2)], scope);
    expect(second).toEqual({ span: 0, ancestor: 0, service_fallback: 1, waited: 0 });
    expect(metrics.counter('trace_identity_wait_full')).toBe(1);
    expect((await first).waited).toBe(1);
  });

  it('holds a user as its token, never the raw value, and stops at a cycle of forged parents', async () => {
    const metrics = createMetrics();
    const ti = createTraceIdentity({ tokenizer, metrics, waitMs: 0, maxSpans: 1_000, ttlMs: 60_000 });
    const e = dbEvent(0, 3);
    await ti.resolve(
      request(span(0, 1, undefined, { 'enduser.id': 'bob@example.com' }), span(0, 3, 1)),
      [e],
      scope,
    );
    expect([e.actor, e.actor_type]).toEqual([
      tokenizer.token('actor', TENANT, 'bob@example.com', 'user'),
      'user',
    ]);
    // 5 → 6 → 5 …: no user, no root; the walk ends (and waits for nothing: waitMs 0).
    const looped = dbEvent(1, 7);
    await ti.resolve(request(span(1, 5, 6), span(1, 6, 5), span(1, 7, 5)), [looped], scope);
    expect(looped.attributes['vigil.identity_source']).toBe('service_fallback');
  });

  it('reads parentSpanId from OTLP/JSON (hex), and an unreadable one as none', () => {
    const body = (parent: unknown) =>
      Buffer.from(
        JSON.stringify({
          resourceSpans: [
            { scopeSpans: [{ spans: [{ traceId: traceId(0), spanId: spanId(1), parentSpanId: parent }] }] },
          ],
        }),
      );
    const parentOf = (parent: unknown) => decodeTraceRequestJson(body(parent)).resourceSpans[0]!.spans[0]!;
    expect(parentOf(spanId(9).toUpperCase()).parentSpanId).toBe(spanId(9));
    const garbled = parentOf('not an id!');
    expect([garbled.parentSpanId, garbled.defect]).toEqual(['', undefined]);
  });
});
