// One OTLP span (+ its resource) → a canonical AccessEvent, a rejection reason, or "not a database
// span" (dropped and counted, never stored, never rejected: an app's HTTP and internal spans are
// none of vigil's business). Pure apart from the tokenizer's cache.
//
// Conventions read, in order of precedence:
//   stable  db.system.name, db.collection.name, db.namespace, db.operation.name, db.query.text,
//           db.query.summary, db.operation.batch.size, db.response.returned_rows,
//           db.response.status_code, error.type (else the first `exception` span event's
//           exception.type), server.address / server.port (else network.peer.address)
//   older   db.system, db.operation, db.statement, db.name, db.sql.table, db.user, net.peer.name
//   vector stores (OpenLLMetry and similar): span names qdrant.*, pinecone.*, milvus.*, chroma.*,
//           lancedb.*, marqo.*, db.weaviate.*; the client method in the span name wins over the
//           generic db.operation they also set (weaviate `collections.delete` sets `delete`);
//           db.vector.query.top_k, db.vector.query.result_count, db.vector.table_name,
//           qdrant.<method>.collection_name, db.milvus.<op>.collection_name,
//           db.weaviate.collections.<op>.name (JSON-quoted by the instrumentation: unquoted),
//           limits <vendor>.<op>.limit / .n_results / .top_k (ints or decimal strings),
//           db.milvus.search.result_count, result rows as `db.query.result` / `db.search.result`
//           span events (Chroma, Milvus, Pinecone, Marqo), pinecone.query.top_k,
//           pinecone.<op>.namespace; Pinecone's index from its host in server.address
//           (`<index>-<project>.svc.<environment>.pinecone.io`: no span names the index).
//           Golden spans of the real instrumentations: test/fixtures/otel-capture/.
//   unknown A count the span does not report (top_k, returned, vectors_returned, bytes_out) is
//           null, never 0: detectors learn nothing from it.
//   PostgreSQL (@opentelemetry/instrumentation-pg: span `pg.query:<VERB> <db>`, db.query.text or
//           db.statement): the SQL is read for pgvector syntax, table, verb and LIMIT by the same
//           reader the gateway collectors use (../vector-query/), so one statement maps to one
//           operation whichever way it reached vigil.
//   identity enduser.id, enduser.pseudo.id, user.id, user.name, user.email (span, then resource)
//           → user; else resource service.name → service. client.address → src_ip.
//   tenant  resource vigil.tenant or tenant.id, else the X-Vigil-Tenant header, else `default`;
//           a tenant the sender's token is not bound to (pipeline `tenancy`) rejects the span.
import { isIP } from 'node:net';
import {
  type AccessEvent,
  type ActorType,
  canonicalOperation,
  deterministicId,
  mayUseTenant,
  type Operation,
  type TenantSet,
} from '../../model/index.js';
import { TENANT_REFUSED } from '../auth.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import { blankEvent, expiredTimeReason, parseEventTime, type RetentionBound } from '../normalize.js';
import { runToEnd, type Steps } from '../slices.js';
import { DEFAULT_TENANT } from '../tenant.js';
import { parseSql } from '../vector-query/index.js';
import {
  type AnyValue,
  type Attributes,
  type ExportTraceRequest,
  type OtlpSpan,
  STATUS_CODE,
} from './otlp.decoder.js';

export interface SpanMapContext extends RetentionBound {
  readonly tokenizer: Tokenizer;
  /** Epoch ms: observed_time, and the bound on plausible event times. */
  readonly now: number;
  /** Tenant named by the transport (X-Vigil-Tenant header / metadata), used when the resource names none. */
  readonly tenantHint?: string;
  /** The tenants the sender's token may write (absent: every tenant, e.g. the Kafka source topic). */
  readonly tenants?: TenantSet;
}

export type SpanMapping =
  | { readonly kind: 'event'; readonly event: AccessEvent }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'not_db' };

