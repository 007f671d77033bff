// One decoded OTLP export request → durable events, shared by the HTTP and gRPC receivers. The
// flow around the span mapper: some spans are examined (which attribute keys the mapper read),
// the request is mapped, events without a user take one from their trace (trace-identity.ts,
// which may hold the request a bounded while), the events are submitted, and once they are
// durable the counters and the per-source figures move: a request the sender retries (not
// acknowledged) is never counted twice.
import type { CollectorDeps } from '../deps.js';
import { isExpiredReason } from '../normalize.js';
import { runSliced } from '../slices.js';
import { ReadRecorder } from '../source-stats.js';
import type { ExportTraceRequest, ExportTraceResult, OtlpSpan } from './otlp.decoder.js';
import { type MappedRequest, mapExportSteps } from './span.mapper.js';
import type { IdentityTally, RequestScope } from './trace-identity.js';

/** The source name of OTLP figures (`vigil sources`, the `source_stats` table). */
export const OTLP_SOURCE = 'otlp';

export type ReceiveOutcome =
  | { readonly kind: 'stored'; readonly result: ExportTraceResult }
  /** Nothing kept, and only because of the credential's tenants: 403 / PERMISSION_DENIED. */
  | { readonly kind: 'tenant_refused'; readonly message: string };

export async function receiveExport(
  deps: CollectorDeps,
  request: ExportTraceRequest,
  scope: RequestScope,
): Promise<ReceiveOutcome> {
  const examined = examine(deps, request);
  const mapped = await runSliced(
    mapExportSteps(examined?.request ?? request, {
      tokenizer: deps.tokenizer,
      now: deps.now?.() ?? Date.now(),
      retentionDays: deps.retentionDays,
      tenantHint: scope.tenantHint,
      tenants: scope.tenants,
    }),
  );
  if (everyTenantRefused(mapped)) {
    deps.metrics.inc('ingest_rejected_otlp', mapped.rejected);
    recordFigures(deps, request, mapped);
    return { kind: 'tenant_refused', message: mapped.errorMessage };
  }
  const tally = deps.traceIdentity
    ? await deps.traceIdentity.resolve(request, mapped.events, scope)
    : undefined;
  await ingestMapped(deps, mapped);
  // Durable from here on.
  if (tally) countIdentities(deps, tally);
  recordFigures(deps, request, mapped);
  if (examined && deps.sourceStats) {
    const stored = new Set(mapped.events.map((e) => `${e.trace_id}/${e.span_id}`));
    for (const [id, recorder] of examined.recorders)
      if (stored.has(id)) deps.sourceStats.examined(OTLP_SOURCE, recorder.unread());
  }
  return { kind: 'stored', result: { rejectedSpans: mapped.rejected, errorMessage: mapped.errorMessage } };
}

/**
 * Hands the mapped events to the pipeline; resolves once they are durable. Counters move only
 * after that, so a retried request is not counted twice.
 */
export async function ingestMapped(deps: CollectorDeps, mapped: MappedRequest): Promise<void> {
  await deps.ingest.submit(mapped.events);
  deps.metrics.inc('ingest_accepted_otlp', mapped.events.length);
  deps.metrics.inc('ingest_rejected_otlp', mapped.rejected);
  deps.metrics.inc('ingest_rejected_expired', expiredOf(mapped));
  deps.metrics.inc('otlp_spans_dropped_non_db', mapped.notDb);
}

/** Spans refused because their start time is past the events retention. */
function expiredOf(mapped: MappedRequest): number {
  let n = 0;
  for (const [reason, count] of mapped.reasons) if (isExpiredReason(reason)) n += count;
  return n;
}

/** Nothing to keep, and only because of the token's tenants: the credential's matter (403). */
export function everyTenantRefused(mapped: MappedRequest): boolean {
  return mapped.events.length === 0 && mapped.tenantRefused > 0 && mapped.tenantRefused === mapped.rejected;
}

function countIdentities(deps: CollectorDeps, tally: IdentityTally): void {
  deps.metrics.inc('otlp_identity_span', tally.span);
  deps.metrics.inc('otlp_identity_ancestor', tally.ancestor);
  deps.metrics.inc('otlp_identity_service_fallback', tally.service_fallback);
  deps.metrics.inc('otlp_identity_waited', tally.waited);
}

function recordFigures(deps: CollectorDeps, request: ExportTraceRequest, mapped: MappedRequest): void {
  if (!deps.sourceStats) return;
  let received = 0;
  for (const rs of request.resourceSpans) received += rs.spans.length;
  deps.sourceStats.record(OTLP_SOURCE, {
    received,
    mapped: mapped.events.length,
    notDb: mapped.notDb,
    rejected: mapped.reasons,
  });
}

/**
 * The request with the spans to examine wrapped in a ReadRecorder, while the source's quota for
 * the interval lasts; undefined when none is examined (the request is mapped as it came).
 */
function examine(
  deps: CollectorDeps,
  request: ExportTraceRequest,
): { request: ExportTraceRequest; recorders: Map<string, ReadRecorder> } | undefined {
  const budget = deps.sourceStats?.examineBudget(OTLP_SOURCE) ?? 0;
  if (budget === 0) return undefined;
  const recorders = new Map<string, ReadRecorder>();
  const wrap = (span: OtlpSpan): OtlpSpan => {
    if (recorders.size >= budget) return span;
    const recorder = new ReadRecorder(span.attributes);
    recorders.set(`${span.traceId}/${span.spanId}`, recorder);
    return { ...span, attributes: recorder };
  };
  return {
    request: {
      resourceSpans: request.resourceSpans.map((rs) => ({
        resource: rs.resource,
        spans: rs.spans.map(wrap),
      })),
    },
    recorders,
  };
}
