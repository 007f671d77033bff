// credential-sharing: one credential used by more identities or networks in an hour than it ever
// was, and identities on a network they never used, driven through the detector runtime.
import { describe, expect, it } from 'vitest';
import {
  type CredentialSharingState,
  createCredentialSharingDetector,
  createNewNetworkDetector,
  estimateStateBytes,
  type NewNetworkState,
  credentialSharingLayout,
  newNetworkLayout,
} from '../../../detectors/credential-sharing/credential-sharing.detector.js';
import { credentialSharingParamsSchema } from '../../../detectors/credential-sharing/credential-sharing.params.js';
import { hash16 } from '../../../detectors/shared/index.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import {
  type AccessEvent,
  deterministicId,
  type Finding,
  findingSchema,
  PREVIOUS_TOKEN_ATTRIBUTES,
} from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { latestById, makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom, historyOf } from '../../helpers/rollup.js';

/** A ring's bytes: a 5-byte header and one byte an hour (the memory figures depend on it). */
const ringBytes = (hours: number) => hours + 5;

const PARAMS = credentialSharingParamsSchema.parse({});
const layout = credentialSharingLayout(PARAMS.history_hours, PARAMS.max_known_networks);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const TENANT = 't-test';
const ALICE = 'usr_k1_aliceAAAAAAAAAAAAAAAAA';
const ALICE_KEY = 'key_k1_aliceAAAAAAAAAAAAAAAAA';
const OFFICE = 'net_k1_officeAAAAAAAAAAAAAAAAA';
const VPN = 'net_k1_vpnBBBBBBBBBBBBBBBBBBBB';
const CI_KEY = 'key_k1_ciCCCCCCCCCCCCCCCCCCCCC';
const ROAMER = 'usr_k1_roamerRRRRRRRRRRRRRRRR';
const STRANGER = 'usr_k1_strangerSSSSSSSSSSSSSSS';
const ELSEWHERE = 'net_k1_elsewhereEEEEEEEEEEEEEE';

/**
 * Alice on her own key, 09–17, from the office or (a third of the hours) the VPN; three CI runners
 * sharing one key from two networks around the clock; a roaming consultant on a new network every
 * other day.
 */
function normalDays(start: number, days: number, seed: number): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let h = 0; h < days * 24; h++) {
    const t0 = start + h * HOUR;
    const hod = h % 24;
    if (hod >= 9 && hod < 17) {
      const net = rand() < 0.33 ? VPN : OFFICE;
      for (let i = 0; i < 6; i++)
        out.push(
          makeEvent({ actor: ALICE, credential: ALICE_KEY, src_net: net, time: t0 + i * 10 * MINUTE }),
        );
      const day = Math.floor(h / 24);
      out.push(
        makeEvent({
          actor: ROAMER,
          credential: 'key_k1_roamerRRRRRRRRRRRRRRRR',
          src_net: `net_k1_hotel${Math.floor(day / 2)}`,
          time: t0 + 30 * MINUTE,
        }),
      );
    }
    for (let r = 0; r < 3; r++)
      out.push(
        makeEvent({
          actor: `svc_k1_runner${r}CCCCCCCCCCCCCCCC`,
          credential: CI_KEY,
          src_net: r < 2 ? 'net_k1_dc1' : 'net_k1_dc2',
          time: t0 + r * 5 * MINUTE,
        }),
      );
  }
  return out.sort((a, b) => a.time - b.time);
}

const newRuntime = () =>
  createDetectorRuntime([createCredentialSharingDetector(PARAMS), createNewNetworkDetector(PARAMS)]);

describe('credential-sharing: normal behaviour', () => {
  it('raises nothing for three weeks: a person on two networks, shared CI runners, a roaming consultant', () => {
    expect(newRuntime().process(normalDays(MONDAY, 21, 1), MONDAY + 21 * DAY)).toEqual([]);
  });
});

