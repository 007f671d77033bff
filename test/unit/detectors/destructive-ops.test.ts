// destructive-ops: deletes and drops per hour against the identity's own active hours, and drops
// by identities that never administer, driven through the detector runtime over simulated days.
import { describe, expect, it } from 'vitest';
import {
  createDestructiveOpsDetector,
  type DestructiveOpsState,
  estimateStateBytes,
} from '../../../detectors/destructive-ops/destructive-ops.detector.js';
import { destructiveOpsParamsSchema } from '../../../detectors/destructive-ops/destructive-ops.params.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { latestById, makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom } from '../../helpers/rollup.js';

/** A ring's bytes: a 5-byte header and one byte an hour (the memory figures depend on it). */
const ringBytes = (hours: number) => hours + 5;

const PARAMS = destructiveOpsParamsSchema.parse({});
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const INGEST = 'svc_k1_ingestAAAAAAAAAAAAAAAA';
const ADMIN = 'usr_k1_dbaBBBBBBBBBBBBBBBBBBB';
const TENANT = 't-test';

/** An ingest service, every hour: 20–60 upserts and 2–30 deletes (stale chunks) on `kb`. */
function ingestDays(start: number, days: number, seed: number, skipHour?: number): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let h = 0; h < days * 24; h++) {
    const t0 = start + h * HOUR;
    if (t0 === skipHour) continue;
    const upserts = 20 + Math.floor(rand() * 40);
    const deletes = 2 + Math.floor(rand() * 28);
    for (let i = 0; i < upserts + deletes; i++)
      out.push(
        makeEvent({
          actor: INGEST,
          time: t0 + Math.floor((i * HOUR) / (upserts + deletes)),
          operation: i < upserts ? 'upsert' : 'delete',
          collection: 'kb',
        }),
      );
  }
  return out;
}

/** A DBA: searches, and on weekdays at 16:00 drops yesterday's staging collection and creates today's. */
function adminDays(start: number, days: number): AccessEvent[] {
  const out: AccessEvent[] = [];
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let h = 9; h < 17; h++) out.push(makeEvent({ actor: ADMIN, time: day + h * HOUR + 5 * MINUTE }));
    out.push(
      makeEvent({
        actor: ADMIN,
        time: day + 16 * HOUR + 10 * MINUTE,
        operation: 'drop_collection',
        collection: `staging-${d - 1}`,
      }),
    );
    out.push(
      makeEvent({
        actor: ADMIN,
        time: day + 16 * HOUR + 11 * MINUTE,
        operation: 'create_collection',
        collection: `staging-${d}`,
      }),
    );
  }
  return out;
}

const newRuntime = () => createDetectorRuntime([createDestructiveOpsDetector(PARAMS)]);

describe('destructive-ops: normal behaviour', () => {
  it('raises nothing for two weeks of a noisy ingest service deleting stale chunks every hour', () => {
    expect(newRuntime().process(ingestDays(MONDAY, 14, 1), MONDAY + 14 * DAY)).toEqual([]);
  });

  it('raises nothing for a DBA dropping and creating staging collections every weekday', () => {
    expect(newRuntime().process(adminDays(MONDAY, 21), MONDAY + 21 * DAY)).toEqual([]);
  });

  it('ignores denied deletes (nothing was destroyed)', () => {
    const hour = MONDAY + 7 * DAY + 3 * HOUR;
    const denied = Array.from({ length: 5_000 }, (_, i) =>
      makeEvent({
        actor: INGEST,
        time: hour + i * 500,
        operation: 'delete',
        outcome: 'denied',
        collection: 'kb',
      }),
    );
    expect(newRuntime().process([...ingestDays(MONDAY, 8, 2, hour), ...denied], MONDAY + 9 * DAY)).toEqual(
      [],
    );
  });
});

