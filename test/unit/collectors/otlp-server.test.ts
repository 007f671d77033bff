// The OTLP receivers' edges with a stub pipeline: what each answer is made of (content types,
// partial success, error statuses), when it is given (only after the events are durable), and how
// backpressure reaches the sender — over fastify's inject (HTTP) and a loopback gRPC server.
import { gzipSync } from 'node:zlib';
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceAuth } from '../../../src/collectors/auth.js';
import type { CollectorDeps } from '../../../src/collectors/deps.js';
import { createHttpServer } from '../../../src/collectors/http/server.js';
import type { Ingest } from '../../../src/collectors/ingest.js';
import { startOtlpGrpcServer, traceServiceDefinition } from '../../../src/collectors/otlp/grpc.server.js';
import {
  decodeExportResponseProto,
  type ExportTraceResult,
} from '../../../src/collectors/otlp/otlp.decoder.js';
import { registerOtlpHttpRoutes } from '../../../src/collectors/otlp/server.js';
import { type AccessEvent, BackpressureError } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import { encodeTraceRequest, type SpanSpec } from '../../helpers/otlp-proto.js';

const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const MAX_BODY = 64 * 1024;
const START = BigInt(NOW - 60_000) * 1_000_000n;

/** A stub pipeline: records what was submitted; `next` decides how the next submit ends. */
function stubIngest() {
  const submitted: AccessEvent[][] = [];
  let next: () => Promise<void> = async () => {};
  const ingest: Ingest = {
    inflight: () => 0,
    submit: (events) => {
      submitted.push(events);
      return next();
    },
  };
  return { ingest, submitted, setNext: (fn: () => Promise<void>) => (next = fn) };
}

function makeDeps(ingest: Ingest): CollectorDeps {
  return {
    auth: createSourceAuth({ otlp: ['otlp-token'], generic: ['generic-token'] }),
    ingest,
    tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 3) }),
    metrics: createMetrics(),
    logger: createLogger('silent'),
    maxBodyBytes: MAX_BODY,
    now: () => NOW,
  };
}

let seq = 0;
function dbSpan(attrs: SpanSpec['attrs'] = []): SpanSpec {
  seq++;
  return {
    traceId: Buffer.from(`${seq}`.padStart(32, 'a'), 'hex'),
    spanId: Buffer.from(`${seq}`.padStart(16, 'b'), 'hex'),
    name: 'qdrant.search',
    kind: 3,
    start: START,
    end: START + 1_000_000n,
    attrs: [['qdrant.search.collection_name', 'docs'], ...attrs],
  };
}

const request = (spans: SpanSpec[], tenant?: string) =>
  Buffer.from(
    encodeTraceRequest([
      {
        attrs: [
          ['service.name', 'rag-api'],
          ...(tenant ? [['vigil.tenant', tenant] as [string, string]] : []),
        ],
        spans,
      },
    ]),
  );

