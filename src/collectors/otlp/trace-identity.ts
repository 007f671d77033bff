// Identity across a trace. In an instrumented RAG app the user (`enduser.id`, `user.id`, …, or a
// baggage entry a BaggageSpanProcessor copied onto the span) sits on the HTTP server span, not on
// the database span the vector-store instrumentation makes. A database event whose span names no
// user takes the user of the nearest ancestor span of the same trace that names one, whether that
// ancestor came in the same export request, an earlier one, or a later one within `waitMs`; else
// it keeps the service identity. Every event says which (attribute `vigil.identity_source`:
// `span`, `ancestor` or `service_fallback`), and the receivers count each.
//
// Durability (the receivers answer 2xx only once events are durable): an event waiting for its
// ancestor is held in memory *before* its request is acknowledged, never after. The request's
// answer waits until each of its events is settled (ancestor found, root reached, or `waitMs`
// over), then the events are submitted and only then acknowledged. Nothing acknowledged is ever
// held, so nothing acknowledged is lost to a crash. The price: an exporter that sends one
// request at a time (the Python, Go and JS batch processors do) cannot deliver the parent while
// vigil holds its previous request, so a parent that ended after the batch boundary falls back
// after the wait. Same-request and earlier-request ancestors (the common case: a parent span
// ends after its children and is batched with them or after them) and ancestors sent by another
// process or connection are found. An OpenTelemetry Collector's `groupbytrace` processor in
// front of vigil puts a whole trace in one request.
//
// Scope: a trace is keyed by (credential, tenant, trace id). A span sent with one credential
// never lends its user to another credential's spans, so a sender cannot re-attribute another
// sender's database access by inventing spans in its trace.
//
// Memory: an LRU of traces bounded by the spans it holds (`maxSpans`, each trace counts its spans
// plus one) and by age (`ttlMs` since the trace's last span). Each span costs its id, its
// parent's id and, when it names a user, that user's token (never the raw value): ~150 bytes.
// A trace records at most MAX_SPANS_PER_TRACE spans. Evictions and expiries are counted; a trace
// evicted while events wait on it settles them with the service fallback at once.
import { LRUCache } from 'lru-cache';
import { type AccessEvent, mayUseTenant, type TenantSet } from '../../model/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import type { Metrics } from '../../telemetry/index.js';
import type { ExportTraceRequest } from './otlp.decoder.js';
import { resourceTenant, userIdentity } from './span.mapper.js';

export type IdentitySource = 'span' | 'ancestor' | 'service_fallback';

/** The event attribute naming where its identity came from. */
export const IDENTITY_SOURCE_ATTRIBUTE = 'vigil.identity_source';

/** Spans recorded per trace; a trace with more keeps its first ones (counted). */
export const MAX_SPANS_PER_TRACE = 512;
/** Ancestors followed from a span before giving up (a cycle in a forged trace ends here too). */
const MAX_DEPTH = 64;
/** Longest identity taken from an ancestor (the mapper's limit on the span's own). */
const MAX_IDENTITY = 512;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

export interface TraceIdentityOptions {
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  /** Longest an event waits for its ancestor (VIGIL_TRACE_IDENTITY_WAIT); 0: never waits. */
  readonly waitMs: number;
  /** Spans the trace context holds (VIGIL_TRACE_CONTEXT_MAX_SPANS). */
  readonly maxSpans: number;
  /** Age after which a trace's context is forgotten (VIGIL_TRACE_CONTEXT_TTL). */
  readonly ttlMs: number;
  /**
   * Events waiting at once; more settle with the service fallback at once (counted). Bounds the
   * memory of held requests beside the trace context. @defaultValue 50000
   */
  readonly maxWaiting?: number;
}

/** Who sent a request: its credential scopes the traces it may read identities from. */
export interface RequestScope {
  readonly caller: string;
  /** Tenant named by the transport, for resources that name none. */
  readonly tenantHint?: string;
  /** The tenants the credential may write (absent: every tenant). */
  readonly tenants?: TenantSet;
}

