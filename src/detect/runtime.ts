// The detector runtime: owns every detector's per-entity state and feeds events through them.
// Events of one identity arrive in order (one partition per identity); within a batch they are
// processed in event-time order so a replayed file behaves like live traffic.
import type { AccessEvent, Finding } from '../model/index.js';
import type { AnyDetector } from './detector.js';

export interface DetectorRuntime {
  process(events: AccessEvent[], now?: number): Finding[];
  /** Entities with state, per detector. */
  entities(): Record<string, number>;
}

export function createDetectorRuntime(detectors: AnyDetector[]): DetectorRuntime {
  const states = new Map<string, Map<string, unknown>>(detectors.map((d) => [d.name, new Map()]));
  return {
    process(events, now = Date.now()) {
      const ordered = [...events].sort((a, b) => a.time - b.time);
      const findings: Finding[] = [];
      for (const event of ordered) {
        for (const d of detectors) {
          const perEntity = states.get(d.name)!;
          const key = d.entityKey(event);
          let state = perEntity.get(key);
          if (state === undefined) {
            state = d.initState(event);
            perEntity.set(key, state);
          }
          for (const f of d.observe(state, event, now)) findings.push(f);
        }
      }
      return findings;
    },
    entities() {
      return Object.fromEntries([...states].map(([name, m]) => [name, m.size]));
    },
  };
}
