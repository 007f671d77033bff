// The generic collector's fast path (isPlainGenericEvent) may only accept what the zod schema
// accepts, and only values zod returns unchanged (apart from the actor_type default): otherwise
// the hot path would store something the documented contract refuses or reshapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { genericEventSchema, isPlainGenericEvent } from '../../../src/collectors/generic/generic.schema.js';

const LIMITS: Record<string, number> = {
  id: 256,
  tenant: 128,
  user: 512,
  actor: 512,
  credential: 512,
  session: 512,
  src_ip: 64,
  client: 256,
  system: 64,
  operation: 128,
  collection: 256,
  namespace: 256,
  error_type: 128,
  query: 65_536,
  trace_id: 64,
  span_id: 32,
};

/** Strings at, around and over a limit; some empty, some with characters a tenant may not hold. */
const textNear = (max: number) =>
  fc.oneof(
    fc.constantFrom(0, 1, max - 1, max, max + 1).map((n) => 'a'.repeat(Math.max(0, n))),
    fc.string({ maxLength: 8 }),
    fc.constantFrom('t-1', 'bad tenant', 'ünï', 'a\uD800b'),
  );

const numberish = fc.oneof(
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.constantFrom(
    0,
    -0,
    0.5,
    -1,
    86_400_000,
    86_400_001,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    1e300,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const anyValue = fc.oneof(
  numberish,
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 4 }),
  fc.constant([]),
);

const attributes = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.constant('k'.repeat(129))),
    fc.oneof(fc.string({ maxLength: 6 }), numberish, fc.boolean(), fc.constant(null)),
  ),
  fc.constant(JSON.parse('{"__proto__": "x"}')),
  fc.constant([]),
  fc.constant(null),
);

/** Mostly a valid value (so the fast path is exercised), sometimes one at or over a limit, or junk. */
const field = <T>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: valid, weight: 30 },
    { arbitrary: edge, weight: 1 },
    { arbitrary: anyValue, weight: 1 },
  );
const text = (max: number, min = 0) =>
  field(fc.string({ minLength: min, maxLength: Math.min(max, 12) }), textNear(max));
const count = field(fc.nat(), numberish);

const event = fc
  .record(
    {
      ...Object.fromEntries(
        Object.entries(LIMITS).map(([k, max]) => [
          k,
          text(max, ['system', 'operation', 'user', 'actor'].includes(k) ? 1 : 0),
        ]),
      ),
      tenant: field(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/), textNear(128)),
      time: field(
        fc.oneof(fc.integer({ min: 0 }), fc.string({ maxLength: 30 })),
        fc.oneof(textNear(64), numberish, fc.constant(null)),
      ),
      actor_type: field(fc.constantFrom('user', 'service', 'agent', 'unknown'), fc.constantFrom('robot', 1)),
      outcome: field(fc.constantFrom('allowed', 'denied', 'error'), fc.constant('ok')),
      top_k: count,
      returned: count,
      vectors_returned: count,
      bytes_out: count,
      status_code: field(fc.integer({ min: -1_000_000, max: 1_000_000 }), numberish),
      latency_ms: field(fc.double({ min: 0, max: 86_400_000, noNaN: true }), numberish),
      masked: field(fc.boolean(), anyValue),
      review: field(fc.boolean(), anyValue),
      blocked: field(fc.boolean(), anyValue),
      attributes: field(
        fc.dictionary(
          fc.string({ maxLength: 6 }),
          fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()),
        ),
        attributes,
      ),
      extra: fc.string(),
    },
    { requiredKeys: [] },
  )
  .map((e) => {
    // Unknown keys and a missing identity are rare, required fields usually present.
    const out: Record<string, unknown> = {
      time: 1,
      tenant: 't',
      system: 's',
      operation: 'o',
      user: 'u',
      ...e,
    };
    if (Math.abs(JSON.stringify(e).length % 7) !== 0) delete out.extra;
    return out;
  });

let accepted = 0;
function agrees(v: unknown): void {
  if (!isPlainGenericEvent(v)) return;
  accepted++;
  const parsed = genericEventSchema.safeParse(v);
  expect(parsed.success, JSON.stringify(v).slice(0, 300)).toBe(true);
  const x = v as Record<string, unknown>;
  expect(parsed.data).toEqual({ ...x, actor_type: x.actor_type ?? 'user' });
}

describe('isPlainGenericEvent (the generic collector fast path)', () => {
  it('accepts only what zod accepts, unchanged', () => {
    fc.assert(fc.property(event, agrees), { numRuns: 5_000 });
    // The property means something only if the fast path took a fair share of the values.
    expect(accepted, `fast path took ${accepted} of 5000`).toBeGreaterThan(400);
  });

  it('accepts the common valid event, and its variants at the limits', () => {
    const base = {
      time: 1_760_000_000_000,
      tenant: 't-1',
      user: 'alice',
      system: 'qdrant',
      operation: 'search',
    };
    for (const v of [
      base,
      {
        ...base,
        time: '2026-01-01T00:00:00Z',
        actor: 'svc',
        actor_type: 'service',
        top_k: 0,
        returned: Number.MAX_SAFE_INTEGER,
      },
      {
        ...base,
        tenant: 'x'.repeat(128),
        system: 's'.repeat(64),
        operation: 'o'.repeat(128),
        span_id: 's'.repeat(32),
      },
      {
        ...base,
        status_code: -1_000_000,
        latency_ms: 86_400_000,
        masked: true,
        attributes: { team: 'a', n: 1, b: false },
      },
    ]) {
      expect(isPlainGenericEvent(v)).toBe(true);
      agrees(v);
    }
  });

  it('leaves to zod what zod would refuse or reshape', () => {
    const base = { time: 1, tenant: 't', user: 'u', system: 's', operation: 'o' };
    for (const v of [
      { ...base, user: undefined },
      { ...base, tenant: 'a b' },
      { ...base, tenant: 'x'.repeat(129) },
      { ...base, top_k: -1 },
      { ...base, top_k: 1.5 },
      { ...base, status_code: 1_000_001 },
      { ...base, latency_ms: -0.1 },
      { ...base, credential: null },
      { ...base, extra: 1 },
      { ...base, attributes: { k: null } },
      { ...base, attributes: JSON.parse('{"__proto__": "x"}') },
      JSON.parse('{"time":1,"tenant":"t","user":"u","system":"s","operation":"o","__proto__":{}}'),
      [base],
    ])
      expect(isPlainGenericEvent(v), JSON.stringify(v)).toBe(false);
  });
});
