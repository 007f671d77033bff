// The detect stage's event-time reorder buffer: events wait here until the stream has moved past
// them by the allowed lateness, then go to the detectors in event-time order, so an event that
// arrived a little after a later one still counts in the hour or window it belongs to (the
// detectors drop an event older than an entity's current hour as late).
//
// The watermark is the greatest event time seen minus the allowed lateness, over every event this
// process handles (not per identity). Released are the held events at or below it, and any held
// for longer than the allowed lateness in wall-clock time, so a quiet stream does not keep its last
// events forever; releasing one of those releases every held event older than it too, and the
// output stays in order. An event older than what was already released is too late: it goes out
// with the next release (the detectors count what they still can) and is counted. Past `maxHeld`
// events, the oldest go out early.
//
// With no allowed lateness nothing is held between calls: a release returns the batch just added,
// sorted by time in arrival order — exactly what the runtime did with a batch before.
//
// Durability: held events are in the detector checkpoints (changedKeys, restore), so they have the
// same durability as detector state. The batches that brought them may be committed before a
// checkpoint saves them; a crash in between loses them for detection, just as it loses the state
// changes of events processed since the last checkpoint.
//
// Pure: the wall clock is passed in.
import type { AccessEvent } from '../model/index.js';

export interface ReorderBufferOptions {
  /** How far out of event-time order an event may arrive (ms). 0: nothing is held. */
  readonly allowedLatenessMs: number;
  /**
   * Events held at most; beyond, the oldest (by event time) are released early. At roughly a
   * kilobyte per event, the default costs about half a gigabyte.
   * @defaultValue 500000
   */
  readonly maxHeld?: number;
}

/** The held events of one identity (tenant + actor), for a checkpoint; none: a tombstone. */
export interface HeldEvents {
  readonly key: string;
  readonly events: AccessEvent[];
}

export interface ReorderBuffer {
  /** Takes a batch; returns how many of its events were too late (they go out at the next release). */
  add(events: AccessEvent[], nowWallMs: number): number;
  /** The events due, sorted by event time (ties by event id; with no lateness, by arrival). */
  release(nowWallMs: number): AccessEvent[];
  /** Every held event, in order (rebalance, stop). */
  flush(): AccessEvent[];
  /** Events held now. */
  readonly size: number;
  /** When the wall-clock bound of the longest held event passes; undefined when none is held. */
  nextDueMs(): number | undefined;
  /**
   * The identities whose held events changed since the last call, each with all its held events
   * now (an empty list once an identity that had some saved has none left).
   */
  changedKeys(): HeldEvents[];
  /** Puts checkpointed held events back (start), without counting any as too late. */
  restore(events: AccessEvent[], nowWallMs: number): void;
}

/** The pseudo-detector name held events are checkpointed under (key: tenant \0 actor). */
export const HELD_EVENTS_CHECKPOINT = '_held';

interface Entry {
  readonly e: AccessEvent;
  readonly seq: number;
  readonly addedAt: number;
  out: boolean;
}

const keyOf = (e: AccessEvent) => `${e.tenant}\u0000${e.actor}`;
const idOf = (e: AccessEvent) => `${e.tenant}\u0000${e.event_id}`;

