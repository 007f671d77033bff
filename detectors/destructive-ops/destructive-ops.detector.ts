// destructive-ops: deletes and collection drops per identity and hour against its own history
// (log scale, like the other volume detectors), and any drop_collection by an identity that has
// never administered anything — ransomware-style wiping and sabotage rarely come from the people
// who drop collections for a living.
import type { DestructiveOpsParams } from './destructive-ops.params.js';
import type { Detector } from '../../src/detect/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  closeLogHour,
  describeLogBaseline,
  dueToFire,
  estimateBytes,
  type Firing,
  fmt,
  fmtSmall,
  grewSinceFired,
  HOUR,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  type LogBand,
  logBand,
  logScore,
  MIN_SAMPLES,
  makeFinding,
  markFired,
  plural,
  noteEvidence,
  logRing,
  resetFiring,
  stateLayout,
  watchLevel,
} from '../shared/index.js';

const NAME = 'destructive-ops';
/** Score of a drop by an identity that never administered: high on its own. */
const NON_ADMIN_DROP_SCORE = 0.8;
const ADMIN_OPERATIONS = new Set(['create_collection', 'drop_collection', 'admin']);
const KINDS = ['deletes', 'drops', 'non-admin drop'] as const;
type Kind = (typeof KINDS)[number];

function countOf(s: DestructiveOpsState, kind: Kind): number {
  return kind === 'deletes' ? s.deletes : kind === 'drops' ? s.drops : s.nonAdminDrops;
}

export interface DestructiveOpsState extends Firing {
  firstHour: number;
  hour: number;
  deletes: number;
  drops: number;
  /** Drops this hour by an identity that had never administered (counted after warm-up). */
  nonAdminDrops: number;
  /** 1 once the identity created or dropped a collection or ran an admin operation. */
  administers: number;
  /** What the current hour's finding was last issued for (index into KINDS). */
  firedKind: number;
  firedCollection: string;
  /** The collection the hour's latest drop was of ('' none; absent in states saved before). */
  dropped?: string;
  late: number;
  /** [log ring of deletes per active hour | log ring of drops per active hour] */
  buf: Uint8Array;
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: DestructiveOpsState): number {
  return estimateBytes(state);
}

/** The bytes of an identity's state: the history of deletes, then of drops, per active hour. */
export function destructiveOpsLayout(hours: number) {
  return stateLayout({ deletes: logRing(hours), drops: logRing(hours) });
}

