// volume-spike: requests per identity in a short window against that identity's own seasonal
// baseline (hour of day, weekdays and weekends apart). The baseline is learned from each hour's
// busiest window (not the hourly total spread evenly: a nightly job that does its whole hour in
// five minutes is normal for it) with robust statistics (median and MAD), so a few odd hours do
// not move it and an attack does not teach it that the attack is normal (anomalous hours enter
// the history clipped to the band).
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { VolumeSpikeParams } from '../../src/config/index.js';
import type { Detector } from '../../src/detect/index.js';
import { type AccessEvent, deterministicId, type Finding } from '../../src/model/index.js';
import {
  anomalyScore,
  estimateBytes,
  fmt,
  HOUR,
  MAD_TO_SIGMA,
  severityOf,
  slotOf,
  WEEKDAYS,
  type WindowBand,
} from '../shared/index.js';

// Shared with the other detectors; re-exported where they were first defined.
export { anomalyScore, severityOf, slotOf, type WindowBand };

const SLOTS = 48; // 24 hours × {weekday, weekend}
const MAX_EVIDENCE = 5;
const MAX_COLLECTIONS = 8;
/** A window's finding is re-issued (same id, higher numbers) when its count grew by half again. */
const ESCALATION_FACTOR = 1.5;

export interface VolumeState {
  tenant: string;
  actor: string;
  firstSeen: number;
  hoursSeen: number;
  hourStart: number;
  /** Busiest window of the current hour so far. */
  hourPeak: number;
  windowStart: number;
  windowCount: number;
  windowRows: number;
  /** observed count at the last finding in this window (0 = none yet). */
  lastFiredCount: number;
  /** The event that triggered the window's last finding (its time and observed time stay the finding's). */
  lastFiredEvent?: AccessEvent;
  evidence: string[];
  collections: Map<string, number>;
  /** Ring buffers of hourly peak-window counts, `history_per_slot` per slot. */
  history: Float32Array;
  filled: Uint8Array;
  next: Uint8Array;
  late: number;
}

export interface Baseline {
  /** Expected busiest-window count for the slot. */
  readonly expected: number;
  /** Robust σ of the slot's busiest-window counts. */
  readonly sigma: number;
  readonly samples: number;
  /**
   * Lower bound for the band's top while the slot has too little history of its own: twice the
   * identity's busiest window anywhere, so an unfamiliar hour is not judged on a guess.
   */
  readonly ceiling: number;
}

/** The slot's own history when it has at least 3 hours of it, else every slot's (conservatively). */
export function baselineFor(state: VolumeState, slot: number, perSlot: number): Baseline {
  const own = slotValues(state, slot, perSlot);
  const mature = own.length >= 3;
  const values = mature ? own : allValues(state, perSlot);
  if (values.length === 0) return { expected: 0, sigma: 0, samples: 0, ceiling: 0 };
  return {
    expected: median(values),
    sigma: values.length > 1 ? MAD_TO_SIGMA * medianAbsoluteDeviation(values) : 0,
    samples: values.length,
    ceiling: mature ? 0 : 2 * Math.max(...values),
  };
}

function slotValues(state: VolumeState, slot: number, perSlot: number): number[] {
  const n = state.filled[slot]!;
  return Array.from(state.history.subarray(slot * perSlot, slot * perSlot + n));
}

function allValues(state: VolumeState, perSlot: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < SLOTS; s++) out.push(...slotValues(state, s, perSlot));
  return out;
}

function push(state: VolumeState, slot: number, value: number, perSlot: number): void {
  const pos = state.next[slot]!;
  state.history[slot * perSlot + pos] = value;
  state.next[slot] = (pos + 1) % perSlot;
  state.filled[slot] = Math.min(perSlot, state.filled[slot]! + 1);
}

