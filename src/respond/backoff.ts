// Retry delays for responder actions (both queues): 500 ms doubling to 60 s, jittered. The
// numbering and the formula are the shared ones (src/model/backoff.ts).
import { type Backoff, backoffDelayMs } from '../model/index.js';

export const ACTION_BACKOFF: Backoff = { baseMs: 500, capMs: 60_000, jitter: 'equal' };

/** @param attempt 1-based attempt that just failed (1 = the first retry is next) */
export function actionBackoffMs(
  attempt: number,
  baseMs = ACTION_BACKOFF.baseMs,
  capMs = ACTION_BACKOFF.capMs,
  random = Math.random,
): number {
  return backoffDelayMs(attempt, { ...ACTION_BACKOFF, baseMs, capMs }, random);
}
