// A group with `concurrency` > 1 on the in-process bus: several batches in flight, handlers
// called and offsets committed in log order, a failure redelivers from the failed batch on. And
// the detect stage built on it still runs its detectors over batches in log order.
import { describe, expect, it } from 'vitest';
import { type BusMessage, jsonMessage, TOPICS } from '../../../src/bus/bus.js';
import { createInProcessBus } from '../../../src/bus/in-process.bus.js';
import type { DetectorRuntime } from '../../../src/detect/runtime.js';
import { startDetectStage } from '../../../src/detect/stage.js';
import type { AccessEvent } from '../../../src/model/index.js';
import { createMetrics } from '../../../src/telemetry/index.js';
import { makeEvent } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/wait.js';

const TOPIC = 'vigil.test.v1';
const msgs = (...values: string[]): BusMessage[] => values.map((v) => ({ key: v, value: Buffer.from(v) }));
const text = (batch: BusMessage[]) => batch.map((m) => m.value.toString()).join('');

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('in-process bus, a group with concurrency', () => {
  it('hands out several batches at once, in log order, and commits in log order', async () => {
    const bus = createInProcessBus();
    const calls: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const sub = await bus.subscribe({
      topic: TOPIC,
      group: 'g',
      maxBatch: 1,
      concurrency: 3,
      handler: async (batch) => {
        const v = text(batch);
        calls.push(v);
        const g = gate();
        gates.set(v, g);
        await g.promise;
      },
    });
    await bus.publish(TOPIC, msgs('a', 'b', 'c', 'd'));
    await waitFor(
      () => calls.length,
      (n) => n === 3,
    );
    expect(calls).toEqual(['a', 'b', 'c']);
    // The third finishing first commits nothing past the first.
    gates.get('c')!.open();
    gates.get('b')!.open();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['a', 'b', 'c']);
    gates.get('a')!.open();
    await waitFor(
      () => calls.length,
      (n) => n === 4,
    );
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    gates.get('d')!.open();
    await sub.stop();
    // Everything was committed: the group resumes after d.
    const again: string[] = [];
    const sub2 = await bus.subscribe({
      topic: TOPIC,
      group: 'g',
      handler: async (b) => void again.push(text(b)),
    });
    await bus.publish(TOPIC, msgs('e'));
    await waitFor(
      () => again,
      (a) => a.length === 1,
    );
    expect(again).toEqual(['e']);
    await sub2.stop();
    await bus.close();
  });

  it('redelivers from the failed batch on, after the ones before it were committed', async () => {
    const bus = createInProcessBus();
    const calls: string[] = [];
    let failed = false;
    await bus.subscribe({
      topic: TOPIC,
      group: 'g',
      maxBatch: 1,
      concurrency: 2,
      handler: async (batch) => {
        const v = text(batch);
        calls.push(v);
        if (v === 'b' && !failed) {
          failed = true;
          throw new Error('store down');
        }
      },
    });
    await bus.publish(TOPIC, msgs('a', 'b', 'c'));
    await waitFor(
      () => calls,
      (c) => c.filter((x) => x === 'c').length === 2,
    );
    expect(calls.filter((x) => x === 'a')).toEqual(['a']);
    expect(calls.filter((x) => x === 'b')).toEqual(['b', 'b']);
    await bus.close();
  });

  it('lets the batches in flight finish when stopped, and commits the ones that succeeded', async () => {
    const bus = createInProcessBus();
    const hold = gate();
    const calls: string[] = [];
    const sub = await bus.subscribe({
      topic: TOPIC,
      group: 'g',
      maxBatch: 1,
      concurrency: 2,
      handler: async (batch) => {
        calls.push(text(batch));
        await hold.promise;
      },
    });
    await bus.publish(TOPIC, msgs('a', 'b'));
    await waitFor(
      () => calls.length,
      (n) => n === 2,
    );
    const stopped = sub.stop();
    hold.open();
    await stopped;
    const again: string[] = [];
    await bus.subscribe({ topic: TOPIC, group: 'g', handler: async (b) => void again.push(text(b)) });
    await bus.publish(TOPIC, msgs('c'));
    await waitFor(
      () => again,
      (a) => a.length === 1,
    );
    expect(again).toEqual(['c']);
    await bus.close();
  });
});

describe('detect stage over a group with concurrency', () => {
  it('runs the detectors over batches in log order, even when one waits for stored history', async () => {
    const bus = createInProcessBus();
    const processed: string[] = [];
    const history = gate();
    const runtime = {
      process: (events: AccessEvent[]) => {
        processed.push(...events.map((e) => e.event_id));
        return [];
      },
      unknownIdentities: (events: AccessEvent[]) =>
        events.some((e) => e.event_id === 'first') ? [{ tenant: 't', actor: 'a', before: 0 }] : [],
      bootstrap: () => {},
      restore: () => {},
      takeDirty: () => [],
      entities: () => ({}),
      stateOf: () => undefined,
    } as unknown as DetectorRuntime;
    const sub = await startDetectStage({
      bus,
      runtime,
      metrics: createMetrics(),
      // The first batch's identity is new: its history read is slow.
      history: async () => {
        await history.promise;
        return new Map();
      },
    });
    const publish = (id: string) =>
      bus.publish(TOPICS.events, [jsonMessage('k', makeEvent({ event_id: id }))]);
    await publish('first');
    await new Promise((r) => setImmediate(r)); // handed out alone, waiting for its history
    await publish('second');
    await new Promise((r) => setTimeout(r, 20));
    expect(processed).toEqual([]);
    history.open();
    await waitFor(
      () => processed,
      (p) => p.length === 2,
    );
    expect(processed).toEqual(['first', 'second']);
    await sub.stop();
    await bus.close();
  });
});
