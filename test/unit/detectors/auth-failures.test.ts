// auth-failures: bursts of denied / failed requests per identity, credential and source network,
// and uses of a revoked credential, driven through the detector runtime over simulated days.
import { describe, expect, it } from 'vitest';
import {
  type AuthFailuresState,
  createAuthFailuresDetectors,
  estimateStateBytes,
  isAuthFailure,
} from '../../../detectors/auth-failures/auth-failures.detector.js';
import { authFailuresParamsSchema } from '../../../detectors/auth-failures/auth-failures.params.js';
import type { IdentityHistory } from '../../../src/detect/index.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { latestById, makeEvent } from '../../helpers/factories.js';
import { historyOf } from '../../helpers/rollup.js';

/** A ring's bytes: a 5-byte header and one byte an hour (the memory figures depend on it). */
const ringBytes = (hours: number) => hours + 5;

const PARAMS = authFailuresParamsSchema.parse({});
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const TENANT = 't-test';
const USERS = Array.from({ length: 20 }, (_, i) => `usr_k1_user${String(i).padStart(2, '0')}AAAAAAAAAAAAAAA`);
const keyOf = (actor: string) => `key_k1_${actor.slice(7)}`;
const OFFICES = [
  'net_k1_officeAAAAAAAAAAAAAAAAA',
  'net_k1_officeBBBBBBBBBBBBBBBBB',
  'net_k1_vpnCCCCCCCCCCCCCCCCCCCC',
];
const ATTACKER_NET = 'net_k1_attackerZZZZZZZZZZZZZZZ';
const SERVICE = 'svc_k1_misconfiguredSSSSSSSSSS';

/**
 * Twenty people on three networks, 09–17 every day: a few requests an hour each, 0–3 of them
 * denied (typos, expired sessions); plus a service whose missing permission gets it 5–12 denials
 * every hour around the clock.
 */
function normalDays(start: number, days: number, seed: number): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let h = 0; h < days * 24; h++) {
    const t0 = start + h * HOUR;
    const hod = h % 24;
    if (hod >= 9 && hod < 17)
      for (const [u, actor] of USERS.entries()) {
        const n = 2 + Math.floor(rand() * 4);
        const denied = Math.floor(rand() * 4);
        for (let i = 0; i < n + denied; i++)
          out.push(
            makeEvent({
              actor,
              credential: keyOf(actor),
              src_net: OFFICES[u % 3]!,
              time: t0 + Math.floor(rand() * HOUR),
              outcome: i < n ? 'allowed' : 'denied',
              status_code: i < n ? 200 : 403,
            }),
          );
      }
    const denials = 5 + Math.floor(rand() * 8);
    for (let i = 0; i < 20 + denials; i++)
      out.push(
        makeEvent({
          actor: SERVICE,
          credential: keyOf(SERVICE),
          src_net: 'net_k1_clusterDDDDDDDDDDDDDDDD',
          time: t0 + Math.floor((i * HOUR) / (20 + denials)),
          outcome: i < 20 ? 'allowed' : 'denied',
        }),
      );
  }
  return out.sort((a, b) => a.time - b.time);
}

const newRuntime = () => createDetectorRuntime(createAuthFailuresDetectors(PARAMS));

describe('auth-failures: what counts', () => {
  it('counts denials and authentication errors, not outages', () => {
    expect(isAuthFailure(makeEvent({ outcome: 'denied' }))).toBe(true);
    expect(isAuthFailure(makeEvent({ outcome: 'error', status_code: 401 }))).toBe(true);
    expect(isAuthFailure(makeEvent({ outcome: 'error', operation: 'auth', status_code: 500 }))).toBe(true);
    expect(isAuthFailure(makeEvent({ outcome: 'error', status_code: 503 }))).toBe(false);
    expect(isAuthFailure(makeEvent({ outcome: 'allowed' }))).toBe(false);
  });

  it('builds one detector per entity kind, keyed by tenant, kind and value', () => {
    const ds = createAuthFailuresDetectors(PARAMS);
    expect(ds.map((d) => d.name)).toEqual([
      'auth-failures/actor',
      'auth-failures/credential',
      'auth-failures/src_net',
    ]);
    const e = makeEvent({ credential: 'key_k1_x', src_net: 'net_k1_y' });
    expect(ds.map((d) => d.entityKey(e))).toEqual([
      `${TENANT}\u0000actor\u0000${e.actor}`,
      `${TENANT}\u0000credential\u0000key_k1_x`,
      `${TENANT}\u0000src_net\u0000net_k1_y`,
    ]);
  });
});