/** How the events of one request got their identity (counted by the receiver once durable). */
export type IdentityTally = Record<IdentitySource, number> & { waited: number };

export interface TraceIdentity {
  /**
   * Records the request's spans in the trace context, then gives each event without a user the
   * user of its nearest ancestor, waiting for missing ancestors at most `waitMs`. Resolves when
   * every event is settled; each then carries IDENTITY_SOURCE_ATTRIBUTE.
   */
  resolve(request: ExportTraceRequest, events: AccessEvent[], scope: RequestScope): Promise<IdentityTally>;
  /** Traces and spans held, events waiting. */
  stats(): { traces: number; spans: number; waiting: number };
  /** Settles every waiting event with the service fallback (shutdown: stop intake first). */
  close(): void;
}

/** A span's place in its trace: its parent, and the user it names (as a token). */
interface SpanLink {
  readonly parent: string;
  readonly user?: string;
}

interface TraceEntry {
  readonly spans: Map<string, SpanLink>;
  readonly waiters: Set<Waiter>;
}

interface Waiter {
  readonly event: AccessEvent;
  /** Where the walk up starts: the database span's parent. */
  readonly parent: string;
  readonly settle: (source: IdentitySource, user?: string) => void;
}

type Walk =
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'root' }
  | { readonly kind: 'gap' };

