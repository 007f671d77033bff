// In-process bus for the embedded mode: per topic an append-only log with per-group offsets.
// Same semantics as Kafka where they matter: every group sees every record in order, a batch is
// committed only after its handler resolved, a failed handler is retried with backoff.
import { type Backoff, BackpressureError, backoffDelayMs, errorMessage } from '../model/index.js';
import type { Bus, BusMessage, SubscribeOptions, Subscription } from './bus.js';

interface Pending {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Group {
  readonly opts: SubscribeOptions;
  /** Next sequence number to deliver. */
  offset: number;
  stopped: boolean;
  wake: (() => void) | null;
  done: Promise<void>;
}

interface Topic {
  /** Records not yet handled by every group; `base` is the sequence number of log[0]. */
  log: BusMessage[];
  base: number;
  groups: Map<string, Group>;
  waiting: Pending[];
}

export interface InProcessBusOptions {
  /** Records held per topic before publish rejects with BackpressureError. */
  readonly maxBuffered?: number;
  readonly onError?: (group: string, err: unknown) => void;
}

/** Waits before a failed batch is redelivered: 100 ms doubling to 5 s, as a Kafka consumer would. */
export const REDELIVERY_BACKOFF: Backoff = { baseMs: 100, capMs: 5_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createInProcessBus(opts: InProcessBusOptions = {}): Bus {
  const maxBuffered = opts.maxBuffered ?? 500_000;
  const topics = new Map<string, Topic>();
  let closed = false;

  function topicOf(name: string): Topic {
    let t = topics.get(name);
    if (!t) {
      t = { log: [], base: 0, groups: new Map(), waiting: [] };
      topics.set(name, t);
    }
    return t;
  }

  function end(t: Topic): number {
    return t.base + t.log.length;
  }

  /** Drops records every group has handled, and releases publishers whose records are durable. */
  // Stopped groups keep their offsets (like committed offsets in Kafka): the log is retained for
  // them, a durable one still gates acknowledgements, and a new subscriber of the group resumes.
  function compact(t: Topic): void {
    const groups = [...t.groups.values()];
    const minOffset = groups.length ? Math.min(...groups.map((g) => g.offset)) : end(t);
    if (minOffset > t.base) {
      t.log.splice(0, minOffset - t.base);
      t.base = minOffset;
    }
    const durable = groups.filter((g) => g.opts.durable);
    const durableOffset = durable.length ? Math.min(...durable.map((g) => g.offset)) : end(t);
    while (t.waiting.length && t.waiting[0]!.seq <= durableOffset) t.waiting.shift()!.resolve();
  }

  async function run(t: Topic, g: Group): Promise<void> {
    if ((g.opts.concurrency ?? 1) > 1) return runPipelined(t, g, g.opts.concurrency!);
    let failures = 0;
    while (!g.stopped) {
      if (g.offset >= end(t)) {
        await new Promise<void>((resolve) => {
          g.wake = resolve;
        });
        g.wake = null;
        continue;
      }
      const from = g.offset - t.base;
      const batch = t.log.slice(from, from + (g.opts.maxBatch ?? 10_000));
      try {
        await g.opts.handler(batch);
        failures = 0;
        g.offset += batch.length; // commit: only after the handler resolved
        compact(t);
      } catch (err) {
        failures++;
        opts.onError?.(g.opts.group, err);
        // Redeliver the same batch after a capped backoff, as a Kafka consumer would.
        await sleep(backoffDelayMs(failures, REDELIVERY_BACKOFF));
      }
    }
  }

  /**
   * Up to `limit` batches in flight, as a Kafka consumer handling several partitions at once: for
   * handlers that mostly wait (the detect stage waits for its findings to be stored, which would
   * otherwise hold back the next events). Handlers are called in log order, offsets are committed
   * in log order and only up to the last batch whose handler resolved; after a failure, every
   * batch from the first failed one is redelivered (as after a Kafka rebalance).
   */
  async function runPipelined(t: Topic, g: Group, limit: number): Promise<void> {
    const inflight: Array<{ end: number; settled: Promise<unknown> }> = [];
    let next = g.offset;
    let failures = 0;
    const ok = Symbol('ok');
    while (!g.stopped) {
      while (inflight.length < limit && next < end(t)) {
        const from = next - t.base;
        const batch = t.log.slice(from, from + (g.opts.maxBatch ?? 10_000));
        next += batch.length;
        const settled = Promise.resolve()
          .then(() => g.opts.handler(batch))
          .then(
            () => ok,
            (err: unknown) => err ?? new Error('handler failed'),
          );
        inflight.push({ end: next, settled });
      }
      if (inflight.length === 0) {
        await new Promise<void>((resolve) => {
          g.wake = resolve;
        });
        g.wake = null;
        continue;
      }
      // The oldest batch settling, or new records to hand out, whichever comes first.
      const woke = new Promise<'woke'>((resolve) => {
        g.wake = () => resolve('woke');
      });
      const r = await Promise.race([inflight[0]!.settled, woke]);
      g.wake = null;
      if (r === 'woke') continue;
      const head = inflight.shift()!;
      if (r === ok) {
        failures = 0;
        g.offset = head.end; // commit: only after the handler resolved, in log order
        compact(t);
        continue;
      }
      failures++;
      opts.onError?.(g.opts.group, r);
      await Promise.all(inflight.splice(0).map((b) => b.settled));
      next = g.offset;
      await sleep(backoffDelayMs(failures, REDELIVERY_BACKOFF));
    }
    // Stopping: let the batches in flight finish, and commit those that succeeded, in order.
    for (const b of inflight) {
      if ((await b.settled) !== ok) break;
      g.offset = b.end;
      compact(t);
    }
  }

  return {
    kind: 'in-process',
    ready: async () => !closed,
    async publish(topic, messages) {
      if (closed) throw new BackpressureError('in-process bus is closed');
      if (messages.length === 0) return;
      const t = topicOf(topic);
      if (t.log.length + messages.length > maxBuffered) {
        throw new BackpressureError(`in-process bus: topic ${topic} holds ${t.log.length} records`);
      }
      t.log.push(...messages);
      const seq = end(t);
      const durable = new Promise<void>((resolve, reject) => t.waiting.push({ seq, resolve, reject }));
      for (const g of t.groups.values()) g.wake?.();
      compact(t);
      await durable;
    },
    async subscribe(sub) {
      const t = topicOf(sub.topic);
      const previous = t.groups.get(sub.group);
      if (previous && !previous.stopped)
        throw new Error(`in-process bus: group ${sub.group} already subscribed to ${sub.topic}`);
      // A returning group resumes at its offset; a new one starts at the oldest retained record
      // (like auto.offset.reset=earliest).
      const g: Group = {
        opts: sub,
        offset: previous?.offset ?? t.base,
        stopped: false,
        wake: null,
        done: Promise.resolve(),
      };
      t.groups.set(sub.group, g);
      g.done = run(t, g).catch((err) =>
        opts.onError?.(sub.group, new Error(`consumer loop ended: ${errorMessage(err)}`)),
      );
      const subscription: Subscription = {
        async stop() {
          g.stopped = true;
          g.wake?.();
          await g.done;
        },
      };
      return subscription;
    },
    async close() {
      closed = true;
      for (const t of topics.values()) {
        for (const g of t.groups.values()) {
          g.stopped = true;
          g.wake?.();
        }
        await Promise.all([...t.groups.values()].map((g) => g.done));
        // Records not yet durable were never acknowledged: their senders must retry.
        for (const w of t.waiting.splice(0))
          w.reject(new BackpressureError('in-process bus closed before the records were stored'));
      }
    },
  };
}