describe('auth-failures: normal behaviour', () => {
  it('raises nothing for a week of typos and a misconfigured service denied every hour', () => {
    expect(newRuntime().process(normalDays(MONDAY, 7, 1), MONDAY + 7 * DAY)).toEqual([]);
  });

  it('raises nothing for an outage: a burst of 5xx errors', () => {
    const outage = Array.from({ length: 500 }, (_, i) =>
      makeEvent({
        actor: USERS[i % 20]!,
        credential: keyOf(USERS[i % 20]!),
        src_net: OFFICES[0]!,
        time: MONDAY + 3 * DAY + 10 * HOUR + i * 1000,
        outcome: 'error',
        status_code: 503,
      }),
    );
    expect(newRuntime().process([...normalDays(MONDAY, 4, 2), ...outage], MONDAY + 4 * DAY)).toEqual([]);
  });
});

describe('auth-failures: credential stuffing from a new network', () => {
  const start = MONDAY + 5 * DAY + 13 * HOUR + 2 * MINUTE;
  const windowStart = MONDAY + 5 * DAY + 13 * HOUR;
  const stuffing = Array.from({ length: 400 }, (_, i) =>
    makeEvent({
      actor: `usr_k1_victim${String(i % 100).padStart(3, '0')}XXXXXXXXXXXXX`,
      src_net: ATTACKER_NET,
      time: start + i * 1000,
      operation: 'auth',
      outcome: 'denied',
      status_code: 401,
    }),
  );
  const ids = new Set(stuffing.map((e) => e.event_id));
  // The network's next event closes the window, which re-issues the finding with its final count.
  const next = makeEvent({
    actor: 'usr_k1_victim000XXXXXXXXXXXXX',
    src_net: ATTACKER_NET,
    time: start + HOUR,
    outcome: 'allowed',
  });
  const events = [...normalDays(MONDAY, 6, 3), ...stuffing, next];
  const now = MONDAY + 6 * DAY;
  const findings = newRuntime().process(events, now);

  it('raises one finding, for the network (each victim failed only four times)', () => {
    const final = latestById(findings);
    expect(final).toHaveLength(1);
    const f = findings.at(-1)!;
    expect(f.entity_type).toBe('src_net');
    expect(f.entity).toBe(ATTACKER_NET);
    expect(f.finding_id).toBe(deterministicId('auth-failures/src_net', TENANT, ATTACKER_NET, windowStart));
    expect(f.observed).toBe(400);
    expect(f.features.distinct_actors).toBeGreaterThan(80);
  });

  it('explains it: observed above the floor-backed band, sentence with the network token', () => {
    for (const f of findings) {
      expect(findingSchema.safeParse(f).success).toBe(true);
      expect(f.observed).toBeGreaterThan(f.band_high);
      expect(f.band_high).toBeGreaterThanOrEqual(PARAMS.min_failures);
      expect(f.expected).toBe(0);
      expect(f.attack_techniques).toEqual(['T1110']);
      for (const id of f.evidence) expect(ids.has(id)).toBe(true);
    }
    const s = findings.at(-1)!.sentence;
    expect(s).toContain(ATTACKER_NET);
    expect(s).toMatch(
      /had 400 denied logins in 10 min from 2026-11-07T13:00Z, from \d+ distinct identities; its usual busiest 10 min has 0/,
    );
    // Denied logins from one network against many identities is titled as what it is.
    expect(findings.at(-1)!.title).toMatch(
      /^Password spraying: 400 denied logins across \d+ identities in 10 min$/,
    );
    expect(findings.at(-1)!.features.failed_logins).toBe(400);
    expect(findings.at(-1)!.severity).toBe('critical');
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });
});