describe('credential-sharing: a personal key used by a second identity', () => {
  const hour = MONDAY + 9 * DAY + 14 * HOUR;
  const stolen = [
    makeEvent({ actor: STRANGER, credential: ALICE_KEY, src_net: OFFICE, time: hour + 20 * MINUTE }),
    makeEvent({ actor: STRANGER, credential: ALICE_KEY, src_net: OFFICE, time: hour + 25 * MINUTE }),
  ];
  const events = [...normalDays(MONDAY, 10, 2), ...stolen];
  const now = MONDAY + 10 * DAY;
  const findings = newRuntime()
    .process(events, now)
    .filter((f) => f.entity_type === 'credential');

  it('raises one finding for the credential, naming the newcomer as the actor', () => {
    expect(latestById(findings)).toHaveLength(1);
    const f = findings.at(-1)!;
    expect(findingSchema.safeParse(f).success).toBe(true);
    expect(f.finding_id).toBe(deterministicId('credential-sharing', TENANT, ALICE_KEY, hour));
    expect(f.entity).toBe(ALICE_KEY);
    expect(f.actor).toBe(STRANGER);
    expect(f.observed).toBe(2);
    expect(f.expected).toBe(1);
    expect(f.band_high).toBe(1);
    expect(f.evidence).toEqual([stolen[0]!.event_id]);
    expect(f.attack_techniques).toEqual(['T1078']);
    expect(f.score).toBeGreaterThanOrEqual(0.75);
  });

  it('says it with the credential token, observed and usual', () => {
    const s = findings.at(-1)!.sentence;
    expect(s).toContain(ALICE_KEY);
    expect(s).toMatch(
      /was used by 2 identities from 1 source network (\(1 network it had never been used from\) )?in the hour from 2026-11-11T14:00Z; in \d+ active hours it never had more than 1 identity, \d networks? or \d new networks? in an hour/,
    );
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(
      newRuntime()
        .process(events, now)
        .filter((f) => f.entity_type === 'credential'),
    ).toEqual(findings);
  });
});

describe('credential-sharing: one key from many networks at once', () => {
  it('fires when the CI key shows up from six networks in an hour', () => {
    const hour = MONDAY + 9 * DAY + 3 * HOUR;
    const spread = Array.from({ length: 6 }, (_, i) =>
      makeEvent({
        actor: 'svc_k1_runner0CCCCCCCCCCCCCCCC',
        credential: CI_KEY,
        src_net: `net_k1_far${i}`,
        time: hour + 30 * MINUTE + i * MINUTE,
      }),
    );
    const findings = latestById(
      newRuntime().process([...normalDays(MONDAY, 10, 3), ...spread], MONDAY + 10 * DAY),
    );
    const f = findings.filter((x) => x.entity_type === 'credential');
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toContain('source networks it never used');
    expect(f[0]!.observed).toBe(6);
    expect(f[0]!.band_high).toBe(PARAMS.min_foreign_networks - 1);
    expect(f[0]!.features.networks).toBe(8); // and its two usual ones
  });
});

describe('credential-sharing: a key tried from networks it never used', () => {
  /** Wednesday 15:00 of the third week: Alice's key, at her desk, and from three strange networks. */
  const hour = MONDAY + 16 * DAY + 15 * HOUR;
  const strangers = (n: number, also: AccessEvent[] = []) => [
    ...also,
    ...Array.from({ length: n }, (_, i) =>
      makeEvent({
        actor: ALICE,
        credential: ALICE_KEY,
        src_net: `net_k1_foreign${i}FFFFFFFFFFFFFFFF`,
        time: hour + (20 + i) * MINUTE,
      }),
    ),
  ];
  const atDesk = [
    makeEvent({ actor: ALICE, credential: ALICE_KEY, src_net: OFFICE, time: hour + 5 * MINUTE }),
  ];
  const onCredential = (events: AccessEvent[]) =>
    latestById(newRuntime().process([...normalDays(MONDAY, 16, 6), ...events], hour + HOUR)).filter(
      (f) => f.entity_type === 'credential',
    );

  it('fires on three foreign networks in one hour, without her office network', () => {
    const [f, ...rest] = onCredential(strangers(3));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ entity: ALICE_KEY, observed: 3, band_high: 2 });
    expect(f!.title).toBe('Credential used from 3 source networks it never used, in an hour');
    expect(f!.sentence).toContain('from 3 source networks (3 networks it had never been used from)');
    expect(f!.score).toBeGreaterThanOrEqual(0.7);
  });

  it('fires on three foreign networks next to her office network', () => {
    expect(onCredential(strangers(3, atDesk)).map((f) => f.observed)).toEqual([3]);
  });

  it('stays quiet for two foreign networks in an hour (a trip, a phone hotspot)', () => {
    expect(onCredential(strangers(2, atDesk))).toEqual([]);
  });

  it('converts a checkpointed state of the layout before the known networks, learning them anew', () => {
    const detector = createCredentialSharingDetector(PARAMS);
    const rt = createDetectorRuntime([detector]);
    rt.process(normalDays(MONDAY, 3, 7));
    const s = rt.stateOf(
      'credential-sharing',
      `${TENANT}\u0000credential\u0000${ALICE_KEY}`,
    ) as CredentialSharingState;
    const {
      foreign: _f,
      foreignFrom: _ff,
      ...old
    } = { ...s, buf: s.buf.slice(0, 64 + 2 * ringBytes(PARAMS.history_hours)) };
    expect(old.buf.byteLength).toBe(layout.bytesBefore('known'));
    const restored = detector.restoreState!(old)!;
    expect(restored.buf.byteLength).toBe(s.buf.byteLength);
    expect(restored.buf.subarray(0, old.buf.byteLength)).toEqual(old.buf);
    expect(restored).toMatchObject({ foreign: 0, foreignFrom: s.hour + PARAMS.warmup_hours });
    expect(detector.restoreState!({ ...s, buf: new Uint8Array(7) })).toBeUndefined();
  });
});

