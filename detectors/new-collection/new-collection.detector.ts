// new-collection: an identity's first access to a collection after warm-up, weighted by how rare the
// collection is among the identity's peers (learned from co-access, or an attribute such as team)
// and by the collection's sensitivity label; damped for identities that open new collections all
// the time (an explorer's next discovery is not news). The identity's own collections are kept as
// 16-bit hashes with a last-seen hour (least recently used forgotten first); what peers use lives
// in the tenant's shared, bounded peer book.
import type { Sensitivity } from '../../src/config/sensitivity.js';
import type { NewCollectionParams } from './new-collection.params.js';
import type { Detector } from '../../src/detect/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  decay,
  decayedRatePerDay,
  dueToFire,
  estimateBytes,
  type Firing,
  fmt,
  fmtSmall,
  HOUR,
  hash16,
  hash32,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  makeFinding,
  markFired,
  noteEvidence,
  pct,
  resetFiring,
  recentSet,
  type SensitivityJudgement,
  sensitivityJudge,
  stateLayout,
} from '../shared/index.js';
import type { PeerBook, PeerShare } from './peer-book.js';

const NAME = 'new-collection';
const HOURS_PER_DAY = 24;
/** What an identity uses in its first day is where it starts from, not discovery. */
const FIRST_DAY_HOURS = 24;
/** A first access counts as exploring when fewer than half the identity's peers use the collection. */
const RARE_SHARE = 0.5;

/**
 * How much a habit adds to the first access's score, times the collection's sensitivity weight:
 * a high-sensitivity habit turns a 0.6 first access into 0.8 (1 − 0.4 × (1 − 0.6 × 0.8)).
 */
const HABIT_WEIGHT = 0.6;
const KIND_OF_IDENTITY: Record<AccessEvent['actor_type'], string> = {
  service: 'a service',
  user: 'a person',
  agent: 'an agent',
  unknown: 'an identity of unknown kind',
};

/** How much a first access weighs by the collection's sensitivity. */
export const SENSITIVITY_WEIGHT: Record<Sensitivity, number> = {
  low: 0.3,
  medium: 0.55,
  high: 0.8,
  critical: 1,
};

export interface NewCollectionState extends Firing {
  firstHour: number;
  hour: number;
  /** First accesses this hour that scored at least `min_score`. */
  newThisHour: number;
  /**
   * First accesses (after the first day) to collections most peers do not use, decayed (half-life
   * `discovery_half_life`) to `discoveredHour`.
   */
  discovered: number;
  discoveredHour: number;
  /** Hash of the identity's peer attribute value (0: none seen). */
  group: number;
  firedCollection: string;
  /**
   * The collection of the identity's latest first-access finding, followed up for a habit ('' when
   * none or done): the hour of that finding, the separate hours it was used in since (that hour
   * included), the last of them, and the finding's score. Absent in states checkpointed before.
   */
  habitCollection?: string;
  habitStart?: number;
  habitHours?: number;
  habitLast?: number;
  habitScore?: number;
  late: number;
  /** Known collections: (16-bit hash, last-seen hour since firstHour) pairs. */
  buf: Uint8Array;
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: NewCollectionState): number {
  return estimateBytes(state);
}

/**
 * The collection's sensitivity: its exact label, else the longest `prefix*` label, else the most
 * sensitive matching name pattern, else the default (detectors/shared/sensitivity.ts).
 */
export function sensitivityResolver(params: NewCollectionParams): (collection: string) => Sensitivity {
  const judge = sensitivityJudge(params);
  return (collection) => judge(collection).level;
}

/** The bytes of an identity's state: the collections it used (16-bit hashes, last-used hour). */
export function newCollectionLayout(maxKnown: number) {
  return stateLayout({ known: recentSet(maxKnown) });
}

