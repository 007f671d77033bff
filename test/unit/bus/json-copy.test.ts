// jsonCopy must give exactly what a JSON round trip gives: the in-process bus hands consumers
// such copies instead of parsing bytes, and the Kafka bus still sends the bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BusMessage, decodeJson, encodeJson, jsonMessage } from '../../../src/bus/index.js';
import { jsonCopy } from '../../../src/bus/json-copy.js';
import { makeEvent, makeFinding } from '../../helpers/factories.js';

const roundTrip = (v: unknown) => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : JSON.parse(text);
};

/** Same value and same key order (toEqual ignores order; JSON text does not). */
function same(v: unknown): void {
  const expected = roundTrip(v);
  const actual = jsonCopy(v);
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

describe('jsonCopy', () => {
  it('equals a JSON round trip for generated values', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBoxedValues: true,
          withNullPrototype: false,
          withMap: true,
          withSet: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
          withBigInt: false,
        }),
        same,
      ),
      { numRuns: 2_000 },
    );
    fc.assert(fc.property(fc.jsonValue(), same), { numRuns: 1_000 });
  });

  it('follows JSON at the edges', () => {
    const withToJson = { toJSON: (key: string) => ({ key }) };
    for (const v of [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      [undefined, () => 1, Symbol('s'), Number.NaN],
      { a: undefined, b: () => 1, c: Symbol('s'), d: -0 },
      { nested: withToJson, list: [withToJson] },
      new Date(Date.UTC(2026, 0, 2)),
      { d: new Date(Date.UTC(2026, 0, 2)) },
      JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'),
      { 2: 'b', 1: 'a', z: 1, y: 2 },
      'a\uD800b',
      undefined,
      () => 1,
      new Map([[1, 2]]),
    ])
      same(v);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('throws where JSON.stringify throws', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonCopy(cyclic)).toThrow(TypeError);
    expect(() => jsonCopy({ n: 1n })).toThrow(TypeError);
    // The same object twice (no cycle) is fine, as in JSON.
    const shared = { a: 1 };
    same({ x: shared, y: [shared, shared] });
  });
});

describe('jsonMessage', () => {
  it('carries the bytes encodeJson makes and decodes to what they decode to', () => {
    for (const value of [makeEvent({ attributes: { team: 'a' } }), makeFinding()]) {
      const m = jsonMessage('k', value);
      const plain: BusMessage = { key: 'k', value: encodeJson(value) };
      expect(m.value.equals(plain.value)).toBe(true);
      expect(decodeJson(m)).toStrictEqual(decodeJson(plain));
    }
  });

  it('snapshots at publish: later changes reach no consumer, and consumers do not share objects', () => {
    const e = makeEvent({ attributes: { team: 'a' } });
    const m = jsonMessage('k', e);
    e.attributes.team = 'changed';
    const first = decodeJson<typeof e>(m);
    first.attributes.team = 'mutated by a consumer';
    expect(decodeJson<typeof e>(m).attributes.team).toBe('a');
    expect(JSON.parse(m.value.toString()).attributes.team).toBe('a');
  });

  it('refuses what JSON cannot carry, at once', () => {
    expect(() => jsonMessage('k', { n: 1n })).toThrow(TypeError);
    expect(() => jsonMessage('k', undefined)).toThrow(TypeError);
  });
});