describe('credential-sharing: a new network for an identity', () => {
  const t = MONDAY + 14 * DAY + 10 * HOUR + 7 * MINUTE;
  const away = makeEvent({ actor: ALICE, credential: ALICE_KEY, src_net: ELSEWHERE, time: t });
  const findings = newRuntime()
    .process([...normalDays(MONDAY, 15, 4), away], MONDAY + 15 * DAY)
    .filter((f) => f.entity_type === 'actor');

  it('fires once, for the identity, with the network in the sentence', () => {
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(findingSchema.safeParse(f).success).toBe(true);
    expect(f.finding_id).toBe(
      deterministicId('credential-sharing/new-network', TENANT, ALICE, MONDAY + 14 * DAY + 10 * HOUR),
    );
    expect(f.detector).toBe('credential-sharing');
    expect(f.entity).toBe(ALICE);
    expect(f.evidence).toEqual([away.event_id]);
    expect(f.sentence).toContain(ALICE);
    expect(f.sentence).toContain(
      `connected from ${ELSEWHERE}, a source network it had not used before, at 2026-11-16T10:07Z`,
    );
    expect(f.sentence).toMatch(/it used 3 networks since/);
    expect(f.severity).toBe('medium');
  });

  it('stays quiet during warm-up', () => {
    const early = makeEvent({ actor: ALICE, src_net: ELSEWHERE, time: MONDAY + 3 * DAY + 10 * HOUR });
    expect(newRuntime().process([...normalDays(MONDAY, 4, 5), early], MONDAY + 4 * DAY)).toEqual([]);
  });
});

describe('credential-sharing: tokenization key rotation', () => {
  it('carries known networks and identities over to the new tokens instead of calling them new', () => {
    const rotated = (e: AccessEvent): AccessEvent => ({
      ...e,
      actor: `${e.actor}-v2`,
      credential: `${e.credential}-v2`,
      src_net: `${e.src_net}-v2`,
      attributes: {
        ...e.attributes,
        [PREVIOUS_TOKEN_ATTRIBUTES.actor]: e.actor,
        [PREVIOUS_TOKEN_ATTRIBUTES.credential]: e.credential,
        [PREVIOUS_TOKEN_ATTRIBUTES.src_net]: e.src_net,
      },
    });
    const all = normalDays(MONDAY, 20, 8);
    const cut = MONDAY + 14 * DAY + 12 * HOUR + 20 * MINUTE;
    const events = all.map((e) => (e.time < cut ? e : rotated(e)));
    expect(newRuntime().process(events, MONDAY + 20 * DAY)).toEqual([]);
  });
});

describe('credential-sharing: compact state', () => {
  it('keeps the credential and identity states fixed-size after 10,000 events from 1,000 networks', () => {
    const rt = newRuntime();
    rt.process(normalDays(MONDAY, 8, 6), MONDAY + 8 * DAY);
    const credKey = `${TENANT}\u0000credential\u0000${ALICE_KEY}`;
    const actorKey = `${TENANT}\u0000${ALICE}`;
    const credBefore = estimateStateBytes(
      rt.stateOf('credential-sharing', credKey) as CredentialSharingState,
    );
    const actorBefore = estimateStateBytes(
      rt.stateOf('credential-sharing/new-network', actorKey) as NewNetworkState,
    );
    const start = MONDAY + 8 * DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({
        actor: ALICE,
        credential: ALICE_KEY,
        src_net: `net_k1_n${i % 1000}`,
        time: start + i * 30_000,
      }),
    );
    rt.process(events, start);
    const cred = rt.stateOf('credential-sharing', credKey) as CredentialSharingState;
    const actor = rt.stateOf('credential-sharing/new-network', actorKey) as NewNetworkState;
    expect(cred.networks).toBe(16);
    expect(cred.buf.byteLength).toBe(
      64 + 3 * ringBytes(PARAMS.history_hours) + 4 * PARAMS.max_known_networks,
    );
    expect(actor.buf.byteLength).toBe(4 * PARAMS.max_known_networks);
    expect(estimateStateBytes(cred)).toBeLessThanOrEqual(credBefore + 700);
    expect(estimateStateBytes(actor)).toBeLessThanOrEqual(actorBefore + 700);
    expect(estimateStateBytes(actor)).toBeLessThan(1_000);
  });
});

