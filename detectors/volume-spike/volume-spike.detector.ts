// volume-spike: requests per identity in a short window against that identity's own seasonal
// baseline (hour of day, weekdays and weekends apart). The baseline is learned from each hour's
// busiest window (not the hourly total spread evenly: a nightly job that does its whole hour in
// five minutes is normal for it) with robust statistics (median and MAD), so a few odd hours do
// not move it and an attack does not teach it that the attack is normal (anomalous hours enter
// the history clipped to the band). A change that lasts is not an attack that never ends: after
// `adapt_after` consecutive hours above the band the whole history moves up by the run's mean
// excess (detectors/shared/level-shift.ts), so a level shift fires at its onset and then stops.
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { VolumeSpikeParams } from './volume-spike.params.js';
import type { Detector } from '../../src/detect/index.js';
import { type AccessEvent, deterministicId, type Finding } from '../../src/model/index.js';
import {
  byteArray,
  counters,
  anomalyScore,
  estimateBytes,
  fmt,
  stateLayout,
  isFailedLogin,
  plural,
  HOUR,
  MAD_TO_SIGMA,
  wordArray,
  trackShift,
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
  firstSeen: number;
  hoursSeen: number;
  hourStart: number;
  /** Busiest window of the current hour so far. */
  hourPeak: number;
  windowStart: number;
  windowCount: number;
  windowRows: number;
  /** Of the window's requests, failed logins (absent in states saved before: 0). */
  windowLogins?: number;
  /** observed count at the last finding in this window (0 = none yet). */
  lastFiredCount: number;
  /** The event that triggered the window's last finding (its time and observed time stay the finding's). */
  lastFiredEvent: AccessEvent | undefined;
  /** Event time of the window's first finding (0 = none yet); re-issues leave it. */
  firstFiredTime: number;
  /** Issues of the window's finding so far. */
  issues: number;
  /** Sample event ids of the window; allocated on the window's first event. */
  evidence: string[] | undefined;
  /** The window's first MAX_COLLECTIONS collections, their counts in `buf`; allocated on first use. */
  collections: string[] | undefined;
  /**
   * One buffer, so one typed array per state (V8's per-array cost dwarfs these payloads):
   * [per-slot rings of hourly peak-window counts, `history_per_slot` × 16-bit codes per slot |
   * filled per slot | next per slot | window counts of `collections`, 32-bit each].
   */
  buf: Uint8Array;
  late: number;
  /** Consecutive closed hours above the band (absent in states saved before: 0). */
  shiftRun?: number;
  /** Their summed excess over the expected busiest window (absent before: 0). */
  shiftExcess?: number;
}

/**
 * A count as 16 bits: an integer below 2^15 exactly (what live traffic gives), anything else
 * (a winsorized band edge, a bootstrap share of a coarser window, a huge count) by its log2 in
 * 1/1024 steps, i.e. to 0.07 % — finer than the robust statistics it feeds can tell apart.
 */
const EXACT_LIMIT = 0x8000;
const LOG_UNITS = 1024;

export function encodeCount(v: number): number {
  const x = Math.max(0, v);
  if (Number.isInteger(x) && x < EXACT_LIMIT) return x;
  return EXACT_LIMIT | Math.min(EXACT_LIMIT - 1, Math.round(Math.log2(1 + x) * LOG_UNITS));
}

export function decodeCount(code: number): number {
  return code < EXACT_LIMIT ? code : 2 ** ((code & (EXACT_LIMIT - 1)) / LOG_UNITS) - 1;
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

/**
 * The bytes of an identity's state (see VolumeState): per slot a ring of `perSlot` busiest-window
 * counts (16-bit, `encodeCount`), how full each ring is and where it writes next, then the
 * counts of the current hour's collections.
 */
export function volumeLayout(perSlot: number) {
  return stateLayout({
    history: wordArray(SLOTS * perSlot),
    filled: byteArray(SLOTS),
    next: byteArray(SLOTS),
    counts: counters(MAX_COLLECTIONS),
  });
}

const layouts = new Map<number, ReturnType<typeof volumeLayout>>();

/** The layout for `perSlot` hours a slot (one per configuration, made once). */
function layout(perSlot: number) {
  let l = layouts.get(perSlot);
  if (l === undefined) {
    l = volumeLayout(perSlot);
    layouts.set(perSlot, l);
  }
  return l;
}

function slotValues(state: VolumeState, slot: number, perSlot: number): number[] {
  const { history, filled } = layout(perSlot).sections;
  const n = filled.get(state.buf, slot);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = decodeCount(history.get(state.buf, slot * perSlot + i));
  return out;
}

function allValues(state: VolumeState, perSlot: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < SLOTS; s++) out.push(...slotValues(state, s, perSlot));
  return out;
}