describe('POST /v1/traces', () => {
  const stub = stubIngest();
  const deps = makeDeps(stub.ingest);
  const app = createHttpServer({ logger: deps.logger, maxBodyBytes: MAX_BODY });
  registerOtlpHttpRoutes(app, deps);
  afterAll(() => app.close());

  const send = (body: Buffer | string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { authorization: 'Bearer otlp-token', 'content-type': 'application/x-protobuf', ...headers },
      payload: body,
    });

  it('answers a protobuf request in protobuf, with partial_success for unmappable database spans', async () => {
    stub.setNext(async () => {});
    const res = await send(
      request([
        dbSpan(),
        { ...dbSpan(), traceId: new Uint8Array(16) },
        { name: 'GET /', kind: 2, start: START },
      ]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeExportResponseProto(res.rawPayload)).toEqual({
      rejectedSpans: 1,
      errorMessage: '1 span rejected: trace_id: must be 16 bytes, not all zero (1)',
    });
    expect(stub.submitted.at(-1)).toHaveLength(1);
    expect(deps.metrics.counter('otlp_spans_dropped_non_db')).toBe(1);
    expect(deps.metrics.counter('ingest_rejected_otlp')).toBe(1);
  });

  it('answers only once the events are durable', async () => {
    let release!: () => void;
    stub.setNext(() => new Promise<void>((r) => (release = r)));
    let answered = false;
    const pending = send(request([dbSpan()])).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    expect((await pending).statusCode).toBe(200);
  });

  it.each([
    ['saturated', 429],
    ['unavailable', 503],
  ] as const)('answers %s backpressure with %i and Retry-After', async (kind, status) => {
    stub.setNext(async () => {
      throw new BackpressureError('busy', 7, kind);
    });
    const res = await send(request([dbSpan()]));
    expect(res.statusCode).toBe(status);
    expect(res.headers['retry-after']).toBe('7');
  });

  it('uses X-Vigil-Tenant for spans whose resource names no tenant, and refuses a malformed one', async () => {
    stub.setNext(async () => {});
    await send(request([dbSpan()]), { 'x-vigil-tenant': 'globex' });
    expect(stub.submitted.at(-1)![0]!.tenant).toBe('globex');
    await send(request([dbSpan()], 'acme'), { 'x-vigil-tenant': 'globex' });
    expect(stub.submitted.at(-1)![0]!.tenant).toBe('acme');
    const bad = await send(request([dbSpan()]), { 'x-vigil-tenant': 'not a tenant' });
    expect(bad.statusCode).toBe(400);
  });

  it('answers errors as a google.rpc.Status in the request encoding', async () => {
    const json = await send('{', { 'content-type': 'application/json' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({ code: 3, message: 'body is not valid JSON' });
    const proto = await send(Buffer.from([0x08, 0x01]));
    expect(proto.statusCode).toBe(400);
    const r = protobuf.Reader.create(proto.rawPayload);
    expect([r.uint32(), r.int32(), r.uint32()]).toEqual([0x08, 3, 0x12]);
    expect(r.string()).toMatch(/wire type/);
    const unauth = await send(request([dbSpan()]), { authorization: 'Bearer generic-token' });
    expect(unauth.statusCode).toBe(403);
  });

  it('answers 413 when the body grows over the limit once decompressed', async () => {
    const big = request([dbSpan([['pad', 'x'.repeat(MAX_BODY * 2)]])]);
    const res = await send(gzipSync(big), { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(413);
  });
});

describe('OTLP/gRPC TraceService/Export', () => {
  const stub = stubIngest();
  const deps = makeDeps(stub.ingest);
  let server: Awaited<ReturnType<typeof startOtlpGrpcServer>>;
  const Client = makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
  let client: InstanceType<typeof Client>;
  let gzipClient: InstanceType<typeof Client>;

  beforeAll(async () => {
    server = await startOtlpGrpcServer({ ...deps, host: '127.0.0.1', port: 0 });
    client = new Client(server.address, credentials.createInsecure());
    gzipClient = new Client(server.address, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
    });
  });
  afterAll(async () => {
    client?.close();
    gzipClient?.close();
    await server?.close();
  });

  function exportCall(
    c: InstanceType<typeof Client>,
    body: Buffer,
    /** null: no authorization metadata */
    token: string | null = 'otlp-token',
  ): Promise<{ result?: ExportTraceResult; error?: ServiceError }> {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => {
      type ExportMethod = (
        body: Buffer,
        metadata: Metadata,
        callback: (error: ServiceError | null, result?: ExportTraceResult) => void,
      ) => void;
      const method = (c as unknown as { Export: ExportMethod }).Export.bind(c);
      method(body, metadata, (error: ServiceError | null, result?: ExportTraceResult) =>
        resolve(error ? { error } : { result }),
      );
    });
  }

  it('accepts a gzip-compressed request and answers partial success', async () => {
    stub.setNext(async () => {});
    const { result, error } = await exportCall(
      gzipClient,
      request([dbSpan(), { ...dbSpan(), start: 0n }], 'acme'),
    );
    expect(error).toBeUndefined();
    expect(result).toEqual({
      rejectedSpans: 1,
      errorMessage:
        '1 span rejected: start_time_unix_nano: missing or not a plausible time (2000 … now+24h) (1)',
    });
    expect(stub.submitted.at(-1)!.map((e) => [e.tenant, e.system, e.collection])).toEqual([
      ['acme', 'qdrant', 'docs'],
    ]);
  });

  it('UNAUTHENTICATED without a token, PERMISSION_DENIED with another source token', async () => {
    expect((await exportCall(client, request([dbSpan()]), null)).error?.code).toBe(16);
    expect((await exportCall(client, request([dbSpan()]), 'generic-token')).error?.code).toBe(7);
  });

  it('INVALID_ARGUMENT for bytes that are not a request', async () => {
    const { error } = await exportCall(client, Buffer.from('{"resourceSpans":[]}'));
    expect(error?.code).toBe(3);
  });

  it('RESOURCE_EXHAUSTED over the size limit, also when it only grows that big once gunzipped', async () => {
    const big = request([dbSpan([['pad', 'x'.repeat(MAX_BODY * 4)]])]);
    expect((await exportCall(client, big)).error?.code).toBe(8);
    expect((await exportCall(gzipClient, big)).error?.code).toBe(8);
  });

  it('UNAVAILABLE with RetryInfo when the pipeline cannot take the batch', async () => {
    stub.setNext(async () => {
      throw new BackpressureError('busy', 4, 'saturated');
    });
    const { error } = await exportCall(client, request([dbSpan()]));
    expect(error?.code).toBe(14);
    const details = error!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(details.toString('latin1')).toContain('type.googleapis.com/google.rpc.RetryInfo');
  });
});