export function createTraceIdentity(opts: TraceIdentityOptions): TraceIdentity {
  const { metrics, tokenizer } = opts;
  const maxWaiting = opts.maxWaiting ?? 50_000;
  let waiting = 0;
  const traces = new LRUCache<string, TraceEntry>({
    maxSize: opts.maxSpans,
    sizeCalculation: (entry) => entry.spans.size + 1,
    ttl: opts.ttlMs,
    // A trace is forgotten `ttlMs` after its last span, not its last read.
    updateAgeOnGet: false,
    dispose: (entry, _key, reason) => {
      // 'set' replaces an entry by its own update (below): the same spans, the same waiters.
      if (reason === 'set') return;
      if (reason === 'evict') metrics.inc('trace_context_evicted');
      else if (reason === 'expire') metrics.inc('trace_context_expired');
      for (const w of entry.waiters) w.settle('service_fallback');
    },
  });

  const keyOf = (caller: string, tenant: string, traceId: string) =>
    `${caller}\u0000${tenant}\u0000${traceId}`;

  function walk(entry: TraceEntry, from: string): Walk {
    let id = from;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (id === '') return { kind: 'root' };
      const link = entry.spans.get(id);
      if (link === undefined) return { kind: 'gap' };
      if (link.user !== undefined) return { kind: 'user', user: link.user };
      id = link.parent;
    }
    return { kind: 'root' };
  }

  /** Records the spans of a request; answers the keys of the traces that got new spans. */
  function record(request: ExportTraceRequest, scope: RequestScope): Set<string> {
    const touched = new Set<string>();
    const updated = new Map<string, TraceEntry>();
    for (const rs of request.resourceSpans) {
      const tenant = resourceTenant(rs.resource, scope.tenantHint);
      if (scope.tenants && !mayUseTenant(scope.tenants, tenant)) continue;
      const resourceUser = userIdentity(rs.resource);
      for (const span of rs.spans) {
        if (span.defect !== undefined || !TRACE_ID.test(span.traceId) || !SPAN_ID.test(span.spanId)) continue;
        const key = keyOf(scope.caller, tenant, span.traceId);
        let entry = updated.get(key) ?? traces.get(key);
        if (entry === undefined) entry = { spans: new Map(), waiters: new Set() };
        updated.set(key, entry);
        if (entry.spans.has(span.spanId)) continue;
        if (entry.spans.size >= MAX_SPANS_PER_TRACE) {
          metrics.inc('trace_context_span_limit');
          continue;
        }
        const raw = userIdentity(span.attributes) ?? resourceUser;
        const parent = SPAN_ID.test(span.parentSpanId ?? '') ? span.parentSpanId! : '';
        entry.spans.set(span.spanId, {
          parent,
          user:
            raw !== undefined && raw.length <= MAX_IDENTITY
              ? tokenizer.token('actor', tenant, raw, 'user')
              : undefined,
        });
        touched.add(key);
      }
    }
    // A fresh wrapper object per update: the LRU re-measures an entry only when its value changes.
    for (const [key, entry] of updated)
      traces.set(key, touched.has(key) ? { spans: entry.spans, waiters: entry.waiters } : entry);
    return touched;
  }

  /** Settles the waiters of a trace that new spans answer. */
  function wake(key: string): void {
    const entry = traces.get(key);
    if (!entry) return;
    for (const w of entry.waiters) {
      const r = walk(entry, w.parent);
      if (r.kind === 'user') w.settle('ancestor', r.user);
      else if (r.kind === 'root') w.settle('service_fallback');
    }
  }

  function stamp(e: AccessEvent, source: IdentitySource, user?: string): void {
    if (user !== undefined) {
      e.actor = user;
      e.actor_type = 'user';
    }
    e.attributes[IDENTITY_SOURCE_ATTRIBUTE] = source;
  }

  return {
    async resolve(request, events, scope) {
      const tally: IdentityTally = { span: 0, ancestor: 0, service_fallback: 0, waited: 0 };
      const touched = record(request, scope);
      for (const key of touched) wake(key);
      // Which span each event came from: its parent starts the walk up.
      const parents = new Map<string, string>();
      for (const rs of request.resourceSpans)
        for (const span of rs.spans) parents.set(`${span.traceId}/${span.spanId}`, span.parentSpanId ?? '');
      const pending: Promise<void>[] = [];
      let timer: NodeJS.Timeout | undefined;
      const held = new Set<Waiter>();
      for (const e of events) {
        if (e.actor_type === 'user') {
          stamp(e, 'span');
          tally.span++;
          continue;
        }
        const key = keyOf(scope.caller, e.tenant, e.trace_id);
        const parent = parents.get(`${e.trace_id}/${e.span_id}`) ?? '';
        const entry = traces.get(key);
        const r: Walk = entry ? walk(entry, SPAN_ID.test(parent) ? parent : '') : { kind: 'root' };
        if (r.kind === 'user') {
          stamp(e, 'ancestor', r.user);
          tally.ancestor++;
        } else if (r.kind === 'root' || opts.waitMs <= 0 || !entry) {
          stamp(e, 'service_fallback');
          tally.service_fallback++;
        } else if (waiting >= maxWaiting) {
          metrics.inc('trace_identity_wait_full');
          stamp(e, 'service_fallback');
          tally.service_fallback++;
        } else {
          tally.waited++;
          waiting++;
          pending.push(
            new Promise<void>((done) => {
              const w: Waiter = {
                event: e,
                parent,
                settle: (source, user) => {
                  if (!held.delete(w)) return;
                  traces.peek(key)?.waiters.delete(w);
                  entry.waiters.delete(w);
                  waiting--;
                  stamp(e, source, user);
                  tally[source]++;
                  done();
                },
              };
              held.add(w);
              entry.waiters.add(w);
            }),
          );
        }
      }
      if (pending.length === 0) return tally;
      timer = setTimeout(() => {
        for (const w of [...held]) w.settle('service_fallback');
      }, opts.waitMs);
      try {
        await Promise.all(pending);
      } finally {
        clearTimeout(timer);
      }
      return tally;
    },
    stats() {
      let spans = 0;
      for (const entry of traces.values()) spans += entry.spans.size;
      return { traces: traces.size, spans, waiting };
    },
    close() {
      for (const entry of [...traces.values()])
        for (const w of [...entry.waiters]) w.settle('service_fallback');
    },
  };
}
