// The OTLP span mapper as it was before the hot-path work of issue 7 (commit 04b1e82), kept as the
// reference the property test (test/unit/collectors/otlp-fast-path.test.ts) compares the mapper
// with. Not used by src/.
// One OTLP span (+ its resource) → a canonical AccessEvent, a rejection reason, or "not a database
// span" (dropped and counted, never stored, never rejected: an app's HTTP and internal spans are
// none of vigil's business). Pure apart from the tokenizer's cache.
//
// Conventions read, in order of precedence:
//   stable  db.system.name, db.collection.name, db.namespace, db.operation.name, db.query.text,
//           db.response.returned_rows, db.response.status_code, error.type, server.address
//   older   db.system, db.operation, db.statement, db.name, db.sql.table, db.user
//   vector stores (OpenLLMetry and similar): span names qdrant.*, pinecone.*, milvus.*, chroma.*,
//           db.weaviate.*; db.vector.query.top_k, db.vector.query.result_count, db.vector.table_name,
//           qdrant.<method>.collection_name, db.milvus.<op>.collection_name,
//           db.weaviate.collections.<op>.name, pinecone.query.top_k, pinecone.<op>.namespace
//   PostgreSQL (@opentelemetry/instrumentation-pg: span `pg.query:<VERB> <db>`, db.query.text or
//           db.statement): the SQL is read for pgvector syntax, table, verb and LIMIT by the same
//           reader the gateway collectors use (../vector-query/), so one statement maps to one
//           operation whichever way it reached vigil.
//   identity enduser.id, enduser.pseudo.id, user.id, user.name, user.email (span, then resource)
//           → user; else resource service.name → service. client.address → src_ip.
//   tenant  resource vigil.tenant or tenant.id, else the X-Vigil-Tenant header, else `default`.
import {
  type AccessEvent,
  type ActorType,
  canonicalOperation,
  deterministicId,
  type Operation,
} from '../../../src/model/index.js';
import { setQueryFields, type Tokenizer } from '../../../src/privacy/index.js';
import { blankEvent, parseEventTime } from '../../../src/collectors/normalize.js';
import { DEFAULT_TENANT } from '../../../src/collectors/tenant.js';
import { parseSql } from '../../../src/collectors/vector-query/index.js';
import {
  type AnyValue,
  type Attributes,
  type ExportTraceRequest,
  type OtlpSpan,
  STATUS_CODE,
} from '../../../src/collectors/otlp/otlp.decoder.js';

export interface SpanMapContext {
  readonly tokenizer: Tokenizer;
  /** Epoch ms: observed_time, and the bound on plausible event times. */
  readonly now: number;
  /** Tenant named by the transport (X-Vigil-Tenant header / metadata), used when the resource names none. */
  readonly tenantHint?: string;
}

export type SpanMapping =
  | { readonly kind: 'event'; readonly event: AccessEvent }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'not_db' };

export interface MappedRequest {
  readonly events: AccessEvent[];
  readonly rejected: number;
  readonly notDb: number;
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
  recreate_collection: 'create_collection',
  create_partition: 'create_collection',
  drop_partition: 'drop_collection',
  drop_index: 'drop_collection',
};

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
  const events: AccessEvent[] = [];
  const reasons = new Map<string, number>();
  let rejected = 0;
  let notDb = 0;
  for (const rs of req.resourceSpans) {
    for (const span of rs.spans) {
      const m = mapSpan(span, rs.resource, ctx);
      if (m.kind === 'event') events.push(m.event);
      else if (m.kind === 'not_db') notDb++;
      else {
        rejected++;
        reasons.set(m.reason, (reasons.get(m.reason) ?? 0) + 1);
      }
    }
  }
  return { events, rejected, notDb, errorMessage: describeRejections(rejected, reasons) };
}

