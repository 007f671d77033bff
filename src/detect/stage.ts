// The detect stage: events topic in (group "detect"), findings topic out. A batch's offsets are
// committed only after its findings were published, so a crash re-runs the batch; finding ids are
// deterministic, so a re-run yields the same findings and the store folds them. With an allowed
// lateness (reorder.ts) some of a batch's events may still be held when it is committed: those are
// kept in the detector checkpoints instead, as durable as the detector states.
import { type Bus, decodeJson, jsonMessage, partitionKey, type Subscription, TOPICS } from '../bus/index.js';
import type { AccessEvent, Finding } from '../model/index.js';
import type { Metrics } from '../telemetry/index.js';
import type { IdentityHistory } from './detector.js';
import { createReorderBuffer, HELD_EVENTS_CHECKPOINT } from './reorder.js';
import type { DetectorRuntime, StateEntry } from './runtime.js';
import type { FindingFilter } from './suppression.js';

/** Checkpoint rows under this detector name are held events: a checkpoint load must include it. */
export { HELD_EVENTS_CHECKPOINT };

export interface CheckpointStore {
  save(entries: StateEntry[]): Promise<void>;
  load(): Promise<StateEntry[]>;
  /** The checkpointed states of these entity keys (any detector), for a load on first sight. */
  loadKeys?(keys: string[]): Promise<StateEntry[]>;
}

export interface DetectStageDeps {
  readonly bus: Bus;
  readonly runtime: DetectorRuntime;
  readonly metrics: Metrics;
  readonly onFindings?: (findings: Finding[]) => void;
  readonly checkpoints?: CheckpointStore;
  /** How often changed states are checkpointed. @defaultValue 10000 */
  readonly checkpointIntervalMs?: number;
  readonly onError?: (err: unknown) => void;
  /** Suppression rules and feedback, applied before findings are published. */
  readonly filter?: FindingFilter;
  /**
   * Stored history of identities the detectors have not seen: no cold start after a restart
   * without checkpoint or a new deployment over an existing store.
   */
  readonly history?: (
    tenant: string,
    identities: Array<{ actor: string; before: number }>,
  ) => Promise<Map<string, IdentityHistory>>;
  /**
   * How far out of event-time order an event may arrive and still count where it belongs: events
   * wait in a reorder buffer (reorder.ts) up to this long, in event time and in wall-clock time.
   * @defaultValue 0
   */
  readonly allowedLatenessMs?: number;
  /** Events the reorder buffer holds at most. @defaultValue 500000 */
  readonly maxHeldEvents?: number;
}

/** Identities bootstrapped per batch at most (the rest start cold rather than stall the batch). */
const MAX_BOOTSTRAP_PER_BATCH = 2_000;

/**
 * With an allowed lateness an entity has no state until its first events leave the reorder buffer,
 * so every batch until then would look it up again: lookups done since the last rebalance are
 * remembered (bounded; forgetting one costs a repeated lookup, nothing else).
 */
interface LookedUp {
  readonly checkpoints: Set<string>;
  readonly history: Set<string>;
}

const MAX_LOOKED_UP = 1_000_000;

const notLookedUp = (done: Set<string> | undefined, key: string) => !done?.has(key);

/** Marks keys as looked up once the lookup succeeded (a failed batch is retried whole). */
function lookedUpNow(done: Set<string> | undefined, keys: Iterable<string>): void {
  if (!done) return;
  if (done.size >= MAX_LOOKED_UP) done.clear();
  for (const key of keys) done.add(key);
}

async function bootstrapUnknown(
  deps: DetectStageDeps,
  events: AccessEvent[],
  done?: LookedUp,
): Promise<void> {
  if (!deps.history) return;
  const unknown = deps.runtime
    .unknownIdentities(events)
    .slice(0, MAX_BOOTSTRAP_PER_BATCH)
    .filter((u) => notLookedUp(done?.history, `${u.tenant}\u0000${u.actor}`));
  // Most batches (every identity known): no per-event work below.
  if (unknown.length === 0) return;
  const byTenant = new Map<string, Array<{ actor: string; before: number }>>();
  for (const u of unknown) {
    const list = byTenant.get(u.tenant) ?? [];
    if (list.length === 0) byTenant.set(u.tenant, list);
    list.push({ actor: u.actor, before: u.before });
  }
  const first = new Map<string, AccessEvent>();
  for (const e of events)
    if (!first.has(`${e.tenant}\u0000${e.actor}`)) first.set(`${e.tenant}\u0000${e.actor}`, e);
  for (const [tenant, identities] of byTenant) {
    const history = await deps.history(tenant, identities);
    for (const { actor, before } of identities) {
      const h = history.get(actor);
      if (!h || (h.rows.length === 0 && h.hourly.length === 0)) continue;
      deps.runtime.bootstrap(first.get(`${tenant}\u0000${actor}`)!, h, before);
      deps.metrics.inc('detect_identities_bootstrapped');
    }
    lookedUpNow(
      done?.history,
      identities.map((i) => `${tenant}\u0000${i.actor}`),
    );
  }
}

