// bulk-extraction: rows, bytes, raw vectors, scroll calls and top_k per hour against the identity's
// own active hours (log scale), driven through the detector runtime over simulated days.
import { describe, expect, it } from 'vitest';
import {
  type BulkExtractionState,
  createBulkExtractionDetector,
  estimateStateBytes,
  type SIGNALS,
  bulkExtractionLayout,
} from '../../../detectors/bulk-extraction/bulk-extraction.detector.js';
import { bulkExtractionParamsSchema } from '../../../detectors/bulk-extraction/bulk-extraction.params.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { latestById, makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom, historyOf } from '../../helpers/rollup.js';

/** A ring's bytes: a 5-byte header and one byte an hour (the memory figures depend on it). */
const ringBytes = (hours: number) => hours + 5;

const PARAMS = bulkExtractionParamsSchema.parse({});
const layout = bulkExtractionLayout(PARAMS.history_hours);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const APP = 'svc_k1_ragappAAAAAAAAAAAAAAAA';
const TENANT = 't-test';

/**
 * A RAG app, every day 07–22: 10–40 searches an hour (top_k 5–20, a few KB each), and now and then
 * a small scroll page of 100 rows (its nightly-ish sync), never raw vectors.
 */
function appDays(start: number, days: number, seed: number, skipHour?: number): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let d = 0; d < days; d++) {
    for (let h = 7; h < 22; h++) {
      const t0 = start + d * DAY + h * HOUR;
      if (t0 === skipHour) continue;
      const n = 10 + Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) {
        const topK = 5 + Math.floor(rand() * 16);
        out.push(
          makeEvent({
            actor: APP,
            time: t0 + Math.floor((i * HOUR) / n),
            collection: 'kb',
            top_k: topK,
            returned: topK,
            bytes_out: topK * (1500 + Math.floor(rand() * 1000)),
          }),
        );
      }
      if (rand() < 0.1)
        out.push(
          makeEvent({
            actor: APP,
            time: t0 + 59 * MINUTE,
            operation: 'scroll',
            collection: 'kb',
            top_k: 0,
            returned: 100,
            bytes_out: 200_000,
          }),
        );
    }
  }
  return out;
}

/** A scroll export: `pages` scroll calls of 1,000 rows (with raw vectors when asked) in 30 minutes. */
function exportRun(start: number, pages: number, withVectors: boolean): AccessEvent[] {
  return Array.from({ length: pages }, (_, i) =>
    makeEvent({
      actor: APP,
      time: start + Math.floor((i * 30 * MINUTE) / pages),
      operation: 'scroll',
      collection: 'customer_pii',
      top_k: 0,
      returned: 1000,
      vectors_returned: withVectors ? 1000 : 0,
      bytes_out: withVectors ? 7_000_000 : 2_000_000,
    }),
  );
}

const newRuntime = () => createDetectorRuntime([createBulkExtractionDetector(PARAMS)]);

describe('bulk-extraction: normal behaviour', () => {
  it('raises nothing for two weeks of a noisy RAG app, warm-up included', () => {
    expect(newRuntime().process(appDays(MONDAY, 14, 1), MONDAY + 14 * DAY)).toEqual([]);
  });

  it('raises nothing during warm-up, even for an export', () => {
    const events = [...appDays(MONDAY, 1, 2), ...exportRun(MONDAY + 22 * HOUR, 400, true)];
    expect(newRuntime().process(events, MONDAY + DAY)).toEqual([]);
  });

  it('learns an identity whose normal is exporting (a nightly backup job)', () => {
    const events: AccessEvent[] = [];
    for (let d = 0; d < 14; d++) events.push(...exportRun(MONDAY + d * DAY + 2 * HOUR, 300 + d * 5, true));
    expect(newRuntime().process(events, MONDAY + 14 * DAY)).toEqual([]);
  });
});

