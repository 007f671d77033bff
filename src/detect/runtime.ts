// The detector runtime: owns every detector's per-entity state and feeds events through them.
// Events of one identity arrive in order (one partition per identity); within a batch they are
// processed in event-time order so a replayed file behaves like live traffic.
import { type AccessEvent, type Finding, PREVIOUS_TOKEN_ATTRIBUTES as PREVIOUS } from '../model/index.js';
import { createShapes, packedPresence, packStates, unpackStates } from './cold-state.js';
import type { AnyDetector, IdentityHistory } from './detector.js';

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
  /** Entities whose states are live objects (not packed), over all detector families. */
  hotEntities(): number;
  /** States changed since the last call (for checkpoints); clears the dirty marks. */
  takeDirty(): StateEntry[];
  /**
   * Puts checkpointed states back (restart, rebalance); returns how many were taken (a detector
   * may refuse a state of an older layout it cannot convert).
   */
  restore(entries: StateEntry[]): number;
  /** Read access to one entity's state (tests, benchmarks). */
  stateOf(detector: string, key: string): unknown;
  /**
   * Identities in these events that a bootstrapping detector keyed by the identity has no state
   * for, with the start of their first hour in the batch (history is read up to there, so the
   * batch is not counted twice). States keyed by a credential or network are bootstrapped along
   * with their identity only.
   */
  unknownIdentities(events: AccessEvent[]): Array<{ tenant: string; actor: string; before: number }>;
  /** Creates the identity's state in every bootstrapping detector from its stored history. */
  bootstrap(first: AccessEvent, history: IdentityHistory, before: number): void;
  /** Entity keys in these events that no detector holds state for (each once). */
  unknownKeys(events: AccessEvent[]): string[];
  /**
   * Drops every state (after a rebalance, once they were checkpointed: states this process holds
   * for entities that moved away and may come back would be stale by then).
   */
  forget(): void;
}

/**
 * Detectors whose entity keys agree share one map entry and one copy of the key: most detectors
 * key by tenant + actor, and at 100,000 identities a map entry and its key string per detector
 * cost more than most detectors' state. The families are found once by asking every detector for
 * the key of a probe event whose fields all differ (entity keys are pure functions of fields).
 *
 * A holder (a family's states of one entity) is hot — the state objects, or for a family of
 * several an array of them by slot (undefined: no state yet) — or cold: packed into one string
 * (cold-state.ts) once the entity went a whole checkpoint interval without an event, or when the
 * family holds more hot entities than `maxHotEntities` (the least recently active are packed, so
 * detector memory stays bounded however many identities are active at once). It is unpacked on
 * its next event (or any other access but a checkpoint's read).
 */
interface Family {
  /** Detectors of the family, by index in the runtime's list, and each one's slot in a holder. */
  readonly members: number[];
  /** Key → holder, hot or cold. */
  readonly perEntity: Map<string, unknown>;
  /** Keys whose states changed since the last checkpoint. */
  readonly dirty: Set<string>;
  /**
   * Keys whose holder is hot, in the order they became hot, each with the number of the last
   * `process` call that touched it (0: none yet).
   */
  readonly hot: Map<string, number>;
}

function probeEvent(variant = ''): AccessEvent {
  const field = (p: string | symbol) =>
    p === 'tenant' || p === 'actor' ? `\u0001probe:${String(p)}` : `\u0001probe${variant}:${String(p)}`;
  const attributes = new Proxy({}, { get: (_, p) => field(`attributes.${String(p)}`) });
  return new Proxy({} as AccessEvent, { get: (_, p) => (p === 'attributes' ? attributes : field(p)) });
}

