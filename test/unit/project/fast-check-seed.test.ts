import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXED_FAST_CHECK_SEED, fastCheckSeed } from '../../fast-check-seed.js';

describe('the property tests seed', () => {
  it('is fixed unless a run asks for another or for a random one', () => {
    expect(fastCheckSeed(undefined)).toBe(FIXED_FAST_CHECK_SEED);
    expect(fastCheckSeed('')).toBe(FIXED_FAST_CHECK_SEED);
    expect(fastCheckSeed('42')).toBe(42);
    expect(fastCheckSeed('-7')).toBe(-7);
    expect(fastCheckSeed('random')).toBeUndefined();
  });

  it('refuses a value it does not understand, naming the variable', () => {
    for (const bad of ['1.5', 'abc', '0x10', ' 3', '99999999999999999999'])
      expect(() => fastCheckSeed(bad)).toThrow(/VIGIL_FC_SEED/);
  });

  it('is what fast-check uses in this run', () => {
    const expected = fastCheckSeed(process.env.VIGIL_FC_SEED);
    expect(fc.readConfigureGlobal().seed).toBe(expected);
  });
});
