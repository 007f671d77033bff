// Work sliced for the event loop (slices.ts): run sliced, a long computation lets timers run in
// between and returns what it returns straight through.
import { describe, expect, it } from 'vitest';
import { runSliced, runToEnd, type Steps } from '../../../src/collectors/slices.js';

/** Busy work of `ms` milliseconds per step, `steps` steps; returns the steps done. */
function* busy(steps: number, ms: number): Steps<number> {
  let done = 0;
  for (let i = 0; i < steps; i++) {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // spin
    }
    done++;
    yield;
  }
  return done;
}

describe('sliced work', () => {
  it('returns the same value straight through and sliced', async () => {
    expect(runToEnd(busy(5, 0))).toBe(5);
    expect(await runSliced(busy(5, 0))).toBe(5);
  });

  it('lets a timer run while it works, straight-through work does not', async () => {
    // 40 steps of 2 ms: 80 ms of work, slices of 10 ms.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      runToEnd(busy(40, 2));
      expect(ticks).toBe(0);
      await runSliced(busy(40, 2), 10);
      expect(ticks).toBeGreaterThanOrEqual(4);
    } finally {
      clearInterval(timer);
    }
  });

  it('passes an error thrown by the work to its caller', async () => {
    function* failing(): Steps<never> {
      yield;
      throw new Error('bad body');
    }
    await expect(runSliced(failing())).rejects.toThrow('bad body');
    expect(() => runToEnd(failing())).toThrow('bad body');
  });
});
