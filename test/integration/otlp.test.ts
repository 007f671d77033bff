// The OTLP receivers driven by the official OpenTelemetry JS exporters (HTTP JSON, HTTP protobuf,
// gRPC; plain and gzip) and by @opentelemetry/instrumentation-pg around real pgvector queries on
// the real PostgreSQL. Every case writes under its own tenant (resource attribute vigil.tenant) and
// asserts on the rows in the ClickHouse `events` table.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { Metadata } from '@grpc/grpc-js';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExportResponseProto } from '../../src/collectors/otlp/otlp.decoder.js';
import { PG_URL, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const MAX_BODY = 256 * 1024;
const USER = 'alice@example.com';

type Exporter = JsonExporter | ProtoExporter | GrpcExporter;
type ExportResult = Parameters<Parameters<Exporter['export']>[1]>[0];
type Compression = NonNullable<NonNullable<ConstructorParameters<typeof JsonExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;
const NONE = 'none' as Compression;

interface SpanSpec {
  readonly name: string;
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly error?: boolean;
}

/** Finished SDK spans (ReadableSpan) under one resource, as an application would produce them. */
function makeSpans(tenant: string, specs: SpanSpec[]): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'rag-api', 'vigil.tenant': tenant }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('vigil-otlp-test');
  for (const s of specs) {
    const span = tracer.startSpan(s.name, { kind: s.kind ?? SpanKind.CLIENT, attributes: s.attributes });
    if (s.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end();
  }
  return memory.getFinishedSpans();
}

