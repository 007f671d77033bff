// OTLP span → AccessEvent: the database conventions (stable, older, vector-store
// instrumentations, instrumentation-pg with pgvector SQL), identity and tenant precedence,
// non-database spans dropped, and rejections that never repeat a raw value.
import { describe, expect, it } from 'vitest';
import type { AnyValue, OtlpSpan } from '../../../src/collectors/otlp/otlp.decoder.js';
import { mapExportRequest, mapSpan, type SpanMapContext } from '../../../src/collectors/otlp/span.mapper.js';
import { type AccessEvent, accessEventSchema, deterministicId } from '../../../src/model/index.js';
import { createTokenizer, queryHash } from '../../../src/privacy/index.js';

const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const START_MS = Date.UTC(2026, 10, 2, 10, 0, 0);
const START = BigInt(START_MS) * 1_000_000n + 123_456n;
const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });
const ctx: SpanMapContext = { tokenizer, now: NOW };

type Attrs = Record<string, AnyValue>;

function makeSpan(attrs: Attrs = {}, over: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    traceId: TRACE,
    spanId: SPAN,
    name: 'db op',
    kind: 3,
    startTimeUnixNano: START,
    endTimeUnixNano: START + 2_500_000n,
    attributes: new Map(Object.entries(attrs)),
    statusCode: 0,
    statusMessage: '',
    scope: '',
    ...over,
  };
}

const resourceOf = (attrs: Attrs = { 'service.name': 'rag-api' }) => new Map(Object.entries(attrs));

