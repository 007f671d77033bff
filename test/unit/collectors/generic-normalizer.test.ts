// Generic gateway event → canonical AccessEvent: every field mapped, identifiers tokenized, and
// rejections that name the field without ever echoing the rejected value.
import { describe, expect, it } from 'vitest';
import { normalizeGeneric } from '../../../src/collectors/generic/generic.normalizer.js';
import { accessEventSchema, type AccessEvent } from '../../../src/model/index.js';
import { createTokenizer, queryHash } from '../../../src/privacy/index.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { testTime } from '../../helpers/clock.js';

/** The test's clock, on the suite's calendar (the factories place events on it). */
const NOW = testTime(0, 12);
const EVENT_TIME = testTime(0, 10);
/** EVENT_TIME as ISO-8601 without milliseconds, with `offset` hours added to the local time. */
const isoAt = (offsetHours: number, zone: string) =>
  `${new Date(EVENT_TIME + offsetHours * 3_600_000).toISOString().slice(0, 19)}${zone}`;
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });
const ctx = { tokenizer, now: NOW };

function accept(
  raw: unknown,
  rawText = JSON.stringify(raw),
  c: Parameters<typeof normalizeGeneric>[2] = ctx,
): AccessEvent {
  const r = normalizeGeneric(raw, rawText, c);
  if (!r.ok) throw new Error(`expected the event to be accepted, got: ${r.reason}`);
  return r.value;
}

function reject(raw: unknown): string {
  const r = normalizeGeneric(raw, JSON.stringify(raw), ctx);
  if (r.ok) throw new Error('expected the event to be rejected');
  return r.reason;
}