describe('auth-failures: brute force on one identity', () => {
  it('fires for the identity, its credential and the network', () => {
    const victim = USERS[4]!;
    const start = MONDAY + 5 * DAY + 11 * HOUR + 30 * MINUTE;
    const guesses = Array.from({ length: 120 }, (_, i) =>
      makeEvent({
        actor: victim,
        credential: keyOf(victim),
        src_net: ATTACKER_NET,
        time: start + i * 2000,
        operation: 'auth',
        outcome: 'error',
        status_code: 401,
      }),
    );
    const next = makeEvent({
      actor: victim,
      credential: keyOf(victim),
      src_net: ATTACKER_NET,
      time: start + HOUR,
    });
    const findings = latestById(
      newRuntime().process([...normalDays(MONDAY, 6, 4), ...guesses, next], MONDAY + 6 * DAY),
    );
    expect(findings.map((f) => f.entity_type).sort()).toEqual(['actor', 'credential', 'src_net']);
    for (const f of findings) {
      expect(f.actor).toBe(victim);
      expect(f.observed).toBe(120);
      // A brute force against one account is titled as one, whichever entity saw it.
      expect(f.title).toBe('Password guessing: 120 denied logins in 10 min');
    }
  });

  it('keeps the plain title for denials that are not logins (a 403 on queries is no guess)', () => {
    const victim = USERS[4]!;
    const start = MONDAY + 5 * DAY + 11 * HOUR + 30 * MINUTE;
    const forbidden = Array.from({ length: 120 }, (_, i) =>
      makeEvent({
        actor: victim,
        credential: keyOf(victim),
        src_net: OFFICES[0]!,
        time: start + i * 2000,
        outcome: 'denied',
        status_code: 403,
      }),
    );
    const findings = latestById(
      newRuntime().process([...normalDays(MONDAY, 6, 4), ...forbidden], MONDAY + 6 * DAY),
    );
    const actor = findings.find((f) => f.entity_type === 'actor')!;
    expect(actor.title).toMatch(/^Authentication failures: \d+ in 10 min$/);
    expect(actor.sentence).toMatch(/had \d+ denied or failed requests in 10 min/);
  });

  it('does not fire for the misconfigured service when its hourly denials stay in its band', () => {
    const f = newRuntime().process(normalDays(MONDAY, 6, 5), MONDAY + 6 * DAY);
    expect(f.filter((x) => x.actor === SERVICE)).toEqual([]);
  });
});

describe('auth-failures: use of a revoked credential', () => {
  const victim = USERS[7]!;
  const cred = keyOf(victim);
  const t = MONDAY + 2 * DAY + 10 * HOUR;
  const notice = makeEvent({
    actor: victim,
    credential: cred,
    src_net: OFFICES[1]!,
    time: t,
    outcome: 'denied',
    status_code: 401,
    error_type: 'credential_revoked',
  });
  const retry = makeEvent({
    actor: victim,
    credential: cred,
    src_net: OFFICES[1]!,
    time: t + 5 * MINUTE,
    outcome: 'denied',
    status_code: 401,
  });
  const accepted = makeEvent({
    actor: 'usr_k1_someoneElseEEEEEEEEEEEE',
    credential: cred,
    src_net: ATTACKER_NET,
    time: t + 3 * HOUR,
    outcome: 'allowed',
  });
  const findings = newRuntime()
    .process([...normalDays(MONDAY, 2, 6), notice, retry, accepted], t + DAY)
    .filter((f) => f.title.includes('evoked'));

  it('fires on the revocation notice, again as uses grow, and critically when a use is accepted', () => {
    const final = latestById(findings);
    expect(final).toHaveLength(2);
    expect(final[0]!.finding_id).toBe(deterministicId('auth-failures/revoked', TENANT, cred, t));
    expect(final[0]!.observed).toBe(2);
    expect(final[0]!.severity).toBe('medium');
    expect(final[0]!.evidence).toEqual([notice.event_id, retry.event_id]);
    expect(final[1]!.severity).toBe('critical');
    expect(final[1]!.actor).toBe('usr_k1_someoneElseEEEEEEEEEEEE');
    expect(final[1]!.sentence).toContain(cred);
    expect(final[1]!.sentence).toMatch(
      /after the gateway reported it revoked at 2026-11-04T10:00Z; 1 of those uses was allowed/,
    );
    expect(final[1]!.attack_techniques).toEqual(['T1078']);
  });
});

