// The detect stage with an allowed lateness, over the in-process bus and the real detectors: an
// event that arrives a few minutes after a later one still counts in its own hour, and the events
// held for that survive a crash through the checkpoints. (The checkpoint store here is a map: what
// is under test is the stage's logic; the ClickHouse path is in test/integration/.)
import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../detectors/index.js';
import { jsonMessage, TOPICS } from '../../../src/bus/bus.js';
import { createInProcessBus } from '../../../src/bus/in-process.bus.js';
import { pipelineSchema } from '../../../src/config/index.js';
import { HELD_EVENTS_CHECKPOINT } from '../../../src/detect/reorder.js';
import { createDetectorRuntime, type StateEntry } from '../../../src/detect/runtime.js';
import { type CheckpointStore, type DetectStageDeps, startDetectStage } from '../../../src/detect/stage.js';
import type { AccessEvent } from '../../../src/model/index.js';
import { createMetrics, type Metrics } from '../../../src/telemetry/index.js';
import { makeEvent } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/wait.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Monday 2 November 2026, 10:00 UTC. */
const TEN = Date.UTC(2026, 10, 2, 10);
const TENANT = 't-lateness';
const ACTOR = 'usr_k1_lateactor00000000000000';
const KEY = `${TENANT}\u0000${ACTOR}`;

const at = (time: number, collection = 'docs') =>
  makeEvent({ tenant: TENANT, actor: ACTOR, time, collection });

interface Breadth {
  hour: number;
  late: number;
}

/** Checkpoint rows in a map, latest per detector × key wins, as in the detector_state table. */
function mapCheckpoints(rows: Map<string, StateEntry>, live = () => true): CheckpointStore {
  return {
    save: async (entries) => {
      if (!live()) return;
      for (const e of entries) rows.set(`${e.detector}\u0000${e.key}`, structuredClone(e));
    },
    load: async () => [...rows.values()].map((e) => structuredClone(e)),
  };
}

async function start(
  allowedLatenessMs: number,
  checkpoints?: CheckpointStore,
  history?: DetectStageDeps['history'],
) {
  const bus = createInProcessBus();
  const metrics: Metrics = createMetrics();
  const runtime = createDetectorRuntime(createDetectors(pipelineSchema.parse({ version: 1 })));
  const stage = await startDetectStage({
    bus,
    runtime,
    metrics,
    allowedLatenessMs,
    checkpoints,
    checkpointIntervalMs: 50,
    history,
  });
  const send = async (e: AccessEvent) => {
    const before = metrics.counter('detect_events');
    await bus.publish(TOPICS.events, [jsonMessage(e.actor, e)]);
    // One batch per event: the order of arrival is the test's.
    await waitFor(
      () => metrics.counter('detect_events'),
      (n) => n > before,
      { what: 'the event consumed' },
    );
  };
  const breadth = () => runtime.stateOf('access-breadth', KEY) as Breadth | undefined;
  return { bus, metrics, runtime, stage, send, breadth };
}

describe('detect stage with an allowed lateness', () => {
  it('counts an event of 10:58 arriving after one of 11:02 in hour 10, where without lateness it is late', async () => {
    const strict = await start(0);
    await strict.send(at(TEN + 62 * MIN));
    await strict.send(at(TEN + 58 * MIN));
    expect(strict.breadth()).toMatchObject({ hour: Math.floor((TEN + HOUR) / HOUR), late: 1 });
    expect(strict.metrics.counter('detect_events_too_late')).toBe(1);
    await strict.stage.stop();
    await strict.bus.close();

    const tolerant = await start(10 * MIN);
    await tolerant.send(at(TEN + 62 * MIN));
    await tolerant.send(at(TEN + 58 * MIN));
    // Both wait: the stream is not 10 minutes past either yet.
    expect(tolerant.breadth()).toBeUndefined();
    expect(tolerant.metrics.counter('detect_events_held')).toBe(2);
    expect(tolerant.metrics.counter('detect_events_released')).toBe(0);
    await tolerant.send(at(TEN + 75 * MIN)); // watermark 11:05
    expect(tolerant.metrics.counter('detect_events_released')).toBe(2);
    expect(tolerant.breadth()).toMatchObject({ hour: Math.floor((TEN + HOUR) / HOUR), late: 0 });
    expect(tolerant.metrics.counter('detect_events_too_late')).toBe(0);
    // Stopping sends what is still held (11:15) to the detectors.
    await tolerant.stage.stop();
    expect(tolerant.metrics.counter('detect_events_released')).toBe(3);
    await tolerant.bus.close();
  });

  it('releases held events by the wall clock when the stream goes quiet', async () => {
    const s = await start(300);
    await s.send(at(TEN + 62 * MIN));
    expect(s.breadth()).toBeUndefined();
    await waitFor(s.breadth, (b) => b !== undefined, { what: 'the held event released' });
    expect(s.metrics.counter('detect_events_released')).toBe(1);
    await s.stage.stop();
    await s.bus.close();
  });

  it('looks up the stored history of a new identity once, not again for each batch while its events wait', async () => {
    const lookups: string[] = [];
    const s = await start(10 * MIN, undefined, async (_tenant, identities) => {
      lookups.push(...identities.map((i) => i.actor));
      return new Map();
    });
    for (const minute of [1, 2, 3]) await s.send(at(TEN + minute * MIN));
    expect(s.breadth()).toBeUndefined();
    expect(lookups).toEqual([ACTOR]);
    await s.stage.stop();
    await s.bus.close();
  });

  it('keeps held events across a crash in the checkpoints, and tombstones them once detected', async () => {
    const rows = new Map<string, StateEntry>();
    const heldRow = () =>
      rows.get(`${HELD_EVENTS_CHECKPOINT}\u0000${KEY}`)?.state as AccessEvent[] | undefined;
    let alive = true;
    const first = await start(
      10 * MIN,
      mapCheckpoints(rows, () => alive),
    );
    await first.send(at(TEN + 62 * MIN));
    // The batch is committed; the event is held, and durable once a checkpoint saved it.
    await waitFor(heldRow, (h) => h?.length === 1, { what: 'the held event checkpointed' });
    alive = false; // the process dies: no more checkpoints, no flush on stop
    await first.bus.close();

    const second = await start(10 * MIN, mapCheckpoints(rows));
    expect(second.metrics.counter('detect_events_held_restored')).toBe(1);
    await second.send(at(TEN + 58 * MIN));
    // Still held after the restart (nothing is 10 minutes behind the stream).
    expect(second.breadth()).toBeUndefined();
    await second.stage.stop();
    // The restored 11:02 went to the detectors after the 10:58: without it the hour would be 10.
    expect(second.breadth()).toMatchObject({ hour: Math.floor((TEN + HOUR) / HOUR), late: 0 });
    expect(second.metrics.counter('detect_events_released')).toBe(2);
    expect(heldRow()).toEqual([]);
    await second.bus.close();
  });
});
