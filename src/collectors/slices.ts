// Work that gives the event loop back. A collector parses a request body synchronously; a body of
// 50,000 items would hold the loop for as long as that takes, and every other request (the admin
// /healthz included) would wait. So a long parse is written as a generator that yields wherever it
// may pause (between items); `runSliced` runs it in slices of a few milliseconds with a
// setImmediate between them (I/O and timers run there), `runToEnd` runs it straight through where
// no loop is shared (a Kafka message decoder, the CLI). One computation, two drivers: the answer
// is the same whichever runs it.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A computation that may pause at each `yield` (yields carry nothing) and returns a T. */
export type Steps<T> = Generator<void, T, undefined>;

/**
 * Longest stretch of parsing between two turns of the event loop. Short enough that a /healthz
 * waiting behind a hostile body answers within tens of milliseconds, long enough that the turns
 * cost nothing measurable (a turn is a few microseconds).
 */
export const SLICE_MS = 10;

export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export async function runSliced<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let deadline = performance.now() + sliceMs;
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() >= deadline) {
      await nextTurn();
      deadline = performance.now() + sliceMs;
    }
  }
}