describe('normalizeGeneric: a valid event', () => {
  it('maps every field onto the canonical event, tokenizing identifiers', () => {
    const g = makeGenericEvent({
      id: 'evt-1',
      tenant: 'acme',
      user: 'alice@example.com',
      actor_type: 'user',
      credential: 'sk-live-abcdef',
      session: 'sess-42',
      src_ip: '10.1.2.3:5555',
      client: 'my-app/1.2',
      system: 'Qdrant',
      operation: 'query',
      collection: 'hr-docs',
      namespace: 'eu',
      top_k: 20,
      returned: 18,
      vectors_returned: 2,
      bytes_out: 4096,
      status_code: 200,
      error_type: '',
      masked: true,
      review: true,
      blocked: false,
      latency_ms: 12.5,
      query: `SELECT * FROM docs WHERE owner = 'alice'`,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    const e = accept(g);
    expect(accessEventSchema.safeParse(e).success).toBe(true);
    expect(e).toMatchObject({
      time: EVENT_TIME,
      observed_time: NOW,
      tenant: 'acme',
      source: 'generic',
      actor: tokenizer.token('actor', 'acme', 'alice@example.com', 'user'),
      actor_type: 'user',
      credential: tokenizer.token('credential', 'acme', 'sk-live-abcdef'),
      session: tokenizer.token('session', 'acme', 'sess-42'),
      src_ip: tokenizer.token('src_ip', 'acme', '10.1.2.3'),
      src_net: tokenizer.token('src_net', 'acme', '10.1.2.0/24'),
      client: 'my-app/1.2',
      system: 'qdrant',
      operation: 'search',
      operation_raw: 'query',
      collection: 'hr-docs',
      namespace: 'eu',
      top_k: 20,
      returned: 18,
      vectors_returned: 2,
      bytes_out: 4096,
      outcome: 'allowed',
      status_code: 200,
      masked: true,
      review: true,
      blocked: false,
      latency_ms: 12.5,
      query_hash: queryHash(`select * from docs where owner = 'bob'`),
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      attributes: {},
    });
    expect(e.actor.startsWith('usr_k1_')).toBe(true);
    expect(e.credential.startsWith('key_k1_')).toBe(true);
    const serialized = JSON.stringify(e);
    for (const raw of ['alice@example.com', 'sk-live-abcdef', 'sess-42', '10.1.2.3', 'alice']) {
      expect(serialized).not.toContain(raw);
    }
  });

  it('fills neutral defaults for absent optional fields', () => {
    const e = accept({
      time: EVENT_TIME,
      tenant: 't1',
      actor: 'svc-indexer',
      system: 'pgvector',
      operation: 'upsert',
    });
    expect(e).toMatchObject({
      actor_type: 'user',
      credential: '',
      session: '',
      src_ip: '',
      src_net: '',
      collection: '',
      // Not reported by the sender: unknown, not 0.
      top_k: null,
      returned: null,
      vectors_returned: null,
      bytes_out: null,
      outcome: 'allowed',
      status_code: 0,
      query_hash: '',
      operation: 'upsert',
    });
  });

  it('prefers actor over user and prefixes by actor_type', () => {
    const e = accept(
      makeGenericEvent({ user: 'alice@example.com', actor: 'indexer', actor_type: 'service' }),
    );
    expect(e.actor).toBe(tokenizer.token('actor', 't-test', 'indexer', 'service'));
    expect(e.actor.startsWith('svc_k1_')).toBe(true);
  });

  it('keeps an unknown operation as other with operation_raw preserved', () => {
    const e = accept(makeGenericEvent({ operation: 'Frobnicate.Things' }));
    expect(e.operation).toBe('other');
    expect(e.operation_raw).toBe('Frobnicate.Things');
  });

  // A prototype member name as operation must still give a valid canonical event (see the report).
  it('keeps the operation "constructor" as other, so the event stays valid', () => {
    const e = accept(makeGenericEvent({ operation: 'constructor' }));
    expect(e.operation).toBe('other');
    expect(accessEventSchema.safeParse(e).success).toBe(true);
  });

  it.each([
    [403, 'denied'],
    [401, 'denied'],
    [500, 'error'],
    [404, 'error'],
    [204, 'allowed'],
  ] as const)('derives the outcome from status_code %i → %s', (status, outcome) => {
    const e = accept(makeGenericEvent({ status_code: status }));
    expect(e.outcome).toBe(outcome);
    expect(e.status_code).toBe(status);
  });

  it('keeps an explicit outcome over the one a status code implies', () => {
    expect(accept(makeGenericEvent({ status_code: 200, outcome: 'denied' })).outcome).toBe('denied');
  });

  it('keeps only allow-listed attributes, as strings', () => {
    const e = accept(
      makeGenericEvent({ attributes: { region: 'eu', retries: 3, cached: true, secret: 'x' } }),
      undefined,
      {
        ...ctx,
        attributeAllowList: new Set(['region', 'retries', 'cached']),
      },
    );
    expect(e.attributes).toEqual({ region: 'eu', retries: '3', cached: 'true' });
  });

  it('drops every attribute without an allow-list', () => {
    expect(accept(makeGenericEvent({ attributes: { region: 'eu' } })).attributes).toEqual({});
  });
});

describe('normalizeGeneric: event_id', () => {
  it('is the same for the same source id, whatever else the line says', () => {
    const a = accept(makeGenericEvent({ id: 'same', returned: 1 }));
    const b = accept(makeGenericEvent({ id: 'same', returned: 2 }));
    expect(a.event_id).toBe(b.event_id);
    expect(a.event_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('differs for different source ids and for the same id in another tenant', () => {
    const a = accept(makeGenericEvent({ id: 'one' }));
    expect(accept(makeGenericEvent({ id: 'two' })).event_id).not.toBe(a.event_id);
    expect(accept(makeGenericEvent({ id: 'one', tenant: 'other' })).event_id).not.toBe(a.event_id);
  });

  it('hashes the line when the event has no id: same line → same id, other line → other id', () => {
    const { id: _drop, ...g } = makeGenericEvent();
    const line = JSON.stringify(g);
    const a = accept(g, line);
    expect(accept(JSON.parse(line), line).event_id).toBe(a.event_id);
    const other = JSON.stringify({ ...g, returned: 999 });
    expect(accept(JSON.parse(other), other).event_id).not.toBe(a.event_id);
  });
});

describe('normalizeGeneric: time', () => {
  it.each([
    ['ISO-8601 with Z', isoAt(0, 'Z')],
    ['ISO-8601 with an offset', isoAt(1, '+01:00')],
    ['ISO-8601 with milliseconds', new Date(EVENT_TIME).toISOString()],
    ['epoch seconds', EVENT_TIME / 1000],
    ['epoch seconds as a string', String(EVENT_TIME / 1000)],
    ['epoch milliseconds', EVENT_TIME],
  ])('accepts %s', (_what, time) => {
    expect(accept(makeGenericEvent({ time })).time).toBe(EVENT_TIME);
  });

  it.each([
    ['more than 24 h in the future', new Date(NOW + 25 * 3_600_000).toISOString()],
    ['before 2000', '1999-12-31T23:59:59Z'],
    ['epoch seconds before 2000', 946_684_799],
    ['not a time', 'yesterday'],
    ['zero', 0],
    ['negative', -5],
  ])('rejects a time %s', (_what, time) => {
    expect(reject(makeGenericEvent({ time }))).toMatch(/^time: /);
  });

  it('accepts a time within the 24 h of allowed clock skew', () => {
    const t = NOW + 23 * 3_600_000;
    expect(accept(makeGenericEvent({ time: t })).time).toBe(t);
  });
});

describe('normalizeGeneric: rejection reasons', () => {
  it('names a missing required field', () => {
    const { system: _s, ...g } = makeGenericEvent();
    expect(reject(g)).toContain('system: is required');
  });

  it('requires one of user or actor', () => {
    const { user: _u, ...g } = makeGenericEvent();
    expect(reject(g)).toContain('user: one of user or actor is required');
  });

  it('names actor_type without echoing an email given as its value', () => {
    const reason = reject({ ...makeGenericEvent(), actor_type: 'alice@example.com' });
    expect(reason).toMatch(/^actor_type: must be one of user, service, agent, unknown/);
    expect(reason).not.toContain('alice');
    expect(reason).not.toContain('example.com');
  });

  it('names an unknown field without echoing its value (an API key)', () => {
    const reason = reject({ ...makeGenericEvent(), api_key: 'sk-live-9f8e7d6c5b4a' });
    expect(reason).toContain('api_key');
    expect(reason).toContain('unknown field');
    expect(reason).not.toContain('sk-live');
    expect(reason).not.toContain('9f8e7d6c5b4a');
  });

  it('names a tenant with forbidden characters without echoing it', () => {
    const reason = reject(makeGenericEvent({ tenant: 'bob@corp.example' }));
    expect(reason).toMatch(/^tenant: /);
    expect(reason).not.toContain('bob');
  });

  it('names a field of the wrong type without echoing the value', () => {
    const reason = reject({ ...makeGenericEvent(), credential: 123456789 });
    expect(reason).toBe('credential: expected string, got number');
  });

  it('names a negative count', () => {
    expect(reject(makeGenericEvent({ returned: -1 }))).toBe('returned: must be >= 0');
  });

  it('rejects a non-object', () => {
    expect(reject('alice@example.com')).toBe('event: expected object, got string');
    expect(reject(null)).toBe('event: expected object, got null');
  });

  // Attribute keys are caller data, not field names of the schema: a rejected key must not be echoed
  // (here an over-long key carrying a secret). See the report: reasons.ts puts the zod path, which
  // contains the record key, into the reason.
  it('does not echo an over-long attribute key', () => {
    const secretKey = `sk-live-${'9'.repeat(200)}`;
    const reason = reject({ ...makeGenericEvent(), attributes: { [secretKey]: 'v' } });
    expect(reason).toMatch(/^attributes/);
    expect(reason).not.toContain('sk-live');
  });

  it('names the attribute whose value is not a string, number or boolean, without echoing the value', () => {
    const reason = reject({ ...makeGenericEvent(), attributes: { region: { nested: 'alice@example.com' } } });
    expect(reason).toMatch(/^attributes\.region: /);
    expect(reason).not.toContain('alice');
  });
});
