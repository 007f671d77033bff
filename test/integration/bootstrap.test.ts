// No cold start: an identity the detectors have no state for, but whose history is in the store,
// is bootstrapped from the per-minute rollup — here after a restart that lost every checkpoint.
import { describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { loadConfig } from '../../src/config/index.js';
import { listFindings, openStore } from '../../src/store/index.js';
import { tempDataDir } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Stores `history` through one vigil, deletes every detector checkpoint (only the stored events and
 * their rollup remain), starts a second vigil on the same data and posts `rest` to it.
 */
async function restartWithoutCheckpoints(history: readonly object[], rest: readonly object[]) {
  const dataDir = tempDataDir();
  const post = async (v: TestVigil, events: readonly object[]) => {
    for (let i = 0; i < events.length; i += 5_000)
      expect((await v.post(events.slice(i, i + 5_000))).status).toBe(200);
  };
  const first = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'bs-admin' } });
  await post(first, history);
  await first.stop();

  const config = loadConfig({ VIGIL_DATA_DIR: dataDir });
  const store = await openStore(config.env, config.dataDir);
  await store.client.command({ query: 'TRUNCATE TABLE detector_state' });
  await store.close();

  const second = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: 'bs-admin' } });
  expect(second.app.metrics.counter('detect_states_restored')).toBe(0);
  await post(second, rest);
  return second;
}

describe('bootstrap from the rollup', () => {
  it('starts known identities warm without any checkpoint, and still catches the burst', async () => {
    const tenant = 'bootstrap';
    const w = generateWorkload({ tenant, days: 3, people: 4, services: 1, seed: 12 });
    const history = w.events.filter((e) => Date.parse(String(e.time)) < w.attackStart);
    const rest = w.events.filter((e) => Date.parse(String(e.time)) >= w.attackStart);

    const second = await restartWithoutCheckpoints(history, rest);
    try {
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

  it('starts new-collection and off-hours warm too: a week of history, no checkpoint, only the attacker flagged', async () => {
    const tenant = 'bootstrap-week';
    // Ten days: past both detectors' week of warm-up. With seed 12 nobody reads customer_pii before
    // the attack, and the attacker is never active on a weekday at 23:00.
    const w = generateWorkload({ tenant, days: 10, people: 4, services: 1, seed: 12 });
    const history = w.events.filter((e) => Date.parse(String(e.time)) < w.attackStart);
    expect(history.some((e) => e.collection === 'customer_pii')).toBe(false);
    const own = history.filter((e) => e.user === w.attacker);
    const usual = own.at(-1)!.collection!;
    // After the scrape, the attacker comes back at 23:00 the same day, reading a collection it knows.
    const late = Math.floor(w.attackStart / 86_400_000) * 86_400_000 + 23 * 3_600_000;
    const night = Array.from({ length: 40 }, (_, i) => ({
      ...own.at(-1)!,
      id: `night-${i}`,
      time: new Date(late + i * 60_000).toISOString(),
      collection: usual,
    }));
    const rest = [...w.events.filter((e) => Date.parse(String(e.time)) >= w.attackStart), ...night];

    const second = await restartWithoutCheckpoints(history, rest);
    try {
      const attacker = second.app.tokenizer.token('actor', tenant, w.attacker, 'user');
      // Fresh states would still be in their week of warm-up: these findings need the bootstrap.
      const after = async () =>
        (await listFindings(second.app.store.client, { tenant })).filter(
          (f) => f.event_time >= w.attackStart,
        );
      const found = await waitFor(
        after,
        (f) =>
          ['volume-spike', 'new-collection', 'off-hours'].every((d) =>
            f.some((x) => x.actor === attacker && x.detector === d),
          ),
        { what: 'volume-spike, new-collection and off-hours findings from bootstrapped states' },
      );
      expect(found.find((x) => x.detector === 'new-collection')!.collection).toBe('customer_pii');
      expect(found.find((x) => x.detector === 'off-hours')!.event_time).toBeGreaterThanOrEqual(late);
      // The identities that came back raise nothing: no "new" collections, no "off" hours.
      expect([...new Set((await after()).map((f) => f.actor))]).toEqual([attacker]);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
