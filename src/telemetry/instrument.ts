// Instrumentation by decoration: the wiring wraps the bus, the store client, the ingest and the
// responder's attempt records, so stages stay unaware of telemetry. Every wrapper feeds both the
// Metrics object (Prometheus /metrics, and OTel through the bridge) and spans.
//
// Metric names (stable; Prometheus adds `vigil_` and `_total`): ingest_batches,
// ingest_batch_events, ingest_batch_ms; bus_published_<topic>, bus_publish_ms,
// bus_consumed_<group>, bus_consume_<group>_ms, bus_consume_errors_<group>; store_inserts,
// store_inserted_rows, store_insert_ms, store_insert_errors; respond_actions_<outcome>,
// respond_action_latency_ms; detection_latency_ms.
import type { Bus } from '../bus/index.js';
import type { Ingest } from '../collectors/ingest.js';
import type { Action, Finding } from '../model/index.js';
import type { StoreClient } from '../store/index.js';
import type { Metrics } from './metrics.js';
import type { Telemetry } from './otel.js';

/** A fixed word of a metric name from a topic or group name (`vigil.events.v1` → `vigil_events_v1`). */
const word = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');

export function instrumentBus(bus: Bus, telemetry: Telemetry, metrics: Metrics): Bus {
  const system = bus.kind === 'kafka' ? 'kafka' : 'vigil-in-process';
  return {
    kind: bus.kind,
    ready: bus.ready ? () => bus.ready!() : undefined,
    publish(topic, messages) {
      const started = performance.now();
      return telemetry.span(
        `publish ${topic}`,
        async () => {
          await bus.publish(topic, messages);
          metrics.inc(`bus_published_${word(topic)}`, messages.length);
          metrics.observe('bus_publish_ms', performance.now() - started);
        },
        {
          'messaging.system': system,
          'messaging.operation.type': 'send',
          'messaging.destination.name': topic,
          'messaging.batch.message_count': messages.length,
        },
      );
    },
    subscribe(opts) {
      const group = word(opts.group);
      return bus.subscribe({
        ...opts,
        handler: (messages) => {
          const started = performance.now();
          return telemetry.span(
            `process ${opts.topic}`,
            async () => {
              try {
                await opts.handler(messages);
              } catch (err) {
                metrics.inc(`bus_consume_errors_${group}`);
                throw err;
              }
              metrics.inc(`bus_consumed_${group}`, messages.length);
              metrics.observe(`bus_consume_${group}_ms`, performance.now() - started);
            },
            {
              'messaging.system': system,
              'messaging.operation.type': 'process',
              'messaging.destination.name': opts.topic,
              'messaging.consumer.group.name': opts.group,
              'messaging.batch.message_count': messages.length,
            },
          );
        },
      });
    },
    close: () => bus.close(),
  };
}

/** The store client with its inserts traced and counted; every other call is the client's own. */
export function instrumentStoreClient(
  client: StoreClient,
  telemetry: Telemetry,
  metrics: Metrics,
): StoreClient {
  return {
    query: (sql, params, settings) => client.query(sql, params, settings),
    queryArrays: (sql, params, settings) => client.queryArrays(sql, params, settings),
    command: (sql, params, settings) => client.command(sql, params, settings),
    exec: (sql, opts) => client.exec(sql, opts),
    ping: () => client.ping(),
    close: () => client.close(),
    insert(table, rows, dedupToken) {
      const started = performance.now();
      return telemetry.span(
        `INSERT ${table}`,
        async () => {
          try {
            await client.insert(table, rows, dedupToken);
            metrics.inc('store_inserts');
            metrics.inc('store_inserted_rows', rows.length);
            metrics.observe('store_insert_ms', performance.now() - started);
          } catch (err) {
            metrics.inc('store_insert_errors');
            throw err;
          }
        },
        // vigil.* rather than db.* attributes: vigil's own OTLP receiver keeps database client
        // spans, and its own inserts must never loop back in as access events.
        { 'vigil.store.table': table, 'vigil.store.rows': rows.length },
      );
    },
  };
}

export function instrumentIngest(ingest: Ingest, telemetry: Telemetry, metrics: Metrics): Ingest {
  return {
    inflight: () => ingest.inflight(),
    submit(events) {
      const started = performance.now();
      return telemetry.span(
        'ingest batch',
        async () => {
          await ingest.submit(events);
          metrics.inc('ingest_batches');
          metrics.inc('ingest_batch_events', events.length);
          metrics.observe('ingest_batch_ms', performance.now() - started);
        },
        { 'vigil.ingest.events': events.length },
      );
    },
  };
}

/** Detection latency of each finding: detected (wall clock) − first observed by vigil. */
export function observeFindings(findings: readonly Finding[], metrics: Metrics): void {
  for (const f of findings) {
    if (f.first_observed_time > 0 && f.detected_time >= f.first_observed_time)
      metrics.observe('detection_latency_ms', f.detected_time - f.first_observed_time);
  }
}

/** A responder attempt, as recorded: counted by outcome and traced as the span it was. */
export function observeActions(actions: readonly Action[], telemetry: Telemetry, metrics: Metrics): void {
  for (const a of actions) {
    metrics.inc(`respond_actions_${word(a.outcome)}`);
    metrics.observe('respond_action_latency_ms', a.latency_ms);
    telemetry.record(
      `respond ${a.kind}`,
      a.time - a.latency_ms,
      a.time,
      {
        'vigil.action.kind': a.kind,
        'vigil.action.mode': a.mode,
        'vigil.action.outcome': a.outcome,
        'vigil.action.attempt': a.attempt,
      },
      a.outcome === 'failed',
    );
  }
}

/** `writer` with `tap` called on every batch handed to write() (before it is buffered). */
export function tapWrites<W extends { write(items: never[]): Promise<void> }>(
  writer: W,
  tap: (items: Parameters<W['write']>[0]) => void,
): W {
  const write = writer.write.bind(writer) as (items: Parameters<W['write']>[0]) => Promise<void>;
  return new Proxy(writer, {
    get(target, prop) {
      if (prop === 'write')
        return (items: Parameters<W['write']>[0]) => {
          tap(items);
          return write(items);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
