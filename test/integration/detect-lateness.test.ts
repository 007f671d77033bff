// Events the detect stage holds for its allowed lateness are checkpointed in the real
// detector_state table (the embedded ClickHouse engine) next to the detector states: after a crash
// they come back, in the order they belong, and once detected their rows are tombstones. On a Kafka
// rebalance a member detects on everything it holds before its identities may move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectors } from '../../detectors/index.js';
import {
  createInProcessBus,
  createKafkaBus,
  jsonMessage,
  partitionKey,
  TOPICS,
} from '../../src/bus/index.js';
import { loadConfig, pipelineSchema } from '../../src/config/index.js';
import {
  type CheckpointStore,
  createDetectorRuntime,
  decodeState,
  encodeState,
  HELD_EVENTS_CHECKPOINT,
  startDetectStage,
} from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import {
  loadCheckpoints,
  migrate,
  openStore,
  type StoreHandle,
  saveCheckpoints,
} from '../../src/store/index.js';
import { createMetrics } from '../../src/telemetry/index.js';
import { makeEvent } from '../helpers/factories.js';
import { KAFKA_BROKERS, tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TEN = testTime(0, 10);

/** As src/cli/wiring/detect.ts wires it: every detector's rows and the held events. */
function checkpointsIn(store: StoreHandle, detectors: readonly string[], live = () => true): CheckpointStore {
  return {
    save: async (entries) => {
      if (!live()) return;
      await saveCheckpoints(
        store.client,
        entries.map((e) => ({ detector: e.detector, entity_key: e.key, state: encodeState(e.state) })),
      );
    },
    load: async () =>
      (await loadCheckpoints(store.client, [...detectors, HELD_EVENTS_CHECKPOINT])).map((r) => ({
        detector: r.detector,
        key: r.entity_key,
        state: decodeState(r.state),
      })),
  };
}

describe('held events in the checkpoint table', () => {
  const cleanup: Array<() => Promise<void>> = [];
  // One embedded store per process: the tests share it, each with its own tenant.
  let store: StoreHandle;
  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    cleanup.push(() => store.close());
    await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
  });
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('survive a crash and are detected on in event-time order after the restart', async () => {
    const tenant = uniqueName('lateness');
    const actor = 'usr_k1_heldactor00000000000000';
    const key = `${tenant}\u0000${actor}`;
    const heldRow = async () =>
      (await loadCheckpoints(store.client, [HELD_EVENTS_CHECKPOINT]))
        .filter((r) => r.entity_key === key)
        .map((r) => decodeState(r.state) as AccessEvent[])[0];

    const run = async (live?: () => boolean) => {
      const bus = createInProcessBus();
      const runtime = createDetectorRuntime(createDetectors(pipelineSchema.parse({ version: 1 })));
      const metrics = createMetrics();
      const stage = await startDetectStage({
        bus,
        runtime,
        metrics,
        checkpoints: checkpointsIn(store, runtime.detectorNames, live),
        checkpointIntervalMs: 100,
        allowedLatenessMs: 10 * MIN,
      });
      cleanup.push(() => bus.close());
      const send = async (e: AccessEvent) => {
        const before = metrics.counter('detect_events');
        await bus.publish(TOPICS.events, [jsonMessage(actor, e)]);
        await waitFor(
          () => metrics.counter('detect_events'),
          (n) => n > before,
        );
      };
      return { bus, runtime, metrics, stage, send };
    };

    let alive = true;
    const first = await run(() => alive);
    const held = makeEvent({
      tenant,
      actor,
      time: TEN + 62 * MIN,
      collection: 'docs',
      attributes: { 'vigil.note': 'kept as is' },
    });
    await first.send(held);
    const saved = await waitFor(heldRow, (h) => h?.length === 1, {
      what: 'the held event in detector_state',
    });
    // The event round-trips through the state codec and the table unchanged.
    expect(saved).toEqual([held]);
    alive = false;
    await first.bus.close();

    const second = await run();
    expect(second.metrics.counter('detect_events_held_restored')).toBe(1);
    await second.send(makeEvent({ tenant, actor, time: TEN + 58 * MIN, collection: 'docs' }));
    await second.stage.stop();
    expect(second.runtime.stateOf('access-breadth', key)).toMatchObject({
      hour: Math.floor((TEN + HOUR) / HOUR),
      late: 0,
    });
    // Detected: the row is a tombstone, and a third start holds nothing.
    expect(await heldRow()).toEqual([]);
    const third = await run();
    expect(third.metrics.counter('detect_events_held_restored')).toBe(0);
    await third.stage.stop();
  }, 60_000);

  it('detects on every held event when a rebalance comes, and checkpoints nothing held', async () => {
    const prefix = `${uniqueName('late')}.`;
    const tenant = uniqueName('lateness-rb');
    const member = async (clientId: string) => {
      const bus = await createKafkaBus({ brokers: [KAFKA_BROKERS], clientId, prefix, partitions: 4 });
      const runtime = createDetectorRuntime(createDetectors(pipelineSchema.parse({ version: 1 })));
      const metrics = createMetrics();
      const stage = await startDetectStage({
        bus,
        runtime,
        metrics,
        checkpoints: checkpointsIn(store, runtime.detectorNames),
        checkpointIntervalMs: 200,
        allowedLatenessMs: 10 * MIN,
      });
      const stop = async () => {
        await stage.stop();
        await bus.close();
      };
      cleanup.push(stop);
      return { bus, runtime, metrics, stop };
    };
    const first = await member('late-0');
    await waitFor(
      () => first.metrics.counter('detect_rebalances'),
      (n) => n >= 1,
      { timeoutMs: 45_000, what: 'the first member joined' },
    );
    const actors = Array.from({ length: 6 }, (_, i) => `usr_k1_lateness${String(i).padStart(15, 'x')}`);
    const events = actors.map((actor, i) => makeEvent({ tenant, actor, time: TEN + 62 * MIN + i }));
    await first.bus.publish(
      TOPICS.events,
      events.map((e) => jsonMessage(partitionKey(e.tenant, e.actor), e)),
    );
    await waitFor(
      () => first.metrics.counter('detect_events'),
      (n) => n >= events.length,
      { timeoutMs: 45_000, what: 'the events consumed' },
    );
    const heldRows = async () =>
      (await loadCheckpoints(store.client, [HELD_EVENTS_CHECKPOINT]))
        .filter((r) => r.entity_key.startsWith(`${tenant}\u0000`))
        .map((r) => decodeState(r.state) as AccessEvent[]);
    // Held (the stream is not 10 minutes past them), and checkpointed as such.
    expect(first.metrics.counter('detect_events_released')).toBe(0);
    await waitFor(heldRows, (rows) => rows.flat().length === events.length, { what: 'held rows' });

    const rebalances = first.metrics.counter('detect_rebalances');
    const second = await member('late-1');
    await waitFor(
      () => first.metrics.counter('detect_rebalances'),
      (n) => n > rebalances,
      { timeoutMs: 45_000, what: 'the first member rejoined' },
    );
    await waitFor(
      () => first.metrics.counter('detect_events_released'),
      (n) => n === events.length,
      { what: 'everything held detected on' },
    );
    // Detected on before the states were checkpointed and dropped: every identity has a stored state
    // that counted its event, and no held row is left.
    const states = (await loadCheckpoints(store.client, ['access-breadth'])).filter((r) =>
      r.entity_key.startsWith(`${tenant}\u0000`),
    );
    expect(states.map((r) => (decodeState(r.state) as { hour: number }).hour)).toEqual(
      actors.map(() => Math.floor((TEN + HOUR) / HOUR)),
    );
    expect((await heldRows()).flat()).toEqual([]);
    await second.stop();
    await first.stop();
  }, 120_000);
});
