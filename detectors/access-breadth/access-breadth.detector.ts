// access-breadth: distinct collections an identity touches in an hour, against its own history of
// active hours (enumeration: a stolen key walking every collection it can list). Distinct counts
// come from a 256-bit linear-counting bitmap, so an hour over a thousand collections costs the
// same 32 bytes as an hour over three; the history is a log-scale ring of active hours. Breadth is
// also related to the tenant's collection count (./tenant-collections.ts): once the tenant is
// known, the band's top never exceeds `tenant_share` of its collections (nor falls below a doubling
// over the identity's usual), so a tenant of 12 collections does not hide an identity touching all 12.
import type { AccessBreadthParams } from './access-breadth.params.js';
import type { Detector } from '../../src/detect/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  bitmap,
  closeLogHour,
  describeLogBaseline,
  dueToFire,
  estimateBytes,
  type Firing,
  fmt,
  fmtSmall,
  grewSinceFired,
  HOUR,
  hash32,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  type LogBand,
  logBand,
  LOG_STEPS,
  logOf,
  logScore,
  MIN_SAMPLES,
  makeFinding,
  markFired,
  noteEvidence,
  pct,
  logRing,
  resetFiring,
  stateLayout,
  watchLevel,
  unlog,
} from '../shared/index.js';
import { createTenantCollections, type TenantCollections } from './tenant-collections.js';

const NAME = 'access-breadth';

/** The bytes of an identity's state: the hour's distinct collections, then the history of hours. */
export function accessBreadthLayout(hours: number) {
  return stateLayout({ collections: bitmap(32), history: logRing(hours) });
}

/** A band, and the tenant's collection count when it lowered the top. */
export type RelativeBand = LogBand & { readonly tenantCollections?: number };

export interface AccessBreadthState extends Firing {
  /** Hour index (epoch hours) of the identity's first event, and of the current hour. */
  firstHour: number;
  hour: number;
  /** Distinct collections of the current hour so far (bitmap estimate, rounded). */
  distinct: number;
  /** Collection of the event that triggered the current hour's finding. */
  firedCollection: string;
  late: number;
  /** [distinct-collection bitmap of the hour | log ring of distinct collections per active hour] */
  buf: Uint8Array;
}

/** Rough heap bytes of one identity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: AccessBreadthState): number {
  return estimateBytes(state);
}

/**
 * The band lowered to the tenant's size: its top at most `share` of the tenant's collections, but
 * never below a doubling over the identity's usual (one that normally touches 8 of 12 is not
 * flagged at 10). Unchanged until the tenant has been watched for `warmupHours` (a count still
 * growing would read as a small tenant).
 */
export function tenantRelativeBand(
  band: LogBand,
  tenant: { readonly collections: number; readonly sinceHour: number } | undefined,
  hour: number,
  share: number,
  warmupHours: number,
): RelativeBand {
  if (!tenant || hour - tenant.sinceHour < warmupHours || tenant.collections < 2) return band;
  const capLog = Math.max(logOf(Math.ceil(share * tenant.collections)), band.center + LOG_STEPS);
  if (capLog >= band.highLog) return band;
  return {
    ...band,
    highLog: capLog,
    statHighLog: Math.min(band.statHighLog, capLog),
    high: unlog(capLog),
    tenantCollections: tenant.collections,
  };
}