/** Groups detectors by the key they give the probe; a detector that cannot key it stays alone. */
function familiesOf(detectors: AnyDetector[]): { families: Family[]; familyOf: number[]; slotOf: number[] } {
  const probe = probeEvent();
  const byKey = new Map<string, Family>();
  const families: Family[] = [];
  const familyOf: number[] = [];
  const slotOf: number[] = [];
  detectors.forEach((d, i) => {
    let key: string | undefined;
    try {
      key = d.entityKey(probe);
    } catch {
      key = undefined;
    }
    let family = key === undefined ? undefined : byKey.get(key);
    if (!family) {
      family = { members: [], perEntity: new Map(), dirty: new Set(), hot: new Map() };
      families.push(family);
      if (key !== undefined) byKey.set(key, family);
    }
    familyOf[i] = families.indexOf(family);
    slotOf[i] = family.members.length;
    family.members.push(i);
  });
  return { families, familyOf, slotOf };
}

/**
 * A key string of its own, flat: a key built by a template literal is a V8 cons string that keeps
 * the event's token strings alive behind it (about twice the bytes of the key itself).
 */
function ownKey(key: string): string {
  return JSON.parse(JSON.stringify(key)) as string;
}

export interface DetectorRuntimeOptions {
  /**
   * Pack the states of entities idle for a whole checkpoint interval (see Family).
   * @defaultValue true
   */
  readonly packIdle?: boolean;
  /**
   * Hot (live) entities a family keeps at most; beyond, the least recently active are packed after
   * a `process` call, down to 90 % of this. Live states cost ~6 KB an identity, packed ~1 KB.
   * @defaultValue Infinity
   */
  readonly maxHotEntities?: number;
}

/** Packing stops at this share of `maxHotEntities`, so it is not repeated after every batch. */
const HOT_LOW_WATER = 0.9;