function describeRejections(rejected: number, reasons: Map<string, number>): string {
  if (rejected === 0) return '';
  const parts = [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} (${n})`);
  const text = `${rejected} span${rejected === 1 ? '' : 's'} rejected: ${parts.join('; ')}`;
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE - 1)}…` : text;
}

export function mapSpan(span: OtlpSpan, resource: Attributes, ctx: SpanMapContext): SpanMapping {
  if (span.defect !== undefined) return { kind: 'rejected', reason: span.defect };
  const a = span.attributes;
  const nameLower = span.name.toLowerCase();
  const vendorPrefix = VECTOR_SPAN_PREFIXES.find(([p]) => nameLower.startsWith(p));
  const rawSystem = str(a, 'db.system.name') ?? str(a, 'db.system');
  if (rawSystem === undefined && !vendorPrefix && !hasDbAttributes(a)) return { kind: 'not_db' };
  // A pool checkout is no database operation: the connection it may open is its own `pg.connect` span.
  if (nameLower === 'pg-pool.connect') return { kind: 'not_db' };

  if (!TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId))
    return reject('trace_id: must be 16 bytes, not all zero');
  if (!SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId))
    return reject('span_id: must be 8 bytes, not all zero');
  const time = parseEventTime(span.startTimeUnixNano, ctx.now);
  if (span.startTimeUnixNano === 0n || time === undefined)
    return reject('start_time_unix_nano: missing or not a plausible time (2000 … now+24h)');

  const tenant =
    str(resource, 'vigil.tenant') ?? str(resource, 'tenant.id') ?? ctx.tenantHint ?? DEFAULT_TENANT;
  if (!TENANT.test(tenant))
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
  const declaredOp = str(a, 'db.operation.name') ?? str(a, 'db.operation');
  const method = vendorPrefix ? span.name.slice(vendorPrefix[0].length) : undefined;
  let operation: Operation;
  let operationRaw: string;
  if (sql) {
    operation = sql.operation;
    operationRaw = sql.operation_raw;
  } else if (declaredOp) {
    operation = vendorOperation(declaredOp);
    operationRaw = declaredOp;
  } else if (method) {
    operation = vendorOperation(method);
    operationRaw = method;
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
    str(a, 'db.sql.table') ??
    (sql?.collection || undefined) ??
    '';
  if (collection.length > MAX_NAME) return reject('db.collection.name: must be at most 256 characters');
  const namespace = str(a, 'db.namespace') ?? vendor.namespace ?? str(a, 'db.name') ?? '';
  if (namespace.length > MAX_NAME) return reject('db.namespace: must be at most 256 characters');

  // Who.
  const identity = userIdentity(a) ?? userIdentity(resource);
  const service = str(resource, 'service.name');
  const actorType: ActorType = identity ? 'user' : 'service';
  const actor = identity ?? service;
  if (actor === undefined)
    return reject('identity: no enduser.id / user.* attribute and no resource service.name');
  if (actor.length > 512) return reject('identity: must be at most 512 characters');
  const { tokenizer } = ctx;

  // How it went.
  const statusRaw = str(a, 'db.response.status_code');
  const errorType = str(a, 'error.type');
  const failed = span.statusCode === STATUS_CODE.error || errorType !== undefined;
  const statusNumber = statusRaw !== undefined && /^\d{1,7}$/.test(statusRaw) ? Number(statusRaw) : 0;
  const denied = [errorType, statusRaw].some((v) => v !== undefined && DENIED.has(v.toLowerCase()));

  const returned = count(a, 'db.response.returned_rows') ?? count(a, 'db.vector.query.result_count') ?? 0;
  const includeValues =
    a.get('pinecone.query.include_values') === true || a.get('db.vector.query.include_values') === true;

  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('otel', span.traceId, span.spanId);
  e.time = time;
  e.tenant = tenant;
  e.source = 'otel';
  e.actor_type = actorType;
  e.actor = tokenizer.token('actor', tenant, actor, actorType);
  e.credential = tokenizer.token('credential', tenant, str(a, 'db.user') ?? '');
  e.session = tokenizer.token('session', tenant, span.traceId);
  Object.assign(
    e,
    tokenizer.address(tenant, str(a, 'client.address') ?? str(resource, 'client.address') ?? ''),
  );
  e.client = (service ?? '').slice(0, MAX_NAME);
  e.system = system;
  e.operation = operation;
  e.operation_raw = operationRaw;
  e.collection = collection;
  e.namespace = namespace;
  e.top_k = count(a, 'db.vector.query.top_k') ?? count(a, 'pinecone.query.top_k') ?? sql?.top_k ?? 0;
  e.returned = returned;
  e.vectors_returned = includeValues ? returned : 0;
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
  const server = str(a, 'server.address');
  if (server !== undefined && server.length <= MAX_NAME) e.attributes['server.address'] = server;
  return { kind: 'event', event: e };
}

