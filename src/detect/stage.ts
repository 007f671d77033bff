// The detect stage: events topic in (group "detect"), findings topic out. A batch's offsets are
// committed only after its findings were published, so a crash re-runs the batch; finding ids are
// deterministic, so a re-run yields the same findings and the store folds them.
import { type Bus, decodeJson, encodeJson, partitionKey, type Subscription, TOPICS } from '../bus/index.js';
import type { AccessEvent, Finding } from '../model/index.js';
import type { Metrics } from '../telemetry/index.js';
import type { DetectorRuntime } from './runtime.js';

export interface DetectStageDeps {
  readonly bus: Bus;
  readonly runtime: DetectorRuntime;
  readonly metrics: Metrics;
  readonly onFindings?: (findings: Finding[]) => void;
}

export async function startDetectStage(deps: DetectStageDeps): Promise<Subscription> {
  return deps.bus.subscribe({
    topic: TOPICS.events,
    group: 'detect',
    maxBatch: 5_000,
    handler: async (messages) => {
      const events = messages.map((m) => decodeJson<AccessEvent>(m));
      const findings = deps.runtime.process(events);
      deps.metrics.inc('detect_events', events.length);
      if (findings.length === 0) return;
      deps.metrics.inc('detect_findings', findings.length);
      await deps.bus.publish(
        TOPICS.findings,
        findings.map((f) => ({ key: partitionKey(f.tenant, f.actor), value: encodeJson(f) })),
      );
      deps.onFindings?.(findings);
    },
  });
}
