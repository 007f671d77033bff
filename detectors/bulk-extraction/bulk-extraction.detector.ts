// bulk-extraction: how much data an identity pulls in an hour — rows returned, bytes out, raw
// vectors returned, scroll/export calls and the largest top_k asked for — each against the
// identity's own history of active hours on a log scale (volumes are heavy-tailed; "far above the
// norm" is a ratio). Raw vectors are watched on their own: an identity that never took embeddings
// back and starts to is an embedding-inversion risk even at modest volume.
import type { BulkExtractionParams } from './bulk-extraction.params.js';
import type { Detector } from '../../src/detect/index.js';
import { HOURLY_BYTES, HOURLY_RETURNED, HOURLY_VECTORS } from '../../src/detect/detector.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  describeLogBaseline,
  dueToFire,
  estimateBytes,
  type Firing,
  fmt,
  fmtBytes,
  fmtCompact,
  fmtSmall,
  grewSinceFired,
  HOUR,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  type LogBand,
  logBand,
  logOf,
  logScore,
  MIN_SAMPLES,
  makeFinding,
  markFired,
  noteEvidence,
  resetFiring,
  byteArray,
  closeLogHour,
  logRing,
  stateLayout,
  watchLevel,
} from '../shared/index.js';

const NAME = 'bulk-extraction';

/** The signals, in ring order. */
export const SIGNALS = ['rows', 'bytes', 'vectors', 'scrolls', 'top_k'] as const;
export type Signal = (typeof SIGNALS)[number];
const SIGNAL_ROWS = SIGNALS.indexOf('rows');
const SIGNAL_BYTES = SIGNALS.indexOf('bytes');
const SIGNAL_VECTORS = SIGNALS.indexOf('vectors');
const SIGNAL_TOP_K = SIGNALS.indexOf('top_k');
/** Scroll calls are counted from the operation, which every event has: always reported. */
const SCROLLS_REPORTED = 1 << SIGNALS.indexOf('scrolls');
const ALL_REPORTED = (1 << SIGNALS.length) - 1;

export interface BulkExtractionState extends Firing {
  firstHour: number;
  hour: number;
  /** The current hour so far: sums (top_k: the largest asked for). */
  rows: number;
  bytes: number;
  vectors: number;
  scrolls: number;
  topK: number;
  /**
   * Bit i set: an event of the current hour reported signal i. A signal no event reported (spans
   * that carry no row count: null) closes no sample into its ring, so a stream of unknown counts
   * never teaches a baseline of zero. Absent in states saved before: every signal reported.
   */
  reported?: number;
  /** The signal (index into SIGNALS) the current hour's finding was last issued for. */
  firedSignal: number;
  firedCollection: string;
  late: number;
  /**
   * [one log ring per signal | one byte per signal: the band's top in log units for the current
   * hour (255 = cannot fire), so most events are judged without computing a median]
   */
  buf: Uint8Array;
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: BulkExtractionState): number {
  return estimateBytes(state);
}

function signalValue(state: BulkExtractionState, s: Signal): number {
  switch (s) {
    case 'rows':
      return state.rows;
    case 'bytes':
      return state.bytes;
    case 'vectors':
      return state.vectors;
    case 'scrolls':
      return state.scrolls;
    case 'top_k':
      return state.topK;
  }
}

function describe(s: Signal, v: number): string {
  switch (s) {
    case 'rows':
      return `received ${fmt(v)} rows`;
    case 'bytes':
      return `received ${fmtBytes(v)}`;
    case 'vectors':
      return `received ${fmt(v)} raw vectors (embedding-inversion risk)`;
    case 'scrolls':
      return `made ${fmt(v)} scroll/export calls`;
    case 'top_k':
      return `asked for top_k ${fmt(v)}`;
  }
}

const UNIT: Record<Signal, string> = {
  rows: 'rows',
  bytes: 'bytes',
  vectors: 'raw vectors',
  scrolls: 'scroll calls',
  top_k: 'as its largest top_k',
};

