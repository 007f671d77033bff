// Events the detect stage holds for its allowed lateness are checkpointed in the real
// detector_state table (the embedded ClickHouse engine) next to the detector states: after a crash
// they come back, in the order they belong, and once detected their rows are tombstones.
import { afterAll, describe, expect, it } from 'vitest';
import { createDetectors } from '../../detectors/index.js';
import { createInProcessBus, jsonMessage, TOPICS } from '../../src/bus/index.js';
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
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TEN = Date.UTC(2026, 10, 2, 10);

/** As src/cli/app.ts wires it: every detector's rows and the held events. */
function checkpointsIn(store: StoreHandle, detectors: string[], live = () => true): CheckpointStore {
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
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('survive a crash and are detected on in event-time order after the restart', async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    const store = await openStore(config.env, config.dataDir);
    cleanup.push(() => store.close());
    await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
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
        checkpoints: checkpointsIn(store, Object.keys(runtime.entities()), live),
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
});
