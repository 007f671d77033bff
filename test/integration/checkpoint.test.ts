// Detector state survives a restart: baselines learned before a stop are checkpointed to
// ClickHouse and restored, so a burst right after the restart is still judged against them.
import { describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { listFindings } from '../../src/store/index.js';
import { tempDataDir } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

describe('detector checkpoints', () => {
  it('resumes baselines after a restart and still detects the burst', async () => {
    const tenant = 'checkpoint';
    const dataDir = tempDataDir();
    const w = generateWorkload({ tenant, days: 3, people: 4, services: 1, seed: 5 });
    const history = w.events.filter((e) => Date.parse(String(e.time)) < w.attackStart);
    const rest = w.events.filter((e) => Date.parse(String(e.time)) >= w.attackStart);

    const first = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'cp-admin' } });
    for (let i = 0; i < history.length; i += 5_000)
      expect((await first.post(history.slice(i, i + 5_000))).status).toBe(200);
    await waitFor(
      () => first.app.metrics.counter('detect_events'),
      (n) => n >= history.length,
      { what: 'history detected' },
    );
    const identities = first.app.runtime!.entities()['volume-spike']!;
    await first.stop();

    const second = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'cp-admin' } });
    try {
      expect(second.app.metrics.counter('detect_states_restored')).toBeGreaterThanOrEqual(identities);
      expect(second.app.runtime!.entities()['volume-spike']).toBe(identities);
      for (let i = 0; i < rest.length; i += 5_000)
        expect((await second.post(rest.slice(i, i + 5_000))).status).toBe(200);
      const attacker = second.app.tokenizer.token('actor', tenant, w.attacker, 'user');
      const findings = await waitFor(
        () => listFindings(second.app.store.client, { tenant }),
        (f) => f.some((x) => x.actor === attacker && x.detector === 'volume-spike'),
        { what: 'the burst finding after restart' },
      );
      // Warm-up is 24 h: without the restored baseline volume-spike could not have fired.
      expect(findings.some((f) => f.actor === attacker && f.detector === 'volume-spike')).toBe(true);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
