// copyAccessEvent is the in-process bus's snapshot of every published event: it must give exactly
// what a JSON round trip gives, for real events (fast path) and for anything else (fallback).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson, jsonMessage, sharedJsonMessage } from '../../../src/bus/index.js';
import { ACCESS_EVENT_KEYS, copyAccessEvent } from '../../../src/bus/access-event-copy.js';
import { blankEvent } from '../../../src/collectors/normalize.js';
import { accessEventSchema } from '../../../src/model/index.js';
import { makeEvent } from '../../helpers/factories.js';

const roundTrip = (v: unknown) => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
};

/** Same value, same key order, and never the same objects as the input; where JSON.stringify
 * throws (a Date as `__proto__` makes an inherited toJSON that refuses its receiver), the copy
 * throws the same kind of error. */
function same(v: unknown): void {
  let expected: unknown;
  try {
    expected = roundTrip(v);
  } catch (jsonError) {
    expect(() => copyAccessEvent(v)).toThrow((jsonError as Error).constructor as typeof Error);
    return;
  }
  const actual = copyAccessEvent(v);
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  if (typeof v === 'object' && v !== null) {
    expect(actual).not.toBe(v);
    const attrs = Object.hasOwn(v, 'attributes') ? (v as { attributes?: unknown }).attributes : undefined;
    if (typeof attrs === 'object' && attrs !== null)
      expect((actual as { attributes?: unknown }).attributes).not.toBe(attrs);
  }
}

const number = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, 2 ** 53),
  fc.integer(),
);
/** Mostly what a field of its type holds, sometimes anything (undefined, objects, toJSON, …). */
const oddValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  number,
  fc.string(),
  fc.boolean(),
  fc.constant({ toJSON: () => 'x' }),
  fc.date(),
  fc.anything({ withBigInt: false, withBoxedValues: true }),
);
const attributes = fc.oneof(
  fc.dictionary(fc.string(), fc.string()),
  fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', '0', '7', 'toJSON')), oddValue),
  fc.constant(Object.create({ inherited: 'x' })),
  oddValue,
);

/** A real event (as blankEvent lays it out), then some fields changed, added, deleted or moved. */
const event = fc
  .record({
    base: fc.constantFrom('blank', 'factory'),
    strings: fc.array(fc.tuple(fc.constantFrom(...ACCESS_EVENT_KEYS), fc.string()), { maxLength: 5 }),
    numbers: fc.array(fc.tuple(fc.constantFrom(...ACCESS_EVENT_KEYS), number), { maxLength: 3 }),
    odd: fc.array(fc.tuple(fc.constantFrom(...ACCESS_EVENT_KEYS), oddValue), { maxLength: 2 }),
    attributes,
    extra: fc.option(fc.tuple(fc.string(), oddValue), { freq: 5 }),
    drop: fc.option(fc.constantFrom(...ACCESS_EVENT_KEYS), { freq: 8 }),
    moveToEnd: fc.option(fc.constantFrom(...ACCESS_EVENT_KEYS), { freq: 8 }),
    symbol: fc.boolean(),
  })
  .map((g) => {
    const e: Record<string | symbol, unknown> =
      g.base === 'blank' ? blankEvent(1_700_000_000_000) : makeEvent();
    for (const [k, v] of g.strings) if (typeof e[k] === 'string') e[k] = v;
    for (const [k, v] of g.numbers) if (typeof e[k] === 'number') e[k] = v;
    for (const [k, v] of g.odd) e[k] = v;
    e.attributes = g.attributes;
    if (g.extra) e[g.extra[0]] = g.extra[1];
    if (g.drop) delete e[g.drop];
    if (g.moveToEnd && g.moveToEnd in e) {
      const v = e[g.moveToEnd];
      delete e[g.moveToEnd];
      e[g.moveToEnd] = v;
    }
    if (g.symbol) e[Symbol('s')] = 'not in JSON';
    return e;
  });

