// Waiting for the pipeline to finish what it was given (replay, demo, tests): every submitted
// event seen by the detectors, no pending action jobs, nothing left in the writers.
import type { RunningVigil } from './app.js';

export async function waitForDrain(
  app: RunningVigil,
  opts: { detectedAtLeast: number; timeoutMs: number },
): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let quietPolls = 0;
  while (Date.now() < deadline) {
    const detected = app.metrics.counter('detect_events');
    const pending = (await app.queue?.pending()) ?? 0;
    const buffered = app.writers.events.stats.buffered + app.writers.findings.stats.buffered;
    if (detected >= opts.detectedAtLeast && pending === 0 && buffered === 0) {
      // Two quiet polls in a row: findings published at the last moment reach the responder.
      if (++quietPolls >= 3) return true;
    } else quietPolls = 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