export function createAccessBreadthDetector(
  params: AccessBreadthParams,
  tenants: TenantCollections = createTenantCollections({ maxTenants: params.max_tenants }),
): Detector<AccessBreadthState> {
  const hours = params.history_hours;
  const layout = accessBreadthLayout(hours);
  const { collections, history: ring } = layout.sections;

  const bandOf = (state: AccessBreadthState, tenant: string): RelativeBand =>
    tenantRelativeBand(
      logBand(ring, state.buf, params.threshold_sigmas, params.min_collections, Math.floor(state.hour / 24)),
      tenants.of(tenant),
      state.hour,
      params.tenant_share,
      params.warmup_hours,
    );
  const warm = (state: AccessBreadthState, hour: number) =>
    hour - state.firstHour >= params.warmup_hours && ring.samples(state.buf) >= MIN_SAMPLES;

  /**
   * The log score, or — when the tenant's size lowered the band — at least one by the share of
   * the tenant touched: 0.5 at `tenant_share`, 0.95 at every collection of the tenant (touching all
   * of a small tenant is enumeration however few doublings it is over the identity's usual).
   */
  function scoreOf(observed: number, band: RelativeBand): number {
    const s = logScore(observed, band);
    if (!band.tenantCollections || params.tenant_share >= 1) return s;
    const over = (observed / band.tenantCollections - params.tenant_share) / (1 - params.tenant_share);
    return over > 0 ? Math.max(s, 0.5 + 0.45 * Math.min(1, over)) : s;
  }

  function closeHour(state: AccessBreadthState, next: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    const band = bandOf(state, next.tenant);
    if (grewSinceFired(state, state.distinct)) out.push(finding(state, next, band, now));
    closeLogHour(ring, state.buf, state.distinct, band, Math.floor(state.hour / 24), warm(state, state.hour));
    collections.clear(state.buf);
    state.distinct = 0;
    state.firedCollection = '';
    resetFiring(state);
    return out;
  }

  function finding(state: AccessBreadthState, e: AccessEvent, band: RelativeBand, now: number): Finding {
    const start = state.hour * HOUR;
    const observed = state.distinct;
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: start,
      score: scoreOf(observed, band),
      confidence: Math.min(1, band.samples / hours),
      ...issue(state),
      now,
      title: `Access breadth: ${fmt(observed)} distinct collections in an hour`,
      sentence:
        `${e.actor} touched ${fmt(observed)} distinct collections in the hour from ${isoMinute(start)}; ` +
        `its usual is ${fmtSmall(band.expected)} per active hour (band up to ${fmt(band.high)}` +
        (band.tenantCollections
          ? `, at most ${pct(params.tenant_share)} of the tenant's ${fmt(band.tenantCollections)} collections).`
          : ').'),
      observed,
      expected: band.expected,
      bandLow: band.low,
      bandHigh: band.high,
      baselinePeriod: describeLogBaseline(band, state.firstHour),
      features: {
        distinct_collections: observed,
        expected_collections: band.expected,
        log2_spread: band.spread / 8,
        history_hours: band.samples,
        ...(band.tenantCollections ? { tenant_collections: band.tenantCollections } : {}),
      },
      evidence: state.evidence ?? [],
      collection: state.firedCollection,
      techniques: ['T1619', 'T1213'],
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
        distinct: 0,
        firedCollection: '',
        late: 0,
        buf: layout.alloc(),
      });
    },
    bootstrap(state, history, before, first) {
      // Each stored active hour's distinct collections, counted with the same bitmap and closed
      // into the ring oldest first, as live traffic would have (once warm, clipped to the band).
      const byHour = new Map<number, string[]>();
      for (const r of history.hourly) {
        if (r.requests === 0) continue;
        const hour = hourIndex(r.hour);
        const list = byHour.get(hour) ?? [];
        if (list.length === 0) byHour.set(hour, list);
        list.push(r.collection);
      }
      const active = [...byHour.keys()].sort((a, b) => a - b);
      if (active.length === 0) return;
      // Window counts reach further back than the (most recent) hourly rows kept.
      state.firstHour = historyStartHour(history, active[0]!);
      for (const hour of active) {
        collections.clear(state.buf);
        for (const c of byHour.get(hour)!) {
          if (!c) continue;
          const h = hash32(c);
          collections.add(state.buf, h);
          // The stored history teaches the tenant's collections too (after a restart without them).
          tenants.add(first.tenant, h, hour);
        }
        state.hour = hour;
        const distinct = Math.round(collections.estimate(state.buf));
        closeLogHour(
          ring,
          state.buf,
          distinct,
          bandOf(state, first.tenant),
          Math.floor(hour / 24),
          warm(state, hour),
        );
      }
      collections.clear(state.buf);
      state.distinct = 0;
      state.hour = hourIndex(before);
    },
    observe(state, e, now) {
      const hour = hourIndex(e.time);
      if (hour < state.hour) {
        state.late++;
        return [];
      }
      const out = hour > state.hour ? closeHour(state, e, now) : [];
      state.hour = hour;
      if (!e.collection) return out;
      const h = hash32(e.collection);
      if (!collections.add(state.buf, h)) return out;
      tenants.add(e.tenant, h, hour);
      state.distinct = Math.round(collections.estimate(state.buf));
      if (!warm(state, hour)) return out;
      const band = bandOf(state, e.tenant);
      if (state.distinct <= watchLevel(band)) return out;
      noteEvidence(state, e.event_id);
      if (state.distinct <= band.high) return out;
      const score = scoreOf(state.distinct, band);
      if (!dueToFire(state, state.distinct, score)) return out;
      markFired(state, state.distinct, score, e);
      state.firedCollection = e.collection;
      out.push(finding(state, e, band, now));
      return out;
    },
  };
}