export interface MappedRequest {
  readonly events: AccessEvent[];
  readonly rejected: number;
  /** Of the rejected, those refused for their tenant: all of them, and nothing kept, answers 403. */
  readonly tenantRefused: number;
  readonly notDb: number;
  /** Rejected spans by reason (reasons name fields, never values): the per-source figures. */
  readonly reasons: ReadonlyMap<string, number>;
  /** For `partial_success.error_message`: the reasons with their counts; '' when none rejected. */
  readonly errorMessage: string;
}

const TENANT = /^[A-Za-z0-9_.:-]{1,128}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const MAX_NAME = 256;
const MAX_ERROR_MESSAGE = 1024;

/** Span-name prefixes of vector-store instrumentations → system. Matched case-insensitively. */
const VECTOR_SPAN_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['db.weaviate.', 'weaviate'],
  ['weaviate.', 'weaviate'],
  ['qdrant.', 'qdrant'],
  ['pinecone.', 'pinecone'],
  ['milvus.', 'milvus'],
  ['chroma.', 'chroma'],
  ['chromadb.', 'chroma'],
  ['lancedb.', 'lancedb'],
  ['marqo.', 'marqo'],
];

/** Vendor spellings of a system → the name vigil stores. */
const SYSTEM_ALIASES: Record<string, string> = {
  postgres: 'postgresql',
  pg: 'postgresql',
  chromadb: 'chroma',
  'pinecone.io': 'pinecone',
  zilliz: 'milvus',
};

const POSTGRES_FAMILY = new Set(['postgresql', 'pgvector']);

/**
 * pgvector work the shared SQL reader does not flag (it looks for distance operators, distance
 * functions and vector casts only): a vector literal in pgvector's text format (`'[1,2,3]'`, not
 * cast to json), a vector column, an HNSW / IVFFlat index, the extension itself. An uncast
 * `'[1,2]'` meant for a jsonb column is the price of recognising `INSERT … VALUES ('[1,2,3]')`.
 */
const PGVECTOR_HINT =
  /'\[\s*-?[\d.]+(?:[eE][-+]?\d+)?(?:\s*,\s*-?[\d.]+(?:[eE][-+]?\d+)?)+\s*\]'(?!\s*::\s*(?:jsonb?|text)\b)|\b(?:vector|halfvec|sparsevec)\s*\(\s*\d+\s*\)|\busing\s+(?:hnsw|ivfflat)\b|^\s*create\s+extension\b[^;]*\bvector\b/i;

/**
 * Method names of the vector-store clients (the last segments of `qdrant.query_points`,
 * `db.weaviate.collections.query.near_vector`, …) that the model's aliases do not know.
 */
const VENDOR_OPERATIONS: Record<string, Operation> = {
  search_batch: 'search',
  search_groups: 'search',
  query_batch_points: 'search',
  query_points_groups: 'search',
  recommend: 'search',
  discover: 'search',
  near_vector: 'search',
  near_text: 'search',
  near_object: 'search',
  near_image: 'search',
  near_media: 'search',
  hybrid: 'search',
  bm25: 'search',
  hybrid_search: 'search',
  ann_search: 'search',
  fetch_objects: 'fetch',
  fetch_object_by_id: 'fetch',
  get_by_id: 'fetch',
  peek: 'fetch',
  iterator: 'scroll',
  query_iterator: 'scroll',
  search_iterator: 'scroll',
  upload_points: 'upsert',
  upload_collection: 'upsert',
  upload_records: 'upsert',
  set_payload: 'upsert',
  overwrite_payload: 'upsert',
  insert_many: 'upsert',
  creator: 'upsert',
  modify: 'upsert',
  delete_many: 'delete',
  delete_by_id: 'delete',
  delete_payload: 'delete',
  clear_payload: 'delete',
  deleter: 'delete',
  add_documents: 'upsert',
  delete_documents: 'delete',
  recreate_collection: 'create_collection',
  create_partition: 'create_collection',
  drop_partition: 'drop_collection',
  drop_index: 'drop_collection',
};

