// Event times older than the events retention (VIGIL_EVENTS_TTL_DAYS) are refused by every
// normalizer with a reason naming the field (never the value): the store would drop them, so
// acknowledging them would lose them. Times are placed on the suite's calendar (test/helpers/clock.ts).
import { describe, expect, it } from 'vitest';
import { parseGenericBody } from '../../../src/collectors/generic/server.js';
import { normalizeGeneric } from '../../../src/collectors/generic/generic.normalizer.js';
import { normalizeHoopApiSession } from '../../../src/collectors/hoop/hoop.normalizer.js';
import { expiredTimeReason, isExpiredReason } from '../../../src/collectors/normalize.js';
import type { OtlpSpan } from '../../../src/collectors/otlp/otlp.decoder.js';
import { mapSpan } from '../../../src/collectors/otlp/span.mapper.js';
import { normalizeTeleport } from '../../../src/collectors/teleport/teleport.normalizer.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { testTime } from '../../helpers/clock.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { makeHoopApiSession, makeTeleportStart } from '../../helpers/gateway-fixtures.js';

const DAY = 86_400_000;
const NOW = testTime(14, 12);
const RETENTION_DAYS = 30;
/** A day past the retention, and an hour within it. */
const EXPIRED = NOW - (RETENTION_DAYS + 1) * DAY;
const FRESH = NOW - 3_600_000;
const iso = (t: number) => new Date(t).toISOString();
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 3) });
const REASON = `older than the events retention (${RETENTION_DAYS} days); the store would drop it`;

describe('expiredTimeReason', () => {
  it('refuses a time before now − retention, keeps one at or after it', () => {
    const bound = { retentionDays: RETENTION_DAYS };
    const cutoff = NOW - RETENTION_DAYS * DAY;
    expect(expiredTimeReason('time', cutoff - 1, NOW, bound)).toBe(`time: ${REASON}`);
    expect(expiredTimeReason('time', cutoff, NOW, bound)).toBeUndefined();
    expect(expiredTimeReason('time', FRESH, NOW, bound)).toBeUndefined();
  });

  it('applies no bound when none is given (a replay that chose to include them)', () => {
    expect(expiredTimeReason('time', EXPIRED, NOW, {})).toBeUndefined();
  });

  it('is told apart from the other reasons', () => {
    expect(isExpiredReason(expiredTimeReason('time', EXPIRED, NOW, { retentionDays: 1 })!)).toBe(true);
    expect(isExpiredReason('time: not an ISO-8601 time or epoch number within 2000 … now+24h')).toBe(false);
  });
});

describe('generic events', () => {
  const ctx = { tokenizer, now: NOW, retentionDays: RETENTION_DAYS };

  it('an expired time is refused with its own reason, without the value', () => {
    const time = iso(EXPIRED);
    const r = normalizeGeneric(makeGenericEvent({ time }), '', ctx);
    expect(r).toEqual({ ok: false, reason: `time: ${REASON}` });
    expect(JSON.stringify(r)).not.toContain(time.slice(0, 10));
  });

  it('a garbage or missing-era time keeps its reason', () => {
    const r = normalizeGeneric(makeGenericEvent({ time: '1999-01-01T00:00:00Z' }), '', ctx);
    expect(r).toEqual({
      ok: false,
      reason: 'time: not an ISO-8601 time or epoch number within 2000 … now+24h',
    });
  });

  it('without a bound the same event is taken', () => {
    const r = normalizeGeneric(makeGenericEvent({ time: iso(EXPIRED) }), '', { tokenizer, now: NOW });
    expect(r.ok).toBe(true);
  });

  it('a batch keeps its fresh events and counts the expired ones', () => {
    const body = [EXPIRED, FRESH, EXPIRED].map((t) => JSON.stringify(makeGenericEvent({ time: iso(t) })));
    const batch = parseGenericBody(
      Buffer.from(body.join('\n')),
      'application/x-ndjson',
      { tokenizer, retentionDays: RETENTION_DAYS },
      NOW,
    );
    expect(batch.events.map((e) => e.time)).toEqual([FRESH]);
    expect(batch.rejected).toEqual([
      { line: 1, reason: `time: ${REASON}` },
      { line: 3, reason: `time: ${REASON}` },
    ]);
    expect(batch.expiredCount).toBe(2);
  });
});

describe('OTLP spans', () => {
  const span = (startMs: number): OtlpSpan => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'qdrant.search',
    kind: 3,
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    endTimeUnixNano: BigInt(startMs + 5) * 1_000_000n,
    attributes: new Map([
      ['db.system.name', 'qdrant'],
      ['db.operation.name', 'search'],
    ]),
    statusCode: 0,
    statusMessage: '',
    scope: '',
  });
  const resource = new Map([['service.name', 'rag-api']]);
  const ctx = { tokenizer, now: NOW, retentionDays: RETENTION_DAYS };

  it('a span that started before the retention is rejected, naming start_time_unix_nano', () => {
    expect(mapSpan(span(EXPIRED), resource, ctx)).toEqual({
      kind: 'rejected',
      reason: `start_time_unix_nano: ${REASON}`,
    });
    expect(mapSpan(span(FRESH), resource, ctx).kind).toBe('event');
  });
});

describe('Teleport and hoop.dev sessions', () => {
  it('Teleport: time past the retention is rejected', () => {
    const ctx = { tokenizer, tenant: 'acme', now: NOW, retentionDays: RETENTION_DAYS };
    expect(normalizeTeleport(makeTeleportStart({ time: iso(EXPIRED) }), ctx)).toEqual({
      kind: 'rejected',
      reason: `time: ${REASON}`,
    });
    expect(normalizeTeleport(makeTeleportStart({ time: iso(FRESH) }), ctx).kind).toBe('event');
  });

  it('hoop.dev API session: start_date past the retention is rejected', () => {
    const ctx = { tokenizer, tenant: 'acme', now: NOW, retentionDays: RETENTION_DAYS };
    expect(normalizeHoopApiSession(makeHoopApiSession({ start_date: iso(EXPIRED) }), ctx)).toEqual({
      ok: false,
      reason: `start_date: ${REASON}`,
    });
    expect(normalizeHoopApiSession(makeHoopApiSession({ start_date: iso(FRESH) }), ctx).ok).toBe(true);
  });
});
