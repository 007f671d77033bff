// Retry delays for responder actions: exponential with full jitter, capped. Pure.

/** @param attempt 1-based attempt that just failed */
export function actionBackoffMs(attempt: number, baseMs = 500, capMs = 60_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