/**
 * Client methods whose meaning depends on the store (`<system>.<method>`), checked before the
 * generic names: Milvus `query` is a scalar filter query (rows by predicate, paged like a scroll),
 * not a similarity search; weaviate's `collections.query.get` is the gRPC query every near_* /
 * hybrid / bm25 search goes through (only fetch_objects and fetch_object_by_id have spans of
 * their own, and fetch_objects' span is its parent: counted twice, see the README).
 */
export const SYSTEM_METHOD_OPERATIONS: Readonly<Record<string, Operation>> = {
  'milvus.query': 'scroll',
  'weaviate.collections.query.get': 'search',
};

/**
 * Methods that reach no database: weaviate's `collections.get` only builds a client handle for a
 * collection (no request is sent; every call through the handle has its own span). Storing it as
 * a fetch would count a read that never happened, so it is not a database span.
 */
const CLIENT_ONLY_METHODS = new Set(['weaviate.collections.get']);

/** Statuses that mean the principal was refused, not that the database failed. */
const DENIED = new Set([
  '401',
  '403',
  '28000',
  '28p01',
  '42501',
  'unauthenticated',
  'permission_denied',
  'unauthorized',
  'forbidden',
  'access_denied',
]);

export function mapExportRequest(req: ExportTraceRequest, ctx: SpanMapContext): MappedRequest {
  return runToEnd(mapExportSteps(req, ctx));
}

/** `mapExportRequest` pausing between spans (servers run it sliced: see slices.ts). */
export function* mapExportSteps(req: ExportTraceRequest, ctx: SpanMapContext): Steps<MappedRequest> {
  const events: AccessEvent[] = [];
  const reasons = new Map<string, number>();
  let rejected = 0;
  let tenantRefused = 0;
  let notDb = 0;
  let n = 0;
  for (const rs of req.resourceSpans) {
    const resource = resourceFacts(rs.resource, ctx);
    for (const span of rs.spans) {
      const m = mapSpanOf(span, resource, ctx);
      if (m.kind === 'event') events.push(m.event);
      else if (m.kind === 'not_db') notDb++;
      else {
        rejected++;
        if (m.reason === TENANT_REFUSED) tenantRefused++;
        reasons.set(m.reason, (reasons.get(m.reason) ?? 0) + 1);
      }
      if (++n % 32 === 0) yield;
    }
  }
  return {
    events,
    rejected,
    tenantRefused,
    notDb,
    reasons,
    errorMessage: describeRejections(rejected, reasons),
  };
}

function describeRejections(rejected: number, reasons: Map<string, number>): string {
  if (rejected === 0) return '';
  const parts = [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} (${n})`);
  const text = `${rejected} span${rejected === 1 ? '' : 's'} rejected: ${parts.join('; ')}`;
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE - 1)}…` : text;
}

/** What a span's mapping reads of its resource: the same for every span of the resource. */
interface ResourceFacts {
  readonly tenant: string;
  readonly tenantValid: boolean;
  readonly service: string | undefined;
  /** The resource's user identity, for spans that name none. */
  readonly identity: string | undefined;
  readonly clientAddress: string | undefined;
}

/** The tenant of a resource's spans (not yet validated): also how trace-identity.ts scopes a trace. */
export function resourceTenant(resource: Attributes, tenantHint: string | undefined): string {
  return str(resource, 'vigil.tenant') ?? str(resource, 'tenant.id') ?? tenantHint ?? DEFAULT_TENANT;
}

function resourceFacts(resource: Attributes, ctx: SpanMapContext): ResourceFacts {
  const tenant = resourceTenant(resource, ctx.tenantHint);
  return {
    tenant,
    tenantValid: TENANT.test(tenant),
    service: str(resource, 'service.name'),
    identity: userIdentity(resource),
    clientAddress: str(resource, 'client.address'),
  };
}

export function mapSpan(span: OtlpSpan, resource: Attributes, ctx: SpanMapContext): SpanMapping {
  return mapSpanOf(span, resourceFacts(resource, ctx), ctx);
}