export function createReorderBuffer(options: ReorderBufferOptions): ReorderBuffer {
  const lateness = options.allowedLatenessMs;
  const maxHeld = options.maxHeld ?? 500_000;
  if (!(lateness >= 0)) throw new RangeError(`reorder buffer: allowed lateness ${lateness} ms`);
  if (!(maxHeld >= 1)) throw new RangeError(`reorder buffer: maxHeld ${maxHeld}`);
  // Held across calls only with lateness; without, no identity bookkeeping is needed.
  const holds = lateness > 0;
  // Ties by event id keep a replay deterministic whatever the batches; without lateness, arrival
  // order, as the runtime's stable sort of one batch had it.
  const before = holds
    ? (a: Entry, b: Entry) =>
        a.e.time - b.e.time ||
        (a.e.event_id < b.e.event_id ? -1 : a.e.event_id > b.e.event_id ? 1 : a.seq - b.seq)
    : (a: Entry, b: Entry) => a.e.time - b.e.time || a.seq - b.seq;

  const heap: Entry[] = [];
  /** Held entries in arrival order (so by addedAt); released ones are skipped and compacted away. */
  let fifo: Entry[] = [];
  let head = 0;
  /** Released entries still in `fifo`. */
  let fifoOut = 0;
  let seq = 0;
  let maxSeen = Number.NEGATIVE_INFINITY;
  /** Everything at or below this went out already. */
  let floor = Number.NEGATIVE_INFINITY;
  const byKey = new Map<string, Set<Entry>>();
  const ids = new Set<string>();
  const dirty = new Set<string>();
  /** Identities with a non-empty checkpoint row. */
  const saved = new Set<string>();

  function push(x: Entry): void {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(heap[p]!, x) <= 0) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = x;
  }

  function pop(): Entry {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const c = l + 1 < heap.length && before(heap[l + 1]!, heap[l]!) < 0 ? l + 1 : l;
        if (before(last, heap[c]!) <= 0) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }

  /** Holds one event; false for a duplicate of one held (a batch redelivered after a restore). */
  function hold(e: AccessEvent, now: number, track = holds): boolean {
    if (holds) {
      const id = idOf(e);
      if (ids.has(id)) return false;
      ids.add(id);
    }
    const x: Entry = { e, seq: seq++, addedAt: now, out: false };
    push(x);
    fifo.push(x);
    if (e.time > maxSeen) maxSeen = e.time;
    if (track) {
      const key = keyOf(e);
      let set = byKey.get(key);
      if (!set) {
        set = new Set();
        byKey.set(key, set);
      }
      set.add(x);
      dirty.add(key);
    }
    return true;
  }

  function take(x: Entry): AccessEvent {
    x.out = true;
    fifoOut++;
    if (holds) ids.delete(idOf(x.e));
    // Without lateness only restored events are tracked by identity (their rows need tombstones).
    const key = holds || byKey.size > 0 ? keyOf(x.e) : undefined;
    const set = key === undefined ? undefined : byKey.get(key);
    if (set?.delete(x)) {
      if (set.size === 0) byKey.delete(key!);
      dirty.add(key!);
    }
    return x.e;
  }

  function compact(): void {
    while (head < fifo.length && fifo[head]!.out) head++;
    // Released entries keep their events alive: they go once they are most of the queue, so one
    // event waiting for the wall clock does not pin everything that arrived after it.
    if (fifoOut > 1024 && fifoOut * 2 > fifo.length) {
      fifo = fifo.filter((x) => !x.out);
      head = 0;
      fifoOut = 0;
    }
  }

  function releaseUpTo(limit: number): AccessEvent[] {
    const out: AccessEvent[] = [];
    while (heap.length > 0) {
      const top = heap[0]!;
      // Over the cap the oldest go early; the floor follows them so later ones stay behind.
      if (heap.length > maxHeld) limit = Math.max(limit, top.e.time);
      else if (top.e.time > limit) break;
      out.push(take(pop()));
    }
    floor = Math.max(floor, limit);
    compact();
    return out;
  }

  return {
    add(events, now) {
      let late = 0;
      for (const e of events) if (hold(e, now) && e.time < floor) late++;
      return late;
    },
    release(now) {
      let limit = maxSeen - lateness;
      for (let i = head; i < fifo.length; i++) {
        const x = fifo[i]!;
        if (x.out) continue;
        if (x.addedAt + lateness > now) break;
        if (x.e.time > limit) limit = x.e.time;
      }
      return releaseUpTo(limit);
    },
    flush() {
      return releaseUpTo(heap.length > 0 ? Math.max(maxSeen, floor) : floor);
    },
    get size() {
      return heap.length;
    },
    nextDueMs() {
      compact();
      return head < fifo.length ? fifo[head]!.addedAt + lateness : undefined;
    },
    changedKeys() {
      const out: HeldEvents[] = [];
      for (const key of dirty) {
        const set = byKey.get(key);
        if (set?.size) {
          out.push({ key, events: [...set].sort(before).map((x) => x.e) });
          saved.add(key);
        } else if (saved.delete(key)) out.push({ key, events: [] });
      }
      dirty.clear();
      return out;
    },
    restore(events, now) {
      for (const e of events) {
        const key = keyOf(e);
        const changed = dirty.has(key);
        // Its row is in the checkpoint already: saved, and changed only once it goes out.
        if (hold(e, now, true)) {
          saved.add(key);
          if (!changed) dirty.delete(key);
        }
      }
    },
  };
}