describe('destructive-ops: recurring levels', () => {
  it('fires on a weekly clean-up the first week only, and again when it grows far beyond that level', () => {
    const cleanup = (day: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        makeEvent({
          actor: INGEST,
          time: MONDAY + day * DAY + 2 * HOUR + 5 * MINUTE + i * 1000,
          operation: 'delete',
          collection: 'kb',
        }),
      );
    const days = [6, 13, 20, 27];
    const events = [
      ...ingestDays(MONDAY, 29, 7, undefined),
      ...days.flatMap((d) => cleanup(d, 300)),
      ...cleanup(28, 5_000),
    ];
    const findings = latestById(newRuntime().process(events, MONDAY + 29 * DAY));
    expect(findings.map((f) => Math.floor((f.event_time - MONDAY) / DAY))).toEqual([6, 28]);
    expect(findings[1]!.baseline_period).toContain('band raised to a level first reached on 2026-11-29');
  });
});

describe('destructive-ops: a mass delete after a week', () => {
  const hour = MONDAY + 7 * DAY + 3 * HOUR;
  const wipe = Array.from({ length: 3_000 }, (_, i) =>
    makeEvent({ actor: INGEST, time: hour + 10 * MINUTE + i * 200, operation: 'delete', collection: 'kb' }),
  );
  const wipeIds = new Set(wipe.map((e) => e.event_id));
  const events = [...ingestDays(MONDAY, 8, 3, hour), ...wipe];
  const now = MONDAY + 9 * DAY;
  const findings = newRuntime().process(events, now);

  it('raises one finding for the hour, ending on the hour-close numbers', () => {
    expect(latestById(findings)).toHaveLength(1);
    expect(findings[0]!.finding_id).toBe(deterministicId('destructive-ops', TENANT, INGEST, hour));
    expect(findings.at(-1)!.observed).toBe(3_000);
    expect(findings.at(-1)!.severity).toBe('critical');
  });

  it('explains it against the usual deletes, with band and baseline period', () => {
    for (const f of findings) {
      expect(findingSchema.safeParse(f).success).toBe(true);
      expect(f.observed).toBeGreaterThan(f.band_high);
      expect(f.expected).toBeGreaterThan(5);
      expect(f.expected).toBeLessThan(30);
      expect(f.band_high).toBeGreaterThanOrEqual(PARAMS.min_deletes);
      expect(f.attack_techniques).toContain('T1485');
    }
    const s = findings.at(-1)!.sentence;
    expect(s).toContain(INGEST);
    expect(s).toMatch(
      /ran 3,000 deletes \(latest on \w+\) in the hour from 2026-11-09T03:00Z; its usual is \d+ deletes per active hour/,
    );
    for (const id of findings.at(-1)!.evidence) expect(wipeIds.has(id)).toBe(true);
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });
});

describe('destructive-ops: a drop by an identity that never administers', () => {
  const hour = MONDAY + 7 * DAY + 3 * HOUR;
  const drop = makeEvent({
    actor: INGEST,
    time: hour + 20 * MINUTE,
    operation: 'drop_collection',
    collection: 'customer_pii',
  });
  const findings = newRuntime().process([...ingestDays(MONDAY, 8, 4), drop], MONDAY + 9 * DAY);

  it('fires on the single drop, high', () => {
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.severity).toBe('high');
    expect(f.title).toBe('Collection customer_pii dropped by an identity that never administers');
    expect(f.sentence).toContain(`${INGEST} dropped customer_pii in the hour`);
    expect(f.sentence).toContain('never created, dropped or administered');
    expect(f.evidence).toEqual([drop.event_id]);
    expect(f.collection).toBe('customer_pii');
    expect(f.attack_techniques).toEqual(['T1485', 'T1078']);
  });

  it('keeps firing on drops by that identity (one drop does not make it an admin)', () => {
    const later = makeEvent({
      actor: INGEST,
      time: hour + 2 * DAY,
      operation: 'drop_collection',
      collection: 'kb',
    });
    const f = newRuntime().process([...ingestDays(MONDAY, 10, 4), drop, later], MONDAY + 11 * DAY);
    expect(latestById(f)).toHaveLength(2);
  });

  it('does not fire for the DBA', () => {
    const f = newRuntime().process(
      [...adminDays(MONDAY, 8), makeEvent({ actor: ADMIN, time: hour, operation: 'drop_collection' })],
      MONDAY + 9 * DAY,
    );
    expect(f).toEqual([]);
  });
});

