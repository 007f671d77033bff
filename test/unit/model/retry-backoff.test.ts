// The shared retry backoff (attempt 1 = the first retry) and every caller's delays: base, cap,
// jitter and the sequence each retry loop waits, pinned to what the loops waited before they
// shared the module (the formulas each wrote out, kept here as the reference).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REDELIVERY_BACKOFF } from '../../../src/bus/in-process.bus.js';
import { exportBackoff } from '../../../src/export/sink.js';
import { backoffDelayMs } from '../../../src/model/index.js';
import { ACTION_BACKOFF, actionBackoffMs } from '../../../src/respond/backoff.js';
import { CHAIN_APPEND_BACKOFF } from '../../../src/store/audit-chain/append.js';
import { STORE_INSERT_BACKOFF } from '../../../src/store/writer.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const attempts = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const low = () => 0;
const high = () => 0.999_999;
/** Jitter draws whose products are exact in binary, so both formulas round alike. */
const draws = [0, 0.25, 0.5, 0.75, 0.999_999];

describe('backoffDelayMs', () => {
  it('waits the base before the first retry and doubles per retry up to the cap', () => {
    expect(attempts(6).map((a) => backoffDelayMs(a, { baseMs: 100, capMs: 2_000 }))).toEqual([
      100, 200, 400, 800, 1_600, 2_000,
    ]);
  });

  it('takes attempt 0 and below as the first retry', () => {
    expect(backoffDelayMs(0, { baseMs: 100, capMs: 2_000 })).toBe(100);
    expect(backoffDelayMs(-5, { baseMs: 100, capMs: 2_000 })).toBe(100);
  });

  it('stays at the cap however many retries, and at 0 for a zero base', () => {
    expect(backoffDelayMs(1_000_000, { baseMs: 100, capMs: 2_000 })).toBe(2_000);
    expect(backoffDelayMs(1_000_000, { baseMs: 0, capMs: 2_000 })).toBe(0);
  });

  it('jitters between half the ceiling and the ceiling', () => {
    const b = { baseMs: 1_000, capMs: 60_000, jitter: 'equal' } as const;
    expect(backoffDelayMs(3, b, low)).toBe(2_000);
    expect(backoffDelayMs(3, b, () => 0.5)).toBe(3_000);
    expect(backoffDelayMs(3, b, high)).toBe(4_000);
  });

  it('does not jitter unless asked', () => {
    const random = vi.fn(() => 0);
    expect(backoffDelayMs(3, { baseMs: 1_000, capMs: 60_000 }, random)).toBe(4_000);
    expect(random).not.toHaveBeenCalled();
  });

  it('draws from Math.random by default', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffDelayMs(2, { baseMs: 1_000, capMs: 60_000, jitter: 'equal' })).toBe(1_000);
  });
});

describe('each retry loop keeps its delays', () => {
  it('in-process bus redelivery: 100 ms doubling to 5 s, no jitter', () => {
    expect(REDELIVERY_BACKOFF).toEqual({ baseMs: 100, capMs: 5_000 });
    expect(attempts(9).map((a) => backoffDelayMs(a, REDELIVERY_BACKOFF))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
    // It was: `failures` counted from 1 at the first redelivery.
    const was = (failures: number) => Math.min(5_000, 50 * 2 ** Math.min(failures, 7));
    for (const a of attempts(60)) expect(backoffDelayMs(a, REDELIVERY_BACKOFF)).toBe(was(a));
  });

  it('audit chain append: 200 ms doubling to 5 s, no jitter', () => {
    expect(CHAIN_APPEND_BACKOFF).toEqual({ baseMs: 200, capMs: 5_000 });
    expect(attempts(8).map((a) => backoffDelayMs(a, CHAIN_APPEND_BACKOFF))).toEqual([
      200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
    const was = (attempt: number) => Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
    for (const a of attempts(60)) expect(backoffDelayMs(a, CHAIN_APPEND_BACKOFF)).toBe(was(a));
  });

  it('store writer insert: 200 ms doubling to 10 s, jittered down to half', () => {
    expect(STORE_INSERT_BACKOFF).toEqual({ baseMs: 200, capMs: 10_000, jitter: 'equal' });
    expect(attempts(8).map((a) => backoffDelayMs(a, STORE_INSERT_BACKOFF, high))).toEqual([
      200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000,
    ]);
    expect(attempts(8).map((a) => backoffDelayMs(a, STORE_INSERT_BACKOFF, low))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000,
    ]);
    const was = (attempt: number, r: number) => {
      const ceiling = Math.min(10_000, 100 * 2 ** Math.min(attempt, 20));
      return Math.round(ceiling / 2 + r * (ceiling / 2));
    };
    for (const r of draws)
      for (const a of attempts(60)) expect(backoffDelayMs(a, STORE_INSERT_BACKOFF, () => r)).toBe(was(a, r));
  });

  it('responder actions: 500 ms doubling to 60 s, jittered down to half', () => {
    expect(ACTION_BACKOFF).toEqual({ baseMs: 500, capMs: 60_000, jitter: 'equal' });
    expect(attempts(9).map((a) => actionBackoffMs(a, undefined, undefined, high))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
    const was = (attempt: number, base: number, r: number) =>
      Math.round(Math.min(60_000, base * 2 ** Math.max(0, attempt - 1)) * (0.5 + r * 0.5));
    for (const r of draws)
      for (const a of attempts(60)) {
        expect(actionBackoffMs(a, undefined, undefined, () => r)).toBe(was(a, 500, r));
        // A queue's `backoffBaseMs` overrides the base only.
        expect(actionBackoffMs(a, 40, undefined, () => r)).toBe(was(a, 40, r));
      }
  });

  it('export delivery: twice the policy base (400 ms by default) doubling to the cap (30 s), jittered', () => {
    expect(exportBackoff({})).toEqual({ baseMs: 400, capMs: 30_000, jitter: 'equal' });
    expect(exportBackoff({ baseMs: 10, capMs: 50 })).toEqual({ baseMs: 20, capMs: 50, jitter: 'equal' });
    expect(attempts(8).map((a) => backoffDelayMs(a, exportBackoff({}), high))).toEqual([
      400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000,
    ]);
    const was = (attempt: number, base: number, cap: number, r: number) => {
      const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
      return Math.round(ceiling / 2 + r * (ceiling / 2));
    };
    for (const r of draws)
      for (const a of attempts(60)) {
        expect(backoffDelayMs(a, exportBackoff({}), () => r)).toBe(was(a, 200, 30_000, r));
        expect(backoffDelayMs(a, exportBackoff({ baseMs: 1, capMs: 5 }), () => r)).toBe(was(a, 1, 5, r));
      }
  });
});