describe('credential-sharing/new-network: bootstrap from the store (restart without checkpoints)', () => {
  const before = MONDAY + 14 * DAY + 10 * HOUR;
  const days = normalDays(MONDAY, 16, 4);
  const history = days.filter((e) => e.time < before);
  const away = makeEvent({
    actor: ALICE,
    credential: ALICE_KEY,
    src_net: ELSEWHERE,
    time: before + 7 * MINUTE,
  });
  const live = [...days.filter((e) => e.time >= before), away].sort((a, b) => a.time - b.time);
  const actors = [...new Set(history.map((e) => e.actor))];
  const now = MONDAY + 16 * DAY;

  /** A runtime that starts at `before`, every identity bootstrapped from its stored history. */
  function bootstrapped(strip?: 'networks') {
    return bootstrapFrom(newRuntime(), history, {
      tenant: TENANT,
      actors,
      before,
      edit: strip ? (h) => ({ ...h, networks: undefined }) : undefined,
    });
  }
  const newNetworks = (f: Finding[]) => latestById(f).filter((x) => x.entity_type === 'actor');

  it('knows the networks each identity used: no flood of "new" networks, only the one never used', () => {
    const found = newNetworks(bootstrapped().process(live, now));
    expect(found.map((f) => [f.entity, f.evidence])).toEqual([[ALICE, [away.event_id]]]);
    expect(found[0]!.sentence).toMatch(/it used 3 networks since 2026-11-02T09:00Z/);
  });

  it('restores the known networks, their last use and the rate of new ones as live traffic left them', () => {
    const learned = newRuntime();
    learned.process(history, before);
    const booted = bootstrapped();
    expect(booted.process(live, now)).toEqual(learned.process(live, now));
    const pairs = (s: NewNetworkState) =>
      newNetworkLayout(PARAMS.max_known_networks)
        .sections.known.entries(s.buf)
        .sort((a, b) => a[0] - b[0]);
    for (const actor of [ALICE, ROAMER]) {
      const a = learned.stateOf(
        'credential-sharing/new-network',
        `${TENANT}\u0000${actor}`,
      ) as NewNetworkState;
      const b = booted.stateOf(
        'credential-sharing/new-network',
        `${TENANT}\u0000${actor}`,
      ) as NewNetworkState;
      expect([b.firstHour, b.discovered, b.discoveredHour, pairs(b)]).toEqual([
        a.firstHour,
        a.discovered,
        a.discoveredHour,
        pairs(a),
      ]);
    }
    // The consultant's hotels were discoveries: it is known to roam.
    const roamer = booted.stateOf(
      'credential-sharing/new-network',
      `${TENANT}\u0000${ROAMER}`,
    ) as NewNetworkState;
    expect(roamer.discovered).toBeGreaterThan(1);
  });

  it('stays cold (in warm-up) when the history has no networks, rather than call every network new', () => {
    expect(newNetworks(bootstrapped('networks').process(live, now))).toEqual([]);
  });
  it('keeps the most recently used networks when the store knows more than it remembers', () => {
    const params = credentialSharingParamsSchema.parse({ max_known_networks: 4 });
    const nets = Array.from({ length: 6 }, (_, i) => `net_k1_rotation${i}AAAAAAAAAAAAAAAA`);
    // Day d from network d mod 6: last used N3 (day 3) … N2 (day 8).
    const stored = Array.from({ length: 9 }, (_, d) =>
      makeEvent({ actor: ALICE, src_net: nets[d % 6]!, time: MONDAY + d * DAY + 10 * HOUR }),
    );
    const at = MONDAY + 10 * DAY;
    const learned = createDetectorRuntime([createNewNetworkDetector(params)]);
    learned.process(stored, at);
    const booted = createDetectorRuntime([createNewNetworkDetector(params)]);
    booted.bootstrap(makeEvent({ actor: ALICE, time: at }), historyOf(stored, TENANT, ALICE, at), at);
    const keysOf = (rt: typeof learned) =>
      newNetworkLayout(4)
        .sections.known.keys(
          (rt.stateOf('credential-sharing/new-network', `${TENANT}\u0000${ALICE}`) as NewNetworkState).buf,
        )
        .sort((a, b) => a - b);
    const expected = [0, 1, 2, 5].map((i) => hash16(nets[i]!)).sort((a, b) => a - b);
    expect(keysOf(booted)).toEqual(expected);
    expect(keysOf(learned)).toEqual(expected);
  });
});

