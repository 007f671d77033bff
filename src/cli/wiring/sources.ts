// Wiring of what surrounds the OTLP span mapping: the trace context that carries users across a
// trace, and the per-source figures (received / mapped / rejected, unused attribute keys) with
// their periodic write to the store and the reader behind GET /v1/sources and `vigil sources`.
import { createTraceIdentity, type TraceIdentity } from '../../collectors/otlp/trace-identity.js';
import {
  createSourceStats,
  type SourceReport,
  type SourceStats,
  startSourceStatsFlush,
  summarizeSources,
} from '../../collectors/source-stats.js';
import type { Env } from '../../config/index.js';
import { errorMessage } from '../../model/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import { readSourceStats, type StoreClient, writeSourceStats } from '../../store/index.js';
import type { Logger, Metrics } from '../../telemetry/index.js';

export interface SourcesWiring {
  readonly traceIdentity: TraceIdentity;
  readonly sourceStats: SourceStats;
  /** Stored figures since `sinceMs` plus this process's figures not yet written. */
  report(opts: { sinceMs: number; topKeys: number }): Promise<SourceReport[]>;
  /** Settles held events at once (shutdown begins). */
  releaseHeld(): void;
  /** Writes the last figures (after intake stopped, before the store closes). */
  close(): Promise<void>;
}

export function wireSources(deps: {
  readonly env: Env;
  readonly store: StoreClient;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
}): SourcesWiring {
  const { env } = deps;
  const traceIdentity = createTraceIdentity({
    tokenizer: deps.tokenizer,
    metrics: deps.metrics,
    waitMs: env.VIGIL_TRACE_IDENTITY_WAIT,
    maxSpans: env.VIGIL_TRACE_CONTEXT_MAX_SPANS,
    ttlMs: env.VIGIL_TRACE_CONTEXT_TTL,
  });
  const sourceStats = createSourceStats();
  const flush = startSourceStatsFlush({
    stats: sourceStats,
    write: (rows) => writeSourceStats(deps.store, rows),
    intervalMs: env.VIGIL_SOURCE_STATS_INTERVAL,
    onError: (err) => deps.logger.warn({ err: errorMessage(err) }, 'source figures not stored, will retry'),
  });
  return {
    traceIdentity,
    sourceStats,
    async report({ sinceMs, topKeys }) {
      const stored = await readSourceStats(deps.store, sinceMs);
      return summarizeSources([...stored, ...flush.unwritten()], topKeys);
    },
    releaseHeld: () => traceIdentity.close(),
    close: () => flush.stop(),
  };
}