export function windowBand(b: Baseline, thresholdSigmas: number): WindowBand {
  const expected = b.expected;
  // Counts are at least Poisson-noisy: never trust a spread below √expected (or 1).
  const sigma = Math.max(b.sigma, Math.sqrt(expected), 1);
  return {
    expected,
    sigma,
    low: Math.max(0, expected - thresholdSigmas * sigma),
    high: Math.max(expected + thresholdSigmas * sigma, b.ceiling),
  };
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: VolumeState): number {
  return estimateBytes(state);
}

export function createVolumeSpikeDetector(params: VolumeSpikeParams): Detector<VolumeState> {
  const perSlot = params.history_per_slot;
  const windowMs = params.window;

  /** Closes hours up to (not including) the hour starting at `hourStart`. */
  function advanceHours(state: VolumeState, hourStart: number): void {
    const closing = state.hourStart;
    const slot = slotOf(closing);
    const band = windowBand(baselineFor(state, slot, perSlot), params.threshold_sigmas);
    const warm = state.hoursSeen >= params.warmup_hours;
    // Winsorize: an anomalous hour enters the history at the band's edge, not at its real size.
    push(state, slot, warm ? Math.min(state.hourPeak, band.high) : state.hourPeak, perSlot);
    state.hoursSeen++;
    // Idle hours are data too (zeros), but a long silence need not replay more than the history holds.
    const gap = Math.min((hourStart - closing) / HOUR - 1, perSlot * SLOTS);
    for (let i = 1; i <= gap; i++) {
      push(state, slotOf(hourStart - i * HOUR), 0, perSlot);
      state.hoursSeen++;
    }
    state.hourStart = hourStart;
    state.hourPeak = 0;
  }

  return {
    name: 'volume-spike',
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState(e) {
      return {
        tenant: e.tenant,
        actor: e.actor,
        firstSeen: e.time,
        hoursSeen: 0,
        hourStart: Math.floor(e.time / HOUR) * HOUR,
        hourPeak: 0,
        windowStart: Math.floor(e.time / windowMs) * windowMs,
        windowCount: 0,
        windowRows: 0,
        lastFiredCount: 0,
        evidence: [],
        collections: new Map(),
        history: new Float32Array(SLOTS * perSlot),
        filled: new Uint8Array(SLOTS),
        next: new Uint8Array(SLOTS),
        late: 0,
      };
    },
    bootstrap(state, history, before) {
      // Each stored hour's busiest window, idle hours as zeros — what live traffic would have
      // taught the state — up to the hour the live events start in. Windows coarser than ours
      // are split evenly (an underestimate of the peak, so the band stays conservative).
      const ratio = Math.max(1, Math.round(history.windowMs / windowMs));
      const peaks = new Map<number, number>();
      for (const r of history.rows) {
        const hour = Math.floor(r.start / HOUR) * HOUR;
        peaks.set(hour, Math.max(peaks.get(hour) ?? 0, r.requests / ratio));
      }
      if (peaks.size === 0) return;
      const first = Math.min(...peaks.keys());
      const from = Math.max(first, before - perSlot * SLOTS * HOUR);
      for (let hour = from; hour < before; hour += HOUR) {
        push(state, slotOf(hour), peaks.get(hour) ?? 0, perSlot);
        state.hoursSeen++;
      }
      state.firstSeen = first;
      state.hourStart = before;
      state.hourPeak = 0;
    },
    observe(state, e, now) {
      const hourStart = Math.floor(e.time / HOUR) * HOUR;
      if (hourStart < state.hourStart) {
        // Later than the allowed lateness (the current hour): it still counts towards nothing we
        // already closed, so it is only counted as late.
        state.late++;
        return [];
      }
      if (hourStart > state.hourStart) advanceHours(state, hourStart);
      const windowStart = Math.floor(e.time / windowMs) * windowMs;
      const out: Finding[] = [];
      if (
        windowStart > state.windowStart &&
        state.lastFiredCount > 0 &&
        state.windowCount > state.lastFiredCount
      ) {
        // The window that fired has closed: re-issue its finding once more with the final numbers.
        out.push(closingFinding(state, e, now));
      }
      if (windowStart > state.windowStart) {
        state.windowStart = windowStart;
        state.windowCount = 0;
        state.windowRows = 0;
        state.lastFiredCount = 0;
        state.lastFiredEvent = undefined;
        state.evidence = [];
        state.collections.clear();
      }
      if (windowStart === state.windowStart) {
        state.windowCount++;
        state.hourPeak = Math.max(state.hourPeak, state.windowCount);
        state.windowRows += e.returned;
        if (state.evidence.length < MAX_EVIDENCE) state.evidence.push(e.event_id);
        if (
          e.collection &&
          (state.collections.has(e.collection) || state.collections.size < MAX_COLLECTIONS)
        ) {
          state.collections.set(e.collection, (state.collections.get(e.collection) ?? 0) + 1);
        }
      }
      if (state.hoursSeen < params.warmup_hours || state.windowCount < params.min_count) return out;
      if (state.lastFiredCount > 0 && state.windowCount < state.lastFiredCount * ESCALATION_FACTOR)
        return out;
      const slot = slotOf(state.windowStart);
      const baseline = baselineFor(state, slot, perSlot);
      const band = windowBand(baseline, params.threshold_sigmas);
      if (state.windowCount <= band.high) return out;
      state.lastFiredCount = state.windowCount;
      state.lastFiredEvent = e;
      out.push(buildFinding(state, e, band, baseline, now));
      return out;
    },
  };

  function closingFinding(state: VolumeState, next: AccessEvent, now: number): Finding {
    const baseline = baselineFor(state, slotOf(state.windowStart), perSlot);
    return buildFinding(
      state,
      state.lastFiredEvent ?? next,
      windowBand(baseline, params.threshold_sigmas),
      baseline,
      now,
    );
  }

  function buildFinding(
    state: VolumeState,
    e: AccessEvent,
    band: WindowBand,
    baseline: Baseline,
    now: number,
  ): Finding {
    const score = anomalyScore(state.windowCount, band, params.threshold_sigmas);
    const slot = slotOf(state.windowStart);
    const top = [...state.collections].sort((a, b) => b[1] - a[1])[0];
    const d = new Date(state.windowStart);
    const minutes = Math.round(windowMs / 60_000);
    const where = top ? ` on ${top[0]}` : '';
    const sentence =
      `${state.actor} made ${fmt(state.windowCount)} requests${where} returning ${fmt(state.windowRows)} rows in ${minutes} min ` +
      `from ${d.toISOString().slice(0, 16)}Z; its usual for a ${WEEKDAYS[d.getUTCDay()]} ${String(d.getUTCHours()).padStart(2, '0')}:00 ` +
      `is ${fmt(band.expected)} ± ${fmt(band.sigma)} per ${minutes} min (band up to ${fmt(band.high)}).`;
    return {
      finding_id: deterministicId('volume-spike', state.tenant, state.actor, state.windowStart),
      tenant: state.tenant,
      detector: 'volume-spike',
      entity_type: 'actor',
      entity: state.actor,
      actor: state.actor,
      severity: severityOf(score),
      score,
      confidence: Math.min(1, baseline.samples / (params.history_per_slot * 2)),
      event_time: e.time,
      detected_time: now,
      first_observed_time: e.observed_time,
      title: `Request volume spike: ${fmt(state.windowCount)} requests in ${minutes} min`,
      sentence,
      observed: state.windowCount,
      expected: band.expected,
      band_low: band.low,
      band_high: band.high,
      baseline_period: `${state.hoursSeen} h of history; ${baseline.samples} busiest-window samples of the ${slot >= 24 ? 'weekend' : 'weekday'} ${String(slot % 24).padStart(2, '0')}:00 slot${baseline.ceiling ? ' (slot still young: judged against the busiest window seen)' : ''}`,
      features: {
        requests: state.windowCount,
        rows_returned: state.windowRows,
        expected_requests: band.expected,
        sigma: band.sigma,
        z: (state.windowCount - band.expected) / band.sigma,
        collections: state.collections.size,
      },
      evidence: [...state.evidence],
      collection: top?.[0] ?? '',
      attack_techniques: ['T1530', 'T1213'],
    };
  }
}
