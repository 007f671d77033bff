// The Kafka broker killed and restarted mid-stream (distributed bus; the test's own broker on free
// ports, never the shared one): while it is down the collectors answer 503 + Retry-After; the
// official OpenTelemetry exporter retries, and every span it was told was accepted is stored.
import { DiagLogLevel, diag, SpanKind } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { deterministicId } from '../../src/model/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { createLedger } from '../helpers/ledger.js';
import { type OwnKafka, startOwnKafka } from '../helpers/own-kafka.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

function makeSpans(tenant: string, n: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'rag-api', 'vigil.tenant': tenant }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('vigil-fault-test');
  for (let i = 0; i < n; i++) {
    tracer
      .startSpan('qdrant.search', {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'qdrant',
          'db.collection.name': 'docs',
          'db.vector.query.top_k': 5,
          'user.email': `person${i % 20}@example.com`,
        },
      })
      .end();
  }
  return memory.getFinishedSpans();
}

const idOf = (s: ReadableSpan) => deterministicId('otel', s.spanContext().traceId, s.spanContext().spanId);

describe('Kafka broker killed and restarted mid-stream', () => {
  let kafka: OwnKafka | undefined;
  let v: TestVigil | undefined;
  afterAll(async () => {
    await v?.stop();
    await kafka?.destroy();
  });

  it('answers 503 + Retry-After while it is down; every acknowledged span arrives', async () => {
    kafka = await startOwnKafka({ timeoutMs: 45_000 });
    v = await startTestVigil({
      roles: ['collector', 'store'],
      env: {
        KAFKA_BROKERS: kafka.brokers,
        KAFKA_TOPIC_PREFIX: `${uniqueName('fk')}.`,
        KAFKA_PARTITIONS: '1',
      },
    });
    const ledger = createLedger(uniqueName('broker-kill'));
    // The exporter reports "succeeded after N retry attempts" through the OTel diagnostics.
    let retriedExports = 0;
    diag.setLogger(
      {
        verbose: (m: string) => {
          if (/succeeded after [1-9]\d* retry/.test(m)) retriedExports++;
        },
        debug: () => {},
        info: () => {},
        warn: () => {},
        error: () => {},
      },
      DiagLogLevel.VERBOSE,
    );
    const exporter = new OTLPTraceExporter({
      url: `${v.app.otlpHttpUrl}/v1/traces`,
      headers: { authorization: `Bearer ${v.app.sourceTokens.otlp}` },
      timeoutMillis: 60_000,
    });
    const results = { success: 0, failed: 0 };
    let stopping = false;
    const loop = async () => {
      while (!stopping) {
        const spans = makeSpans(ledger.tenant, 20);
        ledger.sentIds(spans.map(idOf));
        const code = await new Promise<ExportResultCode>((r) => exporter.export(spans, (res) => r(res.code)));
        if (code === ExportResultCode.SUCCESS) {
          results.success++;
          ledger.acknowledgeIds(spans.map(idOf));
        } else results.failed++;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const loops = [loop(), loop(), loop()];
    try {
      await waitFor(
        () => ledger.counts().acknowledged,
        (n) => n >= 300,
        { timeoutMs: 30_000, what: 'spans before the kill' },
      );
      await kafka.kill();
      const atKill = ledger.counts().acknowledged;
      // A gateway posting now is told to come back later, not left hanging or given a 500.
      const down = await fetch(`${v.app.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${v.app.sourceToken}`, 'content-type': 'application/x-ndjson' },
        body: JSON.stringify(makeGenericEvent({ tenant: uniqueName('while-down') })),
      });
      expect(down.status).toBe(503);
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await down.arrayBuffer();
      expect(ledger.counts().acknowledged - atKill).toBeLessThan(60); // only exports in flight at the kill
      await kafka.restart();
      await waitFor(
        () => ledger.counts().acknowledged,
        (n) => n >= atKill + 300,
        {
          timeoutMs: 45_000,
          what: 'spans after the restart',
        },
      );
    } finally {
      stopping = true;
    }
    await Promise.all(loops);
    await exporter.shutdown();
    diag.disable();
    console.log(
      `broker kill: exports ${JSON.stringify(results)}, ${retriedExports} succeeded after retrying`,
    );
    expect(retriedExports).toBeGreaterThan(0);
    // Acknowledged means on the broker; the store consumer catches up.
    const report = await waitFor(
      () => ledger.check(v!.app.store.client),
      (r) => r.missing.length === 0,
      { timeoutMs: 30_000, intervalMs: 500, what: 'every acknowledged span stored' },
    );
    expect(report.unexpected).toEqual([]);
    expect(report.finalRows).toBe(report.stored);
    expect(report.acknowledged).toBeGreaterThanOrEqual(600);
  }, 88_000);
});