describe('bulk-extraction: a scroll export with raw vectors after a week', () => {
  const hour = MONDAY + 7 * DAY + 14 * HOUR;
  const attack = exportRun(hour, 400, true);
  const attackIds = new Set(attack.map((e) => e.event_id));
  const events = [...appDays(MONDAY, 8, 3, hour), ...attack];
  const now = MONDAY + 9 * DAY;
  const findings = newRuntime().process(events, now);

  it('raises one finding for the hour, re-issued as it grows, ending on the full hour', () => {
    expect(latestById(findings)).toHaveLength(1);
    expect(findings[0]!.finding_id).toBe(deterministicId('bulk-extraction', TENANT, APP, hour));
    const last = findings.at(-1)!;
    expect(last.features.rows).toBe(400_000);
    expect(last.features.vectors_returned).toBe(400_000);
    expect(last.features.scroll_calls).toBe(400);
  });

  it('keeps the event time it first fired through every re-issue, and counts the issues', () => {
    expect(findings.length).toBeGreaterThan(1);
    const first = findings[0]!;
    findings.forEach((f, i) => {
      expect(f.first_fired_time).toBe(first.event_time);
      expect(f.update_count).toBe(i + 1);
    });
    expect(findings.at(-1)!.event_time).toBeGreaterThan(first.event_time);
  });

  it('explains it: observed above the band, expected near the usual, baseline period', () => {
    for (const f of findings) {
      expect(findingSchema.safeParse(f).success).toBe(true);
      expect(f.observed).toBeGreaterThan(f.band_high);
      expect(f.expected).toBeLessThan(f.band_high);
      expect(f.baseline_period).toMatch(/active hours of history/);
      expect(f.collection).toBe('customer_pii');
    }
    expect(findings.at(-1)!.severity).toBe('critical');
  });

  it('says it in a sentence with the actor token, the raw vectors and the usual', () => {
    const s = findings.at(-1)!.sentence;
    expect(s).toContain(APP);
    expect(s).toContain('raw vectors');
    expect(s).toContain('its usual is');
    expect(s).toContain('2026-11-09T14:00Z');
  });

  it('cites evidence from the export only', () => {
    for (const f of findings) {
      expect(f.evidence.length).toBeGreaterThan(0);
      for (const id of f.evidence) expect(attackIds.has(id)).toBe(true);
    }
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });
});

describe('bulk-extraction: the other signals', () => {
  const hour = MONDAY + 7 * DAY + 11 * HOUR;

  it('fires on raw vectors alone, at modest volume, for an identity that never took any back', () => {
    const fetches = Array.from({ length: 30 }, (_, i) =>
      makeEvent({
        actor: APP,
        time: hour + i * MINUTE,
        operation: 'fetch',
        collection: 'kb',
        top_k: 0,
        returned: 10,
        vectors_returned: 10,
        bytes_out: 80_000,
      }),
    );
    const findings = newRuntime().process([...appDays(MONDAY, 8, 4, hour), ...fetches], MONDAY + 9 * DAY);
    const final = latestById(findings);
    expect(final).toHaveLength(1);
    expect(final[0]!.sentence).toMatch(/received \d+ raw vectors \(embedding-inversion risk\)/);
    expect(final[0]!.expected).toBe(0);
  });

  it('fires on a huge top_k', () => {
    const greedy = makeEvent({
      actor: APP,
      time: hour + 5 * MINUTE,
      collection: 'kb',
      top_k: 50_000,
      returned: 50_000,
      bytes_out: 60_000_000,
    });
    const findings = newRuntime().process([...appDays(MONDAY, 8, 5, hour), greedy], MONDAY + 9 * DAY);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]!.evidence).toEqual([greedy.event_id]);
    expect(findings[0]!.features.max_top_k).toBe(50_000);
  });

  it('ignores denied requests (nothing came back)', () => {
    const denied = exportRun(hour, 400, true).map((e) => ({ ...e, outcome: 'denied' as const }));
    expect(newRuntime().process([...appDays(MONDAY, 8, 6, hour), ...denied], MONDAY + 9 * DAY)).toEqual([]);
  });
});

