// Through a running vigil: an event older than the events retention (VIGIL_EVENTS_TTL_DAYS) is
// never acknowledged by a collector (the store would drop it), while the fresh events of the same
// batch are kept; POST /v1/replay rejects them too unless the replay asks expired=include.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExportResponseProto } from '../../src/collectors/otlp/otlp.decoder.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { encodeTraceRequest, type SpanSpec } from '../helpers/otlp-proto.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;
const REASON = `older than the events retention (${RETENTION_DAYS} days); the store would drop it`;
const ADMIN = 'retention-admin-token';
/** Relative to the wall clock, which the collectors' cutoff uses. */
const expiredTime = () => Date.now() - (RETENTION_DAYS + 2) * DAY;
const freshTime = () => Date.now() - 3_600_000;

describe('events retention at ingest', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil({
      env: { VIGIL_EVENTS_TTL_DAYS: String(RETENTION_DAYS), VIGIL_ADMIN_TOKEN: ADMIN },
    });
  });
  afterAll(async () => v?.stop());

  const count = async (tenant: string) => {
    const [row] = await v.app.store.client.query<{ n: string | number }>(
      'SELECT count() AS n FROM events WHERE tenant = {tenant:String}',
      { tenant },
    );
    return Number(row?.n ?? 0);
  };

  it('generic: the fresh event is accepted, the expired one rejected with its reason', async () => {
    const tenant = uniqueName('ret-generic');
    const before = v.app.metrics.counter('ingest_rejected_expired');
    const expired = new Date(expiredTime()).toISOString();
    const res = await v.post([
      makeGenericEvent({ tenant, time: expired }),
      makeGenericEvent({ tenant, time: new Date(freshTime()).toISOString() }),
    ]);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      accepted: 1,
      rejected: [{ line: 1, reason: `time: ${REASON}` }],
      rejected_count: 1,
    });
    expect(JSON.stringify(body)).not.toContain(expired.slice(0, 10));
    expect(v.app.metrics.counter('ingest_rejected_expired')).toBe(before + 1);
    await waitFor(
      () => count(tenant),
      (n) => n === 1,
      { what: 'the fresh event stored' },
    );

    // Only expired: nothing kept, 400.
    const none = await v.post([makeGenericEvent({ tenant, time: expired })]);
    expect(none.status).toBe(400);
  });

  it('OTLP/HTTP: the expired span is a rejected span with its reason, the fresh one is stored', async () => {
    const tenant = uniqueName('ret-otlp');
    const span = (ms: number): SpanSpec => ({
      traceId: randomBytes(16),
      spanId: randomBytes(8),
      name: 'qdrant.search',
      kind: 3,
      start: BigInt(ms) * 1_000_000n,
      end: BigInt(ms + 5) * 1_000_000n,
      attrs: [['qdrant.search.collection_name', 'docs']],
    });
    const res = await fetch(`${v.app.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${v.app.sourceTokens.otlp}`,
        'content-type': 'application/x-protobuf',
      },
      body: encodeTraceRequest([
        {
          attrs: [
            ['service.name', 'rag-api'],
            ['vigil.tenant', tenant],
          ],
          spans: [span(expiredTime()), span(freshTime())],
        },
      ]),
    });
    expect(res.status).toBe(200);
    expect(decodeExportResponseProto(new Uint8Array(await res.arrayBuffer()))).toEqual({
      rejectedSpans: 1,
      errorMessage: `1 span rejected: start_time_unix_nano: ${REASON} (1)`,
    });
    await waitFor(
      () => count(tenant),
      (n) => n === 1,
      { what: 'the fresh span stored' },
    );
  });

  describe('POST /v1/replay', () => {
    const replay = (query: string, lines: object[]) =>
      fetch(`${v.app.adminUrl}/v1/replay${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' },
        body: lines.map((l) => JSON.stringify(l)).join('\n'),
      });

    it('rejects expired events by default and with expired=reject', async () => {
      for (const query of ['', '?expired=reject']) {
        const tenant = uniqueName('ret-replay');
        const res = await replay(query, [
          makeGenericEvent({ tenant, time: new Date(expiredTime()).toISOString() }),
          makeGenericEvent({ tenant, time: new Date(freshTime()).toISOString() }),
        ]);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({
          accepted: 1,
          rejected: [{ line: 1, reason: `time: ${REASON}` }],
          rejected_count: 1,
          unknown_fields: {},
        });
      }
    });

    it('stores them with expired=include', async () => {
      const tenant = uniqueName('ret-include');
      const res = await replay('?expired=include', [
        makeGenericEvent({ tenant, time: new Date(expiredTime()).toISOString() }),
        makeGenericEvent({ tenant, time: new Date(freshTime()).toISOString() }),
      ]);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        accepted: 2,
        rejected: [],
        rejected_count: 0,
        unknown_fields: {},
      });
    });

    it('answers 400 naming the parameter for an unknown value', async () => {
      const res = await replay('?expired=maybe', [makeGenericEvent()]);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'expired: must be reject or include' });
    });
  });
});
