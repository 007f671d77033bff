import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../../src/detect/state/checkpoint.js';

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

  it('round-trips any JSON value unchanged (-0 included, which JSON.stringify writes as 0)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(decodeState(encodeState(v))).toEqual(v);
      }),
    );
  });

  it('decodes a checkpoint written before the i8, i16, u8c, num, obj and nobj tags as it always did', () => {
    // Text as the codec wrote it until those tags were added: the rows detector_state holds.
    const text =
      '{"f32":{"$t":"f32","v":"AADAPwAAAAAAAFBA"},"f64":{"$t":"f64","v":"AAAAAAAA+D8="},' +
      '"u8":{"$t":"u8","v":"AwAB"},"u16":{"$t":"u16","v":"BwA="},"u32":{"$t":"u32","v":"AQAAAA=="},' +
      '"i32":{"$t":"i32","v":"/////w=="},"map":{"$t":"map","v":[["docs",4],[{"$t":"undef","v":null},[1]]]},' +
      '"set":{"$t":"set","v":["net_k1_a",{"$t":"set","v":[]}]},"last":{"$t":"undef","v":null},' +
      '"nan":null,"zero":0,"odd":{"$t":"zz","v":1},"three":{"$t":"u8","v":"","w":1},' +
      '"list":[1,{"$t":"undef","v":null},null],"__proto__":{"x":2}}';
    const expected = {
      f32: new Float32Array([1.5, 0, 3.25]),
      f64: new Float64Array([1.5]),
      u8: new Uint8Array([3, 0, 1]),
      u16: new Uint16Array([7]),
      u32: new Uint32Array([1]),
      i32: new Int32Array([-1]),
      map: new Map<unknown, unknown>([
        ['docs', 4],
        [undefined, [1]],
      ]),
      set: new Set<unknown>(['net_k1_a', new Set()]),
      last: undefined,
      nan: null,
      zero: 0,
      odd: { $t: 'zz', v: 1 },
      three: { $t: 'u8', v: '', w: 1 },
      list: [1, undefined, null],
    };
    Object.defineProperty(expected, '__proto__', { value: { x: 2 }, enumerable: true, writable: true });
    const back = decodeState(text) as typeof expected;
    expect(back).toStrictEqual(expected);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(Object.keys(expected));
  });

  it('encodes objects as an entries → fromEntries walk would (key order, __proto__ as data, getters once)', () => {
    // The definition the encoder's object loop replaced, for plain values and objects (with the
    // tags for the numbers JSON has no literal for, null-prototype objects and tag look-alikes).
    const reference = (v: unknown): unknown => {
      if (v === undefined) return { $t: 'undef', v: null };
      if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))
        return { $t: 'num', v: Object.is(v, -0) ? '-0' : String(v) };
      if (v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.map(reference);
      const fields = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reference(x)]));
      if (Object.getPrototypeOf(v) === null) return { $t: 'nobj', v: fields };
      const keys = Object.keys(fields);
      const looksTagged = keys.length === 2 && typeof fields.$t === 'string' && keys.includes('v');
      return looksTagged ? { $t: 'obj', v: fields } : fields;
    };
    const withProto = JSON.parse('{"a":1,"__proto__":{"x":2},"7":3}') as unknown;
    const lookalike = { v: [1], $t: 'u8' };
    for (const v of [
      withProto,
      lookalike,
      { z: 1, 2: 'two', a: [undefined, { __proto__: null, q: 1 }, -0, NaN] },
    ])
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