/**
 * After a rebalance this process may be handed entities that another member processed since this
 * one started (or last held them): their states come from the checkpoints, loaded on first sight,
 * before the rollup bootstrap (which only covers what the store's history can teach).
 */
async function loadUnknown(deps: DetectStageDeps, events: AccessEvent[], done?: LookedUp): Promise<void> {
  if (!deps.checkpoints?.loadKeys) return;
  const keys = deps.runtime.unknownKeys(events).filter((k) => notLookedUp(done?.checkpoints, k));
  if (keys.length === 0) return;
  const loaded = await deps.checkpoints.loadKeys(keys);
  deps.metrics.inc('detect_checkpoint_lookups', keys.length);
  lookedUpNow(done?.checkpoints, keys);
  const taken = deps.runtime.restore(loaded);
  deps.metrics.inc('detect_states_loaded', taken);
  deps.metrics.inc('detect_states_discarded', loaded.length - taken);
}

/**
 * Starts the stage: restores checkpointed state first, then consumes; changed states are
 * checkpointed periodically and once more on stop. A checkpoint may trail the committed offsets
 * by up to one interval: after a crash, those events count again (finding ids are stable, so no
 * duplicate findings or incidents result).
 *
 * With an allowed lateness, events reach the detectors through a reorder buffer. The events it
 * holds are checkpointed with the states (pseudo-detector HELD_EVENTS_CHECKPOINT), so their batches
 * can be committed before they were detected on: they have the same durability as detector state.
 */
