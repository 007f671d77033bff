// No cold start: an identity the detectors have no state for, but whose history is in the store,
// is bootstrapped from the per-minute rollup — here after a restart that lost every checkpoint.
import { describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { loadConfig } from '../../src/config/index.js';
import { listFindings, openStore } from '../../src/store/index.js';
import { tempDataDir } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

describe('bootstrap from the rollup', () => {
  it('starts known identities warm without any checkpoint, and still catches the burst', async () => {
    const tenant = 'bootstrap';
    const dataDir = tempDataDir();
    const w = generateWorkload({ tenant, days: 3, people: 4, services: 1, seed: 12 });
    const history = w.events.filter((e) => Date.parse(String(e.time)) < w.attackStart);
    const rest = w.events.filter((e) => Date.parse(String(e.time)) >= w.attackStart);

    const first = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'bs-admin' } });
    for (let i = 0; i < history.length; i += 5_000)
      expect((await first.post(history.slice(i, i + 5_000))).status).toBe(200);
    await first.stop();

    // Lose every checkpoint: only the stored events (and their rollup) remain.
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir });
    const store = await openStore(config.env, config.dataDir);
    await store.client.command({ query: 'TRUNCATE TABLE detector_state' });
    await store.close();

    const second = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'bs-admin' } });
    try {
      expect(second.app.metrics.counter('detect_states_restored')).toBe(0);
      for (let i = 0; i < rest.length; i += 5_000)
        expect((await second.post(rest.slice(i, i + 5_000))).status).toBe(200);
      const attacker = second.app.tokenizer.token('actor', tenant, w.attacker, 'user');
      await waitFor(
        () => listFindings(second.app.store.client, { tenant }),
        (f) => f.some((x) => x.actor === attacker && x.detector === 'volume-spike'),
        { what: 'the burst finding from a bootstrapped baseline' },
      );
      expect(second.app.metrics.counter('detect_identities_bootstrapped')).toBeGreaterThan(0);
      // No flood of findings for the identities that came back: only the attacker is flagged.
      const flagged = new Set((await listFindings(second.app.store.client, { tenant })).map((f) => f.actor));
      expect([...flagged]).toEqual([attacker]);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