function mapSpanOf(span: OtlpSpan, resource: ResourceFacts, ctx: SpanMapContext): SpanMapping {
  if (span.defect !== undefined) return { kind: 'rejected', reason: span.defect };
  const a = span.attributes;
  const { nameLower, vendorPrefix } = spanNameFacts(span.name);
  const rawSystem = str(a, 'db.system.name') ?? str(a, 'db.system');
  if (rawSystem === undefined && !vendorPrefix && !hasDbAttributes(a)) return { kind: 'not_db' };
  // A pool checkout is no database operation: the connection it may open is its own `pg.connect` span.
  if (nameLower === 'pg-pool.connect') return { kind: 'not_db' };
  // First of the checks: a span of a refused tenant is told nothing more, and nothing is tokenized.
  if (ctx.tenants && resource.tenantValid && !mayUseTenant(ctx.tenants, resource.tenant))
    return reject(TENANT_REFUSED);

  if (!TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId))
    return reject('trace_id: must be 16 bytes, not all zero');
  if (!SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId))
    return reject('span_id: must be 8 bytes, not all zero');
  const time = parseEventTime(span.startTimeUnixNano, ctx.now);
  if (span.startTimeUnixNano === 0n || time === undefined)
    return reject('start_time_unix_nano: missing or not a plausible time (2000 … now+24h)');
  const expired = expiredTimeReason('start_time_unix_nano', time, ctx.now, ctx);
  if (expired) return reject(expired);

  const { tenant } = resource;
  if (!resource.tenantValid)
    return reject(
      'tenant (resource vigil.tenant / tenant.id, X-Vigil-Tenant): 1-128 of letters, digits, _ . : -',
    );

  let system = rawSystem?.trim().toLowerCase() ?? vendorPrefix?.[1] ?? '';
  system = SYSTEM_ALIASES[system] ?? system;
  if (system === '') return reject('db.system.name: missing (set db.system.name or db.system)');
  if (system.length > 64) return reject('db.system.name: must be at most 64 characters');

  // What was done, to what.
  const queryText = str(a, 'db.query.text') ?? str(a, 'db.statement');
  const sql = POSTGRES_FAMILY.has(system) && queryText ? parseSql(queryText) : undefined;
  if (sql?.system === 'pgvector' || (sql && PGVECTOR_HINT.test(queryText!.slice(0, 64 * 1024))))
    system = 'pgvector';
  const method = vendorPrefix ? span.name.slice(vendorPrefix[0].length) : undefined;
  const systemMethod = method !== undefined ? `${system}.${method.toLowerCase()}` : undefined;
  if (systemMethod !== undefined && CLIENT_ONLY_METHODS.has(systemMethod)) return { kind: 'not_db' };
  const summary = querySummary(str(a, 'db.query.summary'));
  const declaredOp = str(a, 'db.operation.name') ?? str(a, 'db.operation') ?? summary?.operation;
  let operation: Operation;
  let operationRaw: string;
  if (sql) {
    operation = sql.operation;
    operationRaw = sql.operation_raw;
  } else if (method) {
    // The vendor's own method name says more than the db.operation it also sets.
    operation =
      (systemMethod !== undefined && Object.hasOwn(SYSTEM_METHOD_OPERATIONS, systemMethod)
        ? SYSTEM_METHOD_OPERATIONS[systemMethod]
        : undefined) ?? vendorOperation(method);
    operationRaw = method;
  } else if (declaredOp) {
    operation = vendorOperation(declaredOp);
    operationRaw = declaredOp;
  } else if (nameLower === 'pg.connect') {
    operation = 'auth';
    operationRaw = 'connect';
  } else {
    operation = 'other';
    operationRaw = '';
  }
  if (operationRaw.length > 128) return reject('db.operation.name: must be at most 128 characters');

  const vendor = vendorAttributes(a, method);
  const collection =
    str(a, 'db.collection.name') ??
    str(a, 'db.vector.table_name') ??
    vendor.collection ??
    (system === 'pinecone' ? pineconeIndex(str(a, 'server.address')) : undefined) ??
    str(a, 'db.sql.table') ??
    (sql?.collection || undefined) ??
    summary?.collection ??
    '';
  if (collection.length > MAX_NAME) return reject('db.collection.name: must be at most 256 characters');
  const namespace = str(a, 'db.namespace') ?? vendor.namespace ?? str(a, 'db.name') ?? '';
  if (namespace.length > MAX_NAME) return reject('db.namespace: must be at most 256 characters');

  // Who.
  const identity = userIdentity(a) ?? resource.identity;
  const service = resource.service;
  const actorType: ActorType = identity ? 'user' : 'service';
  const actor = identity ?? service;
  if (actor === undefined)
    return reject('identity: no enduser.id / user.* attribute and no resource service.name');
  if (actor.length > 512) return reject('identity: must be at most 512 characters');
  const { tokenizer } = ctx;

  // How it went.
  const statusRaw = str(a, 'db.response.status_code');
  const errorType =
    str(a, 'error.type') ?? (span.statusCode === STATUS_CODE.error ? span.exceptionType : undefined);
  const failed = span.statusCode === STATUS_CODE.error || errorType !== undefined;
  const statusNumber = statusRaw !== undefined && /^\d{1,7}$/.test(statusRaw) ? Number(statusRaw) : 0;
  const denied = [errorType, statusRaw].some((v) => v !== undefined && DENIED.has(v.toLowerCase()));

  // Rows the span reports; else a failed call returned none, and a span that says nothing is unknown.
  const returned =
    count(a, 'db.response.returned_rows') ??
    count(a, 'db.vector.query.result_count') ??
    vendor.resultCount ??
    resultEvents(span, answerReported(system, operationRaw, span, a)) ??
    (failed ? 0 : null);
  const includeValues = bool(a, 'pinecone.query.include_values') ?? bool(a, 'db.vector.query.include_values');

  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('otel', span.traceId, span.spanId);
  e.time = time;
  e.tenant = tenant;
  e.source = 'otel';
  e.actor_type = actorType;
  e.actor = tokenizer.token('actor', tenant, actor, actorType);
  e.credential = tokenizer.token('credential', tenant, str(a, 'db.user') ?? '');
  e.session = tokenizer.token('session', tenant, span.traceId);
  Object.assign(e, tokenizer.address(tenant, str(a, 'client.address') ?? resource.clientAddress ?? ''));
  e.client = clientName(tokenizer, tenant, service);
  e.system = system;
  e.operation = operation;
  e.operation_raw = operationRaw;
  e.collection = collection;
  e.namespace = namespace;
  e.top_k =
    count(a, 'db.vector.query.top_k') ??
    count(a, 'pinecone.query.top_k') ??
    vendor.limit ??
    (sql ? sql.top_k : null);
  e.returned = returned;
  e.vectors_returned = includeValues === undefined ? null : includeValues ? returned : 0;
  // No instrumentation reports the bytes of an answer.
  e.bytes_out = null;
  e.outcome = failed ? (denied ? 'denied' : 'error') : 'allowed';
  e.status_code = statusNumber;
  e.error_type = (errorType ?? (failed ? statusRaw : undefined) ?? '').slice(0, 128);
  e.latency_ms =
    span.endTimeUnixNano > span.startTimeUnixNano
      ? Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6
      : 0;
  setQueryFields(e, queryText, ctx.tokenizer.queryText);
  e.trace_id = span.traceId;
  e.span_id = span.spanId;
  const server = serverAddress(a);
  if (server !== undefined) e.attributes['server.address'] = server;
  const port = count(a, 'server.port') ?? count(a, 'network.peer.port') ?? count(a, 'net.peer.port');
  if (server !== undefined && port !== undefined && port <= 65535) e.attributes['server.port'] = String(port);
  const batch = count(a, 'db.operation.batch.size');
  if (batch !== undefined) e.attributes['db.operation.batch.size'] = String(batch);
  return { kind: 'event', event: e };
}