function exportSpans(exporter: Exporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

const qdrantSearch: SpanSpec = {
  name: 'qdrant.search',
  attributes: {
    'db.system': 'Qdrant',
    'qdrant.search.collection_name': 'docs',
    'db.vector.query.top_k': 10,
    'db.vector.query.result_count': 7,
    'user.email': USER,
  },
};
const httpServerSpan: SpanSpec = {
  name: 'GET /ask',
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': 'GET', 'url.path': '/ask' },
};

interface EventRow {
  system: string;
  operation: string;
  operation_raw: string;
  collection: string;
  namespace: string;
  top_k: number;
  returned: number;
  actor: string;
  actor_type: string;
  outcome: string;
  trace_id: string;
  span_id: string;
}

describe('OTLP receivers with the official exporters', () => {
  let v: TestVigil;
  let authorization: string;
  beforeAll(async () => {
    v = await startTestVigil({ env: { VIGIL_MAX_BODY_BYTES: String(MAX_BODY) } });
    authorization = `Bearer ${v.app.sourceTokens.otlp}`;
  });
  afterAll(async () => v?.stop());

  const rows = async (tenant: string): Promise<EventRow[]> => {
    return v.app.store.client.query<EventRow>(
      `SELECT system, operation, operation_raw, collection, namespace, top_k, returned, actor, actor_type,
                     outcome, trace_id, span_id
              FROM events WHERE tenant = {tenant:String} ORDER BY time, operation`,
      { tenant },
    );
  };
  const rowsOf = (tenant: string, n: number) =>
    waitFor(
      () => rows(tenant),
      (r) => r.length >= n,
      { timeoutMs: 10_000, what: `${n} events of ${tenant}` },
    );

  const exporters: Record<string, (compression: Compression) => Exporter> = {
    'http/json': (compression) =>
      new JsonExporter({ url: `${v.app.otlpHttpUrl}/v1/traces`, headers: { authorization }, compression }),
    'http/protobuf': (compression) =>
      new ProtoExporter({ url: `${v.app.otlpHttpUrl}/v1/traces`, headers: { authorization }, compression }),
    grpc: (compression) => {
      const metadata = new Metadata();
      metadata.set('authorization', authorization);
      return new GrpcExporter({ url: `http://${v.app.otlpGrpcAddress}`, metadata, compression });
    },
  };

  it.each([
    ['http/json', NONE],
    ['http/json', GZIP],
    ['http/protobuf', NONE],
    ['http/protobuf', GZIP],
    ['grpc', NONE],
    ['grpc', GZIP],
  ])(
    '%s (compression %s): stores the database span, tokenized, and drops the HTTP span',
    async (kind, compression) => {
      const tenant = uniqueName('otlp');
      const dropped = v.app.metrics.counter('otlp_spans_dropped_non_db');
      const spans = makeSpans(tenant, [qdrantSearch, httpServerSpan]);
      const exporter = exporters[kind]!(compression);
      try {
        const result = await exportSpans(exporter, spans);
        expect(result.error).toBeUndefined();
        expect(result.code).toBe(0);
      } finally {
        await exporter.shutdown();
      }
      const [row, ...more] = await rowsOf(tenant, 1);
      expect(more).toEqual([]);
      const db = spans.find((s) => s.name === 'qdrant.search')!;
      expect(row).toEqual({
        system: 'qdrant',
        operation: 'search',
        operation_raw: 'search',
        collection: 'docs',
        namespace: '',
        top_k: 10,
        returned: 7,
        actor: v.app.tokenizer.token('actor', tenant, USER, 'user'),
        actor_type: 'user',
        outcome: 'allowed',
        trace_id: db.spanContext().traceId,
        span_id: db.spanContext().spanId,
      });
      expect(row!.actor).not.toContain('alice');
      expect(v.app.metrics.counter('otlp_spans_dropped_non_db')).toBe(dropped + 1);
    },
  );

  it('keeps the mappable spans of a batch and reports the others as partial success (exporter)', async () => {
    const tenant = uniqueName('otlp-partial');
    const rejected = v.app.metrics.counter('ingest_rejected_otlp');
    const spans = makeSpans(tenant, [
      qdrantSearch,
      { name: 'weird.db', attributes: { 'db.system.name': 'x'.repeat(100), 'user.email': USER } },
      { name: 'pinecone.query', attributes: { 'pinecone.query.top_k': 3 }, error: true },
    ]);
    const exporter = exporters['http/protobuf']!(NONE);
    try {
      // Partial success is success for the exporter: it must not retry.
      expect((await exportSpans(exporter, spans)).code).toBe(0);
    } finally {
      await exporter.shutdown();
    }
    const stored = await rowsOf(tenant, 2);
    expect(stored.map((r) => [r.system, r.operation, r.outcome, r.top_k])).toEqual(
      expect.arrayContaining([
        ['qdrant', 'search', 'allowed', 10],
        ['pinecone', 'search', 'error', 3],
      ]),
    );
    expect(stored).toHaveLength(2);
    expect(v.app.metrics.counter('ingest_rejected_otlp')).toBe(rejected + 1);
  });

  const post = (body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${v.app.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { authorization, ...headers }, body });

  const jsonRequest = (tenant: string, spans: object[]) => ({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'vigil.tenant', value: { stringValue: tenant } }] },
        scopeSpans: [{ scope: { name: 'handmade' }, spans }],
      },
    ],
  });
  const jsonSpan = (over: object = {}) => ({
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('base64'),
    name: 'chroma.query',
    kind: 3,
    startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
    endTimeUnixNano: String(BigInt(Date.now() + 3) * 1_000_000n),
    attributes: [{ key: 'enduser.id', value: { stringValue: 'u-77' } }],
    ...over,
  });

  it('answers partial_success in the request content type, naming fields, not values', async () => {
    const tenant = uniqueName('otlp-json-partial');
    const res = await post(
      JSON.stringify(
        jsonRequest(tenant, [
          jsonSpan(),
          jsonSpan({ traceId: '00000000000000000000000000000000' }),
          jsonSpan({ startTimeUnixNano: 'carol@example.com' }),
          jsonSpan({ name: 'render', kind: 1, attributes: [] }),
        ]),
      ),
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedSpans).toBe('2');
    expect(body.partialSuccess.errorMessage).toMatch(/^2 spans rejected: /);
    expect(body.partialSuccess.errorMessage).toContain('trace_id');
    expect(body.partialSuccess.errorMessage).toContain('startTimeUnixNano');
    expect(body.partialSuccess.errorMessage).not.toContain('carol');
    const [row] = await rowsOf(tenant, 1);
    expect(row).toMatchObject({ system: 'chroma', operation: 'search', actor_type: 'user' });
    expect((await rows(tenant)).length).toBe(1);
  });

  it('answers an empty request with an empty response, in protobuf and JSON', async () => {
    const proto = await post(Buffer.alloc(0), { 'content-type': 'application/x-protobuf' });
    expect(proto.status).toBe(200);
    expect(proto.headers.get('content-type')).toBe('application/x-protobuf');
    expect(decodeExportResponseProto(Buffer.from(await proto.arrayBuffer()))).toEqual({
      rejectedSpans: 0,
      errorMessage: '',
    });
    const json = await post('{}', { 'content-type': 'application/json' });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});
  });

  it('answers 401 without or with a wrong token, 403 with another source token', async () => {
    const body = JSON.stringify(jsonRequest('t', [jsonSpan()]));
    expect((await post(body, { 'content-type': 'application/json', authorization: '' })).status).toBe(401);
    expect(
      (await post(body, { 'content-type': 'application/json', authorization: 'Bearer nope' })).status,
    ).toBe(401);
    const other = await post(body, {
      'content-type': 'application/json',
      authorization: `Bearer ${v.app.sourceTokens.generic}`,
    });
    expect(other.status).toBe(403);
  });

  it('answers 400 for an undecodable body and 415 for another content type', async () => {
    const bad = await post(Buffer.from('{"resourceSpans":[]}'), { 'content-type': 'application/x-protobuf' });
    expect(bad.status).toBe(400);
    expect((await post('{"resourceSpans": [', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post('x', { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('answers 413 over the size limit after gzip decompression', async () => {
    const big = JSON.stringify(
      jsonRequest('bomb', [
        jsonSpan({ attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(MAX_BODY * 4) } }] }),
      ]),
    );
    const gz = gzipSync(big);
    expect(gz.length).toBeLessThan(MAX_BODY);
    const res = await post(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
  });

  it('gRPC: UNAUTHENTICATED without a token, nothing stored', async () => {
    const tenant = uniqueName('otlp-grpc-noauth');
    const exporter = new GrpcExporter({ url: `http://${v.app.otlpGrpcAddress}` });
    try {
      const result = await exportSpans(exporter, makeSpans(tenant, [qdrantSearch]));
      expect(result.code).toBe(1);
      expect((result.error as { code?: number }).code).toBe(16);
    } finally {
      await exporter.shutdown();
    }
    expect(await rows(tenant)).toEqual([]);
  });
});

describe('instrumentation-pg around real pgvector queries', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil();
  });
  afterAll(async () => v?.stop());

  it('turns the SDK spans of similarity search, insert and plain select into pgvector events', async () => {
    const tenant = uniqueName('otlp-pg');
    const table = `items_${randomBytes(4).toString('hex')}`;
    const exporter = new ProtoExporter({
      url: `${v.app.otlpHttpUrl}/v1/traces`,
      headers: { authorization: `Bearer ${v.app.sourceTokens.otlp}` },
      compression: GZIP,
    });
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'rag-api', 'vigil.tenant': tenant }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
    });
    const instrumentation = new PgInstrumentation();
    instrumentation.setTracerProvider(provider);
    instrumentation.enable();
    // `pg` is required after enable(), through require, so the instrumentation's hook patches it.
    const { Client } = createRequire(import.meta.url)('pg') as typeof pg;
    const client = new Client({ connectionString: PG_URL });
    try {
      await client.connect();
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, embedding vector(3))`);
      await client.query(`INSERT INTO ${table} (embedding) VALUES ('[1,2,3]'), ('[4,5,6]'), ('[3,1,2]')`);
      const nearest = await client.query(`SELECT id FROM ${table} ORDER BY embedding <-> '[3,1,2]' LIMIT 5`);
      expect(nearest.rows).toHaveLength(3);
      await client.query(`SELECT id FROM ${table} WHERE id = $1`, [1]);
      await client.query(`DROP TABLE ${table}`);
    } finally {
      await client.end();
      await provider.forceFlush();
      instrumentation.disable();
      await provider.shutdown();
    }
    const stored = await waitFor(
      async () => {
        return v.app.store.client.query<
          Pick<
            EventRow,
            'system' | 'operation' | 'collection' | 'top_k' | 'actor' | 'actor_type' | 'namespace'
          >
        >(
          `SELECT system, operation, collection, top_k, actor, actor_type, namespace
                  FROM events WHERE tenant = {tenant:String}`,
          { tenant },
        );
      },
      (r) => r.length >= 7,
      { timeoutMs: 10_000, what: 'pg events' },
    );
    const byOp = (system: string, operation: string) =>
      stored.filter((r) => r.system === system && r.operation === operation && r.collection === table);
    expect(byOp('pgvector', 'search')).toEqual([
      expect.objectContaining({ top_k: 5, namespace: 'vigil', actor_type: 'service' }),
    ]);
    expect(byOp('pgvector', 'upsert')).toHaveLength(1);
    expect(byOp('pgvector', 'create_collection')).toHaveLength(1);
    expect(byOp('postgresql', 'fetch')).toHaveLength(1);
    expect(byOp('postgresql', 'drop_collection')).toHaveLength(1);
    expect(stored.filter((r) => r.operation === 'auth')).toHaveLength(1); // pg.connect
    expect(new Set(stored.map((r) => r.actor))).toEqual(
      new Set([v.app.tokenizer.token('actor', tenant, 'rag-api', 'service')]),
    );
  });
});