describe('credential-sharing: per-credential bootstrap from the store (restart without checkpoints)', () => {
  /** Thursday 10:00, three days into the stored history: Alice's key has 25 active hours. */
  const before = MONDAY + 3 * DAY + 10 * HOUR;
  const days = normalDays(MONDAY, 4, 5);
  const stored = days.filter((e) => e.time < before);
  const nextHour = days.filter((e) => e.time >= before && e.time < before + HOUR);
  const CARLOS = 'usr_k1_carlosCCCCCCCCCCCCCCCCC';
  /** Alice's personal key in three pairs of hands, from three networks, in the first hour after the restart. */
  const shared = [
    makeEvent({ actor: STRANGER, credential: ALICE_KEY, src_net: ELSEWHERE, time: before + 12 * MINUTE }),
    makeEvent({
      actor: CARLOS,
      credential: ALICE_KEY,
      src_net: 'net_k1_farFFFFFFFFFFFFFFFFFFF',
      time: before + 14 * MINUTE,
    }),
  ];
  const batch = [...nextHour, ...shared].sort((a, b) => a.time - b.time);
  const credentialKey = (credential: string) => `${TENANT}\u0000credential\u0000${credential}`;

  /** A runtime started at `before`, bootstrapped as the detect stage does for the batch's unknown identities. */
  function restarted(strip?: 'credentials') {
    const rt = newRuntime();
    for (const u of rt.unknownIdentities(batch)) {
      const h = historyOf(stored, TENANT, u.actor, u.before);
      if (h.rows.length === 0) continue;
      const first = batch.find((e) => e.actor === u.actor)!;
      rt.bootstrap(first, strip ? { ...h, credentials: undefined } : h, u.before);
    }
    return rt;
  }
  const credentialFindings = (f: Finding[]) => latestById(f).filter((x) => x.entity_type === 'credential');

  it('reads every identity of a credential into its history, not only the one looked up', () => {
    const ci = historyOf(stored, TENANT, 'svc_k1_runner0CCCCCCCCCCCCCCCC', before).credentials!;
    expect(new Set(ci.map((c) => c.credential))).toEqual(new Set([CI_KEY]));
    expect(new Set(ci.map((c) => `${c.actors}/${c.networks}`))).toEqual(new Set(['3/2']));
    expect(ci).toHaveLength(64);
    expect(ci.at(-1)!.hour).toBe(before - HOUR);
  });

  it('knows a shared service key is shared: three runners an hour are not news, and the state is the live one', () => {
    const learned = newRuntime();
    learned.process(stored, before);
    const booted = restarted();
    const onCi = (f: Finding[]) => credentialFindings(f).filter((x) => x.entity === CI_KEY);
    expect(onCi(booted.process(batch, before + HOUR))).toEqual([]);
    expect(onCi(learned.process(batch, before + HOUR))).toEqual([]);
    const rings = (rt: typeof learned) => {
      const s = rt.stateOf('credential-sharing', credentialKey(CI_KEY)) as CredentialSharingState;
      return [layout.sections.actorRing.values(s.buf), layout.sections.networkRing.values(s.buf)];
    };
    expect(rings(booted)).toEqual(rings(learned));
    expect(rings(booted)[0]).toEqual(Array(PARAMS.history_hours).fill(3));
  });

  it('still catches a personal key suddenly used by three identities from three networks, without 24 h of warm-up', () => {
    const found = credentialFindings(restarted().process(batch, before + HOUR));
    expect(found.map((f) => [f.entity, f.finding_id])).toEqual([
      [ALICE_KEY, deterministicId('credential-sharing', TENANT, ALICE_KEY, before)],
    ]);
    expect(found[0]!.observed).toBe(3);
    expect(found[0]!.band_high).toBe(PARAMS.min_actors - 1);
  });

  it('stays cold when the history has nothing for the credential', () => {
    expect(credentialFindings(restarted('credentials').process(batch, before + HOUR))).toEqual([]);
    const s = restarted('credentials').stateOf(
      'credential-sharing',
      credentialKey(ALICE_KEY),
    ) as CredentialSharingState;
    expect([s.firstHour, s.hour]).toEqual([before / HOUR, before / HOUR]);
  });
});