function reject(reason: string): SpanMapping {
  return { kind: 'rejected', reason };
}

interface SpanNameFacts {
  readonly nameLower: string;
  readonly vendorPrefix: readonly [string, string] | undefined;
}

/** By span name: a batch repeats a few names, and lower-casing + 7 prefix tests cost per span. */
const SPAN_NAME_CACHE = new Map<string, SpanNameFacts>();
const SPAN_NAME_CACHE_MAX = 1024;

function spanNameFacts(name: string): SpanNameFacts {
  let facts = SPAN_NAME_CACHE.get(name);
  if (facts === undefined) {
    const nameLower = name.toLowerCase();
    facts = { nameLower, vendorPrefix: VECTOR_SPAN_PREFIXES.find(([p]) => nameLower.startsWith(p)) };
    if (SPAN_NAME_CACHE.size >= SPAN_NAME_CACHE_MAX) SPAN_NAME_CACHE.clear();
    SPAN_NAME_CACHE.set(name, facts);
  }
  return facts;
}

/** A span that carries database attributes but says nothing of the system is still a DB span. */
function hasDbAttributes(a: Attributes): boolean {
  for (const key of a.keys()) if (key.startsWith('db.')) return true;
  return false;
}

/** The user a span (or resource) names; also read from ancestor spans by trace-identity.ts. */
export function userIdentity(a: Attributes): string | undefined {
  for (const key of ['enduser.id', 'enduser.pseudo.id', 'user.id', 'user.name', 'user.email']) {
    const v = str(a, key);
    if (v !== undefined && v.trim() !== '') return v;
  }
  return undefined;
}

