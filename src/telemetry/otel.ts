// vigil's own OpenTelemetry: traces and metrics of the pipeline (ingest batches, bus publish and
// consume, store inserts, responder actions) exported over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, and a no-op otherwise. Stages never touch the SDK: they get
// a Telemetry (span / counter / histogram helpers) from the wiring, and the Metrics object's
// counters are bridged to OTel instruments so every existing metric is exported too.
//
// The SDK is process-wide by design (it registers the global tracer and meter providers that
// instrumentation libraries use), so a process runs at most one: a second start in the same
// process (tests start several vigils) shares the first and shuts it down with the last user.
import {
  type Attributes,
  context,
  type Counter,
  type Histogram,
  metrics as otelMetrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { LATENCY_BOUNDS_MS, type MetricsSink } from './metrics.js';

export interface TelemetryCounter {
  add(value: number, attributes?: Attributes): void;
}
export interface TelemetryHistogram {
  record(value: number, attributes?: Attributes): void;
}

export interface Telemetry {
  /** False when no OTLP endpoint is configured: every helper is then a no-op. */
  readonly enabled: boolean;
  /** Runs `fn` inside a span; an exception marks the span as failed and is rethrown. */
  span<T>(name: string, fn: (span: Span | undefined) => Promise<T> | T, attributes?: Attributes): Promise<T>;
  /** A span that already happened (e.g. a responder attempt recorded after the fact). */
  record(name: string, startMs: number, endMs: number, attributes?: Attributes, failed?: boolean): void;
  counter(name: string, description?: string): TelemetryCounter;
  /** A histogram in milliseconds, with vigil's latency buckets. */
  histogram(name: string, description?: string): TelemetryHistogram;
  /** The bridge for the Metrics object: counters and observations become OTel instruments. */
  readonly metricsSink: MetricsSink;
  /** Flushes what is buffered and stops exporting (the last user stops the SDK). */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** OTLP/HTTP base URL (signal paths /v1/traces and /v1/metrics are appended); unset = off. */
  readonly endpoint?: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** The roles this process runs (a resource attribute: one service, several deployments). */
  readonly roles: readonly string[];
  /** How often metrics are exported. @defaultValue 60000 */
  readonly metricIntervalMs?: number;
}

const NOOP_COUNTER: TelemetryCounter = { add: () => {} };
const NOOP_HISTOGRAM: TelemetryHistogram = { record: () => {} };

export const noopTelemetry: Telemetry = {
  enabled: false,
  span: async (_name, fn) => fn(undefined),
  record: () => {},
  counter: () => NOOP_COUNTER,
  histogram: () => NOOP_HISTOGRAM,
  metricsSink: { inc: () => {}, observe: () => {} },
  shutdown: async () => {},
};

let shared: { sdk: NodeSDK; users: number } | undefined;

/** OTel instrument names: dotted, under `vigil.` (Prometheus names come from src/telemetry/prometheus.ts). */
const instrumentName = (name: string) => (name.startsWith('vigil.') ? name : `vigil.${name}`);

/** Starts exporting (the SDK is loaded only then: CLI commands without telemetry never load it). */
export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  if (!opts.endpoint) return noopTelemetry;
  const base = opts.endpoint.replace(/\/+$/, '');
  if (!shared) {
    const [
      { NodeSDK, resources },
      { OTLPTraceExporter },
      { OTLPMetricExporter },
      { PeriodicExportingMetricReader },
    ] = await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
      import('@opentelemetry/sdk-metrics'),
    ]);
    const sdk = new NodeSDK({
      resource: resources.resourceFromAttributes({
        'service.name': opts.serviceName,
        'service.version': opts.serviceVersion,
        'vigil.roles': opts.roles.join(','),
      }),
      // Export attempts (with their retries) give up after 5 s: an unreachable collector must not
      // hold vigil's shutdown for the exporters' default 10 s.
      traceExporter: new OTLPTraceExporter({ url: `${base}/v1/traces`, timeoutMillis: 5_000 }),
      metricReader: new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics`, timeoutMillis: 5_000 }),
        exportIntervalMillis: opts.metricIntervalMs ?? 60_000,
      }),
      // vigil instruments its own stages; library auto-instrumentation would also trace every
      // ClickHouse and Redis round trip, which is noise at ingest rates.
      instrumentations: [],
    });
    // Another start may have raced this one through the imports above: keep the first SDK.
    if (!shared) {
      sdk.start();
      shared = { sdk, users: 0 };
    }
  }
  shared.users++;
  const tracer = trace.getTracer('vigil', opts.serviceVersion);
  const meter = otelMetrics.getMeter('vigil', opts.serviceVersion);
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  const counter = (name: string, description?: string): TelemetryCounter => {
    let c = counters.get(name);
    if (!c) {
      c = meter.createCounter(instrumentName(name), { description });
      counters.set(name, c);
    }
    return c;
  };
  const histogram = (name: string, description?: string): TelemetryHistogram => {
    let h = histograms.get(name);
    if (!h) {
      h = meter.createHistogram(instrumentName(name), {
        description,
        unit: 'ms',
        advice: { explicitBucketBoundaries: [...LATENCY_BOUNDS_MS] },
      });
      histograms.set(name, h);
    }
    return h;
  };
  let stopped = false;
  return {
    enabled: true,
    span(name, fn, attributes) {
      return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    record(name, startMs, endMs, attributes, failed) {
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, startTime: startMs });
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(Math.max(startMs, endMs));
    },
    counter,
    histogram,
    metricsSink: {
      inc: (name, by) => counter(name).add(by),
      observe: (name, value) => histogram(name).record(value),
    },
    async shutdown() {
      if (stopped || !shared) return;
      stopped = true;
      if (--shared.users > 0) return;
      const { sdk } = shared;
      shared = undefined;
      // A last flush to an unreachable collector would retry for the exporters' timeout; shutdown
      // of vigil must not wait on its own telemetry for longer than this.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 3_000);
        }),
      ]);
      clearTimeout(timer);
      // Unregister the globals, so a later start in this process registers its own providers.
      trace.disable();
      otelMetrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
