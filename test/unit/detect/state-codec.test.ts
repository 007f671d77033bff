import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../src/detect/state-codec.js';

describe('detector state codec', () => {
  it('round-trips typed arrays, maps, sets and undefined fields', () => {
    const state = {
      actor: 'usr_k1_x',
      history: new Float32Array([1.5, 0, 3.25]),
      filled: new Uint8Array([3, 0, 1]),
      counts: new Map<string, number>([
        ['docs', 4],
        ['pii', 1],
      ]),
      nets: new Set(['net_k1_a']),
      last: undefined as string | undefined,
      nested: { at: [1, 2, { deep: new Uint16Array([7]) }] },
    };
    const back = decodeState(encodeState(state)) as typeof state;
    expect(back.history).toBeInstanceOf(Float32Array);
    expect([...back.history]).toEqual([1.5, 0, 3.25]);
    expect([...back.filled]).toEqual([3, 0, 1]);
    expect(back.counts.get('docs')).toBe(4);
    expect(back.nets.has('net_k1_a')).toBe(true);
    expect('last' in back && back.last === undefined).toBe(true);
    expect((back.nested.at[2] as { deep: Uint16Array }).deep[0]).toBe(7);
  });

  it('round-trips any JSON value unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(decodeState(encodeState(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('encodes objects as an entries → fromEntries walk would (key order, __proto__ as data, getters once)', () => {
    // The definition the encoder's object loop replaced, for plain values and objects.
    const reference = (v: unknown): unknown => {
      if (v === undefined) return { $t: 'undef', v: null };
      if (v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.map(reference);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reference(x)]));
    };
    const withProto = JSON.parse('{"a":1,"__proto__":{"x":2},"7":3}') as unknown;
    for (const v of [withProto, { z: 1, 2: 'two', a: [undefined, { __proto__: null, q: 1 }] }])
      expect(encodeState(v)).toBe(JSON.stringify(reference(v)));
    let reads = 0;
    const getter = Object.defineProperty({ b: 1 }, 'g', { get: () => ++reads, enumerable: true });
    expect(encodeState(getter)).toBe('{"b":1,"g":1}');
    expect(reads).toBe(1);
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (v) => {
        expect(encodeState(v)).toBe(JSON.stringify(reference(v)));
      }),
    );
  });
});