describe('copyAccessEvent', () => {
  it('lists the keys in the schema order, which blankEvent creates', () => {
    expect([...ACCESS_EVENT_KEYS]).toEqual(Object.keys(accessEventSchema.shape));
    expect([...ACCESS_EVENT_KEYS]).toEqual(Object.keys(blankEvent(0)));
  });

  it('equals a JSON round trip for events as the collectors make them', () => {
    fc.assert(
      fc.property(
        fc.record({
          strings: fc.array(fc.tuple(fc.constantFrom(...ACCESS_EVENT_KEYS), fc.string())),
          numbers: fc.array(fc.tuple(fc.constantFrom(...ACCESS_EVENT_KEYS), number)),
          attributes: fc.dictionary(fc.string(), fc.string()),
        }),
        (g) => {
          const e: Record<string, unknown> = blankEvent(1_700_000_000_000);
          for (const [k, v] of g.strings) if (typeof e[k] === 'string') e[k] = v;
          for (const [k, v] of g.numbers) if (typeof e[k] === 'number') e[k] = v;
          Object.assign(e.attributes as object, g.attributes);
          same(e);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('equals a JSON round trip for changed, undefined, missing, extra and reordered fields', () => {
    fc.assert(fc.property(event, same), { numRuns: 3_000 });
  });

  it('equals a JSON round trip for values that are no event at all', () => {
    fc.assert(fc.property(fc.anything({ withBigInt: false, withBoxedValues: true, withDate: true }), same), {
      numRuns: 1_000,
    });
    for (const v of [undefined, null, 0, -0, 'x', [], [blankEvent(0)], Object.create(blankEvent(0))]) same(v);
  });

  it('follows JSON at the edges: -0, NaN, undefined, toJSON, __proto__, inherited keys, classes', () => {
    const e = blankEvent(0);
    same({ ...e, latency_ms: -0, time: Number.NaN, top_k: Number.POSITIVE_INFINITY });
    same({ ...e, credential: undefined });
    same({ ...e, session: { toJSON: () => 'tok' } });
    same({ ...e, attributes: JSON.parse('{"__proto__":"x","a":"b"}') });
    same({ ...e, attributes: { b: '1', 2: '2', a: '3', 1: '4' } });
    same({ ...e, attributes: { a: 1 } });
    class Event {
      constructor() {
        Object.assign(this, blankEvent(0));
      }
    }
    same(new Event());
    const proto = Object.prototype as Record<string, unknown>;
    proto.attributes = { polluted: 'yes' };
    try {
      const { attributes: _, ...withoutAttributes } = e;
      same(withoutAttributes);
      same(e);
    } finally {
      delete proto.attributes;
    }
  });

  it('throws where JSON.stringify throws', () => {
    const cyclic: Record<string, unknown> = blankEvent(0);
    cyclic.attributes = cyclic;
    expect(() => copyAccessEvent(cyclic)).toThrow(TypeError);
    expect(() => copyAccessEvent({ ...blankEvent(0), top_k: 1n })).toThrow(TypeError);
    // A Date as prototype: the inherited Date.prototype.toJSON refuses a receiver that is no Date.
    const dateProto = Object.create(new Date(0)) as object;
    expect(() => JSON.stringify(dateProto)).toThrow(TypeError);
    expect(() => copyAccessEvent(dateProto)).toThrow(TypeError);
    expect(() => copyAccessEvent({ ...blankEvent(0), attributes: dateProto })).toThrow(TypeError);
  });

  it('is what the bus hands consumers when passed to jsonMessage', () => {
    const e = makeEvent({ attributes: { 'server.address': 'db' } });
    const m = jsonMessage('k', e, copyAccessEvent);
    e.attributes['server.address'] = 'changed';
    const a = decodeJson<typeof e>(m);
    const b = decodeJson<typeof e>(m);
    expect(a.attributes).toEqual({ 'server.address': 'db' });
    expect(a).toStrictEqual(b);
    expect(a).not.toBe(b);
    expect(a.attributes).not.toBe(b.attributes);
    expect(JSON.parse(m.value.toString())).toStrictEqual(a);
  });

  it('through sharedJsonMessage: one read-only snapshot for every consumer, equal to the JSON round trip', () => {
    const e = makeEvent({ attributes: { 'server.address': 'db' } });
    const m = sharedJsonMessage('k', e, copyAccessEvent);
    e.attributes['server.address'] = 'changed';
    e.tenant = 'changed';
    const a = decodeJson<typeof e>(m);
    const b = decodeJson<typeof e>(m);
    expect(a).toBe(b);
    expect(a).toStrictEqual(
      JSON.parse(JSON.stringify({ ...e, tenant: 't-test', attributes: { 'server.address': 'db' } })),
    );
    expect(JSON.parse(m.value.toString())).toStrictEqual(a);
    // A consumer cannot change what the others read, at any depth.
    expect(() => {
      a.tenant = 'x';
    }).toThrow(TypeError);
    expect(() => {
      a.attributes['server.address'] = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (a.attributes as Record<string, string>).added = 'x';
    }).toThrow(TypeError);
    expect(decodeJson<typeof e>(m).attributes).toEqual({ 'server.address': 'db' });
  });
});