/**
 * The database server the span names: a host name as sent (server.address, else the older
 * net.peer.name); an IP literal (server.address or network.peer.address) only when it is loopback,
 * since raw addresses other than loopback are stored nowhere (SECURITY.md).
 */
function serverAddress(a: Attributes): string | undefined {
  for (const key of ['server.address', 'net.peer.name', 'network.peer.address']) {
    const v = str(a, key);
    if (v === undefined || v.length > MAX_NAME) continue;
    const family = isIP(v.replace(/^\[|\]$/g, ''));
    if (family === 0) return key === 'network.peer.address' ? undefined : v;
    return v === '127.0.0.1' || v === '::1' || v === '[::1]' ? v : undefined;
  }
  return undefined;
}

/**
 * `db.query.summary` (semconv: "{operation} {target}", e.g. `SELECT users`, `search docs`): the
 * operation, and the target when it is one plain name.
 */
function querySummary(v: string | undefined): { operation: string; collection?: string } | undefined {
  if (v === undefined) return undefined;
  const [op, target, ...rest] = v.trim().split(/\s+/);
  if (op === undefined || op === '' || op.length > 128) return undefined;
  const plain = target !== undefined && rest.length === 0 && /^[\w.:-]{1,256}$/.test(target);
  return plain ? { operation: op, collection: target } : { operation: op };
}

/**
 * Rows as span events (one `db.query.result` / `db.search.result` each). No such event is an
 * unknown count, unless the span shows the instrumentation read the answer (`answered`): then
 * it is 0 rows.
 */
function resultEvents(span: OtlpSpan, answered: boolean): number | undefined {
  const c = span.eventCounts;
  const n = c === undefined ? 0 : (c.get('db.query.result') ?? 0) + (c.get('db.search.result') ?? 0);
  return n > 0 ? n : answered ? 0 : undefined;
}

/**
 * Whether the span shows its instrumentation read the answer and added one result event per row,
 * so that no event means no rows (test/fixtures/otel-capture): OpenLLMetry's Pinecone `query` sets
 * status OK only after walking the matches; its Marqo `search` sets
 * db.marqo.search.processing_time from the answer before walking the hits.
 */
