import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../src/detect/state-codec.js';

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
});