export function createDestructiveOpsDetector(params: DestructiveOpsParams): Detector<DestructiveOpsState> {
  const hours = params.history_hours;
  const layout = destructiveOpsLayout(hours);
  const { deletes: DELETES, drops: DROPS } = layout.sections;

  const dayOf = (s: DestructiveOpsState) => Math.floor(s.hour / 24);
  const deleteBand = (s: DestructiveOpsState) =>
    logBand(DELETES, s.buf, params.threshold_sigmas, params.min_deletes, dayOf(s));
  const dropBand = (s: DestructiveOpsState) =>
    logBand(DROPS, s.buf, params.threshold_sigmas, params.min_drops, dayOf(s));
  const warm = (s: DestructiveOpsState, hour: number) =>
    hour - s.firstHour >= params.warmup_hours && DELETES.samples(s.buf) >= MIN_SAMPLES;

  interface Verdict {
    readonly score: number;
    readonly kind: Kind;
    readonly observed: number;
    readonly band: LogBand;
  }

  function judge(s: DestructiveOpsState): Verdict {
    const del = deleteBand(s);
    const drop = dropBand(s);
    const candidates: Verdict[] = [
      {
        kind: 'deletes',
        observed: s.deletes,
        band: del,
        score: s.deletes > del.high ? logScore(s.deletes, del) : 0,
      },
      {
        kind: 'drops',
        observed: s.drops,
        band: drop,
        score: s.drops > drop.high ? logScore(s.drops, drop) : 0,
      },
    ];
    if (s.nonAdminDrops > 0) {
      // Each further drop adds to the first one's score (two drops 0.87, five 0.95).
      const score = 1 - (1 - NON_ADMIN_DROP_SCORE) * 0.65 ** (s.nonAdminDrops - 1);
      candidates.push({ kind: 'non-admin drop', observed: s.nonAdminDrops, band: drop, score });
    }
    return candidates.reduce((a, b) => (b.score > a.score ? b : a));
  }

  function closeHour(s: DestructiveOpsState, next: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    const v = judge(s);
    if (grewSinceFired(s, countOf(s, KINDS[s.firedKind]!))) out.push(finding(s, next, v, now));
    const ok = warm(s, s.hour);
    closeLogHour(DELETES, s.buf, s.deletes, deleteBand(s), dayOf(s), ok);
    closeLogHour(DROPS, s.buf, s.drops, dropBand(s), dayOf(s), ok);
    s.deletes = 0;
    s.drops = 0;
    s.nonAdminDrops = 0;
    s.firedKind = 0;
    s.firedCollection = '';
    s.dropped = '';
    resetFiring(s);
    return out;
  }

  function finding(s: DestructiveOpsState, e: AccessEvent, v: Verdict, now: number): Finding {
    const start = s.hour * HOUR;
    // A drop is named by the collection it destroyed: that is what the analyst restores or asks about.
    const dropped = s.dropped ? (s.drops > 1 ? `${s.dropped} and ${fmt(s.drops - 1)} more` : s.dropped) : '';
    const where =
      s.firedCollection && !(v.kind !== 'deletes' && dropped) ? ` (latest on ${s.firedCollection})` : '';
    const dropsDone = dropped ? `dropped ${dropped}` : plural(s.drops, 'collection drop', 'collection drops');
    const did =
      v.kind === 'deletes'
        ? `${e.actor} ran ${plural(s.deletes, 'delete', 'deletes')}${where}${s.drops ? ` and ${dropsDone}` : ''}`
        : `${e.actor} ${dropped ? dropsDone : `ran ${dropsDone}`}${s.deletes ? ` and ran ${plural(s.deletes, 'delete', 'deletes')}` : ''}${where}`;
    const inHour = `${did} in the hour from ${isoMinute(start)}`;
    const sentence =
      v.kind === 'non-admin drop'
        ? `${inHour}; it had never created, dropped or administered a collection before.`
        : `${inHour}; its usual is ${fmtSmall(v.band.expected)} ${v.kind} per active hour (band up to ${fmt(v.band.high)}).`;
    const title =
      v.kind === 'non-admin drop'
        ? `${dropped ? `${s.drops > 1 ? 'Collections' : 'Collection'} ${dropped} dropped` : 'Collection dropped'} by an identity that never administers`
        : v.kind === 'drops'
          ? `Destructive operations: ${plural(v.observed, 'collection drop', 'collection drops')} in an hour${dropped ? ` (${dropped})` : ''}`
          : `Destructive operations: ${fmt(v.observed)} deletes in an hour`;
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: start,
      score: v.score,
      confidence: v.kind === 'non-admin drop' ? 0.8 : Math.min(1, v.band.samples / hours),
      ...issue(s),
      now,
      title,
      sentence,
      observed: v.kind === 'non-admin drop' ? s.drops : v.observed,
      expected: v.band.expected,
      bandLow: v.band.low,
      bandHigh: v.band.high,
      baselinePeriod: describeLogBaseline(v.band, s.firstHour),
      features: {
        deletes: s.deletes,
        drops: s.drops,
        non_admin_drops: s.nonAdminDrops,
        administers: s.administers,
        expected_deletes: deleteBand(s).expected,
        expected_drops: dropBand(s).expected,
      },
      evidence: s.evidence ?? [],
      collection: v.kind !== 'deletes' && s.dropped ? s.dropped : s.firedCollection,
      techniques: v.kind === 'non-admin drop' ? ['T1485', 'T1078'] : ['T1485'],
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
        deletes: 0,
        drops: 0,
        nonAdminDrops: 0,
        administers: 0,
        firedKind: 0,
        firedCollection: '',
        dropped: '',
        late: 0,
        buf: layout.alloc(),
      });
    },
    bootstrap(s, history, before) {
      // Each stored active hour's deletes and drops (requests that were not denied, as live), closed
      // into the rings oldest first as live traffic would have (once warm, clipped to the band); and
      // the administers flag, learnt by the live rule: any admin-like operation before warm-up, a
      // create or admin operation after it (a drop after warm-up does not make an admin).
      const byHour = new Map<number, { deletes: number; drops: number; admin: number }>();
      for (const r of history.hourly) {
        if (r.requests === 0) continue;
        const hour = hourIndex(r.hour);
        const h = byHour.get(hour) ?? { deletes: 0, drops: 0, admin: 0 };
        byHour.set(hour, h);
        const done = Math.max(0, r.requests - r.denied);
        if (r.operation === 'delete') h.deletes += done;
        else if (r.operation === 'drop_collection') h.drops += done;
        else if (ADMIN_OPERATIONS.has(r.operation)) h.admin += done;
      }
      const active = [...byHour.keys()].sort((a, b) => a - b);
      if (active.length === 0) return;
      // Window counts reach further back than the (most recent) hourly rows kept.
      s.firstHour = historyStartHour(history, active[0]!);
      for (const hour of active) {
        const h = byHour.get(hour)!;
        s.hour = hour;
        s.deletes = h.deletes;
        s.drops = h.drops;
        const ok = warm(s, hour);
        if (h.admin > 0 || (h.drops > 0 && !ok)) s.administers = 1;
        closeLogHour(DELETES, s.buf, s.deletes, deleteBand(s), dayOf(s), ok);
        closeLogHour(DROPS, s.buf, s.drops, dropBand(s), dayOf(s), ok);
      }
      s.deletes = 0;
      s.drops = 0;
      s.hour = hourIndex(before);
    },
    observe(s, e, now) {
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      const out = hour > s.hour ? closeHour(s, e, now) : [];
      s.hour = hour;
      // A denied attempt destroyed nothing (auth-failures watches those).
      if (e.outcome === 'denied') return out;
      const isWarm = warm(s, hour);
      if (e.operation === 'delete') s.deletes++;
      else if (e.operation === 'drop_collection') {
        s.drops++;
        if (e.collection) s.dropped = e.collection;
        if (isWarm && s.administers === 0 && params.non_admin_drop) s.nonAdminDrops++;
      }
      // Learning who administers: before warm-up anything admin-like counts; after it, a drop by a
      // non-admin is what this detector is for, so it does not make the identity an admin.
      if (ADMIN_OPERATIONS.has(e.operation) && (e.operation !== 'drop_collection' || !isWarm))
        s.administers = 1;
      if (!isWarm || (e.operation !== 'delete' && e.operation !== 'drop_collection')) return out;
      const v = judge(s);
      if (v.score > 0 || s.deletes > watchLevel(deleteBand(s))) noteEvidence(s, e.event_id);
      if (v.score <= 0) return out;
      // Re-issue as the count it last fired on grows (or the score jumps, whatever leads now).
      if (!dueToFire(s, countOf(s, KINDS[s.firedKind]!), v.score)) return out;
      markFired(s, v.observed, v.score, e);
      s.firedKind = KINDS.indexOf(v.kind);
      if (e.collection) s.firedCollection = e.collection;
      out.push(finding(s, e, v, now));
      return out;
    },
  };
}
