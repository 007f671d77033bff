// The in-process bus: publish acknowledges only once durable groups handled the records, every
// group sees every record in order, a failed batch is redelivered, buffers are bounded.
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../src/bus/bus.js';
import { createInProcessBus } from '../../../src/bus/in-process.bus.js';
import { waitFor } from '../../helpers/wait.js';

const TOPIC = 'vigil.test.v1';

function msgs(...values: string[]): BusMessage[] {
  return values.map((v) => ({ key: `k-${v}`, value: Buffer.from(v) }));
}

function text(batch: BusMessage[]): string[] {
  return batch.map((m) => m.value.toString());
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

async function settledState(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const marker = Symbol('pending');
  // A macrotask turn lets every already-settled promise callback run first.
  const timeout = new Promise((r) => setImmediate(() => r(marker)));
  try {
    return (await Promise.race([p, timeout])) === marker ? 'pending' : 'resolved';
  } catch {
    return 'rejected';
  }
}

describe('createInProcessBus', () => {
  it('resolves publish only after the durable subscriber handled the records', async () => {
    const bus = createInProcessBus();
    const log: string[] = [];
    const hold = gate();
    await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      handler: async (batch) => {
        await hold.promise;
        log.push(`handled ${text(batch).join(',')}`);
      },
    });
    const published = bus.publish(TOPIC, msgs('a', 'b')).then(() => log.push('published'));
    expect(await settledState(published)).toBe('pending');
    hold.open();
    await published;
    expect(log).toEqual(['handled a,b', 'published']);
    await bus.close();
  });

  it('does not let a non-durable group gate publish', async () => {
    const bus = createInProcessBus();
    const hold = gate();
    const slow: string[] = [];
    await bus.subscribe({ topic: TOPIC, group: 'store', durable: true, handler: async () => {} });
    await bus.subscribe({
      topic: TOPIC,
      group: 'detect',
      handler: async (batch) => {
        await hold.promise;
        slow.push(...text(batch));
      },
    });
    await bus.publish(TOPIC, msgs('a'));
    expect(slow).toEqual([]);
    hold.open();
    await waitFor(
      () => slow,
      (s) => s.length === 1,
      { timeoutMs: 5_000, intervalMs: 5 },
    );
    expect(slow).toEqual(['a']);
    await bus.close();
  });

  it('gives every group every record, in order', async () => {
    const bus = createInProcessBus();
    const seen: Record<string, string[]> = { store: [], detect: [], export: [] };
    for (const group of Object.keys(seen)) {
      await bus.subscribe({
        topic: TOPIC,
        group,
        durable: group === 'store',
        maxBatch: 3,
        handler: async (batch) => {
          seen[group]!.push(...text(batch));
        },
      });
    }
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      const values = [`${i}-a`, `${i}-b`];
      expected.push(...values);
      await bus.publish(TOPIC, msgs(...values));
    }
    await waitFor(
      () => Object.values(seen),
      (all) => all.every((s) => s.length === expected.length),
      {
        timeoutMs: 5_000,
        intervalMs: 5,
      },
    );
    expect(seen).toEqual({ store: expected, detect: expected, export: expected });
    await bus.close();
  });

  it('respects maxBatch', async () => {
    const bus = createInProcessBus();
    const sizes: number[] = [];
    await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      maxBatch: 2,
      handler: async (batch) => {
        sizes.push(batch.length);
      },
    });
    await bus.publish(TOPIC, msgs('1', '2', '3', '4', '5'));
    expect(sizes).toEqual([2, 2, 1]);
    await bus.close();
  });

  it('keeps topics apart', async () => {
    const bus = createInProcessBus();
    const seen: string[] = [];
    await bus.subscribe({
      topic: 'other',
      group: 'g',
      durable: true,
      handler: async (b) => void seen.push(...text(b)),
    });
    await bus.subscribe({ topic: TOPIC, group: 'g', durable: true, handler: async () => {} });
    await bus.publish(TOPIC, msgs('x'));
    await bus.publish('other', msgs('y'));
    expect(seen).toEqual(['y']);
    await bus.close();
  });

  it('redelivers the same batch after a handler throws, and loses nothing', async () => {
    const errors: string[] = [];
    const bus = createInProcessBus({ onError: (group) => errors.push(group) });
    const deliveries: string[][] = [];
    let failed = false;
    await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      handler: async (batch) => {
        deliveries.push(text(batch));
        if (!failed) {
          failed = true;
          throw new Error('ClickHouse unavailable');
        }
      },
    });
    await bus.publish(TOPIC, msgs('a', 'b', 'c'));
    expect(deliveries).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(errors).toEqual(['store']);
    await bus.publish(TOPIC, msgs('d'));
    expect(deliveries.at(-1)).toEqual(['d']);
    await bus.close();
  });

  it('rejects a publish over maxBuffered with a BackpressureError', async () => {
    const bus = createInProcessBus({ maxBuffered: 10 });
    const hold = gate();
    await bus.subscribe({ topic: TOPIC, group: 'store', durable: true, handler: () => hold.promise });
    const first = bus.publish(TOPIC, msgs('1', '2', '3', '4', '5', '6'));
    const err = await bus.publish(TOPIC, msgs('7', '8', '9', '10', '11')).catch((e: unknown) => e);
    expect((err as Error).name).toBe('BackpressureError');
    expect((err as { kind?: string }).kind).toBeDefined();
    // What fits is still taken.
    const second = bus.publish(TOPIC, msgs('7', '8', '9', '10'));
    hold.open();
    await Promise.all([first, second]);
    await bus.close();
  });

  it('rejects a single publish larger than maxBuffered', async () => {
    const bus = createInProcessBus({ maxBuffered: 3 });
    const err = await bus.publish(TOPIC, msgs('1', '2', '3', '4')).catch((e: unknown) => e);
    expect((err as Error).name).toBe('BackpressureError');
    await bus.close();
  });

  it('resolves an empty publish at once', async () => {
    const bus = createInProcessBus();
    await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      handler: () => new Promise(() => {}),
    });
    await expect(bus.publish(TOPIC, [])).resolves.toBeUndefined();
    await bus.close();
  });

  it('refuses a second subscription of the same group to a topic', async () => {
    const bus = createInProcessBus();
    await bus.subscribe({ topic: TOPIC, group: 'store', handler: async () => {} });
    await expect(bus.subscribe({ topic: TOPIC, group: 'store', handler: async () => {} })).rejects.toThrow(
      /store/,
    );
    await bus.close();
  });

  it('rejects pending publishers with a BackpressureError on close', async () => {
    const bus = createInProcessBus();
    await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      handler: async () => {
        throw new Error('store down');
      },
    });
    const pending = bus.publish(TOPIC, msgs('a')).catch((e: unknown) => e);
    expect(await settledState(pending)).toBe('pending');
    await bus.close();
    const err = await pending;
    expect((err as Error).name).toBe('BackpressureError');
  });

  // Stopping the only durable group must not acknowledge records it never handled (see the report).
  it('does not acknowledge unhandled records when the durable subscription stops', async () => {
    const bus = createInProcessBus();
    const sub = await bus.subscribe({
      topic: TOPIC,
      group: 'store',
      durable: true,
      handler: async () => {
        throw new Error('store down');
      },
    });
    const outcome = bus.publish(TOPIC, msgs('a')).then(
      () => 'acknowledged',
      (e: Error) => e.name,
    );
    await sub.stop();
    await bus.close();
    expect(await outcome).toBe('BackpressureError');
  });

  // After close nothing will ever handle the records: a publish must fail, not hang (see the report).
  it('rejects a publish after close instead of leaving it pending forever', async () => {
    const bus = createInProcessBus();
    await bus.subscribe({ topic: TOPIC, group: 'store', durable: true, handler: async () => {} });
    await bus.close();
    const late = bus.publish(TOPIC, msgs('late'));
    late.catch(() => {});
    expect(await settledState(late)).toBe('rejected');
  });
});
