// The detector runtime: owns every detector's per-entity state and feeds events through them.
// Events of one identity arrive in order (one partition per identity); within a batch they are
// processed in event-time order so a replayed file behaves like live traffic.
import { type AccessEvent, type Finding, PREVIOUS_TOKEN_ATTRIBUTES as PREVIOUS } from '../model/index.js';
import { createShapes, packedPresence, packStates, unpackStates } from './state/cold.js';
import type { AnyDetector, IdentityHistory } from './detector.js';
import type { FindingExplainer } from './explain-sensitivity.js';

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
 * Moves an entity's state from its old-token key to its new one. The detector's `tokenFields`
 * holding one of the old event's tokens are renamed too, so findings speak of the new token.
 */
function carryOver(detector: AnyDetector, state: unknown, from: AccessEvent, to: AccessEvent): void {
  if (!detector.tokenFields || !state || typeof state !== 'object') return;
  const s = state as Record<string, unknown>;
  for (const name of detector.tokenFields)
    for (const kind of ['actor', 'credential', 'src_net'] as const)
      if (s[name] === from[kind]) s[name] = to[kind];
}

export interface StateEntry {
  readonly detector: string;
  readonly key: string;
  readonly state: unknown;
}

export interface DetectorRuntime {
  process(events: AccessEvent[], now?: number): Finding[];
  /** Entities with state, per detector (counts every entity: for reports, not per batch). */
  entities(): Record<string, number>;
  /** The detectors' names, in order (what their checkpoints are stored under). */
  readonly detectorNames: readonly string[];
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
 * (state/cold.ts) once the entity went a whole checkpoint interval without an event, or when the
 * family holds more hot entities than `maxHotEntities` (the least recently active are packed, so
 * detector memory stays bounded however many identities are active at once). It is unpacked on
 * its next event (or any other access but a checkpoint's read).
 */
interface Family {
  /** Detectors of the family, by index in the runtime's list, and each one's slot in a holder. */
  readonly members: number[];
  /**
   * Key → the entity's entry (one map lookup an event, whatever else is kept about it), or, for an
   * entity packed and not changed since the last checkpoint (most of them, most of the time), just
   * its packed holder: an idle entity costs its key and its packed states, nothing more.
   */
  readonly perEntity: Map<string, Entry | string>;
  /**
   * Entries changed since the last checkpoint, each once (its `dirty` flag). An entry that left
   * the map since (carried over to a new key) is skipped when read.
   */
  dirty: Entry[];
  /** Entries whose holder is hot, in the order they became hot. */
  readonly hot: Set<Entry>;
}

/** What a family keeps about one entity. */
interface Entry {
  /** The map's key (a flat string of its own, see ownKey). */
  readonly key: string;
  /** The holder: hot (a state, or states by slot) or packed (a string). */
  held: unknown;
  /** Number of the last `process` call that touched it (0: none yet). */
  round: number;
  /** In the family's dirty list. */
  dirty: boolean;
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
      family = { members: [], perEntity: new Map(), dirty: [], hot: new Set() };
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
  /**
   * Completes each finding's explanation with what the pipeline knows beyond one detector (the
   * sensitivity of its collection: explain-sensitivity.ts). Applied to findings only, never per
   * event. @defaultValue findings as the detectors wrote them
   */
  readonly explain?: FindingExplainer;
}

/** Packing stops at this share of `maxHotEntities`, so it is not repeated after every batch. */
const HOT_LOW_WATER = 0.9;

export function createDetectorRuntime(
  detectors: AnyDetector[],
  options: DetectorRuntimeOptions = {},
): DetectorRuntime {
  const packIdle = options.packIdle ?? true;
  const maxHot = options.maxHotEntities ?? Number.POSITIVE_INFINITY;
  const explain = options.explain;
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
      index: families.indexOf(f),
      slots: f.members.map((i, slot) => (detectors[i]!.bootstrap ? slot : -1)).filter((slot) => slot >= 0),
    }))
    .filter((b) => b.slots.length > 0);
  const single = (f: Family) => f.members.length === 1;

  const leads = families.map((f) => detectors[f.members[0]!]!);

  /**
   * Each family's key of the events the stage asked about (unknownKeys, unknownIdentities) before
   * processing them: built and hashed once an event instead of once a question. Emptied by
   * `process`, so it holds one batch at most.
   */
  const batchKeys = new Map<AccessEvent, string[]>();
  function keysOf(e: AccessEvent): string[] {
    let keys = batchKeys.get(e);
    if (keys === undefined) {
      keys = new Array<string>(families.length);
      for (let f = 0; f < families.length; f++) keys[f] = leads[f]!.entityKey(e);
      if (batchKeys.size >= MAX_BATCH_KEYS) batchKeys.clear();
      batchKeys.set(e, keys);
    }
    return keys;
  }

  /**
   * The entry of a map value, hot: a packed holder is unpacked (into an entry of its own if it had
   * none); `event` gives fresh states to unpack into.
   */
  function warm(f: Family, key: string, value: Entry | string, event?: AccessEvent): Entry {
    let entry: Entry;
    if (typeof value === 'string') {
      entry = { key: ownKey(key), held: value, round, dirty: false };
      f.perEntity.delete(key);
      f.perEntity.set(entry.key, entry);
    } else entry = value;
    if (typeof entry.held !== 'string') return entry;
    const fresh = event && ((slot: number) => detectors[f.members[slot]!]!.initState(event));
    const states = unpackStates(shapes, entry.held, f.members.length, fresh);
    entry.held = single(f) ? states[0] : states;
    entry.round = round;
    f.hot.add(entry);
    return entry;
  }

  /** A new entry under its own copy of `key`, hot. */
  function addEntry(f: Family, key: string, held: unknown): Entry {
    const entry: Entry = { key: ownKey(key), held, round, dirty: false };
    f.perEntity.set(entry.key, entry);
    f.hot.add(entry);
    return entry;
  }

  function markDirty(f: Family, entry: Entry): void {
    if (entry.dirty) return;
    entry.dirty = true;
    f.dirty.push(entry);
  }

  /** Takes the entry out of its family (it may still sit in the dirty list: skipped there). */
  function removeEntry(f: Family, entry: Entry): void {
    f.perEntity.delete(entry.key);
    f.hot.delete(entry);
    entry.dirty = false;
  }

  function get(i: number, key: string): unknown {
    const f = families[familyOf[i]!]!;
    const value = f.perEntity.get(key);
    if (value === undefined) return undefined;
    const entry = warm(f, key, value);
    return single(f) ? entry.held : (entry.held as unknown[])[slotOf[i]!];
  }

  /** Whether detector i has state for `key`, without unpacking it. */
  function has(i: number, key: string): boolean {
    const f = families[familyOf[i]!]!;
    return hasSlots(f, f.perEntity.get(key), [slotOf[i]!]);
  }

  /** Whether a map value (hot or packed) has state in every one of these slots. */
  function hasSlots(f: Family, value: Entry | string | undefined, slots: readonly number[]): boolean {
    if (value === undefined) return false;
    if (single(f)) return true;
    const held = typeof value === 'string' ? value : value.held;
    if (typeof held === 'string') {
      const mask = packedPresence(held);
      return slots.every((slot) => Math.floor(mask / 2 ** slot) % 2 === 1);
    }
    return slots.every((slot) => (held as unknown[])[slot] !== undefined);
  }

  /** Puts detector i's state of `key` (hot); returns the entity's entry. */
  function set(i: number, key: string, state: unknown): Entry {
    const f = families[familyOf[i]!]!;
    const value = f.perEntity.get(key);
    if (single(f)) {
      if (value === undefined || typeof value === 'string') {
        // The state replaces a packed holder whole: nothing to unpack.
        if (value !== undefined) f.perEntity.delete(key);
        return addEntry(f, key, state);
      }
      value.held = state;
      value.round = round;
      f.hot.add(value);
      return value;
    }
    const entry =
      value === undefined
        ? addEntry(f, key, new Array<unknown>(f.members.length).fill(undefined))
        : warm(f, key, value);
    (entry.held as unknown[])[slotOf[i]!] = state;
    return entry;
  }

  /** The family's entry for the event's entity, made (or carried over from the previous key) if new. */
  function entryFor(f: Family, lead: AnyDetector, key: string, event: AccessEvent): Entry {
    const value = f.perEntity.get(key);
    let entry: Entry;
    if (value !== undefined) {
      entry = warm(f, key, value, event);
      entry.round = round;
    } else {
      // First sight of a token: after a key rotation it may be an identity we know under its
      // previous token — its baseline carries over instead of starting cold.
      const before = underPreviousKey(event);
      const oldKey = before && lead.entityKey(before);
      const oldValue = oldKey !== undefined && oldKey !== key ? f.perEntity.get(oldKey) : undefined;
      let held: unknown;
      if (oldValue !== undefined) {
        const old = warm(f, oldKey!, oldValue, event);
        removeEntry(f, old);
        held = old.held;
        if (single(f)) carryOver(lead, held, before!, event);
        else {
          const states = held as unknown[];
          for (let slot = 0; slot < states.length; slot++)
            carryOver(detectors[f.members[slot]!]!, states[slot], before!, event);
        }
      } else
        held = single(f)
          ? detectors[f.members[0]!]!.initState(event)
          : new Array(f.members.length).fill(undefined);
      entry = addEntry(f, key, held);
    }
    markDirty(f, entry);
    return entry;
  }

  /**
   * Packs a hot entry's holder. A dirty one keeps its entry until the checkpoint read it (packed);
   * a clean one is replaced by its packed holder.
   */
  function pack(f: Family, entry: Entry): void {
    f.hot.delete(entry);
    if (entry.held === undefined || typeof entry.held === 'string') return;
    entry.held = packStates(shapes, single(f) ? [entry.held] : (entry.held as unknown[]));
    if (!entry.dirty) f.perEntity.set(entry.key, entry.held as string);
  }

  /** Packs the hot holders not touched since the last checkpoint. */
  function packIdleHolders(f: Family): void {
    for (const entry of f.hot) if (!entry.dirty) pack(f, entry);
  }

  /**
   * Over `maxHot`, packs the family's hot holders not touched by the current `process` call, those
   * that became hot first first (touched in a later call than the current one can't be), down to
   * the low water mark.
   */
  function packOverflow(f: Family): void {
    if (f.hot.size <= maxHot) return;
    const target = Math.floor(maxHot * HOT_LOW_WATER);
    for (const entry of f.hot) {
      if (f.hot.size <= target) break;
      if (entry.round !== round) pack(f, entry);
    }
  }

  /** The states of an entry by slot, unpacked into plain objects if packed (without making it hot). */
  function statesOf(f: Family, entry: Entry): unknown[] {
    const held = entry.held;
    if (typeof held === 'string') return unpackStates(shapes, held, f.members.length);
    return single(f) ? [held] : (held as unknown[]);
  }

  return {
    process(events, now = Date.now()) {
      round++;
      const ordered = [...events].sort((a, b) => a.time - b.time);
      const findings: Finding[] = [];
      const held: unknown[] = new Array(families.length);
      const asked = batchKeys.size > 0;
      for (const event of ordered) {
        const keys = asked ? batchKeys.get(event) : undefined;
        for (let f = 0; f < families.length; f++) {
          const lead = leads[f]!;
          held[f] = entryFor(families[f]!, lead, keys ? keys[f]! : lead.entityKey(event), event).held;
        }
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
          for (const x of d.observe(state, event, now)) findings.push(explain ? explain(x) : x);
        }
      }
      batchKeys.clear();
      for (const f of families) packOverflow(f);
      return findings;
    },
    detectorNames: detectors.map((d) => d.name),
    entities() {
      const out: Record<string, number> = {};
      detectors.forEach((d, i) => {
        const f = families[familyOf[i]!]!;
        let n = 0;
        if (single(f)) n = f.perEntity.size;
        else for (const value of f.perEntity.values()) if (hasSlots(f, value, [slotOf[i]!])) n++;
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
        for (const entry of f.dirty) {
          // Left the family since it was marked (carried over to a new key).
          if (!entry.dirty) continue;
          entry.dirty = false;
          // Packed and now clean: its packed holder alone stays.
          if (typeof entry.held === 'string') f.perEntity.set(entry.key, entry.held);
          const states = statesOf(f, entry);
          f.members.forEach((i, slot) => {
            const state = states[slot];
            if (state !== undefined) out.push({ detector: detectors[i]!.name, key: entry.key, state });
          });
        }
        f.dirty = [];
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
        const keys = keysOf(e);
        for (const { f, index, slots } of bootFamilies) {
          if (hasSlots(f, f.perEntity.get(keys[index]!), slots)) continue;
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
      for (const e of events) {
        const keys = keysOf(e);
        for (let f = 0; f < families.length; f++)
          if (!families[f]!.perEntity.has(keys[f]!)) out.add(keys[f]!);
      }
      return [...out];
    },
    forget() {
      batchKeys.clear();
      for (const f of families) {
        f.perEntity.clear();
        f.dirty = [];
        f.hot.clear();
      }
    },
    bootstrap(first, history, before) {
      for (const { d, i } of bootstrapping) {
        const key = d.entityKey(first);
        if (has(i, key)) continue;
        const state = d.initState(first);
        d.bootstrap!(state, history, before, first);
        markDirty(families[familyOf[i]!]!, set(i, key, state));
      }
    },
  };
}

/** Events whose keys the runtime remembers at most between questions and `process`. */
const MAX_BATCH_KEYS = 1_000_000;
