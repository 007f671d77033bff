// Golden spans of the real OpenLLMetry instrumentations (test/fixtures/otel-capture, written by
// scripts/capture-spans.sh) → the events vigil stores: operation, collection, top_k, returned,
// outcome and error type for every span captured. null is "the span does not say".
import { describe, expect, it } from 'vitest';
import { mapExportRequest } from '../../../src/collectors/otlp/span.mapper.js';
import { accessEventSchema } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { CAPTURED, type Captured, capturedRequest } from '../../helpers/otel-capture.js';

const NOW = Date.now();
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });

type Row = [
  operation_raw: string,
  operation: string,
  collection: string,
  top_k: number | null,
  returned: number | null,
  outcome: string,
  error_type: string,
];

function mapped(vendor: Captured) {
  const out = mapExportRequest(capturedRequest(vendor, NOW), { tokenizer, now: NOW });
  for (const e of out.events) expect(accessEventSchema.safeParse(e).success).toBe(true);
  return out;
}

const rows = (vendor: Captured): Row[] =>
  mapped(vendor).events.map((e) => [
    e.operation_raw,
    e.operation,
    e.collection,
    e.top_k,
    e.returned,
    e.outcome,
    e.error_type,
  ]);

const EXPECTED: Record<Captured, { rows: Row[]; notDb: number; system: string }> = {
  qdrant: {
    system: 'qdrant',
    notDb: 0,
    rows: [
      ['upsert', 'upsert', 'docs', null, null, 'allowed', ''],
      ['query_points', 'search', 'docs', 3, null, 'allowed', ''],
      // No limit given: the instrumentation records the client's default, 10.
      ['query_points', 'search', 'docs', 10, null, 'allowed', ''],
      ['query_batch_points', 'search', 'docs', null, null, 'allowed', ''],
      ['scroll', 'scroll', 'docs', null, null, 'allowed', ''],
      ['set_payload', 'upsert', 'docs', null, null, 'allowed', ''],
      ['delete', 'delete', 'docs', null, null, 'allowed', ''],
      ['query_points', 'search', 'no_such_collection', 2, 0, 'error', 'ValueError'],
    ],
  },
  chromadb: {
    system: 'chroma',
    notDb: 0,
    rows: [
      ['add', 'upsert', '', null, null, 'allowed', ''],
      ['query', 'search', '', 5, 5, 'allowed', ''],
      ['get', 'fetch', '', 3, null, 'allowed', ''],
      ['peek', 'fetch', '', 2, null, 'allowed', ''],
      ['upsert', 'upsert', '', null, null, 'allowed', ''],
      ['update', 'upsert', '', null, null, 'allowed', ''],
      ['delete', 'delete', '', null, null, 'allowed', ''],
      ['query', 'search', '', 2, 0, 'error', 'InvalidArgumentError'],
    ],
  },
  milvus: {
    system: 'milvus',
    notDb: 0,
    rows: [
      ['create_collection', 'create_collection', 'papers', null, null, 'allowed', ''],
      ['insert', 'upsert', 'papers', null, null, 'allowed', ''],
      ['upsert', 'upsert', 'papers', null, null, 'allowed', ''],
      ['search', 'search', 'papers', 6, 6, 'allowed', ''],
      // collection_name passed positionally: the instrumentation records none.
      ['search', 'search', '', 2, 2, 'allowed', ''],
      ['query', 'scroll', 'papers', 4, 4, 'allowed', ''],
      ['get', 'fetch', 'papers', null, null, 'allowed', ''],
      ['delete', 'delete', 'papers', null, null, 'allowed', ''],
      ['search', 'search', 'no_such_collection', 2, 0, 'error', 'COLLECTION_NOT_FOUND'],
    ],
  },
  lancedb: {
    system: 'lancedb',
    notDb: 0,
    rows: [
      ['add', 'upsert', '', null, null, 'allowed', ''],
      ['search', 'search', '', null, null, 'allowed', ''],
      ['delete', 'delete', '', null, null, 'allowed', ''],
      ['delete', 'delete', '', null, 0, 'error', 'ValueError'],
    ],
  },
  weaviate: {
    system: 'weaviate',
    // collections.get only builds a client handle: five of them, none stored.
    notDb: 5,
    rows: [
      ['collections.create', 'create_collection', 'Articles', null, 0, 'error', 'WeaviateClosedClientError'],
      ['collections.data.insert', 'upsert', '', null, 0, 'error', 'WeaviateClosedClientError'],
      ['collections.query.get', 'search', '', null, null, 'allowed', ''],
      ['collections.query.fetch_objects', 'fetch', '', 5, 0, 'error', 'WeaviateClosedClientError'],
      ['collections.delete', 'drop_collection', 'Articles', null, 0, 'error', 'WeaviateClosedClientError'],
    ],
  },
  pinecone: {
    // Against scripts/otel-capture/mock_servers.py (Pinecone is a service only). The index is
    // named by its host only; fetch is not traced by the instrumentation.
    system: 'pinecone',
    notDb: 0,
    rows: [
      ['upsert', 'upsert', 'docs', null, null, 'allowed', ''],
      ['query', 'search', 'docs', 3, 3, 'allowed', ''],
      ['query', 'search', 'docs', 5, 5, 'allowed', ''],
      // An empty namespace: the answer was read (status OK) and held no match.
      ['query', 'search', 'docs', 2, 0, 'allowed', ''],
      ['delete', 'delete', 'docs', null, null, 'allowed', ''],
      ['query', 'search', 'docs', 2, 0, 'error', 'pinecone.exceptions.exceptions.PineconeApiException'],
    ],
  },
  marqo: {
    // Against mock_servers.py's Marqo. No span names the index, nor the search's limit.
    system: 'marqo',
    notDb: 0,
    rows: [
      ['add_documents', 'upsert', '', null, null, 'allowed', ''],
      ['search', 'search', '', null, 4, 'allowed', ''],
      ['search', 'search', '', null, 0, 'allowed', ''],
      ['delete_documents', 'delete', '', null, null, 'allowed', ''],
      ['search', 'search', '', null, 0, 'error', 'marqo.errors.MarqoWebError'],
    ],
  },
};