function answerReported(system: string, operationRaw: string, span: OtlpSpan, a: Attributes): boolean {
  if (system === 'pinecone') return operationRaw === 'query' && span.statusCode === STATUS_CODE.ok;
  if (system === 'marqo') return operationRaw === 'search' && a.has('db.marqo.search.processing_time');
  return false;
}

/**
 * A Pinecone index's name from its data-plane host
 * (`http(s)://<index>-<project>.svc.<environment>.pinecone.io`, the project a 7-character id):
 * the only place OpenLLMetry's spans name the index. An index name is at most 45 characters.
 */
const PINECONE_INDEX_HOST =
  /^(?:https?:\/\/)?([a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?)-[a-z0-9]{7}\.svc\.[a-z0-9.-]+\.pinecone\.io(?::\d{1,5})?\/?$/i;

function pineconeIndex(host: string | undefined): string | undefined {
  return host === undefined ? undefined : PINECONE_INDEX_HOST.exec(host)?.[1];
}

/**
 * `client` is the application's name (resource service.name): not an identifier of a person, kept
 * readable (README, Privacy). Accepted by allow-list of what a service name looks like; anything
 * else (an e-mail address, an IP literal, free text someone put there) is stored as its token.
 */
const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_.:/-]{0,127}$/;

/** Whether a service.name is stored as it is (an application's name) rather than as its token. */
export function isApplicationName(service: string): boolean {
  return SERVICE_NAME.test(service) && isIP(service) === 0;
}

function clientName(tokenizer: Tokenizer, tenant: string, service: string | undefined): string {
  if (service === undefined) return '';
  if (isApplicationName(service)) return service;
  return tokenizer.token('actor', tenant, service, 'service');
}

/** A JSON string literal (weaviate quotes names it records: `"Articles"`) → its text. */
function unquote(v: string): string {
  if (v.length < 2 || v[0] !== '"' || v.at(-1) !== '"') return v;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'string' && parsed !== '' ? parsed : v;
  } catch {
    return v;
  }
}

const VENDOR_KEY_PREFIXES = ['qdrant.', 'db.milvus.', 'db.weaviate.collections.', 'pinecone.', 'db.chroma.'];

/** Last key segments that name the number of results asked for. */
const LIMIT_SEGMENTS = new Set(['limit', 'n_results', 'top_k']);

interface VendorFacts {
  collection?: string;
  namespace?: string;
  /** Results asked for: <vendor>.<op>.limit / n_results / top_k of the span's own method first. */
  limit?: number;
  /** db.milvus.search.result_count and the like. */
  resultCount?: number;
}

/**
 * Collection, namespace, limit and result count from the per-method keys of vector-store
 * instrumentations. The key of the span's own method wins over another method's.
 */
