// No cold start: an identity the detectors have no state for, but whose history is in the store,
// is bootstrapped from the per-minute rollup — here after a restart that lost every checkpoint.
import { describe, expect, it } from 'vitest';
import { createNewNetworkDetector } from '../../detectors/credential-sharing/credential-sharing.detector.js';
import { credentialSharingParamsSchema } from '../../detectors/credential-sharing/credential-sharing.params.js';
import { createDestructiveOpsDetector } from '../../detectors/destructive-ops/destructive-ops.detector.js';
import { destructiveOpsParamsSchema } from '../../detectors/destructive-ops/destructive-ops.params.js';
import { HISTORY_NEEDS } from '../../detectors/index.js';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { loadConfig } from '../../src/config/index.js';
import {
  createDetectorRuntime,
  credentialHistorySince,
  type IdentityHistory,
} from '../../src/detect/index.js';
import type { AccessEvent } from '../../src/model/index.js';
import { eventRow, identityHistory, listFindings, migrate, openStore } from '../../src/store/index.js';
import { makeEvent } from '../helpers/factories.js';
import { historyOf } from '../helpers/rollup.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';

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
  await store.client.command('TRUNCATE TABLE detector_state');
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
      // The identities that came back raise nothing: no "new" collections, no "off" hours, and no
      // "new" networks (past its week of warm-up, new-network would flag every service's one
      // network if the stored networks were not restored).
      expect([...new Set((await after()).map((f) => f.actor))]).toEqual([attacker]);
    } finally {
      await second.stop();
    }
  }, 180_000);
});

