// Backtesting: run detectors over history (stored or given) on a fresh runtime and report what
// they would have found. Nothing is published, stored or acted on.
import type { AccessEvent, Finding } from '../model/index.js';
import type { AnyDetector } from './detector.js';
import { createDetectorRuntime, type DetectorRuntimeOptions } from './runtime.js';

export interface BacktestReport {
  readonly events: number;
  /** One per finding id: the last version (re-issued findings carry the final numbers). */
  readonly findings: Finding[];
  readonly byDetector: Record<string, number>;
}

export async function backtest(
  detectors: AnyDetector[],
  batches: AsyncIterable<AccessEvent[]> | Iterable<AccessEvent[]>,
  /** As the detect stage runs it (the pipeline's `detection.max_hot_entities` bounds memory). */
  options: DetectorRuntimeOptions = {},
): Promise<BacktestReport> {
  const runtime = createDetectorRuntime(detectors, options);
  const found = new Map<string, Finding>();
  let events = 0;
  for await (const batch of batches) {
    events += batch.length;
    // Event time drives the detectors; the wall clock is only stamped on findings.
    for (const f of runtime.process(batch)) found.set(f.finding_id, f);
  }
  const findings = [...found.values()].sort((a, b) => a.event_time - b.event_time);
  const byDetector: Record<string, number> = {};
  for (const f of findings) byDetector[f.detector] = (byDetector[f.detector] ?? 0) + 1;
  return { events, findings, byDetector };
}