function vendorAttributes(a: Attributes, method: string | undefined): VendorFacts {
  let collection: string | undefined;
  let own: string | undefined;
  let namespace: string | undefined;
  let limit: number | undefined;
  let ownLimit: number | undefined;
  let resultCount: number | undefined;
  const m = method?.toLowerCase();
  for (const key of a.keys()) {
    // Every key used below starts with qdrant., db.milvus., db.weaviate.collections., db.chroma.
    // or pinecone.:
    // most keys are ruled out by their first letter, the rest by the prefix, before the splitting
    // (which cost more than the rest of the mapping). Only Q/q, D/d, P/p pass the letter test.
    const first = key.charCodeAt(0) | 0x20;
    if (first !== 0x71 && first !== 0x64 && first !== 0x70) continue;
    // Of the d keys only db.milvus.*, db.weaviate.* and db.chroma.* can match, and no character
    // but M/m (W/w, C/c) lower-cases to m (w, c): the fourth letter rules out db.system.name and
    // most other db.* keys.
    if (first === 0x64) {
      const fourth = key.charCodeAt(3) | 0x20;
      if (fourth !== 0x6d && fourth !== 0x77 && fourth !== 0x63) continue;
    }
    const k = key.toLowerCase();
    if (!VENDOR_KEY_PREFIXES.some((p) => k.startsWith(p))) continue;
    const parts = k.split('.');
    const isCollectionKey =
      (parts.length === 3 && parts[0] === 'qdrant' && parts[2] === 'collection_name') ||
      (parts.length === 4 && parts[0] === 'db' && parts[1] === 'milvus' && parts[3] === 'collection_name') ||
      (parts.length === 5 && k.startsWith('db.weaviate.collections.') && parts[4] === 'name');
    const op = parts[0] === 'qdrant' ? parts[1] : parts[parts.length - 2];
    const isOwn = m !== undefined && op !== undefined && (m === op || m.endsWith(`.${op}`));
    if (isCollectionKey) {
      const raw = str(a, key);
      if (raw === undefined) continue;
      const v = parts[1] === 'weaviate' ? unquote(raw) : raw;
      collection ??= v;
      if (isOwn) own = v;
    } else if (parts.length >= 3 && LIMIT_SEGMENTS.has(parts.at(-1)!)) {
      const n = count(a, key);
      if (n === undefined) continue;
      limit ??= n;
      if (isOwn) ownLimit = n;
    } else if (parts.length >= 3 && parts.at(-1) === 'result_count') {
      resultCount ??= count(a, key);
    } else if (parts.length === 3 && parts[0] === 'pinecone' && parts[2] === 'namespace') {
      namespace ??= str(a, key);
    }
  }
  const facts: VendorFacts = { namespace };
  if ((own ?? collection) !== undefined) facts.collection = own ?? collection;
  if ((ownLimit ?? limit) !== undefined) facts.limit = ownLimit ?? limit;
  if (resultCount !== undefined) facts.resultCount = resultCount;
  return facts;
}

/**
 * Answers of `vendorOperation` by raw name: a span batch repeats a handful of operation names, and
 * the splitting and alias lookups cost more than the rest of the span's operation handling. Pure,
 * so a cache; cleared when full (bounded whatever names senders make up).
 */
const OPERATION_CACHE = new Map<string, Operation>();
const OPERATION_CACHE_MAX = 1024;

function vendorOperation(raw: string): Operation {
  let op = OPERATION_CACHE.get(raw);
  if (op === undefined) {
    op = vendorOperationUncached(raw);
    if (OPERATION_CACHE.size >= OPERATION_CACHE_MAX) OPERATION_CACHE.clear();
    OPERATION_CACHE.set(raw, op);
  }
  return op;
}

/** A client method or declared operation → canonical, trying the whole name, then its segments. */
function vendorOperationUncached(raw: string): Operation {
  const name = raw.trim().toLowerCase();
  const segments = name.split(/[.\s/]+/).filter(Boolean);
  // Weaviate: collections.create / collections.delete act on collections, data.* on objects.
  if (segments.length > 1 && (segments[0] === 'collections' || segments[0] === 'schema')) {
    const last = segments.at(-1)!;
    if (last === 'create' || last === 'create_from_dict' || last === 'create_from_config')
      return 'create_collection';
    if (last === 'delete' || last === 'delete_all') return 'drop_collection';
  }
  const candidates = [name.replace(/[.\s/-]+/g, '_'), ...segments.reverse()];
  for (const c of candidates) {
    if (Object.hasOwn(VENDOR_OPERATIONS, c)) return VENDOR_OPERATIONS[c]!;
    const op = canonicalOperation(c);
    if (op !== 'other') return op;
  }
  return 'other';
}

/** A scalar attribute as text (ints and booleans too: `user.id` may be a number). */
function str(a: Attributes, key: string): string | undefined {
  const v: AnyValue = a.get(key);
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A boolean attribute (true / false, or the strings 'true' / 'false'); undefined otherwise. */
function bool(a: Attributes, key: string): boolean | undefined {
  const v = a.get(key);
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return undefined;
}

/** A non-negative count (int, double with an integral value, or a decimal string). */
function count(a: Attributes, key: string): number | undefined {
  const v = a.get(key);
  let n: number | undefined;
  if (typeof v === 'bigint') n = v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) n = Number(v);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