/**
 * What came back in the hour, as an analyst weighs it: rows and bytes (the signals some sources do
 * not report are left out, never shown as 0), e.g. `220k rows / 352.0 MB`; '' when neither is known.
 */
export function magnitude(state: BulkExtractionState): string {
  const parts: string[] = [];
  if (known(state, SIGNAL_ROWS)) parts.push(`${fmtCompact(state.rows)} rows`);
  if (known(state, SIGNAL_BYTES)) parts.push(fmtBytes(state.bytes));
  return parts.join(' / ');
}

/** Whether an event of the current hour reported the signal. */
const known = (state: BulkExtractionState, i: number) => ((state.reported ?? ALL_REPORTED) & (1 << i)) !== 0;

/**
 * The bytes of an identity's state: a history of active hours per signal (in SIGNALS' order), then
 * each signal's watch level for the current hour (log units; 255: not watching).
 */
export function bulkExtractionLayout(hours: number) {
  return stateLayout({
    rows: logRing(hours),
    bytes: logRing(hours),
    vectors: logRing(hours),
    scrolls: logRing(hours),
    top_k: logRing(hours),
    watch: byteArray(SIGNALS.length),
  });
}

export function createBulkExtractionDetector(params: BulkExtractionParams): Detector<BulkExtractionState> {
  const hours = params.history_hours;
  const layout = bulkExtractionLayout(hours);
  const rings = SIGNALS.map((signal) => layout.sections[signal]);
  const { watch } = layout.sections;
  const floors: Record<Signal, number> = {
    rows: params.min_rows,
    bytes: params.min_bytes,
    vectors: params.min_vectors,
    scrolls: params.min_scrolls,
    top_k: params.min_top_k,
  };

  const bandOf = (state: BulkExtractionState, i: number): LogBand =>
    logBand(rings[i]!, state.buf, params.threshold_sigmas, floors[SIGNALS[i]!], Math.floor(state.hour / 24));
  const warm = (state: BulkExtractionState, hour: number) =>
    hour - state.firstHour >= params.warmup_hours && rings[0]!.samples(state.buf) >= MIN_SAMPLES;

  /** Caches each band's watch level (log units, floored) for the hour starting now. */
  function arm(state: BulkExtractionState): void {
    const ok = warm(state, state.hour);
    for (let i = 0; i < SIGNALS.length; i++)
      watch.set(state.buf, i, ok ? Math.min(255, Math.floor(logOf(watchLevel(bandOf(state, i))))) : 255);
  }

  /** The signal furthest over its band (by score), with its band. */
  function worst(state: BulkExtractionState): { i: number; band: LogBand; score: number } {
    let best = { i: 0, band: bandOf(state, 0), score: -1 };
    for (let i = 0; i < SIGNALS.length; i++) {
      const band = i === 0 ? best.band : bandOf(state, i);
      const v = signalValue(state, SIGNALS[i]!);
      const score = v > band.high ? logScore(v, band) : 0;
      if (score > best.score) best = { i, band, score };
    }
    return best;
  }

  function closeHour(state: BulkExtractionState, next: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    const ok = warm(state, state.hour);
    if (grewSinceFired(state, signalValue(state, SIGNALS[state.firedSignal]!)))
      out.push(finding(state, next, worst(state), now));
    const day = Math.floor(state.hour / 24);
    const reported = state.reported ?? ALL_REPORTED;
    for (let i = 0; i < SIGNALS.length; i++)
      if (reported & (1 << i))
        closeLogHour(rings[i]!, state.buf, signalValue(state, SIGNALS[i]!), bandOf(state, i), day, ok);
    state.reported = SCROLLS_REPORTED;
    state.rows = 0;
    state.bytes = 0;
    state.vectors = 0;
    state.scrolls = 0;
    state.topK = 0;
    state.firedSignal = 0;
    state.firedCollection = '';
    resetFiring(state);
    return out;
  }

  function finding(
    state: BulkExtractionState,
    e: AccessEvent,
    w: { i: number; band: LogBand; score: number },
    now: number,
  ): Finding {
    const signal = SIGNALS[w.i]!;
    const observed = signalValue(state, signal);
    const start = state.hour * HOUR;
    const vectorsToo =
      signal !== 'vectors' && state.vectors > 0 ? `, and ${fmt(state.vectors)} raw vectors came back` : '';
    const where = state.firedCollection ? ` on ${state.firedCollection}` : '';
    const usual =
      signal === 'bytes' ? fmtBytes(w.band.expected) : `${fmtSmall(w.band.expected)} ${UNIT[signal]}`;
    const bandTop = signal === 'bytes' ? fmtBytes(w.band.high) : fmt(w.band.high);
    // Lead with how much came back; the signal that crossed its band follows when it is another one.
    const size = magnitude(state);
    const bySize = signal === 'rows' || signal === 'bytes';
    const also = size && !bySize ? describe(signal, observed) : '';
    const title = size
      ? `${size} in an hour${also ? `; ${also}` : ''}`
      : `${describe(signal, observed)} in an hour`;
    const lead = size ? `received ${size}` : describe(signal, observed);
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: start,
      score: w.score,
      confidence: Math.min(1, w.band.samples / hours),
      ...issue(state),
      now,
      title: `Bulk extraction: ${title}`,
      sentence:
        `${e.actor} ${lead}${where} in the hour from ${isoMinute(start)}${also ? ` and ${also}` : ''}${vectorsToo}; ` +
        `its usual is ${usual} per active hour (band up to ${bandTop}).`,
      observed,
      expected: w.band.expected,
      bandLow: w.band.low,
      bandHigh: w.band.high,
      baselinePeriod: describeLogBaseline(w.band, state.firstHour),
      // A signal no event of the hour reported is left out rather than shown as 0.
      features: {
        ...(known(state, SIGNAL_ROWS) ? { rows: state.rows } : {}),
        ...(known(state, SIGNAL_BYTES) ? { bytes_out: state.bytes } : {}),
        ...(known(state, SIGNAL_VECTORS) ? { vectors_returned: state.vectors } : {}),
        scroll_calls: state.scrolls,
        ...(known(state, SIGNAL_TOP_K) ? { max_top_k: state.topK } : {}),
        [`expected_${signal}`]: w.band.expected,
        log2_spread: w.band.spread / 8,
      },
      evidence: state.evidence ?? [],
      collection: state.firedCollection,
      techniques: signal === 'bytes' ? ['T1530', 'T1213', 'T1567'] : ['T1530', 'T1213'],
    });
  }

  return {
    name: NAME,
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState(e) {
      const hour = hourIndex(e.time);
      const buf = layout.alloc();
      watch.fill(buf, 255);
      return withFiring({
        firstHour: hour,
        hour,
        rows: 0,
        bytes: 0,
        vectors: 0,
        scrolls: 0,
        topK: 0,
        reported: SCROLLS_REPORTED,
        firedSignal: 0,
        firedCollection: '',
        late: 0,
        buf,
      });
    },
    bootstrap(state, history, before) {
      // Each stored active hour's rows, bytes, vectors and scroll calls (from the rollup) and its
      // largest top_k (from the events), closed into the rings oldest first as live traffic would
      // have (once warm, clipped to the band). A history without the events' hours (older
      // callers) leaves the top_k ring empty: its floor stands in and it fills from live hours.
      // A figure no request of the hour reported is unknown there: not closed into its ring, as live.
      const byHour = new Map<
        number,
        { rows: number; bytes: number; vectors: number; scrolls: number; reported: number }
      >();
      for (const r of history.hourly) {
        if (r.requests === 0) continue;
        const hour = hourIndex(r.hour);
        const h = byHour.get(hour) ?? {
          rows: 0,
          bytes: 0,
          vectors: 0,
          scrolls: 0,
          reported: SCROLLS_REPORTED,
        };
        byHour.set(hour, h);
        h.rows += r.returned;
        h.bytes += r.bytesOut;
        h.vectors += r.vectorsReturned;
        const given = r.reported ?? HOURLY_RETURNED | HOURLY_VECTORS | HOURLY_BYTES;
        if (given & HOURLY_RETURNED) h.reported |= 1 << SIGNAL_ROWS;
        if (given & HOURLY_VECTORS) h.reported |= 1 << SIGNAL_VECTORS;
        if (given & HOURLY_BYTES) h.reported |= 1 << SIGNAL_BYTES;
        if (r.operation === 'scroll') h.scrolls += Math.max(0, r.requests - r.denied - r.errors);
      }
      const active = [...byHour.keys()].sort((a, b) => a - b);
      if (active.length === 0) return;
      const topKs = history.events && new Map(history.events.map((r) => [hourIndex(r.hour), r.maxTopK]));
      // Window counts reach further back than the (most recent) hourly rows kept.
      state.firstHour = historyStartHour(history, active[0]!);
      const topK = SIGNALS.indexOf('top_k');
      for (const hour of active) {
        const h = byHour.get(hour)!;
        state.hour = hour;
        state.rows = h.rows;
        state.bytes = h.bytes;
        state.vectors = h.vectors;
        state.scrolls = h.scrolls;
        state.topK = topKs?.get(hour) ?? 0;
        const ok = warm(state, hour);
        for (let i = 0; i < SIGNALS.length; i++)
          if (i === topK ? topKs : h.reported & (1 << i))
            closeLogHour(
              rings[i]!,
              state.buf,
              signalValue(state, SIGNALS[i]!),
              bandOf(state, i),
              Math.floor(hour / 24),
              ok,
            );
      }
      state.rows = 0;
      state.bytes = 0;
      state.vectors = 0;
      state.scrolls = 0;
      state.topK = 0;
      state.hour = hourIndex(before);
      arm(state);
    },
    observe(state, e, now) {
      const hour = hourIndex(e.time);
      if (hour < state.hour) {
        state.late++;
        return [];
      }
      const out: Finding[] = [];
      if (hour > state.hour) {
        out.push(...closeHour(state, e, now));
        state.hour = hour;
        arm(state);
      }
      // Only data that came back counts.
      if (e.outcome !== 'allowed') return out;
      let reported = state.reported ?? ALL_REPORTED;
      if (e.returned !== null) {
        state.rows += e.returned;
        reported |= 1 << SIGNAL_ROWS;
      }
      if (e.bytes_out !== null) {
        state.bytes += e.bytes_out;
        reported |= 1 << SIGNAL_BYTES;
      }
      if (e.vectors_returned !== null) {
        state.vectors += e.vectors_returned;
        reported |= 1 << SIGNAL_VECTORS;
      }
      if (e.operation === 'scroll') state.scrolls++;
      if (e.top_k !== null) {
        state.topK = Math.max(state.topK, e.top_k);
        reported |= 1 << SIGNAL_TOP_K;
      }
      state.reported = reported;
      let watched = false;
      for (let i = 0; i < SIGNALS.length; i++)
        if (logOf(signalValue(state, SIGNALS[i]!)) > watch.get(state.buf, i)) watched = true;
      if (!watched) return out;
      const contributes =
        (e.returned ?? 0) > 0 ||
        (e.bytes_out ?? 0) > 0 ||
        (e.vectors_returned ?? 0) > 0 ||
        e.operation === 'scroll';
      if (contributes) noteEvidence(state, e.event_id);
      const w = worst(state);
      if (w.score <= 0) return out;
      // Re-issue as the signal it last fired on grows (or the score jumps, whichever signal leads).
      if (!dueToFire(state, signalValue(state, SIGNALS[state.firedSignal]!), w.score)) return out;
      markFired(state, signalValue(state, SIGNALS[w.i]!), w.score, e);
      state.firedSignal = w.i;
      if (e.collection) state.firedCollection = e.collection;
      out.push(finding(state, e, w, now));
      return out;
    },
  };
}