describe('bulk-extraction: compact state', () => {
  it('stays the same size after 10,000 events over 1,000 collections', () => {
    const rt = newRuntime();
    const key = `${TENANT}\u0000${APP}`;
    rt.process(appDays(MONDAY, 2, 7), MONDAY);
    const before = estimateStateBytes(rt.stateOf('bulk-extraction', key) as BulkExtractionState);
    const start = MONDAY + 2 * DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({
        actor: APP,
        time: start + i * 30_000,
        collection: `c-${i % 1000}`,
        returned: 10 + (i % 50),
      }),
    );
    rt.process(events, start);
    const state = rt.stateOf('bulk-extraction', key) as BulkExtractionState;
    expect(state.buf.byteLength).toBe(5 * (ringBytes(PARAMS.history_hours) + 1));
    expect(estimateStateBytes(state)).toBeLessThanOrEqual(before + 700);
    expect(estimateStateBytes(state)).toBeLessThan(1_200);
  });
});

describe('bulk-extraction: bootstrap from the rollup (restart without checkpoints)', () => {
  const key = `${TENANT}\u0000${APP}`;
  const history = appDays(MONDAY, 8, 13);
  const before = MONDAY + 8 * DAY + 14 * HOUR;
  const live = [
    ...exportRun(before, 400, true),
    makeEvent({
      actor: APP,
      time: before + HOUR + MINUTE,
      collection: 'kb',
      returned: 10,
      bytes_out: 20_000,
    }),
  ];

  function runtimes() {
    const learned = newRuntime();
    learned.process(history, before);
    const booted = bootstrapFrom(newRuntime(), history, { tenant: TENANT, actors: [APP], before });
    return { learned, booted };
  }

  it('fills the rows, bytes, vectors, scroll and top_k rings as live traffic did, and fires the same', () => {
    const { learned, booted } = runtimes();
    const ringsOf = (rt: typeof learned) => {
      const buf = (rt.stateOf('bulk-extraction', key) as BulkExtractionState).buf;
      return [...buf.slice(0, layout.bytesBefore('watch'))];
    };
    const expected = learned.process(live, before + 2 * HOUR);
    const got = booted.process(live, before + 2 * HOUR);
    expect(latestById(got)).toHaveLength(1);
    expect(got).toEqual(expected);
    expect(ringsOf(booted)).toEqual(ringsOf(learned));
  });

  it('raises nothing for the next days of the app (no warm-up, no flood)', () => {
    const { booted } = runtimes();
    const next = appDays(MONDAY, 14, 13).filter((e) => e.time >= before);
    expect(booted.process(next, MONDAY + 14 * DAY)).toEqual([]);
  });
  it('fills the top_k ring from the stored hours: a reranker asking for thousands is not news after a restart', () => {
    const RERANKER = 'svc_k1_rerankerKKKKKKKKKKKKKKKK';
    const rerank = (start: number, hours: number) =>
      Array.from({ length: hours * 4 }, (_, i) =>
        makeEvent({
          actor: RERANKER,
          time: start + i * 15 * MINUTE,
          collection: 'kb',
          top_k: 2_000 + ((i * 373) % 2_000),
          returned: 50,
          bytes_out: 100_000,
        }),
      );
    const usualHour = rerank(before, 1);
    const huge = makeEvent({
      actor: RERANKER,
      time: before + HOUR + MINUTE,
      collection: 'kb',
      top_k: 200_000,
      returned: 50,
      bytes_out: 100_000,
    });
    const topKFindings = (rt: ReturnType<typeof newRuntime>) =>
      latestById(rt.process([...usualHour, huge], before + 2 * HOUR)).map((f) => f.features.max_top_k);
    const stored = historyOf(rerank(before - 3 * DAY, 72), TENANT, RERANKER, before);
    const booted = newRuntime();
    booted.bootstrap(makeEvent({ actor: RERANKER, time: before }), stored, before);
    expect(topKFindings(booted)).toEqual([200_000]);
    // Without the stored top_k the floor (1,000) stands in: its usual hour would be a finding.
    const blind = newRuntime();
    blind.bootstrap(makeEvent({ actor: RERANKER, time: before }), { ...stored, events: undefined }, before);
    expect(topKFindings(blind)).toEqual([expect.any(Number), 200_000]);
  });
});

