// The OTLP path after the hot-path work (string table in the decoder, resource facts read once per
// resource, the vendor-key prefilter, the operation cache) against the decoder and mapper as they
// were before it (test/helpers/reference/*.v1.ts): on generated requests whose spans mix the
// attributes every convention reads, vendor keys in any case, odd values and invalid ids and
// tenants, both give the same spans and the same events, rejections and counts.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequestProto,
  type ExportTraceRequest,
} from '../../../src/collectors/otlp/otlp.decoder.js';
import {
  isApplicationName,
  mapExportRequest,
  SYSTEM_METHOD_OPERATIONS,
} from '../../../src/collectors/otlp/span.mapper.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import type { AccessEvent } from '../../../src/model/index.js';
import {
  encodeTraceRequest,
  type ResourceSpec,
  type SpanSpec,
  type Value,
} from '../../helpers/otlp-proto.js';
import { decodeTraceRequestProto as decodeV1 } from '../../helpers/reference/otlp.decoder.v1.js';
import { mapExportRequest as mapV1 } from '../../helpers/reference/span.mapper.v1.js';

/** The reference predates `parentSpanId` (read for trace identity): compared without it. */
const NOW = Date.UTC(2026, 10, 20, 12);
const NOW_NS = BigInt(NOW) * 1_000_000n;

const SPAN_KEYS = [
  'db.system.name',
  'db.system',
  'db.collection.name',
  'db.namespace',
  'db.operation.name',
  'db.operation',
  'db.query.text',
  'db.statement',
  'db.name',
  'db.sql.table',
  'db.user',
  'db.response.status_code',
  'db.response.returned_rows',
  'db.vector.query.top_k',
  'db.vector.query.result_count',
  'db.vector.table_name',
  'db.vector.query.include_values',
  'pinecone.query.top_k',
  'pinecone.query.include_values',
  'pinecone.query.namespace',
  'Pinecone.Upsert.NAMESPACE',
  'qdrant.search.collection_name',
  'QDRANT.query_points.Collection_Name',
  'db.milvus.search.collection_name',
  'DB.MILVUS.query.collection_name',
  'dB.mIlvus.x',
  'db.weaviate.collections.query.name',
  'Db.WEAVIATE.collections.fetch_objects.name',
  'db.weaviate.collections.name',
  'enduser.id',
  'enduser.pseudo.id',
  'user.id',
  'user.name',
  'user.email',
  'client.address',
  'server.address',
  'error.type',
  'code.file.path',
  'thread.name',
  'd',
  'db',
  'db.',
  'p',
  'q',
];
const RESOURCE_KEYS = [
  'service.name',
  'vigil.tenant',
  'tenant.id',
  'client.address',
  'enduser.id',
  'user.email',
];
const TEXTS = [
  'qdrant',
  'Weaviate',
  'milvus',
  'pinecone.io',
  'postgresql',
  'pg',
  'chromadb',
  'search',
  'fetch',
  'query_points',
  'collections.create',
  'data.insert_many',
  'near_vector',
  "SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 5",
  "INSERT INTO docs VALUES (1, '[0.1,0.2]')",
  'CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)',
  'select * from t',
  '401',
  '42501',
  'PERMISSION_DENIED',
  '500',
  '10.1.2.3',
  '10.1.2.3:5432',
  '2001:db8::1',
  'alice@example.com',
  'svc-rag',
  'tenant-a',
  'bad tenant!',
  'kb_team1',
  '',
  '  ',
  '12',
];

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TEXTS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.bigInt({ min: -3n, max: 1n << 60n }) },
  // Varint lengths around the decoder's 7-byte fast path, and values past 2^53.
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1n << 50n }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0n,
      1n,
      127n,
      128n,
      (1n << 49n) - 1n,
      1n << 49n,
      (1n << 53n) + 1n,
      (1n << 55n) + 3n,
      -1n,
      -(1n << 62n),
    ),
  },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(0, 2.5, 7, -1, Number.NaN) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
);
const attrsArb = (keys: string[]) =>
  fc.array(
    fc.tuple(
      fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...keys) }, fc.string({ maxLength: 8 })),
      valueArb,
    ),
    {
      maxLength: 14,
    },
  );

const spanArb: fc.Arbitrary<SpanSpec> = fc.record({
  traceId: fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) },
    fc.constantFrom(new Uint8Array(16), new Uint8Array(3)),
  ),
  spanId: fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
    fc.constant(new Uint8Array(8)),
  ),
  name: fc.oneof(
    fc.constantFrom(
      'qdrant.search',
      'QDRANT.query_points',
      'db.weaviate.collections.query.near_vector',
      'pinecone.query',
      'milvus.search',
      'chromadb.peek',
      'pg.query:SELECT db',
      'pg.connect',
      'pg-pool.connect',
      'search kb_team1',
    ),
    fc.string({ maxLength: 10 }),
  ),
  kind: fc.integer({ min: 0, max: 5 }),
  start: fc.oneof(
    { weight: 8, arbitrary: fc.bigInt({ min: NOW_NS - 86_400_000_000_000n, max: NOW_NS }) },
    fc.constantFrom(0n, 1n),
  ),
  end: fc.bigInt({ min: NOW_NS - 86_400_000_000_000n, max: NOW_NS + 1_000_000_000n }),
  attrs: attrsArb(SPAN_KEYS),
  status: fc.record({ code: fc.integer({ min: 0, max: 2 }), message: fc.constantFrom('', 'boom') }),
  noise: fc.boolean(),
});