function push(state: VolumeState, slot: number, value: number, perSlot: number): void {
  const b = state.buf;
  const { history, filled, next } = layout(perSlot).sections;
  const pos = next.get(b, slot);
  history.set(b, slot * perSlot + pos, encodeCount(value));
  next.set(b, slot, (pos + 1) % perSlot);
  filled.set(b, slot, Math.min(perSlot, filled.get(b, slot) + 1));
}

/**
 * Moves every stored hour up by `by` (a level shift): the run's own hours, entered at the band's
 * edge, end up above the new level, one per slot at most in a run of under a day — the medians
 * hardly notice.
 */
function shiftHistory(state: VolumeState, by: number, perSlot: number): void {
  const b = state.buf;
  const { history, filled } = layout(perSlot).sections;
  for (let slot = 0; slot < SLOTS; slot++) {
    const n = filled.get(b, slot);
    for (let i = 0; i < n; i++) {
      const at = slot * perSlot + i;
      history.set(b, at, encodeCount(decodeCount(history.get(b, at)) + by));
    }
  }
}

function countAt(state: VolumeState, i: number, perSlot: number): number {
  return layout(perSlot).sections.counts.get(state.buf, i);
}

function setCountAt(state: VolumeState, i: number, perSlot: number, v: number): void {
  layout(perSlot).sections.counts.set(state.buf, i, v);
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
    const above = warm && state.hourPeak > band.high;
    const run = { run: state.shiftRun ?? 0, excess: state.shiftExcess ?? 0 };
    const by = trackShift(run, above, state.hourPeak - band.expected, params.adapt_after);
    // Idle hours are data too (zeros), but a long silence need not replay more than the history holds.
    const gap = Math.min((hourStart - closing) / HOUR - 1, perSlot * SLOTS);
    // An idle hour breaks a run (it is not above any band).
    state.shiftRun = gap > 0 ? 0 : run.run;
    state.shiftExcess = gap > 0 ? 0 : run.excess;
    if (by > 0) shiftHistory(state, by, perSlot);
    // Winsorize: an anomalous hour enters the history at the band's edge, not at its real size —
    // unless it completed a level shift, when it is the new normal.
    push(state, slot, warm && by === 0 ? Math.min(state.hourPeak, band.high) : state.hourPeak, perSlot);
    state.hoursSeen++;
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
        firstSeen: e.time,
        hoursSeen: 0,
        hourStart: Math.floor(e.time / HOUR) * HOUR,
        hourPeak: 0,
        windowStart: Math.floor(e.time / windowMs) * windowMs,
        windowCount: 0,
        windowRows: 0,
        windowLogins: 0,
        lastFiredCount: 0,
        lastFiredEvent: undefined,
        firstFiredTime: 0,
        issues: 0,
        evidence: undefined,
        collections: undefined,
        buf: layout(perSlot).alloc(),
        late: 0,
        shiftRun: 0,
        shiftExcess: 0,
      };
    },
    restoreState(decoded) {
      if (!decoded || typeof decoded !== 'object') return undefined;
      const s = decoded as Record<string, unknown>;
      if (layout(perSlot).fits(s.buf)) return decoded as VolumeState;
      return fromUnpacked(s);
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
        state.windowLogins = 0;
        state.lastFiredCount = 0;
        state.lastFiredEvent = undefined;
        state.firstFiredTime = 0;
        state.issues = 0;
        state.evidence = undefined;
        state.collections = undefined;
      }
      if (windowStart === state.windowStart) {
        state.windowCount++;
        state.hourPeak = Math.max(state.hourPeak, state.windowCount);
        state.windowRows += e.returned ?? 0; // evidence only; unknown adds nothing
        if (isFailedLogin(e)) state.windowLogins = (state.windowLogins ?? 0) + 1;
        if (state.evidence === undefined) state.evidence = [e.event_id];
        else if (state.evidence.length < MAX_EVIDENCE) state.evidence.push(e.event_id);
        if (e.collection) countCollection(state, e.collection);
      }
      if (state.hoursSeen < params.warmup_hours || state.windowCount < params.min_count) return out;
      if (state.lastFiredCount > 0 && state.windowCount < state.lastFiredCount * ESCALATION_FACTOR)
        return out;
      const slot = slotOf(state.windowStart);
      const baseline = baselineFor(state, slot, perSlot);
      const band = windowBand(baseline, params.threshold_sigmas);
      if (state.windowCount <= band.high) return out;
      if (state.lastFiredCount === 0) state.firstFiredTime = e.time;
      state.lastFiredCount = state.windowCount;
      state.lastFiredEvent = e;
      out.push(buildFinding(state, e, e, band, baseline, now));
      return out;
    },
  };

  /**
   * A checkpoint of the layout before the packed buffer (history: Float32Array, filled and next:
   * Uint8Array, collections: Map, actor and tenant kept in the state), converted; undefined when
   * it is not one or its history has another length (another `history_per_slot`).
   */
  function fromUnpacked(s: Record<string, unknown>): VolumeState | undefined {
    const { history, filled, next, collections } = s;
    const numbers = ['firstSeen', 'hoursSeen', 'hourStart', 'hourPeak', 'windowStart', 'windowCount'];
    if (
      !(history instanceof Float32Array) ||
      history.length !== SLOTS * perSlot ||
      !(filled instanceof Uint8Array) ||
      filled.length !== SLOTS ||
      !(next instanceof Uint8Array) ||
      next.length !== SLOTS ||
      !numbers.every((k) => typeof s[k] === 'number')
    )
      return undefined;
    const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    const evidence = Array.isArray(s.evidence) ? (s.evidence as string[]).slice(0, MAX_EVIDENCE) : [];
    const state: VolumeState = {
      firstSeen: num('firstSeen'),
      hoursSeen: num('hoursSeen'),
      hourStart: num('hourStart'),
      hourPeak: num('hourPeak'),
      windowStart: num('windowStart'),
      windowCount: num('windowCount'),
      windowRows: num('windowRows'),
      windowLogins: num('windowLogins'),
      lastFiredCount: num('lastFiredCount'),
      lastFiredEvent: (s.lastFiredEvent as AccessEvent | undefined) ?? undefined,
      firstFiredTime: num('firstFiredTime'),
      issues: num('issues'),
      evidence: evidence.length ? evidence : undefined,
      collections: undefined,
      buf: layout(perSlot).alloc(),
      late: num('late'),
    };
    const at = layout(perSlot).sections;
    for (let slot = 0; slot < SLOTS; slot++) {
      for (let i = 0; i < perSlot; i++)
        at.history.set(state.buf, slot * perSlot + i, encodeCount(history[slot * perSlot + i]!));
      at.filled.set(state.buf, slot, Math.min(perSlot, filled[slot]!));
      at.next.set(state.buf, slot, next[slot]! % perSlot);
    }
    if (collections instanceof Map) {
      const names: string[] = [];
      for (const [name, n] of collections) {
        if (typeof name !== 'string' || typeof n !== 'number' || names.length === MAX_COLLECTIONS) continue;
        setCountAt(state, names.length, perSlot, n);
        names.push(name);
      }
      if (names.length) state.collections = names;
    }
    return state;
  }

  /** Counts the window's event on its collection (the first MAX_COLLECTIONS distinct ones). */
  function countCollection(state: VolumeState, collection: string): void {
    if (state.collections === undefined) {
      state.collections = [collection];
      setCountAt(state, 0, perSlot, 1);
      return;
    }
    const i = state.collections.indexOf(collection);
    if (i >= 0) setCountAt(state, i, perSlot, countAt(state, i, perSlot) + 1);
    else if (state.collections.length < MAX_COLLECTIONS) {
      setCountAt(state, state.collections.length, perSlot, 1);
      state.collections.push(collection);
    }
  }

  /** The window's most used collection (the first seen among equals), if any. */
  function topCollection(state: VolumeState): string | undefined {
    const names = state.collections ?? [];
    let top: string | undefined;
    let best = 0;
    for (let i = 0; i < names.length; i++) {
      const n = countAt(state, i, perSlot);
      if (n > best) {
        best = n;
        top = names[i];
      }
    }
    return top;
  }

  function closingFinding(state: VolumeState, next: AccessEvent, now: number): Finding {
    const baseline = baselineFor(state, slotOf(state.windowStart), perSlot);
    return buildFinding(
      state,
      next,
      state.lastFiredEvent ?? next,
      windowBand(baseline, params.threshold_sigmas),
      baseline,
      now,
    );
  }

  /**
   * `who` is the identity's latest event: its tokens name the finding (after a key rotation they
   * are the new ones); `e` is the event that triggered it.
   */
  function buildFinding(
    state: VolumeState,
    who: AccessEvent,
    e: AccessEvent,
    band: WindowBand,
    baseline: Baseline,
    now: number,
  ): Finding {
    const score = anomalyScore(state.windowCount, band, params.threshold_sigmas);
    // A state checkpointed before these fields existed has them undefined: its firing counts as the first.
    state.issues = (state.issues || 0) + 1;
    if (!state.firstFiredTime) state.firstFiredTime = e.time;
    const slot = slotOf(state.windowStart);
    const top = topCollection(state);
    const d = new Date(state.windowStart);
    const minutes = Math.round(windowMs / 60_000);
    const where = top ? ` on ${top}` : '';
    // A spike made mostly of failed logins is password guessing against the account: say so first.
    const logins = state.windowLogins ?? 0;
    const guessing = logins * 2 >= state.windowCount;
    const made = guessing
      ? `had ${plural(logins, 'denied login', 'denied logins')} (of ${fmt(state.windowCount)} requests)`
      : `made ${fmt(state.windowCount)} requests${where} returning ${fmt(state.windowRows)} rows`;
    const sentence =
      `${who.actor} ${made} in ${minutes} min ` +
      `from ${d.toISOString().slice(0, 16)}Z; its usual for a ${WEEKDAYS[d.getUTCDay()]} ${String(d.getUTCHours()).padStart(2, '0')}:00 ` +
      `is ${fmt(band.expected)} ± ${fmt(band.sigma)} per ${minutes} min (band up to ${fmt(band.high)}).`;
    return {
      finding_id: deterministicId('volume-spike', who.tenant, who.actor, state.windowStart),
      tenant: who.tenant,
      detector: 'volume-spike',
      entity_type: 'actor',
      entity: who.actor,
      actor: who.actor,
      severity: severityOf(score),
      score,
      confidence: Math.min(1, baseline.samples / (params.history_per_slot * 2)),
      event_time: e.time,
      first_fired_time: state.firstFiredTime,
      update_count: state.issues,
      detected_time: now,
      first_observed_time: e.observed_time,
      title: guessing
        ? `Password guessing: ${plural(logins, 'denied login', 'denied logins')} in ${minutes} min`
        : `Request volume spike: ${fmt(state.windowCount)} requests in ${minutes} min`,
      sentence,
      observed: state.windowCount,
      expected: band.expected,
      band_low: band.low,
      band_high: band.high,
      baseline_period: `${state.hoursSeen} h of history; ${baseline.samples} busiest-window samples of the ${slot >= 24 ? 'weekend' : 'weekday'} ${String(slot % 24).padStart(2, '0')}:00 slot${baseline.ceiling ? ' (slot still young: judged against the busiest window seen)' : ''}`,
      features: {
        requests: state.windowCount,
        rows_returned: state.windowRows,
        failed_logins: logins,
        expected_requests: band.expected,
        sigma: band.sigma,
        z: (state.windowCount - band.expected) / band.sigma,
        collections: state.collections?.length ?? 0,
      },
      evidence: [...(state.evidence ?? [])],
      collection: top ?? '',
      attack_techniques: guessing ? ['T1110'] : ['T1530', 'T1213'],
    };
  }
}