export function createDetectorRuntime(
  detectors: AnyDetector[],
  options: DetectorRuntimeOptions = {},
): DetectorRuntime {
  const packIdle = options.packIdle ?? true;
  const maxHot = options.maxHotEntities ?? Number.POSITIVE_INFINITY;
  /** Number of the current `process` call (hot entities touched in it are not packed). */
  let round = 0;
  const { families, familyOf, slotOf } = familiesOf(detectors);
  const shapes = createShapes();
  const byName = new Map(detectors.map((d, i) => [d.name, i]));
  const bootstrapping = detectors.map((d, i) => ({ d, i })).filter(({ d }) => d.bootstrap);
  /** Families with bootstrapping members: their lead (for the key) and those members' slots. */
  /**
   * Families keyed by the identity (tenant + actor) alone, found by keying two probes that agree
   * on those fields only. An identity is looked up in the store when one of these lacks state; a
   * family keyed by a credential or network is bootstrapped along with its identity, but a new
   * credential of a known identity is no reason for a lookup (it would be one per new key, and the
   * store has little to say about a key it has just seen).
   */
  const identityKeyed = (f: Family) => {
    const lead = detectors[f.members[0]!]!;
    try {
      return lead.entityKey(probeEvent('a')) === lead.entityKey(probeEvent('b'));
    } catch {
      return false;
    }
  };
  const bootFamilies = families
    .filter(identityKeyed)
    .map((f) => ({
      f,
      lead: detectors[f.members[0]!]!,
      slots: f.members.map((i, slot) => (detectors[i]!.bootstrap ? slot : -1)).filter((slot) => slot >= 0),
    }))
    .filter((b) => b.slots.length > 0);
  const single = (f: Family) => f.members.length === 1;

  /** The hot holder of `key` (unpacked if it was cold), or undefined. */
  function hotHolder(f: Family, key: string, event?: AccessEvent): unknown {
    const held = f.perEntity.get(key);
    if (typeof held !== 'string') return held;
    const fresh = event && ((slot: number) => detectors[f.members[slot]!]!.initState(event));
    const states = unpackStates(shapes, held, f.members.length, fresh);
    const hot = single(f) ? states[0] : states;
    f.perEntity.set(key, hot);
    f.hot.set(ownKey(key), round);
    return hot;
  }

  function get(i: number, key: string): unknown {
    const f = families[familyOf[i]!]!;
    const held = hotHolder(f, key);
    return single(f) || held === undefined ? held : (held as unknown[])[slotOf[i]!];
  }

  /** Whether detector i has state for `key`, without unpacking it. */
  function has(i: number, key: string): boolean {
    const f = families[familyOf[i]!]!;
    return hasSlots(f, f.perEntity.get(key), [slotOf[i]!]);
  }

  /** Whether a holder (hot or packed) has state in every one of these slots. */
  function hasSlots(f: Family, held: unknown, slots: readonly number[]): boolean {
    if (held === undefined) return false;
    if (single(f)) return true;
    if (typeof held === 'string') {
      const mask = packedPresence(held);
      return slots.every((slot) => Math.floor(mask / 2 ** slot) % 2 === 1);
    }
    return slots.every((slot) => (held as unknown[])[slot] !== undefined);
  }

  function set(i: number, key: string, state: unknown): void {
    const f = families[familyOf[i]!]!;
    if (single(f)) {
      if (!f.perEntity.has(key)) key = ownKey(key);
      f.perEntity.set(key, state);
      f.hot.set(key, round);
      return;
    }
    let held = hotHolder(f, key) as unknown[] | undefined;
    if (held === undefined) {
      held = new Array<unknown>(f.members.length).fill(undefined);
      key = ownKey(key);
      f.perEntity.set(key, held);
      f.hot.set(key, round);
    }
    held[slotOf[i]!] = state;
  }

  /** The family's holder for the event's entity, made (or carried over from the previous key) if new. */
  function holderFor(f: Family, event: AccessEvent): unknown {
    const lead = detectors[f.members[0]!]!;
    const key = lead.entityKey(event);
    let held = hotHolder(f, key, event);
    if (held === undefined) {
      // First sight of a token: after a key rotation it may be an identity we know under its
      // previous token — its baseline carries over instead of starting cold.
      const before = underPreviousKey(event);
      const oldKey = before && lead.entityKey(before);
      held = oldKey !== undefined && oldKey !== key ? hotHolder(f, oldKey, event) : undefined;
      if (held !== undefined) {
        f.perEntity.delete(oldKey!);
        f.dirty.delete(oldKey!);
        f.hot.delete(oldKey!);
        if (single(f)) carryOver(held, before!, event);
        else for (const state of held as unknown[]) carryOver(state, before!, event);
      } else
        held = single(f)
          ? detectors[f.members[0]!]!.initState(event)
          : new Array(f.members.length).fill(undefined);
      const own = ownKey(key);
      f.perEntity.set(own, held);
      f.hot.set(own, round);
    } else f.hot.set(key, round); // an existing key: its stored (own) key string stays
    f.dirty.add(key);
    return held;
  }

  /** Packs the hot holder of `key` (it stays dirty if it was: the checkpoint reads it packed). */
  function pack(f: Family, key: string): void {
    const held = f.perEntity.get(key);
    f.hot.delete(key);
    if (held === undefined || typeof held === 'string') return;
    f.perEntity.set(key, packStates(shapes, single(f) ? [held] : (held as unknown[])));
  }

  /** Packs the hot holders not touched since the last checkpoint. */
  function packIdleHolders(f: Family): void {
    for (const key of f.hot.keys()) if (!f.dirty.has(key)) pack(f, key);
  }

  /**
   * Over `maxHot`, packs the family's hot holders not touched by the current `process` call, those
   * that became hot first first (touched in a later call than the current one can't be), down to
   * the low water mark.
   */
  function packOverflow(f: Family): void {
    if (f.hot.size <= maxHot) return;
    const target = Math.floor(maxHot * HOT_LOW_WATER);
    for (const [key, touched] of f.hot) {
      if (f.hot.size <= target) break;
      if (touched !== round) pack(f, key);
    }
  }

  /** The states of a holder by slot, unpacked into plain objects if packed (without making it hot). */
  function statesOf(f: Family, key: string): unknown[] {
    const held = f.perEntity.get(key);
    if (held === undefined) return [];
    if (typeof held === 'string') return unpackStates(shapes, held, f.members.length);
    return single(f) ? [held] : (held as unknown[]);
  }

  return {
    process(events, now = Date.now()) {
      round++;
      const ordered = [...events].sort((a, b) => a.time - b.time);
      const findings: Finding[] = [];
      const held: unknown[] = new Array(families.length);
      for (const event of ordered) {
        for (let f = 0; f < families.length; f++) held[f] = holderFor(families[f]!, event);
        // Detectors in their own order, whatever their families: findings keep that order.
        for (let i = 0; i < detectors.length; i++) {
          const d = detectors[i]!;
          const f = familyOf[i]!;
          let state: unknown;
          if (single(families[f]!)) state = held[f];
          else {
            const slots = held[f] as unknown[];
            state = slots[slotOf[i]!];
            if (state === undefined) {
              state = d.initState(event);
              slots[slotOf[i]!] = state;
            }
          }
          for (const x of d.observe(state, event, now)) findings.push(x);
        }
      }
      for (const f of families) packOverflow(f);
      return findings;
    },
    entities() {
      const out: Record<string, number> = {};
      detectors.forEach((d, i) => {
        const f = families[familyOf[i]!]!;
        let n = 0;
        if (single(f)) n = f.perEntity.size;
        else for (const key of f.perEntity.keys()) if (has(i, key)) n++;
        out[d.name] = n;
      });
      return out;
    },
    hotEntities() {
      let n = 0;
      for (const f of families) n += f.hot.size;
      return n;
    },
    takeDirty() {
      const out: StateEntry[] = [];
      for (const f of families) {
        if (packIdle) packIdleHolders(f);
        for (const key of f.dirty) {
          const states = statesOf(f, key);
          f.members.forEach((i, slot) => {
            const state = states[slot];
            if (state !== undefined) out.push({ detector: detectors[i]!.name, key, state });
          });
        }
        f.dirty.clear();
      }
      return out;
    },
    restore(entries) {
      let restored = 0;
      for (const e of entries) {
        const i = byName.get(e.detector);
        if (i === undefined) continue;
        const d = detectors[i]!;
        const state = d.restoreState ? d.restoreState(e.state) : e.state;
        if (state === undefined) continue;
        set(i, e.key, state);
        restored++;
      }
      return restored;
    },
    stateOf(detector, key) {
      const i = byName.get(detector);
      return i === undefined ? undefined : get(i, key);
    },
    unknownIdentities(events) {
      const out = new Map<string, { tenant: string; actor: string; before: number }>();
      for (const e of events) {
        for (const { f, lead, slots } of bootFamilies) {
          if (hasSlots(f, f.perEntity.get(lead.entityKey(e)), slots)) continue;
          const k = `${e.tenant}\u0000${e.actor}`;
          const before = Math.floor(e.time / 3_600_000) * 3_600_000;
          const seen = out.get(k);
          if (!seen || before < seen.before) out.set(k, { tenant: e.tenant, actor: e.actor, before });
          break;
        }
      }
      return [...out.values()];
    },
    unknownKeys(events) {
      const out = new Set<string>();
      for (const e of events)
        for (const f of families) {
          const key = detectors[f.members[0]!]!.entityKey(e);
          if (!f.perEntity.has(key)) out.add(key);
        }
      return [...out];
    },
    forget() {
      for (const f of families) {
        f.perEntity.clear();
        f.dirty.clear();
        f.hot.clear();
      }
    },
    bootstrap(first, history, before) {
      for (const { d, i } of bootstrapping) {
        const key = d.entityKey(first);
        if (has(i, key)) continue;
        const state = d.initState(first);
        d.bootstrap!(state, history, before, first);
        set(i, key, state);
        families[familyOf[i]!]!.dirty.add(key);
      }
    },
  };
}
