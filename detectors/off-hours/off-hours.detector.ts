// off-hours: activity in an hour of the week where the identity's own profile is empty. The
// profile is 48 one-byte slots — hour of day × {weekday, weekend}, UTC, as volume-spike uses — each
// counting activity in half-days: a day active in the slot adds 2, a day the slot was flagged adds
// only 1, and a slot is part of the profile from 2. So an attack does not teach the profile that
// it is normal (a night of scraping would otherwise make each next hour "next to the profile"),
// while a new schedule is learned after its second day. Slots halve every `forget_after`, so hours
// no longer worked fade out. An hour right next to the profile (work running late) scores below
// the default threshold; the further from any usual hour, and the busier, the higher the score.
import type { OffHoursParams } from './off-hours.params.js';
import type { Detector } from '../../src/detect/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  dueToFire,
  estimateBytes,
  type Firing,
  fmt,
  grewSinceFired,
  HOUR,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  makeFinding,
  markFired,
  noteEvidence,
  resetFiring,
  slotOf,
  weekdayHour,
} from '../shared/index.js';
import { byteArray, stateLayout } from '../shared/index.js';

const NAME = 'off-hours';
const SLOTS = 48;
/** The profile is the whole state buffer: slot i is byte i. */
const PROFILE = stateLayout({ slots: byteArray(SLOTS) });
/** Half-days of activity a slot needs to be part of the profile (one ordinary day). */
export const ACTIVE = 2;
/** Score by distance (hours) to the nearest hour the profile knows, same kind of day. */
const ADJACENT_SCORE = 0.45;
const NEAR_SCORE = 0.55;
const FAR_SCORE = 0.65;
/** How much a busy off hour adds on top (approached as the hour grows well past `min_events`). */
const VOLUME_BONUS = 0.25;
const VOLUME_SCALE = 50;

export interface OffHoursState extends Firing {
  firstHour: number;
  hour: number;
  /** Events in the current hour. */
  count: number;
  /** Hour index at which the profile was last halved. */
  decayedHour: number;
  late: number;
  /** Half-days active per slot (hour of day × {weekday, weekend}), saturating at 255; ACTIVE and up is usual. */
  profile: Uint8Array;
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: OffHoursState): number {
  return estimateBytes(state);
}

/** Hours (0–12) from the slot to the nearest non-empty slot of the same kind of day; Infinity if none. */
export function distanceToProfile(profile: Uint8Array, slot: number): number {
  const base = slot >= 24 ? 24 : 0;
  const hour = slot - base;
  for (let d = 0; d <= 12; d++) {
    if (profile[base + ((hour + d) % 24)]! >= ACTIVE || profile[base + ((hour - d + 24) % 24)]! >= ACTIVE)
      return d;
  }
  return Number.POSITIVE_INFINITY;
}

