// The Kafka source's decoders reuse each collector's own normalization: one record, one meaning.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CollectorDeps } from '../../../src/collectors/deps.js';
import { decoderFor } from '../../../src/collectors/decoders.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { makeHoopSessionOpen, makeTeleportQuery } from '../../helpers/gateway-fixtures.js';
import { encodeTraceRequest } from '../../helpers/otlp-proto.js';
import { testTime } from '../../helpers/clock.js';

const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 3) });
const deps = {
  tokenizer,
  metrics: createMetrics(),
  logger: createLogger('silent'),
  maxBodyBytes: 1 << 20,
} as unknown as CollectorDeps;
/** The test's clock, on the suite's calendar (the factories place events on it). */
const now = testTime(4, 12);

describe('Kafka source decoders', () => {
  it('generic: NDJSON lines, bad lines rejected with their number', () => {
    const value = Buffer.from(`${JSON.stringify(makeGenericEvent())}\n{"x":1}`);
    const r = decoderFor('generic', deps)(value, now);
    expect(r.events).toHaveLength(1);
    expect(r.rejected.map((x) => x.line)).toEqual([2]);
  });

  it('teleport: a db.session.query with pgvector SQL', () => {
    const r = decoderFor('teleport', deps)(
      Buffer.from(JSON.stringify(makeTeleportQuery({ time: new Date(now - 1000).toISOString() }))),
      now,
    );
    expect(r.rejected).toEqual([]);
    expect(r.events[0]).toMatchObject({
      source: 'teleport',
      system: 'pgvector',
      operation: 'search',
      collection: 'docs',
      top_k: 10,
      tenant: 'default',
    });
    expect(r.events[0]!.actor).toMatch(/^usr_k1_/);
  });

  it('hoop: a session.open webhook body', () => {
    const r = decoderFor('hoop', deps)(Buffer.from(JSON.stringify(makeHoopSessionOpen())), now);
    expect(r.rejected).toEqual([]);
    expect(r.events[0]).toMatchObject({ source: 'hoop', operation: 'search', collection: 'docs' });
    expect(JSON.stringify(r.events)).not.toContain('alice@example.com');
  });

  it('otlp-proto: a TracesData record with a Qdrant span', () => {
    const start = BigInt(now - 5_000) * 1_000_000n;
    const value = encodeTraceRequest([
      {
        attrs: [['service.name', 'rag-api']],
        spans: [
          {
            traceId: randomBytes(16),
            spanId: randomBytes(8),
            name: 'qdrant.search',
            kind: 3,
            start,
            end: start + 4_000_000n,
            attrs: [
              ['db.system', 'Qdrant'],
              ['db.vector.table_name', 'products'],
              ['db.vector.query.top_k', 7n],
            ],
          },
        ],
      },
    ]);
    const r = decoderFor('otlp-proto', deps)(Buffer.from(value), now);
    expect(r.rejected).toEqual([]);
    expect(r.events[0]).toMatchObject({
      source: 'otel',
      system: 'qdrant',
      operation: 'search',
      collection: 'products',
      top_k: 7,
      actor_type: 'service',
    });
  });

  it('otlp-json: an undecodable record throws (the source records it and moves on)', () => {
    expect(() => decoderFor('otlp-json', deps)(Buffer.from('{not json'), now)).toThrow();
  });
});