function accept(span: OtlpSpan, resource = resourceOf(), c: SpanMapContext = ctx): AccessEvent {
  const m = mapSpan(span, resource, c);
  if (m.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(m)}`);
  expect(accessEventSchema.safeParse(m.event).success).toBe(true);
  return m.event;
}

function rejectReason(span: OtlpSpan, resource = resourceOf(), c: SpanMapContext = ctx): string {
  const m = mapSpan(span, resource, c);
  if (m.kind !== 'rejected') throw new Error(`expected a rejection, got ${m.kind}`);
  return m.reason;
}

/** What an instrumentation-pg 0.76 query span carries. */
const pgSpan = (sql: string, extra: Attrs = {}) =>
  makeSpan(
    {
      'db.system.name': 'postgresql',
      'db.namespace': 'vigil',
      'server.address': 'db.internal',
      'server.port': 5432n,
      'db.query.text': sql,
      ...extra,
    },
    {
      name: `pg.query:${sql.split(' ')[0]!.toUpperCase()} vigil`,
      scope: '@opentelemetry/instrumentation-pg',
    },
  );

describe('mapSpan: stable database conventions', () => {
  it('maps system, collection, namespace, operation, rows, status and hashes the query', () => {
    const text = "search docs where tenant = 'alice@example.com'";
    const e = accept(
      makeSpan({
        'db.system.name': 'qdrant',
        'db.collection.name': 'customer_pii',
        'db.namespace': 'prod',
        'db.operation.name': 'query_points',
        'db.query.text': text,
        'db.response.returned_rows': 100n,
        'db.response.status_code': '200',
        'server.address': 'qdrant.internal',
      }),
    );
    expect(e).toMatchObject({
      source: 'otel',
      system: 'qdrant',
      collection: 'customer_pii',
      namespace: 'prod',
      operation: 'search',
      operation_raw: 'query_points',
      returned: 100,
      status_code: 200,
      outcome: 'allowed',
      query_hash: queryHash(text),
      trace_id: TRACE,
      span_id: SPAN,
      attributes: { 'server.address': 'qdrant.internal' },
    });
    expect(JSON.stringify(e)).not.toContain('alice@example.com');
  });

  it('derives id, time, latency and session from the span', () => {
    const e = accept(makeSpan({ 'db.system.name': 'qdrant', 'db.operation.name': 'search' }));
    expect(e.event_id).toBe(deterministicId('otel', TRACE, SPAN));
    expect(e.time).toBe(START_MS);
    expect(e.observed_time).toBe(NOW);
    expect(e.latency_ms).toBe(2.5);
    expect(e.session).toBe(tokenizer.token('session', 'default', TRACE));
  });

  it('marks an error by status code ERROR or by error.type, and a refusal as denied', () => {
    const base = { 'db.system.name': 'qdrant', 'db.operation.name': 'search' };
    expect(accept(makeSpan(base, { statusCode: 2 })).outcome).toBe('error');
    const typed = accept(makeSpan({ ...base, 'error.type': 'timeout' }));
    expect(typed).toMatchObject({ outcome: 'error', error_type: 'timeout' });
    const denied = accept(makeSpan({ ...base, 'db.response.status_code': '403' }, { statusCode: 2 }));
    expect(denied).toMatchObject({ outcome: 'denied', status_code: 403, error_type: '403' });
    const pgDenied = accept(pgSpan('SELECT * FROM secrets WHERE id = 1', { 'error.type': '42501' }));
    expect(pgDenied.outcome).toBe('denied');
  });
});

describe('mapSpan: older conventions', () => {
  it('reads db.system, db.operation, db.statement, db.name, db.sql.table and db.user', () => {
    const e = accept(
      makeSpan({
        'db.system': 'Milvus',
        'db.operation': 'Search',
        'db.statement': 'vector search',
        'db.name': 'default',
        'db.sql.table': 'faces',
        'db.user': 'svc-reader',
      }),
    );
    expect(e).toMatchObject({
      system: 'milvus',
      operation: 'search',
      collection: 'faces',
      namespace: 'default',
      query_hash: queryHash('vector search'),
      credential: tokenizer.token('credential', 'default', 'svc-reader'),
    });
  });

  it('prefers the stable name when both are present', () => {
    const e = accept(
      makeSpan({
        'db.system.name': 'weaviate',
        'db.system': 'other',
        'db.namespace': 'new',
        'db.name': 'old',
        'db.query.text': 'new text',
        'db.statement': 'old text',
      }),
    );
    expect(e).toMatchObject({ system: 'weaviate', namespace: 'new', query_hash: queryHash('new text') });
  });
});

describe('mapSpan: vector-store instrumentations', () => {
  it('Qdrant: qdrant.<method> span names, per-method collection keys, db.vector.* counts, any case', () => {
    const search = accept(
      makeSpan(
        {
          'db.system': 'Qdrant',
          'qdrant.search.collection_name': 'docs',
          'db.vector.query.top_k': 10n,
          'db.vector.query.result_count': 7n,
        },
        { name: 'qdrant.search' },
      ),
    );
    expect(search).toMatchObject({
      system: 'qdrant',
      operation: 'search',
      operation_raw: 'search',
      collection: 'docs',
      top_k: 10,
      returned: 7,
    });
    const query = accept(
      makeSpan({ 'qdrant.query_points.collection_name': 'kb' }, { name: 'qdrant.query_points' }),
    );
    expect(query).toMatchObject({ system: 'qdrant', operation: 'search', collection: 'kb' });
    const scroll = accept(makeSpan({ 'db.vector.table_name': 'kb' }, { name: 'Qdrant.Scroll' }));
    expect(scroll).toMatchObject({ system: 'qdrant', operation: 'scroll', collection: 'kb' });
    const upsert = accept(makeSpan({ 'qdrant.upsert.collection_name': 'kb' }, { name: 'qdrant.upsert' }));
    expect(upsert.operation).toBe('upsert');
  });

  it("takes the span's own method's collection key over another method's", () => {
    const e = accept(
      makeSpan(
        { 'qdrant.upsert.collection_name': 'other', 'qdrant.search.collection_name': 'mine' },
        { name: 'qdrant.search' },
      ),
    );
    expect(e.collection).toBe('mine');
  });

  it('Pinecone: pinecone.query with top_k, namespace, result count and returned vectors', () => {
    const e = accept(
      makeSpan(
        {
          'db.system': 'pinecone',
          'pinecone.query.top_k': 50n,
          'pinecone.query.namespace': 'tenant-a',
          'pinecone.query.include_values': true,
          'db.vector.query.result_count': 50n,
        },
        { name: 'pinecone.query' },
      ),
    );
    expect(e).toMatchObject({
      system: 'pinecone',
      operation: 'search',
      namespace: 'tenant-a',
      top_k: 50,
      returned: 50,
      vectors_returned: 50,
    });
  });

  it('Milvus, Chroma and Weaviate span names and collection keys', () => {
    expect(
      accept(makeSpan({ 'db.milvus.search.collection_name': 'faces' }, { name: 'milvus.search' })),
    ).toMatchObject({ system: 'milvus', operation: 'search', collection: 'faces' });
    expect(
      accept(makeSpan({ 'db.milvus.query.collection_name': 'faces' }, { name: 'milvus.delete' })),
    ).toMatchObject({ system: 'milvus', operation: 'delete', collection: 'faces' });
    expect(accept(makeSpan({ 'db.system': 'chroma' }, { name: 'chroma.query' }))).toMatchObject({
      system: 'chroma',
      operation: 'search',
    });
    expect(accept(makeSpan({}, { name: 'chroma.add' }))).toMatchObject({
      system: 'chroma',
      operation: 'upsert',
    });
    expect(
      accept(
        makeSpan(
          { 'db.system': 'Weaviate', 'db.weaviate.collections.create.name': 'Articles' },
          { name: 'db.weaviate.collections.create' },
        ),
      ),
    ).toMatchObject({ system: 'weaviate', operation: 'create_collection', collection: 'Articles' });
    expect(accept(makeSpan({}, { name: 'db.weaviate.collections.delete' })).operation).toBe(
      'drop_collection',
    );
    expect(accept(makeSpan({}, { name: 'db.weaviate.collections.query.near_vector' }))).toMatchObject({
      system: 'weaviate',
      operation: 'search',
    });
    expect(accept(makeSpan({}, { name: 'db.weaviate.data.insert' })).operation).toBe('upsert');
  });
});

describe('mapSpan: PostgreSQL and pgvector (instrumentation-pg)', () => {
  it('a similarity search: system pgvector, table as collection, LIMIT as top_k', () => {
    const sql = "SELECT id, content FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5";
    const e = accept(pgSpan(sql));
    expect(e).toMatchObject({
      system: 'pgvector',
      operation: 'search',
      collection: 'items',
      namespace: 'vigil',
      top_k: 5,
      query_hash: queryHash(sql),
      attributes: { 'server.address': 'db.internal' },
    });
  });

  it.each([
    ['SELECT * FROM docs ORDER BY embedding <=> $1 LIMIT 10', 'search', 'docs', 10],
    ['SELECT id FROM docs ORDER BY embedding <#> $1::vector LIMIT 3', 'search', 'docs', 3],
    ['SELECT id FROM docs ORDER BY embedding <+> $1 LIMIT 1', 'search', 'docs', 1],
    ["INSERT INTO docs (id, embedding) VALUES (1, '[1,2,3]'), (2, '[4,5,6]')", 'upsert', 'docs', 0],
    ['UPDATE docs SET embedding = $1::vector WHERE id = $2', 'upsert', 'docs', 0],
    [
      'CREATE TABLE IF NOT EXISTS docs (id bigserial PRIMARY KEY, embedding vector(3))',
      'create_collection',
      'docs',
      0,
    ],
    ['CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops)', 'create_collection', 'docs', 0],
  ])('%s → pgvector %s on %s', (sql, operation, collection, topK) => {
    expect(accept(pgSpan(sql))).toMatchObject({ system: 'pgvector', operation, collection, top_k: topK });
  });

  it('plain SQL stays postgresql, with the verb as operation and the table as collection', () => {
    expect(accept(pgSpan('SELECT id, title FROM docs WHERE id = $1'))).toMatchObject({
      system: 'postgresql',
      operation: 'fetch',
      operation_raw: 'select',
      collection: 'docs',
    });
    expect(accept(pgSpan('DELETE FROM docs WHERE id = $1'))).toMatchObject({
      system: 'postgresql',
      operation: 'delete',
      collection: 'docs',
    });
    expect(accept(pgSpan('DROP TABLE IF EXISTS docs'))).toMatchObject({
      operation: 'drop_collection',
      collection: 'docs',
    });
    expect(accept(pgSpan('INSERT INTO audit (id) VALUES ($1)'))).toMatchObject({
      system: 'postgresql',
      operation: 'upsert',
      collection: 'audit',
    });
  });

  it('reads the older instrumentation-pg attributes (db.system, db.statement, db.name)', () => {
    const e = accept(
      makeSpan(
        {
          'db.system': 'postgresql',
          'db.name': 'vigil',
          'db.statement': 'SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 8',
          'db.user': 'app',
          'db.connection_string': 'postgresql://localhost:5432/vigil',
        },
        { name: 'pg.query:SELECT vigil' },
      ),
    );
    expect(e).toMatchObject({
      system: 'pgvector',
      operation: 'search',
      collection: 'items',
      top_k: 8,
      namespace: 'vigil',
    });
  });

  it('a connection is an auth event; a pool checkout is no database operation', () => {
    const connect = makeSpan(
      { 'db.system.name': 'postgresql', 'db.namespace': 'vigil' },
      { name: 'pg.connect' },
    );
    expect(accept(connect)).toMatchObject({ system: 'postgresql', operation: 'auth' });
    const pool = makeSpan({ 'db.system.name': 'postgresql' }, { name: 'pg-pool.connect' });
    expect(mapSpan(pool, resourceOf(), ctx).kind).toBe('not_db');
  });
});

describe('mapSpan: identity', () => {
  const base = { 'db.system.name': 'qdrant', 'db.operation.name': 'search' };

  it('takes enduser.id, then enduser.pseudo.id, user.id, user.name, user.email: an end user', () => {
    const all = {
      'enduser.id': 'dana',
      'enduser.pseudo.id': 'pseudo-1',
      'user.id': 42n,
      'user.name': 'dana.k',
      'user.email': 'dana@example.com',
    };
    const order = ['enduser.id', 'enduser.pseudo.id', 'user.id', 'user.name', 'user.email'] as const;
    for (const [i, key] of order.entries()) {
      const attrs: Attrs = { ...base };
      for (const k of order.slice(i)) attrs[k] = all[k];
      const e = accept(makeSpan(attrs));
      expect(e.actor_type).toBe('user');
      expect(e.actor).toBe(tokenizer.token('actor', 'default', String(all[key]), 'user'));
      expect(e.client).toBe('rag-api');
    }
  });

  it('falls back to a user named on the resource, then to the service', () => {
    const fromResource = accept(
      makeSpan(base),
      resourceOf({ 'service.name': 'rag-api', 'enduser.id': 'ops' }),
    );
    expect(fromResource.actor).toBe(tokenizer.token('actor', 'default', 'ops', 'user'));
    const service = accept(makeSpan(base));
    expect(service.actor_type).toBe('service');
    expect(service.actor).toBe(tokenizer.token('actor', 'default', 'rag-api', 'service'));
    expect(service.actor.startsWith('svc_')).toBe(true);
  });

  it('tokenizes client.address into src_ip and src_net, never keeping the address', () => {
    const e = accept(makeSpan({ ...base, 'user.email': 'dana@example.com', 'client.address': '10.20.3.14' }));
    expect(e.src_ip).toBe(tokenizer.address('default', '10.20.3.14').src_ip);
    expect(e.src_net).toBe(tokenizer.address('default', '10.20.3.14').src_net);
    expect(JSON.stringify(e)).not.toMatch(/10\.20\.3\.14|dana@example\.com/);
  });

  it('rejects a span with neither a user nor a service name', () => {
    expect(rejectReason(makeSpan(base), resourceOf({}))).toMatch(/^identity:/);
  });
});

describe('mapSpan: tenant', () => {
  const span = () => makeSpan({ 'db.system.name': 'qdrant', 'user.id': 'u1' });

  it('resource vigil.tenant, then tenant.id, then the header, then default', () => {
    const both = resourceOf({ 'service.name': 's', 'vigil.tenant': 'acme', 'tenant.id': 'other' });
    expect(accept(span(), both, { ...ctx, tenantHint: 'hdr' }).tenant).toBe('acme');
    const tenantId = resourceOf({ 'service.name': 's', 'tenant.id': 'globex' });
    expect(accept(span(), tenantId, { ...ctx, tenantHint: 'hdr' }).tenant).toBe('globex');
    expect(accept(span(), resourceOf(), { ...ctx, tenantHint: 'hdr' }).tenant).toBe('hdr');
    expect(accept(span()).tenant).toBe('default');
  });

  it('tokenizes per tenant', () => {
    const a = accept(span(), resourceOf({ 'service.name': 's', 'vigil.tenant': 'a' }));
    const b = accept(span(), resourceOf({ 'service.name': 's', 'vigil.tenant': 'b' }));
    expect(a.actor).not.toBe(b.actor);
  });

  it('rejects a tenant that is not a plain name, without repeating it', () => {
    const reason = rejectReason(
      span(),
      resourceOf({ 'service.name': 's', 'vigil.tenant': 'eve@example.com/x' }),
    );
    expect(reason).toMatch(/^tenant/);
    expect(reason).not.toContain('eve@example.com');
  });
});

describe('mapSpan: spans that are not database operations', () => {
  it.each([
    [
      'an HTTP server span',
      makeSpan({ 'http.request.method': 'GET', 'url.path': '/search' }, { name: 'GET /search', kind: 2 }),
    ],
    ['an internal span', makeSpan({}, { name: 'rerank', kind: 1 })],
    ['a messaging span', makeSpan({ 'messaging.system': 'kafka' }, { name: 'publish vigil' })],
  ])('drops %s', (_what, span) => {
    expect(mapSpan(span, resourceOf(), ctx)).toEqual({ kind: 'not_db' });
  });

  it('keeps a span with db.* attributes but no system as a database span (rejected: no system)', () => {
    expect(rejectReason(makeSpan({ 'db.collection.name': 'docs' }))).toMatch(/^db\.system\.name: missing/);
  });
});

describe('mapSpan: rejections never carry raw values', () => {
  const identified = { 'db.system.name': 'qdrant', 'user.email': 'carol@example.com' };

  it.each([
    ['trace id of the wrong size', { traceId: 'abcd' }, /^trace_id:/],
    ['all-zero trace id', { traceId: '0'.repeat(32) }, /^trace_id:/],
    ['all-zero span id', { spanId: '0'.repeat(16) }, /^span_id:/],
    ['no start time', { startTimeUnixNano: 0n }, /^start_time_unix_nano:/],
    [
      'a start time far in the future',
      { startTimeUnixNano: BigInt(NOW + 3 * 86_400_000) * 1_000_000n },
      /^start_time/,
    ],
  ])('%s', (_what, over, reason) => {
    const r = rejectReason(makeSpan(identified, over as Partial<OtlpSpan>));
    expect(r).toMatch(reason);
    expect(r).not.toContain('carol');
  });

  it('rejects a JSON defect with its own reason', () => {
    expect(rejectReason(makeSpan({}, { defect: 'resourceSpans[0].scopeSpans[0].spans[0].traceId: x' }))).toBe(
      'resourceSpans[0].scopeSpans[0].spans[0].traceId: x',
    );
  });
});

describe('mapExportRequest', () => {
  it('splits a request into events, rejected database spans and dropped other spans', () => {
    const resource = resourceOf({ 'service.name': 'rag-api', 'vigil.tenant': 'acme' });
    const r = mapExportRequest(
      {
        resourceSpans: [
          {
            resource,
            spans: [
              makeSpan({ 'db.system.name': 'qdrant', 'db.operation.name': 'search' }),
              makeSpan({ 'db.system.name': 'qdrant' }, { traceId: 'bad' }),
              makeSpan({ 'db.system.name': 'qdrant' }, { traceId: 'bad2' }),
              makeSpan({ 'db.system.name': 'qdrant' }, { startTimeUnixNano: 0n }),
              makeSpan({ 'http.request.method': 'GET' }, { name: 'GET /' }),
            ],
          },
        ],
      },
      ctx,
    );
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.tenant).toBe('acme');
    expect(r.rejected).toBe(3);
    expect(r.notDb).toBe(1);
    expect(r.errorMessage).toBe(
      '3 spans rejected: trace_id: must be 16 bytes, not all zero (2); ' +
        'start_time_unix_nano: missing or not a plausible time (2000 … now+24h) (1)',
    );
  });

  it('has no error message when nothing was rejected', () => {
    expect(mapExportRequest({ resourceSpans: [] }, ctx)).toEqual({
      events: [],
      rejected: 0,
      tenantRefused: 0,
      notDb: 0,
      reasons: new Map(),
      errorMessage: '',
    });
  });
});