describe('bulk-extraction: counts the source does not report', () => {
  it('a stream of events with unknown returned rows (null) learns no "0 rows" baseline', () => {
    const detector = createBulkExtractionDetector(PARAMS);
    const ring = (state: BulkExtractionState, signal: (typeof SIGNALS)[number]) =>
      layout.sections[signal].samples(state.buf);
    const unknown = (t: number) =>
      makeEvent({
        actor: APP,
        time: t,
        collection: 'kb',
        top_k: null,
        returned: null,
        vectors_returned: null,
        bytes_out: null,
      });
    const known = (t: number) =>
      makeEvent({
        actor: APP,
        time: t,
        collection: 'kb',
        top_k: 10,
        returned: 0,
        vectors_returned: 0,
        bytes_out: 0,
      });
    const start = MONDAY;
    let state = detector.initState(unknown(start));
    let other = detector.initState(known(start));
    for (let h = 0; h < 72; h++)
      for (let i = 0; i < 5; i++) {
        const t = start + h * HOUR + i * 10 * MINUTE;
        detector.observe(state, unknown(t), t);
        detector.observe(other, known(t), t);
      }
    // 71 hours closed. Unknown rows, bytes, vectors and top_k closed no sample at all; the scroll
    // count (from the operation, always known) did.
    expect(ring(state, 'rows')).toBe(0);
    expect(ring(state, 'bytes')).toBe(0);
    expect(ring(state, 'vectors')).toBe(0);
    expect(ring(state, 'top_k')).toBe(0);
    expect(ring(state, 'scrolls')).toBeGreaterThan(0);
    // The same stream reporting real zeros does learn them: the difference is the null.
    expect(ring(other, 'rows')).toBeGreaterThan(0);
    expect(ring(other, 'top_k')).toBeGreaterThan(0);
    state = other = undefined as never;
  });
});

describe('bulk-extraction: the explanation leads with the magnitude', () => {
  const hour = MONDAY + 7 * DAY + 14 * HOUR;

  it('titles a scroll export by the rows and bytes that came back, in human units', () => {
    const findings = newRuntime().process(
      [...appDays(MONDAY, 8, 3, hour), ...exportRun(hour, 400, false)],
      MONDAY + 9 * DAY,
    );
    const last = findings.at(-1)!;
    expect(last.title).toMatch(/^Bulk extraction: 400k rows \/ 762\.9 MB in an hour/);
    expect(last.sentence).toContain(`${APP} received 400k rows / 762.9 MB on customer_pii in the hour`);
    // Every issue leads with its own figures, however the signal that crossed its band is named.
    for (const f of findings)
      expect(f.title).toMatch(/^Bulk extraction: [\d.]+k? rows \/ [\d.]+ [KMG]?B in an hour/);
  });

  it('leaves out counts the source does not report rather than showing them as 0', () => {
    const scrolls = Array.from({ length: 400 }, (_, i) =>
      makeEvent({
        actor: APP,
        time: hour + i * 4_000,
        operation: 'scroll',
        collection: 'customer_pii',
        top_k: null,
        returned: null,
        vectors_returned: null,
        bytes_out: null,
      }),
    );
    const findings = newRuntime().process([...appDays(MONDAY, 8, 3, hour), ...scrolls], MONDAY + 9 * DAY);
    const last = findings.at(-1)!;
    expect(last.title).toBe('Bulk extraction: made 400 scroll/export calls in an hour');
    expect(last.title).not.toMatch(/\b0 rows|0 B\b/);
    expect(last.sentence).not.toMatch(/\b0 rows|\b0 B\b/);
    expect(last.features).not.toHaveProperty('rows');
    expect(last.features).not.toHaveProperty('bytes_out');
    expect(last.features.scroll_calls).toBe(400);
  });
});
