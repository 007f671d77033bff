// The detector runtime: owns every detector's per-entity state and feeds events through them.
// Events of one identity arrive in order (one partition per identity); within a batch they are
// processed in event-time order so a replayed file behaves like live traffic.
import { type AccessEvent, type Finding, PREVIOUS_TOKEN_ATTRIBUTES as PREVIOUS } from '../model/index.js';
import type { AnyDetector, WindowCounts } from './detector.js';

/** The event as it looked under the previous key, when the edge said so; else undefined. */
function underPreviousKey(e: AccessEvent): AccessEvent | undefined {
  const prev = { ...e };
  let changed = false;
  for (const [field, attribute] of Object.entries(PREVIOUS) as Array<[keyof typeof PREVIOUS, string]>) {
    const old = e.attributes[attribute];
    if (old) {
      prev[field] = old;
      changed = true;
    }
  }
  return changed ? prev : undefined;
}

/**
 * Moves an entity's state from its old-token key to its new one. Token-valued fields kept inside
 * the state (actor, credential, entity) are renamed too, so findings speak of the new token.
 */
function carryOver(state: unknown, from: AccessEvent, to: AccessEvent): void {
  if (!state || typeof state !== 'object') return;
  const s = state as Record<string, unknown>;
  for (const field of ['actor', 'credential', 'src_net'] as const) {
    if (s[field] === from[field]) s[field] = to[field];
    if (s.entity === from[field]) s.entity = to[field];
  }
}

export interface StateEntry {
  readonly detector: string;
  readonly key: string;
  readonly state: unknown;
}

export interface DetectorRuntime {
  process(events: AccessEvent[], now?: number): Finding[];
  /** Entities with state, per detector. */
  entities(): Record<string, number>;
  /** States changed since the last call (for checkpoints); clears the dirty marks. */
  takeDirty(): StateEntry[];
  /** Puts checkpointed states back (restart, rebalance). */
  restore(entries: StateEntry[]): void;
  /** Read access to one entity's state (tests, benchmarks). */
  stateOf(detector: string, key: string): unknown;
  /**
   * Identities in these events that a bootstrapping detector has no state for, with the start of
   * their first hour in the batch (history is read up to there, so the batch is not counted twice).
   */
  unknownIdentities(events: AccessEvent[]): Array<{ tenant: string; actor: string; before: number }>;
  /** Creates the identity's state in every bootstrapping detector from its stored history. */
  bootstrap(first: AccessEvent, history: WindowCounts, before: number): void;
}

export function createDetectorRuntime(detectors: AnyDetector[]): DetectorRuntime {
  const states = new Map<string, Map<string, unknown>>(detectors.map((d) => [d.name, new Map()]));
  const dirty = new Map<string, Set<string>>(detectors.map((d) => [d.name, new Set()]));
  const bootstrapping = detectors.filter((d) => d.bootstrap);
  // Each detector's maps, looked up once rather than by name for every event.
  const slots = detectors.map((d) => ({ d, perEntity: states.get(d.name)!, marks: dirty.get(d.name)! }));
  return {
    process(events, now = Date.now()) {
      const ordered = [...events].sort((a, b) => a.time - b.time);
      const findings: Finding[] = [];
      for (const event of ordered) {
        for (const { d, perEntity, marks } of slots) {
          const key = d.entityKey(event);
          let state = perEntity.get(key);
          if (state === undefined) {
            // First sight of a token: after a key rotation it may be an identity we know under
            // its previous token — its baseline carries over instead of starting cold.
            const before = underPreviousKey(event);
            const oldKey = before && d.entityKey(before);
            state = oldKey !== undefined && oldKey !== key ? perEntity.get(oldKey) : undefined;
            if (state !== undefined) {
              perEntity.delete(oldKey!);
              marks.delete(oldKey!);
              carryOver(state, before!, event);
            } else state = d.initState(event);
            perEntity.set(key, state);
          }
          marks.add(key);
          for (const f of d.observe(state, event, now)) findings.push(f);
        }
      }
      return findings;
    },
    entities() {
      return Object.fromEntries([...states].map(([name, m]) => [name, m.size]));
    },
    takeDirty() {
      const out: StateEntry[] = [];
      for (const [detector, keys] of dirty) {
        const perEntity = states.get(detector)!;
        for (const key of keys) out.push({ detector, key, state: perEntity.get(key) });
        keys.clear();
      }
      return out;
    },
    restore(entries) {
      for (const e of entries) states.get(e.detector)?.set(e.key, e.state);
    },
    stateOf: (detector, key) => states.get(detector)?.get(key),
    unknownIdentities(events) {
      const out = new Map<string, { tenant: string; actor: string; before: number }>();
      for (const e of events) {
        for (const d of bootstrapping) {
          if (states.get(d.name)!.has(d.entityKey(e))) continue;
          const k = `${e.tenant}\u0000${e.actor}`;
          const before = Math.floor(e.time / 3_600_000) * 3_600_000;
          const seen = out.get(k);
          if (!seen || before < seen.before) out.set(k, { tenant: e.tenant, actor: e.actor, before });
        }
      }
      return [...out.values()];
    },
    bootstrap(first, history, before) {
      for (const d of bootstrapping) {
        const key = d.entityKey(first);
        const perEntity = states.get(d.name)!;
        if (perEntity.has(key)) continue;
        const state = d.initState(first);
        d.bootstrap!(state, history, before);
        perEntity.set(key, state);
        dirty.get(d.name)!.add(key);
      }
    },
  };
}
