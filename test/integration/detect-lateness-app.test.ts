// `detection.allowed_lateness` reaches the detect stage of a whole vigil (embedded), and the
// checkpoint load at start brings back the events the stage held (rows of HELD_EVENTS_CHECKPOINT).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { encodeState, HELD_EVENTS_CHECKPOINT } from '../../src/detect/index.js';
import { openStore, saveCheckpoints } from '../../src/store/index.js';
import { makeEvent, makeGenericEvent } from '../helpers/factories.js';
import { tempDataDir } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';
import { testTime, testIso } from '../helpers/clock.js';

describe('allowed lateness in a running vigil', () => {
  it('holds events for the configured lateness and restores held events from the checkpoints', async () => {
    const dataDir = tempDataDir();
    const pipeline = path.join(dataDir, 'pipeline.yaml');
    writeFileSync(pipeline, 'version: 1\ndetection:\n  allowed_lateness: 10m\n');
    const env = { VIGIL_PIPELINE: pipeline };
    const tenant = 'lateness-app';

    const first = await startTestVigil({ dataDir, env });
    try {
      const at = (iso: string) => makeGenericEvent({ tenant, time: iso });
      expect((await first.post([at(testIso(0, 11, 2, 0))])).status).toBe(200);
      expect((await first.post([at(testIso(0, 10, 58, 0))])).status).toBe(200);
      await waitFor(
        () => first.app.metrics.counter('detect_events'),
        (n) => n >= 2,
        { what: 'both events consumed' },
      );
      // Neither is 10 minutes behind the stream: both wait, neither is too late.
      expect(first.app.metrics.counter('detect_events_held')).toBe(2);
      expect(first.app.metrics.counter('detect_events_released')).toBe(0);
      expect(first.app.metrics.counter('detect_events_too_late')).toBe(0);
    } finally {
      await first.stop();
    }
    // Stopping detected on both: nothing is held in the checkpoints. One row as a crash leaves it:
    const held = makeEvent({ tenant, time: testTime(0, 12) });
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir });
    const store = await openStore(config.env, config.dataDir);
    try {
      await saveCheckpoints(store.client, [
        {
          detector: HELD_EVENTS_CHECKPOINT,
          entity_key: `${held.tenant}\u0000${held.actor}`,
          state: encodeState([held]),
        },
      ]);
    } finally {
      await store.close();
    }

    const second = await startTestVigil({ dataDir, env });
    try {
      expect(second.app.metrics.counter('detect_events_held_restored')).toBe(1);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