const requestArb: fc.Arbitrary<ResourceSpec[]> = fc.array(
  fc.record({
    attrs: attrsArb(RESOURCE_KEYS),
    scope: fc.constantFrom('', '@opentelemetry/instrumentation-pg'),
    scopeAfterSpans: fc.boolean(),
    spans: fc.array(spanArb, { maxLength: 6 }),
  }),
  { maxLength: 3 },
);

/**
 * The reference decoder predates span events (issue 15): the exception type and event counts the
 * decoder now keeps are left out of the comparison.
 */
/** Facts the decoder reads since the reference was frozen: parents, exception type, event names. */
function withoutNewFacts(req: ExportTraceRequest): ExportTraceRequest {
  return {
    resourceSpans: req.resourceSpans.map((rs) => ({
      ...rs,
      spans: rs.spans.map(({ parentSpanId: _parent, exceptionType: _e, eventCounts: _c, ...span }) => span),
    })),
  };
}

/** The reference stored a count the span does not report as 0; the mapper now stores null. */
function unknownAsZero<T extends { events: AccessEvent[] }>(m: T): T {
  return {
    ...m,
    events: m.events.map((e) => ({
      ...e,
      top_k: e.top_k ?? 0,
      returned: e.returned ?? 0,
      vectors_returned: e.vectors_returned ?? 0,
      bytes_out: e.bytes_out ?? 0,
    })),
  };
}

/**
 * Two changes made on purpose since the reference was frozen (issue 15), applied to its output so
 * everything else is still compared: a service.name that is not an application's name is stored as
 * its token; a vendor span's client method (its name after the vendor prefix) wins over the
 * db.operation it also sets; a server.address that is an IP literal other than loopback (a raw
 * address) is not kept. Any other difference fails.
 */
function withIntendedChanges<T extends { events: AccessEvent[] }>(reference: T, ours: AccessEvent[]): T {
  return {
    ...reference,
    events: reference.events.map((ref, i) => {
      const now = ours[i];
      if (!now) return ref;
      const e = { ...ref };
      if (!isApplicationName(ref.client) && ref.client !== '' && now.client.startsWith('svc_'))
        e.client = now.client;
      if (now.operation_raw !== ref.operation_raw && now.operation_raw !== '') {
        e.operation = now.operation;
        e.operation_raw = now.operation_raw;
      }
      // Methods whose meaning depends on the store (Milvus `query` is a scroll): keyed by the
      // event's system and the span's method, whatever the span's name prefix says.
      if (SYSTEM_METHOD_OPERATIONS[`${now.system}.${now.operation_raw}`] === now.operation)
        e.operation = now.operation;
      // Weaviate's JSON-quoted names (`"Articles"`) are unquoted now.
      if (ref.collection !== now.collection && ref.collection.startsWith('"')) {
        try {
          if (JSON.parse(ref.collection) === now.collection) e.collection = now.collection;
        } catch {
          // not a JSON string literal: no intended change
        }
      }
      const server = ref.attributes['server.address'];
      if (server !== undefined && isIP(server) !== 0 && now.attributes['server.address'] === undefined) {
        const { 'server.address': _raw, ...rest } = ref.attributes;
        e.attributes = rest;
      }
      return e;
    }),
  };
}

describe('OTLP fast path', () => {
  it('decodes and maps every generated request as the previous decoder and mapper did', () => {
    const key = { version: 1, secret: randomBytes(32) };
    const ours = createTokenizer(key);
    const theirs = createTokenizer(key);
    fc.assert(
      fc.property(
        requestArb,
        fc.option(fc.constantFrom('hint-tenant', 'bad hint'), { nil: undefined }),
        (resources, tenantHint) => {
          const body = Buffer.from(encodeTraceRequest(resources));
          const decoded = decodeTraceRequestProto(body);
          expect(withoutNewFacts(decoded)).toEqual(decodeV1(body));
          // A Uint8Array body (bytes values come out as Uint8Array, not Buffer, in both).
          const array = new Uint8Array(body);
          expect(withoutNewFacts(decodeTraceRequestProto(array))).toEqual(decodeV1(array));
          // The reference predates tenant bindings: with none, nothing is refused for its tenant.
          // `reasons` came later than the reference: the error message carries the same counts.
          const {
            tenantRefused,
            reasons: _reasons,
            ...mapped
          } = mapExportRequest(decoded, {
            tokenizer: ours,
            now: NOW,
            tenantHint,
          });
          expect(tenantRefused).toBe(0);
          const reference = mapV1(decodeV1(body), { tokenizer: theirs, now: NOW, tenantHint });
          // The reference builds on today's blankEvent, whose counts start unknown (null): both sides as 0.
          expect(unknownAsZero(mapped)).toEqual(unknownAsZero(withIntendedChanges(reference, mapped.events)));
        },
      ),
      { numRuns: 1_500 },
    );
  });

  it('fails on every truncated request as the previous decoder did (same error, or same result)', () => {
    const outcome = (decode: (b: Uint8Array) => unknown, body: Uint8Array) => {
      try {
        return { ok: decode(body) };
      } catch (err) {
        return { error: `${(err as Error).name}: ${(err as Error).message}` };
      }
    };
    fc.assert(
      fc.property(requestArb, fc.nat(), fc.boolean(), (resources, cut, asBuffer) => {
        const full = encodeTraceRequest(resources);
        const bytes = full.subarray(0, full.length === 0 ? 0 : cut % full.length);
        const body = asBuffer ? Buffer.from(bytes) : new Uint8Array(bytes);
        expect(outcome((b) => withoutNewFacts(decodeTraceRequestProto(b)), body)).toEqual(
          outcome(decodeV1, body),
        );
      }),
      { numRuns: 1_000 },
    );
  });
});