export function createNewCollectionDetector(
  params: NewCollectionParams,
  book: PeerBook,
): Detector<NewCollectionState> {
  const cap = params.max_known;
  const layout = newCollectionLayout(cap);
  const { known: KNOWN } = layout.sections;
  const halfLifeHours = params.discovery_half_life / HOUR;
  const halfLifeDays = halfLifeHours / HOURS_PER_DAY;
  const sensitivityOf = sensitivityJudge(params);
  const byAttribute = params.peer_groups === 'attribute';

  interface Judgement {
    readonly peer: PeerShare;
    readonly sensitivity: SensitivityJudgement;
    readonly recent: number;
    readonly known: number;
    readonly score: number;
  }

  function finding(s: NewCollectionState, e: AccessEvent, j: Judgement, now: number): Finding {
    const perWeek = 7 * decayedRatePerDay(j.recent, halfLifeDays);
    const perHour = perWeek / (7 * HOURS_PER_DAY);
    const peers =
      j.peer.peers === 0
        ? 'no peer shares its collections yet'
        : j.peer.mode === 'attribute'
          ? `${pct(j.peer.share)} of the ${fmt(j.peer.peers)} other identities with its ${params.peer_attribute} used it`
          : `${pct(j.peer.share)} of its co-access peers used it`;
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: s.hour * HOUR,
      score: j.score,
      confidence: 0.5 + 0.5 * Math.min(1, j.peer.peers / 10),
      ...issue(s),
      now,
      title: `First access to ${j.sensitivity.level}-sensitivity collection ${s.firedCollection}`,
      sentence:
        `${e.actor} used ${s.firedCollection} (${e.operation}) for the first time at ${isoMinute(s.firedTime)}; ` +
        `${peers}, and it usually opens ${fmtSmall(perWeek)} collections a week that its peers do not use.`,
      observed: s.newThisHour,
      expected: perHour,
      bandLow: 0,
      bandHigh: perHour,
      baselinePeriod:
        `${fmt((s.hour - s.firstHour) / HOURS_PER_DAY)} days of history, ${fmt(j.known)} collections remembered ` +
        `(up to ${cap}); peers by ${j.peer.mode}`,
      features: {
        new_collections: s.newThisHour,
        peer_share: j.peer.share,
        peer_observations: j.peer.peers,
        rarity: 1 - j.peer.share,
        sensitivity_weight: SENSITIVITY_WEIGHT[j.sensitivity.level],
        known_collections: j.known,
        rare_new_collections_per_week: perWeek,
      },
      evidence: s.evidence ?? [],
      collection: s.firedCollection,
      techniques: ['T1213', 'T1530'],
    });
  }

  const habitWindowHours = params.habit_window / HOUR;
  const follows = (e: AccessEvent) =>
    params.habit_identities === 'all' ||
    (params.habit_identities === 'services' && e.actor_type === 'service');

  /**
   * One more hour of use of the followed collection; the habit finding when the hours reach
   * `habit_hours`. The follow-up ends with that finding or with `habit_window`.
   */
  function followUp(s: NewCollectionState, e: AccessEvent, hour: number, now: number): Finding[] {
    const start = s.habitStart ?? 0;
    if (hour - start >= habitWindowHours) {
      s.habitCollection = '';
      return [];
    }
    if (hour <= (s.habitLast ?? start)) return [];
    const hours = (s.habitHours ?? 1) + 1;
    s.habitLast = hour;
    s.habitHours = hours;
    if (hours < params.habit_hours) return [];
    s.habitCollection = '';
    return [habitFinding(e, start, hours, s.habitScore ?? 0, now)];
  }

  function habitFinding(e: AccessEvent, start: number, hours: number, first: number, now: number): Finding {
    const sensitivity = sensitivityOf(e.collection);
    const score = 1 - (1 - first) * (1 - HABIT_WEIGHT * SENSITIVITY_WEIGHT[sensitivity.level]);
    const who = KIND_OF_IDENTITY[e.actor_type];
    return makeFinding({
      detector: NAME,
      scope: `${NAME}/habit`,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: hourIndex(e.time) * HOUR,
      score,
      confidence: 1,
      eventTime: e.time,
      firstObservedTime: e.observed_time,
      now,
      title: `${e.actor} keeps using ${sensitivity.level}-sensitivity collection ${e.collection}, new to it`,
      sentence:
        `${e.actor} (${who}) has used ${e.collection} in ${hours} separate hours since its first access at ` +
        `${isoMinute(start * HOUR)}, which was already unusual (score ${first.toFixed(2)}): it has taken the collection up, ` +
        (e.actor_type === 'service'
          ? 'and a service does that after new code, a new configuration, or with its key in other hands.'
          : 'which a new project explains as often as misuse.'),
      observed: hours,
      expected: 1,
      bandLow: 0,
      bandHigh: params.habit_hours - 1,
      baselinePeriod: `the ${fmt(habitWindowHours)} hours after its first access`,
      features: {
        habit_hours: hours,
        first_access_score: first,
        sensitivity_weight: SENSITIVITY_WEIGHT[sensitivity.level],
      },
      evidence: [e.event_id],
      collection: e.collection,
      techniques: ['T1213', 'T1530'],
    });
  }

  return {
    name: NAME,
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState(e) {
      const hour = hourIndex(e.time);
      return withFiring({
        firstHour: hour,
        hour,
        newThisHour: 0,
        discovered: 0,
        discoveredHour: hour,
        group: 0,
        firedCollection: '',
        habitCollection: '',
        habitStart: 0,
        habitHours: 0,
        habitLast: 0,
        habitScore: 0,
        late: 0,
        buf: layout.alloc(),
      });
    },
    bootstrap(s, history, before, first) {
      // Replays the identity's stored first uses, oldest first, as live traffic would have taught
      // them (its known collections, its rate of rare discoveries, its share in the peer book), then
      // stamps each collection with the hour it was last used, so the set forgets as it would have.
      const seen = new Map<string, { first: number; last: number }>();
      for (const r of history.hourly) {
        if (!r.collection || r.requests === 0) continue;
        const hour = hourIndex(r.hour);
        const c = seen.get(r.collection);
        if (!c) seen.set(r.collection, { first: hour, last: hour });
        else c.last = Math.max(c.last, hour);
      }
      if (seen.size === 0) return;
      const uses = [...seen].sort((a, b) => a[1].first - b[1].first);
      // The hourly rows keep an identity's most recent hours only; its window counts reach back to
      // its first request in the lookback, which is where its warm-up started.
      const hourlyStart = uses[0]![1].first;
      const firstHour = historyStartHour(history, hourlyStart);
      s.firstHour = firstHour;
      s.discoveredHour = firstHour;
      for (const [collection, { first: hour }] of uses) {
        book.touch(first.tenant, collection);
        const known = KNOWN.keys(s.buf);
        const stamp = hour - firstHour;
        // Peers bootstrapped later are not in the book yet: with none to compare with, a first use
        // is not judged rare (the identity's explorer rate is then learned from live traffic).
        // What the first day of the kept rows shows is where the identity stood, not discovery.
        const starting = stamp < FIRST_DAY_HOURS || hour - hourlyStart < FIRST_DAY_HOURS;
        const peer = starting ? undefined : book.share(first.tenant, collection, known, 0);
        if (peer && peer.peers > 0 && peer.share < RARE_SHARE) {
          s.discovered = decay(s.discovered, s.discoveredHour, hour, halfLifeHours) + 1;
          s.discoveredHour = hour;
        }
        book.recordFirstUse(first.tenant, collection, known, 0);
        KNOWN.touch(s.buf, hash16(collection), stamp);
      }
      for (const [collection, { last }] of uses.sort((a, b) => a[1].last - b[1].last))
        KNOWN.touch(s.buf, hash16(collection), last - firstHour);
      s.hour = hourIndex(before);
    },
    observe(s, e, now) {
      if (!e.collection) return [];
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      if (hour > s.hour) {
        s.hour = hour;
        s.newThisHour = 0;
        s.firedCollection = '';
        resetFiring(s);
      }
      book.touch(e.tenant, e.collection);
      const label = byAttribute ? e.attributes[params.peer_attribute] : undefined;
      if (label) {
        const g = hash32(label);
        if (g !== s.group) {
          book.join(e.tenant, g, s.group);
          s.group = g;
        }
      }
      const h = hash16(e.collection);
      const stamp = hour - s.firstHour;
      if (KNOWN.has(s.buf, h)) {
        KNOWN.touch(s.buf, h, stamp);
        return s.habitCollection === e.collection ? followUp(s, e, hour, now) : [];
      }
      const known = KNOWN.keys(s.buf);
      const out: Finding[] = [];
      const recent = decay(s.discovered, s.discoveredHour, hour, halfLifeHours);
      const peer = stamp >= FIRST_DAY_HOURS ? book.share(e.tenant, e.collection, known, s.group) : undefined;
      // The identity's rate of first accesses to collections its peers do not use learns from the
      // first day on (its starting set excepted), so one that explored through its warm-up is known
      // to explore; opening what teammates use does not count as exploring.
      if (peer && peer.share < RARE_SHARE) {
        s.discovered = recent + 1;
        s.discoveredHour = hour;
      }
      if (peer && stamp >= params.warmup_hours) {
        const sensitivity = sensitivityOf(e.collection);
        // One rare first access a week or so is anyone's right; beyond that each halves the news.
        const damping = 1 / (1 + Math.max(0, recent - 1) / 2);
        const own = SENSITIVITY_WEIGHT[sensitivity.level] * (0.4 + 0.6 * (1 - peer.share)) * damping;
        // Several such first accesses in one hour are several pieces of evidence: the hour's
        // score combines them (1 − Π(1 − score)), so reading legal and HR collections at once
        // weighs more than either alone.
        const score = own >= params.min_score && s.firedScore > 0 ? 1 - (1 - s.firedScore) * (1 - own) : own;
        if (own >= params.min_score) {
          s.newThisHour++;
          noteEvidence(s, e.event_id);
          if (dueToFire(s, s.newThisHour, score)) {
            markFired(s, s.newThisHour, score, e);
            s.firedCollection = e.collection;
            out.push(finding(s, e, { peer, sensitivity, recent, known: known.length + 1, score }, now));
            if (follows(e)) {
              s.habitCollection = e.collection;
              s.habitStart = hour;
              s.habitHours = 1;
              s.habitLast = hour;
              s.habitScore = score;
            }
          }
        }
      }
      book.recordFirstUse(e.tenant, e.collection, known, s.group);
      KNOWN.touch(s.buf, h, stamp);
      return out;
    },
  };
}