describe('captured OpenLLMetry spans → stored events', () => {
  for (const vendor of CAPTURED) {
    it(`${vendor}: every captured operation`, () => {
      const out = mapped(vendor);
      expect(out.rejected).toBe(0);
      expect(out.notDb).toBe(EXPECTED[vendor].notDb);
      expect(rows(vendor)).toEqual(EXPECTED[vendor].rows);
      for (const e of out.events) {
        expect(e.system).toBe(EXPECTED[vendor].system);
        expect(e.source).toBe('otel');
        // No instrumentation reports answer sizes; raw vectors only Pinecone's (tested below).
        expect(e.bytes_out).toBeNull();
        if (vendor !== 'pinecone') expect(e.vectors_returned).toBeNull();
        expect(e.actor_type).toBe('service');
        expect(e.actor).toMatch(/^svc_k1_/);
        // An application name stays readable (README, Privacy).
        expect(e.client).toBe('rag-capture');
      }
    });
  }

  it('pinecone: the namespace of a query, vectors returned when values were asked for', () => {
    const events = mapped('pinecone').events;
    expect(events.map((e) => [e.operation_raw, e.namespace, e.vectors_returned])).toEqual([
      ['upsert', '', null],
      ['query', 'team-a', null],
      ['query', 'team-a', 5],
      ['query', '', null],
      ['delete', '', null],
      ['query', 'team-a', null],
    ]);
  });

  it('pinecone: no index name from a host that is not an index host', () => {
    const req = capturedRequest('pinecone', NOW);
    const rs = req.resourceSpans[0]!;
    for (const host of [
      'http://127.0.0.1:5080',
      'https://api.pinecone.io',
      'https://docs.svc.pinecone.io.example.com',
    ]) {
      const spans = rs.spans.map((s) => ({
        ...s,
        attributes: new Map([...s.attributes, ['server.address', host]]),
      }));
      const out = mapExportRequest({ resourceSpans: [{ ...rs, spans }] }, { tokenizer, now: NOW });
      expect(out.events.map((e) => e.collection)).toEqual(spans.map(() => ''));
    }
  });

  it('exception.type is read from the span event when error.type is absent', () => {
    const req = capturedRequest('qdrant', NOW);
    const failed = req.resourceSpans[0]!.spans.find((s) => s.statusCode === 2)!;
    expect(failed.exceptionType).toBe('ValueError');
    expect(failed.attributes.has('error.type')).toBe(false);
  });

  it('result rows come from db.query.result / db.search.result events', () => {
    const req = capturedRequest('chromadb', NOW);
    const query = req.resourceSpans[0]!.spans.find((s) => s.name === 'chroma.query')!;
    expect(query.eventCounts?.get('db.query.result')).toBe(5);
  });

  it('a service.name that is no application name is stored as its token in client', () => {
    for (const name of ['jane.doe@example.com', '10.1.2.3', 'my app (jane)']) {
      const req = capturedRequest('qdrant', NOW);
      const rs = req.resourceSpans[0]!;
      const out = mapExportRequest(
        { resourceSpans: [{ ...rs, resource: new Map([['service.name', name]]) }] },
        { tokenizer, now: NOW },
      );
      for (const e of out.events) {
        expect(e.client).toMatch(/^svc_k1_/);
        expect(JSON.stringify(e)).not.toContain(name);
      }
    }
  });
});