describe('destructive-ops: compact state', () => {
  it('stays the same size after 10,000 events over 1,000 collections', () => {
    const rt = newRuntime();
    const key = `${TENANT}\u0000${INGEST}`;
    rt.process(ingestDays(MONDAY, 1, 5), MONDAY);
    const before = estimateStateBytes(rt.stateOf('destructive-ops', key) as DestructiveOpsState);
    const start = MONDAY + DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({
        actor: INGEST,
        time: start + i * 30_000,
        operation: i % 3 ? 'upsert' : 'delete',
        collection: `c-${i % 1000}`,
      }),
    );
    rt.process(events, start);
    const state = rt.stateOf('destructive-ops', key) as DestructiveOpsState;
    expect(state.buf.byteLength).toBe(2 * ringBytes(PARAMS.history_hours));
    expect(estimateStateBytes(state)).toBeLessThanOrEqual(before + 700);
    expect(estimateStateBytes(state)).toBeLessThan(1_000);
  });
});

describe('destructive-ops: bootstrap from the rollup (restart without checkpoints)', () => {
  const before = MONDAY + 8 * DAY + 14 * HOUR;
  const history = [...ingestDays(MONDAY, 8, 4), ...adminDays(MONDAY, 8)].filter((e) => e.time < before);
  const wipe = Array.from({ length: 3_000 }, (_, i) =>
    makeEvent({ actor: INGEST, time: before + 10 * MINUTE + i * 200, operation: 'delete', collection: 'kb' }),
  );
  const drops = [
    makeEvent({ actor: ADMIN, time: before + 20 * MINUTE, operation: 'drop_collection', collection: 'old' }),
    makeEvent({ actor: INGEST, time: before + 30 * MINUTE, operation: 'drop_collection', collection: 'kb' }),
  ];
  const live = [...wipe, ...drops].sort((a, b) => a.time - b.time);
  const closing = [INGEST, ADMIN].map((actor) => makeEvent({ actor, time: before + HOUR + MINUTE }));

  /** A runtime that starts at `before`, both identities bootstrapped from their rollup. */
  function bootstrapped() {
    return bootstrapFrom(newRuntime(), history, { tenant: TENANT, actors: [INGEST, ADMIN], before });
  }

  it('learns that the DBA administers: its drop after a restart is no finding, the service’s drop is', () => {
    const found = latestById(bootstrapped().process(drops, before + HOUR));
    expect(found.map((f) => [f.actor, f.title])).toEqual([
      [INGEST, 'Collection kb dropped by an identity that never administers'],
    ]);
  });

  it('fills the delete and drop rings and the flag as live traffic did, and fires the same', () => {
    const learned = newRuntime();
    learned.process(history, before);
    const booted = bootstrapped();
    const expected = learned.process([...live, ...closing], before + 2 * HOUR);
    const got = booted.process([...live, ...closing], before + 2 * HOUR);
    // One finding per identity and hour: the wipe (the service's drop in the same hour scores less).
    expect(latestById(got).map((f) => [f.actor, f.observed])).toEqual([[INGEST, 3_000]]);
    expect(got).toEqual(expected);
    for (const actor of [INGEST, ADMIN]) {
      const key = `${TENANT}\u0000${actor}`;
      const a = learned.stateOf('destructive-ops', key) as DestructiveOpsState;
      const b = booted.stateOf('destructive-ops', key) as DestructiveOpsState;
      expect([b.administers, b.firstHour, [...b.buf]]).toEqual([a.administers, a.firstHour, [...a.buf]]);
    }
  });
});

describe('destructive-ops: the explanation names what was dropped', () => {
  it('names the dropped collections when an administrator drops far more than usual', () => {
    const hour = MONDAY + 7 * DAY + 10 * HOUR;
    const wipe = ['hr_docs', 'payroll', 'legal', 'finance', 'wiki', 'customer_pii'].map((collection, i) =>
      makeEvent({ actor: ADMIN, time: hour + i * MINUTE, operation: 'drop_collection', collection }),
    );
    const findings = latestById(newRuntime().process([...adminDays(MONDAY, 8), ...wipe], MONDAY + 9 * DAY));
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.title).toBe('Destructive operations: 6 collection drops in an hour (customer_pii and 5 more)');
    expect(f.sentence).toContain(`${ADMIN} dropped customer_pii and 5 more in the hour`);
    expect(f.collection).toBe('customer_pii');
  });
});