describe('auth-failures: compact state', () => {
  it('keeps each entity small after 10,000 events from 1,000 networks', () => {
    const rt = newRuntime();
    const actor = USERS[0]!;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({
        actor,
        credential: keyOf(actor),
        src_net: `net_k1_n${i % 1000}`,
        time: MONDAY + i * 30_000,
        outcome: i % 7 ? 'allowed' : 'denied',
      }),
    );
    rt.process(events, MONDAY);
    expect(rt.entities()['auth-failures/src_net']).toBe(1000);
    for (const [detector, key] of [
      ['auth-failures/actor', `${TENANT}\u0000actor\u0000${actor}`],
      ['auth-failures/credential', `${TENANT}\u0000credential\u0000${keyOf(actor)}`],
      ['auth-failures/src_net', `${TENANT}\u0000src_net\u0000net_k1_n7`],
    ] as const) {
      const state = rt.stateOf(detector, key) as AuthFailuresState;
      expect(state.buf.byteLength).toBe(ringBytes(PARAMS.history_hours) + 16);
      expect(estimateStateBytes(state)).toBeLessThan(700);
    }
  });
});

describe('auth-failures: bootstrap from the store (restart without checkpoints)', () => {
  const RETRIER = 'svc_k1_retrierRRRRRRRRRRRRRRRR';
  /** A job that retries with a stale key at the top of every hour: 25–40 denials in two minutes. */
  function retryHours(start: number, hours: number, seed: number): AccessEvent[] {
    const rand = rng(seed);
    const out: AccessEvent[] = [];
    for (let h = 0; h < hours; h++) {
      const t0 = start + h * HOUR;
      const denied = 25 + Math.floor(rand() * 16);
      for (let i = 0; i < denied; i++)
        out.push(makeEvent({ actor: RETRIER, time: t0 + i * 3000, outcome: 'denied', status_code: 403 }));
      out.push(makeEvent({ actor: RETRIER, time: t0 + 30 * MINUTE }));
    }
    return out;
  }
  const before = MONDAY + 3 * DAY;
  const history = retryHours(MONDAY, 72, 21);
  /** After the restart: a usual hour with 45 denials, then a real burst of 400. */
  const live = [
    ...Array.from({ length: 45 }, (_, i) =>
      makeEvent({ actor: RETRIER, time: before + i * 2000, outcome: 'denied', status_code: 403 }),
    ),
    ...Array.from({ length: 400 }, (_, i) =>
      makeEvent({ actor: RETRIER, time: before + HOUR + i * 1000, outcome: 'denied', status_code: 403 }),
    ),
    makeEvent({ actor: RETRIER, time: before + 2 * HOUR }),
  ];
  const key = `${TENANT}\u0000actor\u0000${RETRIER}`;
  const booted = (history: IdentityHistory) => {
    const rt = newRuntime();
    rt.bootstrap(makeEvent({ actor: RETRIER, time: before }), history, before);
    return rt;
  };

  it('judges the burst against the stored baseline: 45 is its usual, 400 is not', () => {
    const rt = booted(historyOf(history, TENANT, RETRIER, before));
    const found = latestById(rt.process(live, before + 3 * HOUR));
    expect(found.map((f) => [f.entity_type, f.observed])).toEqual([['actor', 400]]);
    // A cold start has only the floor (20): the usual 45 would be a finding.
    const cold = latestById(newRuntime().process(live, before + 3 * HOUR));
    expect(cold.map((f) => f.observed)).toEqual([45, 400]);
  });

  it('fills the ring as live traffic did, and fires the same', () => {
    const learned = newRuntime();
    learned.process(history, before);
    const rt = booted(historyOf(history, TENANT, RETRIER, before));
    expect(rt.process(live, before + 3 * HOUR)).toEqual(learned.process(live, before + 3 * HOUR));
    const a = learned.stateOf('auth-failures/actor', key) as AuthFailuresState;
    const b = rt.stateOf('auth-failures/actor', key) as AuthFailuresState;
    expect([b.firstHour, [...b.buf]]).toEqual([a.firstHour, [...a.buf]]);
  });

  it('bootstraps the identity only: credential and network histories are not an identity’s', () => {
    expect(createAuthFailuresDetectors(PARAMS).map((d) => [d.name, d.bootstrap !== undefined])).toEqual([
      ['auth-failures/actor', true],
      ['auth-failures/credential', false],
      ['auth-failures/src_net', false],
    ]);
  });

  it('stays cold when the stored peaks were counted over other windows than its own', () => {
    const rt = booted(historyOf(history, TENANT, RETRIER, before, 5 * MINUTE));
    const found = latestById(rt.process(live, before + 3 * HOUR));
    expect(found.map((f) => f.observed)).toEqual([45, 400]);
  });
});