export function createOffHoursDetector(params: OffHoursParams): Detector<OffHoursState> {
  const forgetHours = Math.max(1, Math.round(params.forget_after / HOUR));

  function scoreOf(distance: number, count: number): number {
    // Next to a usual hour is working late, however busy: it gets no volume bonus.
    if (distance <= 1) return ADJACENT_SCORE;
    const base = distance === 2 ? NEAR_SCORE : FAR_SCORE;
    return base + VOLUME_BONUS * (1 - Math.exp(-Math.max(0, count - params.min_events) / VOLUME_SCALE));
  }

  function closeHour(s: OffHoursState, next: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    const slot = slotOf(s.hour * HOUR);
    if (grewSinceFired(s, s.count)) out.push(finding(s, next, now));
    // A flagged hour counts half: a new schedule becomes usual on its second day, an attack's hours
    // do not make the next hour look "next to the profile".
    if (s.count > 0) s.profile[slot] = Math.min(255, s.profile[slot]! + (s.firedObserved > 0 ? 1 : ACTIVE));
    s.count = 0;
    resetFiring(s);
    return out;
  }

  function forget(s: OffHoursState, hour: number): void {
    const periods = Math.floor((hour - s.decayedHour) / forgetHours);
    if (periods <= 0) return;
    const shift = Math.min(8, periods);
    for (let i = 0; i < SLOTS; i++) s.profile[i] = s.profile[i]! >>> shift;
    s.decayedHour += periods * forgetHours;
  }

  function activeHours(s: OffHoursState, weekend: boolean): number {
    let n = 0;
    for (let i = weekend ? 24 : 0; i < (weekend ? 48 : 24); i++) if (s.profile[i]! >= ACTIVE) n++;
    return n;
  }

  function finding(s: OffHoursState, e: AccessEvent, now: number): Finding {
    const start = s.hour * HOUR;
    const slot = slotOf(start);
    const distance = distanceToProfile(s.profile, slot);
    const weekend = slot >= 24;
    const dayKind = weekend ? 'weekend' : 'weekday';
    const usual = activeHours(s, weekend);
    const nearest = Number.isFinite(distance)
      ? `the nearest hour it is usually active in is ${distance} h away`
      : `it is never active on a ${dayKind}`;
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: start,
      score: scoreOf(distance, s.count),
      confidence: Math.min(1, (s.hour - s.firstHour) / (params.warmup_hours * 2)),
      ...issue(s),
      now,
      title: `Off-hours activity: ${fmt(s.count)} requests on ${weekdayHour(start)} UTC`,
      sentence:
        `${e.actor} made ${fmt(s.count)} requests in the hour from ${isoMinute(start)} (${weekdayHour(start)} UTC), ` +
        `an hour outside its usual profile; ${nearest} (${usual} of 24 ${dayKind} hours usual).`,
      observed: s.count,
      expected: 0,
      bandLow: 0,
      bandHigh: 0,
      baselinePeriod: `${fmt((s.hour - s.firstHour) / 24)} days of activity profile (48 hour-of-day × weekday/weekend slots, UTC)`,
      features: {
        events: s.count,
        slot_half_days: s.profile[slot]!,
        hours_to_profile: Number.isFinite(distance) ? distance : 24,
        profile_hours: usual,
      },
      evidence: s.evidence ?? [],
      techniques: ['T1078'],
    });
  }

  /** Whether an hour with `count` events in `slot` fires against the profile as it stands. */
  function offProfile(s: OffHoursState, slot: number, count: number): boolean {
    if (s.profile[slot]! >= ACTIVE || count < params.min_events) return false;
    return scoreOf(distanceToProfile(s.profile, slot), count) >= params.min_score;
  }

  return {
    name: NAME,
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState(e) {
      const hour = hourIndex(e.time);
      return withFiring({
        firstHour: hour,
        hour,
        count: 0,
        decayedHour: hour,
        late: 0,
        profile: PROFILE.alloc(),
      });
    },
    bootstrap(s, history, before) {
      // The stored active hours, oldest first, taught as live traffic would have: an hour that
      // would have fired counts half, and the profile halves every `forget_after` on the way.
      const counts = new Map<number, number>();
      for (const r of history.hourly) {
        const hour = hourIndex(r.hour);
        counts.set(hour, (counts.get(hour) ?? 0) + r.requests);
      }
      const hours = [...counts.keys()].filter((h) => counts.get(h)! > 0).sort((a, b) => a - b);
      if (hours.length === 0) return;
      // Window counts reach further back than the (most recent) hourly rows kept.
      s.firstHour = historyStartHour(history, hours[0]!);
      s.decayedHour = s.firstHour;
      for (const hour of hours) {
        forget(s, hour);
        const slot = slotOf(hour * HOUR);
        const fired = hour - s.firstHour >= params.warmup_hours && offProfile(s, slot, counts.get(hour)!);
        s.profile[slot] = Math.min(255, s.profile[slot]! + (fired ? 1 : ACTIVE));
      }
      s.hour = hourIndex(before);
      s.count = 0;
      forget(s, s.hour);
    },
    observe(s, e, now) {
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      const out: Finding[] = [];
      if (hour > s.hour) {
        out.push(...closeHour(s, e, now));
        s.hour = hour;
        forget(s, hour);
      }
      s.count++;
      if (hour - s.firstHour < params.warmup_hours) return out;
      const slot = slotOf(e.time);
      if (s.profile[slot]! >= ACTIVE) return out;
      const distance = distanceToProfile(s.profile, slot);
      if (scoreOf(distance, Number.POSITIVE_INFINITY) < params.min_score) return out;
      // The hour is off-profile from its first event: keep evidence from the start.
      noteEvidence(s, e.event_id);
      if (s.count < params.min_events) return out;
      const score = scoreOf(distance, s.count);
      if (score < params.min_score || !dueToFire(s, s.count, score)) return out;
      markFired(s, s.count, score, e);
      out.push(finding(s, e, now));
      return out;
    },
  };
}