export async function startDetectStage(deps: DetectStageDeps): Promise<Subscription> {
  const lateness = deps.allowedLatenessMs ?? 0;
  const buffer = createReorderBuffer({ allowedLatenessMs: lateness, maxHeld: deps.maxHeldEvents });
  if (deps.checkpoints) {
    const loaded = await deps.checkpoints.load();
    const restored = loaded.filter((e) => e.detector !== HELD_EVENTS_CHECKPOINT);
    const taken = deps.runtime.restore(restored);
    deps.metrics.inc('detect_states_restored', taken);
    // States of an older layout a detector cannot convert: those entities start afresh.
    deps.metrics.inc('detect_states_discarded', restored.length - taken);
    const held = loaded
      .filter((e) => e.detector === HELD_EVENTS_CHECKPOINT && Array.isArray(e.state))
      .flatMap((e) => e.state as AccessEvent[]);
    buffer.restore(held, Date.now());
    deps.metrics.inc('detect_events_held_restored', held.length);
  }
  const checkpoint = async () => {
    // Taken together, synchronously: an event is in a detector state or held, never both or neither.
    const dirty = deps.runtime.takeDirty();
    const held = buffer.changedKeys();
    const entries = held.length
      ? [...dirty, ...held.map((h) => ({ detector: HELD_EVENTS_CHECKPOINT, key: h.key, state: h.events }))]
      : dirty;
    if (entries.length && deps.checkpoints) {
      await deps.checkpoints.save(entries);
      deps.metrics.inc('detect_states_checkpointed', dirty.length);
    }
  };
  const lookedUp: LookedUp | undefined =
    lateness > 0 ? { checkpoints: new Set(), history: new Set() } : undefined;
  const forgetLookups = () => {
    lookedUp?.checkpoints.clear();
    lookedUp?.history.clear();
  };
  /**
   * Adds events to the reorder buffer and runs the ones it releases (all of them: `flush`) through
   * the detectors. One synchronous step, on the in-order chain: a checkpoint between the release
   * and the detectors would see events neither held nor counted.
   */
  const detect = (all: AccessEvent[], flush = false) => {
    const now = Date.now();
    // A pending request has not run: it is kept in the store as the record of the request, but it
    // is not access, so no detector or baseline counts it.
    const events = all.filter((e) => e.outcome !== 'pending');
    if (events.length < all.length)
      deps.metrics.inc('detect_events_pending_skipped', all.length - events.length);
    deps.metrics.inc('detect_events_too_late', buffer.add(events, now));
    const ready = flush ? buffer.flush() : buffer.release(now);
    if (lateness > 0) {
      // No gauge in Metrics: events held now = detect_events_held - detect_events_released.
      deps.metrics.inc('detect_events_held', events.length);
      deps.metrics.inc('detect_events_released', ready.length);
    }
    // Nothing held: every entity looked up has had its events detected on, so it has state now.
    if (buffer.size === 0) forgetLookups();
    return ready.length ? deps.runtime.process(ready) : [];
  };
  const publish = async (raw: Finding[]) => {
    const findings = deps.filter ? deps.filter.apply(raw, Date.now()) : raw;
    deps.metrics.inc('detect_findings_suppressed', findings.filter((f) => f.suppressed).length);
    if (findings.length === 0) return;
    deps.metrics.inc('detect_findings', findings.length);
    // Issues of findings apart from the findings themselves: a window's finding is re-issued as it
    // grows, and only its first issue is a new finding.
    let first = 0;
    for (const f of findings) if (f.update_count === 1) first++;
    deps.metrics.inc('detect_findings_first', first);
    await deps.bus.publish(
      TOPICS.findings,
      findings.map((f) => jsonMessage(partitionKey(f.tenant, f.actor), f)),
    );
    deps.onFindings?.(findings);
  };
  let saving: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    saving = saving.then(checkpoint).catch((err) => deps.onError?.(err));
  }, deps.checkpointIntervalMs ?? 10_000);
  timer.unref();
  // Batches are in flight together (concurrency below) so that waiting for one batch's findings
  // to be published (stored, in-process) does not hold back the events behind it. Their events
  // still go through the detectors one batch after the other, in log order: only the waits overlap.
  let inOrder: Promise<unknown> = Promise.resolve();
  /**
   * Releases what is due apart from batches (the wall-clock bound of a quiet stream; held events
   * restored at start), on the chain. Their batches were committed already: a failure to publish
   * the findings is reported, not retried.
   */
  let releasing = false;
  const releaseDue = () => {
    const due = buffer.nextDueMs();
    if (releasing || due === undefined || due > Date.now()) return;
    releasing = true;
    const released = inOrder.then(() => detect([]));
    inOrder = released.catch(() => {});
    released
      .then(publish)
      .catch((err) => deps.onError?.(err))
      .finally(() => {
        releasing = false;
      });
  };
  releaseDue();
  const releaser = lateness > 0 ? setInterval(releaseDue, Math.min(lateness, 1_000)) : undefined;
  releaser?.unref();
  // Set by the first group join: from then on, entities new to this process are looked up in the
  // checkpoints first (before, the load at start had every checkpointed entity).
  let lazyLoad = false;
  const sub = await deps.bus.subscribe({
    topic: TOPICS.events,
    group: 'detect',
    maxBatch: 5_000,
    concurrency: 4,
    handler: async (messages) => {
      const events = messages.map((m) => decodeJson<AccessEvent>(m));
      const detected = inOrder.then(async () => {
        // States are loaded when an identity's events arrive, before they may wait in the buffer.
        if (lazyLoad) await loadUnknown(deps, events, lookedUp);
        await bootstrapUnknown(deps, events, lookedUp);
        return detect(events);
      });
      inOrder = detected.catch(() => {});
      const raw = await detected;
      deps.metrics.inc('detect_events', events.length);
      await publish(raw);
    },
    onRebalance: () => {
      // Between two batches (detection runs in order on this chain): checkpoint what this process
      // holds, then drop it all; every entity is loaded again from its checkpoint on first sight,
      // so one that moved here brings its latest state and one that moved away and back is not
      // judged on what this process held before.
      // Held events are detected on first, whatever their time: their identities may move away.
      const rebalanced = inOrder.then(async () => {
        const findings = detect([], true);
        await saving;
        await checkpoint();
        deps.runtime.forget();
        forgetLookups();
        lazyLoad = true;
        deps.metrics.inc('detect_rebalances');
        await publish(findings);
      });
      inOrder = rebalanced.catch((err) => deps.onError?.(err));
    },
  });
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(releaser);
      await sub.stop();
      // After the last batch: what is held goes to the detectors, then everything is checkpointed.
      const flushed = inOrder.then(() => detect([], true));
      inOrder = flushed.catch(() => {});
      const findings = await flushed;
      await saving;
      await checkpoint();
      await publish(findings);
    },
  };
}
