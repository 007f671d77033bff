// The detector contract. A detector is pure: it keeps per-entity state that the runtime owns,
// looks at one event at a time (in event-time order per entity) and returns findings.
import type { AccessEvent, Finding } from '../model/index.js';

export interface Detector<S> {
  readonly name: string;
  /** The entity whose state an event updates (e.g. tenant + actor). */
  entityKey(event: AccessEvent): string;
  initState(event: AccessEvent): S;
  /** Updates the state with the event; returns findings (usually none). */
  observe(state: S, event: AccessEvent, now: number): Finding[];
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds detectors of different state types
export type AnyDetector = Detector<any>;