function reject(reason: string): SpanMapping {
  return { kind: 'rejected', reason };
}

/** A span that carries database attributes but says nothing of the system is still a DB span. */
function hasDbAttributes(a: Attributes): boolean {
  for (const key of a.keys()) if (key.startsWith('db.')) return true;
  return false;
}

function userIdentity(a: Attributes): string | undefined {
  for (const key of ['enduser.id', 'enduser.pseudo.id', 'user.id', 'user.name', 'user.email']) {
    const v = str(a, key);
    if (v !== undefined && v.trim() !== '') return v;
  }
  return undefined;
}

const VENDOR_KEY_PREFIXES = ['qdrant.', 'db.milvus.', 'db.weaviate.collections.', 'pinecone.'];

/**
 * Collection and namespace from the per-method keys of vector-store instrumentations. The key of
 * the span's own method wins over another method's.
 */
function vendorAttributes(
  a: Attributes,
  method: string | undefined,
): { collection?: string; namespace?: string } {
  let collection: string | undefined;
  let own: string | undefined;
  let namespace: string | undefined;
  const m = method?.toLowerCase();
  for (const key of a.keys()) {
    // Every key used below starts with qdrant., db.milvus., db.weaviate.collections. or pinecone.:
    // most keys are ruled out by their first letter, the rest by the prefix, before the splitting
    // (which cost more than the rest of the mapping). Only Q/q, D/d, P/p pass the letter test.
    const first = key.charCodeAt(0) | 0x20;
    if (first !== 0x71 && first !== 0x64 && first !== 0x70) continue;
    const k = key.toLowerCase();
    if (!VENDOR_KEY_PREFIXES.some((p) => k.startsWith(p))) continue;
    const parts = k.split('.');
    const isCollectionKey =
      (parts.length === 3 && parts[0] === 'qdrant' && parts[2] === 'collection_name') ||
      (parts.length === 4 && parts[0] === 'db' && parts[1] === 'milvus' && parts[3] === 'collection_name') ||
      (parts.length === 5 && k.startsWith('db.weaviate.collections.') && parts[4] === 'name');
    if (isCollectionKey) {
      const v = str(a, key);
      if (v === undefined) continue;
      collection ??= v;
      const op = parts[0] === 'qdrant' ? parts[1] : parts[parts.length - 2];
      if (m !== undefined && (m === op || m.endsWith(`.${op}`))) own = v;
    } else if (parts.length === 3 && parts[0] === 'pinecone' && parts[2] === 'namespace') {
      namespace ??= str(a, key);
    }
  }
  return { collection: own ?? collection, namespace };
}

/** A client method or declared operation → canonical, trying the whole name, then its segments. */
function vendorOperation(raw: string): Operation {
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

/** A non-negative count (int, double with an integral value, or a decimal string). */
function count(a: Attributes, key: string): number | undefined {
  const v = a.get(key);
  let n: number | undefined;
  if (typeof v === 'bigint') n = v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) n = Number(v);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
