// Detector state follows its partitions: two detect stages share the events topic's consumer group
// on the real broker and one checkpoint table (the embedded ClickHouse engine). When one member
// leaves, the other is handed its partitions, and the identities it never saw arrive with their
// checkpointed baselines (loaded on first sight) instead of starting afresh.
import { afterAll, describe, expect, it } from 'vitest';
import { createDetectors } from '../../detectors/index.js';
import { type Bus, createKafkaBus, jsonMessage, partitionKey, TOPICS } from '../../src/bus/index.js';
import { loadConfig, pipelineSchema } from '../../src/config/index.js';
import {
  type CheckpointStore,
  createDetectorRuntime,
  type DetectorRuntime,
  decodeState,
  encodeState,
  startDetectStage,
} from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import {
  loadCheckpoints,
  loadCheckpointsFor,
  migrate,
  openStore,
  type StoreHandle,
  saveCheckpoints,
} from '../../src/store/index.js';
import { createMetrics, type Metrics } from '../../src/telemetry/index.js';
import { makeEvent } from '../helpers/factories.js';
import { KAFKA_BROKERS, tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';

const HOUR = 3_600_000;
/** A Monday, 00:00 UTC, two to three weeks before the run (test/helpers/clock.ts). */
const MONDAY = testTime(0);

function checkpointsIn(store: StoreHandle, runtime: DetectorRuntime): CheckpointStore {
  const detectors = () => runtime.detectorNames;
  const decode = (rows: Array<{ detector: string; entity_key: string; state: string }>) =>
    rows.map((r) => ({ detector: r.detector, key: r.entity_key, state: decodeState(r.state) }));
  return {
    save: (entries) =>
      saveCheckpoints(
        store.client,
        entries.map((e) => ({ detector: e.detector, entity_key: e.key, state: encodeState(e.state) })),
      ),
    load: async () => decode(await loadCheckpoints(store.client, detectors())),
    loadKeys: async (keys) => decode(await loadCheckpointsFor(store.client, detectors(), keys)),
  };
}

describe('detector state on a Kafka rebalance', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('loads the checkpointed state of identities that moved to this member on first sight', async () => {
    const prefix = `${uniqueName('rb')}.`;
    const tenant = uniqueName('rebalance');
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    const store = await openStore(config.env, config.dataDir);
    cleanup.push(() => store.close());
    await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });

    const members: Array<{
      bus: Bus;
      runtime: DetectorRuntime;
      metrics: Metrics;
      stop: () => Promise<void>;
    }> = [];
    for (let m = 0; m < 2; m++) {
      const bus = await createKafkaBus({
        brokers: [KAFKA_BROKERS],
        clientId: `rb-${m}`,
        prefix,
        partitions: 4,
      });
      const runtime = createDetectorRuntime(createDetectors(pipelineSchema.parse({ version: 1 })));
      const metrics = createMetrics();
      const sub = await startDetectStage({
        bus,
        runtime,
        metrics,
        checkpoints: checkpointsIn(store, runtime),
        checkpointIntervalMs: 300,
      });
      const stop = async () => {
        await sub.stop();
        await bus.close();
      };
      cleanup.push(stop);
      members.push({ bus, runtime, metrics, stop });
    }

    // Twelve identities, each active from its own first hour: the first hour is what a state
    // remembers of its identity's past (firstHour), so it tells a restored state from a new one.
    const actors = Array.from({ length: 12 }, (_, i) => `usr_k1_rebalance${String(i).padStart(13, 'x')}`);
    const firstHour = (i: number) => Math.floor(MONDAY / HOUR) + i;
    const history: AccessEvent[] = actors.flatMap((actor, i) =>
      Array.from({ length: 5 }, (_, k) =>
        makeEvent({ tenant, actor, time: (firstHour(i) + k) * HOUR + 60_000, collection: `docs-${k}` }),
      ),
    );
    const producer = await createKafkaBus({
      brokers: [KAFKA_BROKERS],
      clientId: 'rb-producer',
      prefix,
      partitions: 4,
    });
    cleanup.push(() => producer.close());
    const publish = (events: AccessEvent[]) =>
      producer.publish(
        TOPICS.events,
        events.map((e) => jsonMessage(partitionKey(e.tenant, e.actor), e)),
      );
    await publish(history);
    const detected = () => members.reduce((n, m) => n + m.metrics.counter('detect_events'), 0);
    await waitFor(detected, (n) => n >= history.length, { timeoutMs: 45_000, what: 'history detected' });
    const keyOf = (actor: string) => `${tenant}\u0000${actor}`;
    const holds = (m: (typeof members)[number]) =>
      actors.filter((a) => m.runtime.stateOf('access-breadth', keyOf(a)) !== undefined);
    // The member holding more identities leaves; the other is handed its partitions.
    const [leaver, stayer] =
      holds(members[0]!).length >= holds(members[1]!).length
        ? [members[0]!, members[1]!]
        : [members[1]!, members[0]!];
    const moved = holds(leaver);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((a) => !holds(stayer).includes(a))).toBe(true);
    const rebalances = stayer.metrics.counter('detect_rebalances');
    await leaver.stop(); // leaves the group after its last checkpoint
    await waitFor(
      () => stayer.metrics.counter('detect_rebalances'),
      (n) => n > rebalances,
      { timeoutMs: 45_000, what: 'the remaining member rejoined the group' },
    );

    // Every identity comes back a day later.
    const later = actors.map((actor) =>
      makeEvent({ tenant, actor, time: MONDAY + 30 * HOUR, collection: 'docs-0' }),
    );
    const before = stayer.metrics.counter('detect_events');
    await publish(later);
    await waitFor(
      () => stayer.metrics.counter('detect_events'),
      (n) => n >= before + later.length,
      { timeoutMs: 45_000, what: 'the moved identities detected by the remaining member' },
    );
    expect(stayer.metrics.counter('detect_states_loaded')).toBeGreaterThanOrEqual(moved.length);
    for (const actor of actors) {
      const state = stayer.runtime.stateOf('access-breadth', keyOf(actor)) as
        | { firstHour: number }
        | undefined;
      // Its past came along: the first hour is the one the leaving member saw, not the day after.
      expect(state?.firstHour).toBe(firstHour(actors.indexOf(actor)));
    }
  }, 120_000);
});