describe('identityHistory: what the store teaches the detectors the rollup cannot', () => {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  /** A Monday, 00:00 UTC, two to three weeks before the run (test/helpers/clock.ts). */
  const MONDAY = testTime(0);
  const ADMIN = 'usr_k1_bsadminAAAAAAAAAAAAAAAA';
  const PLAIN = 'usr_k1_bsplainBBBBBBBBBBBBBBBB';
  const HOME = 'net_k1_bshomeAAAAAAAAAAAAAAAAA';
  const VPN = 'net_k1_bsvpnBBBBBBBBBBBBBBBBBBB';
  const ELSEWHERE = 'net_k1_bselsewhereCCCCCCCCCCCC';
  const WINDOW = 600_000;
  const ADMIN_KEY = 'key_k1_bsadminAAAAAAAAAAAAAAAA';
  const PLAIN_KEY = 'key_k1_bsplainBBBBBBBBBBBBBBBB';
  const SHARED_KEY = 'key_k1_bssharedCCCCCCCCCCCCCCC';
  const OLD_KEY = 'key_k1_bsoldDDDDDDDDDDDDDDDDDD';
  /** Uses the shared key too, but is not looked up: its use is only in the keys' hours. */
  const TEAM = 'svc_k1_bsteamTTTTTTTTTTTTTTTTT';
  const TEAM_NET = 'net_k1_bsteamTTTTTTTTTTTTTTTTT';

  /**
   * Nine working days of two identities: searches (top_k 5–40) from home and now and then from the
   * VPN, a few deletes and an auth failure or two an hour; the admin also creates and drops a
   * scratch collection every afternoon. Each has its own key and now and then uses a team's shared
   * key, which a service also uses every hour from its own network; the admin used one more key
   * on the second day only (before the credentials' lookback). Events at and after `before` are in the store too (stored
   * by the time the detect stage bootstraps): the history must stop at each identity's own `before`.
   */
  function workload(tenant: string, before: number): AccessEvent[] {
    const out: AccessEvent[] = [];
    const end = before + 2 * HOUR;
    for (let t0 = MONDAY; t0 < end; t0 += HOUR) {
      const hour = new Date(t0).getUTCHours();
      if (hour < 8 || hour >= 18) continue;
      const day = Math.floor((t0 - MONDAY) / DAY);
      out.push(
        makeEvent({ tenant, actor: TEAM, credential: SHARED_KEY, src_net: TEAM_NET, time: t0 + 33 * 60_000 }),
      );
      for (const actor of [ADMIN, PLAIN]) {
        const own = actor === ADMIN ? (day === 1 ? OLD_KEY : ADMIN_KEY) : PLAIN_KEY;
        const at = (minute: number, over: Partial<AccessEvent>) =>
          out.push(
            makeEvent({ tenant, actor, time: t0 + minute * 60_000, src_net: HOME, credential: own, ...over }),
          );
        for (let i = 0; i < 12; i++)
          at(i * 5, {
            top_k: 5 + ((day * 7 + hour + i) % 36),
            src_net: i === 3 && day % 3 === 0 ? VPN : HOME,
            credential: (actor === ADMIN ? i === 5 : i === 6 && hour % 2 === 0) ? SHARED_KEY : own,
          });
        at(7, { operation: 'delete', returned: 0, top_k: 0 });
        at(8, { operation: 'search', outcome: 'denied', status_code: 403, top_k: 500 });
        if (hour % 3 === 0) at(9, { operation: 'auth', outcome: 'error', status_code: 401, top_k: 0 });
        at(10, { outcome: 'error', status_code: 503, top_k: 0 });
        if (actor === ADMIN && hour === 16) {
          at(30, { operation: 'create_collection', collection: 'scratch', top_k: 0 });
          at(50, { operation: 'drop_collection', collection: 'scratch', top_k: 0 });
        }
      }
    }
    return out;
  }

  const canonical = (h: IdentityHistory) => ({
    ...h,
    hourly: [...h.hourly].sort(
      (a, b) =>
        a.hour - b.hour || a.collection.localeCompare(b.collection) || a.operation.localeCompare(b.operation),
    ),
  });

  it("reads the rollup, the hourly top_k and failure peaks, the networks and the keys' hours, each identity cut at its own `before`", async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    const store = await openStore(config.env, config.dataDir);
    try {
      await migrate(store.client, { eventsTtlDays: 3650 });
      const tenant = uniqueName('history');
      const before = MONDAY + 8 * DAY + 10 * HOUR;
      const events = workload(tenant, before);
      // The admin also came from elsewhere right at `before`: that is the live batch, not history.
      events.push(makeEvent({ tenant, actor: ADMIN, time: before + 60_000, src_net: ELSEWHERE }));
      await store.client.insert('events', events.map(eventRow));
      const plainBefore = before - 3 * HOUR;
      const got = await identityHistory(store.client, {
        tenant,
        identities: [
          { actor: ADMIN, before },
          { actor: PLAIN, before: plainBefore },
        ],
        windowMs: WINDOW,
        lookbackMs: 21 * DAY,
        needs: HISTORY_NEEDS,
      });
      const admin = got.get(ADMIN)!;
      expect(canonical(admin)).toEqual(canonical(historyOf(events, tenant, ADMIN, before, WINDOW)));
      expect(canonical(got.get(PLAIN)!)).toEqual(
        canonical(historyOf(events, tenant, PLAIN, plainBefore, WINDOW)),
      );
      // What the comparison stands on: both networks, a top_k per hour, failures that are not outages.
      expect(admin.networks!.map((n) => n.network).sort()).toEqual([HOME, VPN].sort());
      expect(admin.events!.length).toBe(8 * 10 + 2);
      expect(Math.max(...admin.events!.map((r) => r.maxTopK))).toBe(40);
      expect(new Set(admin.events!.map((r) => r.failurePeak))).toEqual(new Set([1, 2]));
      // The keys used within the credentials' lookback, with every user of the shared one.
      const keysOf = (h: IdentityHistory) => [...new Set(h.credentials!.map((c) => c.credential))].sort();
      expect(keysOf(admin)).toEqual([ADMIN_KEY, SHARED_KEY].sort());
      expect(keysOf(got.get(PLAIN)!)).toEqual([PLAIN_KEY, SHARED_KEY].sort());
      const sharedHours = admin.credentials!.filter((c) => c.credential === SHARED_KEY);
      expect(sharedHours[0]!.hour).toBeGreaterThanOrEqual(credentialHistorySince(before, HISTORY_NEEDS));
      expect(new Set(sharedHours.map((c) => c.actors))).toEqual(new Set([2, 3]));
      expect(new Set(sharedHours.map((c) => c.networks))).toEqual(new Set([2]));
      // The service used the shared key at 08:00 and 09:00 too: after the plain identity's `before`.
      expect(sharedHours.at(-1)!.hour).toBe(before - HOUR);
      expect(Math.max(...got.get(PLAIN)!.credentials!.map((c) => c.hour))).toBeLessThan(plainBefore);

      // Bootstrapped from it, the detectors know the admin and its networks...
      const rt = createDetectorRuntime([
        createDestructiveOpsDetector(destructiveOpsParamsSchema.parse({})),
        createNewNetworkDetector(credentialSharingParamsSchema.parse({})),
      ]);
      for (const [actor, at] of [
        [ADMIN, before],
        [PLAIN, plainBefore],
      ] as const)
        rt.bootstrap(makeEvent({ tenant, actor, time: at }), got.get(actor)!, at);
      const live = (actor: string, at: number, over: Partial<AccessEvent>) =>
        makeEvent({ tenant, actor, time: at, src_net: HOME, ...over });
      const found = rt.process(
        [
          live(PLAIN, plainBefore + 60_000, { src_net: VPN }),
          live(ADMIN, before + 60_000, { src_net: VPN }),
          live(ADMIN, before + 120_000, { operation: 'drop_collection', collection: 'old' }),
          live(ADMIN, before + 180_000, { src_net: ELSEWHERE }),
          live(PLAIN, before + 240_000, { operation: 'drop_collection', collection: 'kb' }),
        ],
        before + HOUR,
      );
      // ...so only the network never used before and the drop by the identity that never
      // administers are findings (a cold start would have neither: a week of warm-up).
      expect(found.map((f) => [f.detector, f.actor, f.title])).toEqual([
        ['credential-sharing', ADMIN, 'Identity used a source network it never used before'],
        ['destructive-ops', PLAIN, 'Collection kb dropped by an identity that never administers'],
      ]);
    } finally {
      await store.close();
    }
  });
});
