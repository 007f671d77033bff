// auth-failures: bursts of denied or failed requests per identity, per credential and per source
// network (brute force, credential stuffing, password spraying), each against that entity's own
// busiest window per active hour; and any use of a credential after the gateway reported it
// revoked. One Detector object per entity kind, all built here.
//
// There is no warm-up: a network never seen before may be exactly where the attack comes from, so
// the band's floor (`min_failures` in a window) stands in until an entity has history.
import type { AuthFailuresParams } from './auth-failures.params.js';
import type { Detector, IdentityHistory } from '../../src/detect/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  withFiring,
  bitmap,
  closeLogHour,
  describeLogBaseline,
  dueToFire,
  type EntityType,
  estimateBytes,
  type Firing,
  fmt,
  fmtSmall,
  isFailedLogin,
  grewSinceFired,
  HOUR,
  hash32,
  historyStartHour,
  hourIndex,
  isoMinute,
  issue,
  type LogBand,
  logBand,
  logScore,
  makeFinding,
  markFired,
  plural,
  noteEvidence,
  logRing,
  resetFiring,
  stateLayout,
  watchLevel,
} from '../shared/index.js';

const NAME = 'auth-failures';
const REVOKED_SCORE = 0.7;
const REVOKED_ALLOWED_SCORE = 0.95;

export type AuthEntityKind = 'actor' | 'credential' | 'src_net';

/** What a burst is also counted by: many networks for one identity or key, many identities for one network. */
const COUNTERPART: Record<AuthEntityKind, { one: string; label: string; of: (e: AccessEvent) => string }> = {
  actor: { one: 'source network', label: 'source networks', of: (e) => e.src_net },
  credential: { one: 'source network', label: 'source networks', of: (e) => e.src_net },
  src_net: { one: 'identity', label: 'identities', of: (e) => e.actor },
};

/** Uses of a revoked credential in the current hour (credentials only, allocated when first seen). */
export interface RevokedUse extends Firing {
  /** Event time the gateway first reported the credential revoked. */
  since: number;
  hour: number;
  uses: number;
  allowed: number;
  firedActor: string;
}

export interface AuthFailuresState extends Firing {
  firstHour: number;
  hour: number;
  /** Index of the current window (event time / window length). */
  window: number;
  failures: number;
  /** Of the window's failures, failed logins (absent in states saved before: 0). */
  logins?: number;
  /** Busiest window of the current hour so far. */
  hourPeak: number;
  /** Actor of the event that triggered the current window's finding. */
  firedActor: string;
  late: number;
  revoked: RevokedUse | undefined;
  /** [log ring of each active hour's busiest-window failures | counterpart bitmap of the window] */
  buf: Uint8Array;
}

/** Rough heap bytes of one entity's state (see detectors/shared/size.ts). */
export function estimateStateBytes(state: AuthFailuresState): number {
  return estimateBytes(state);
}

/** Denied, or an error that is about authentication (not an outage: a 5xx is not a guess). */
export function isAuthFailure(e: AccessEvent): boolean {
  if (e.outcome === 'denied') return true;
  return e.outcome === 'error' && (e.operation === 'auth' || e.status_code === 401 || e.status_code === 403);
}

export function entityOf(kind: AuthEntityKind, e: AccessEvent): string {
  return kind === 'actor' ? e.actor : kind === 'credential' ? e.credential : e.src_net;
}

/**
 * The bytes of an entity's state: the history of its hours' busiest window, then the distinct
 * counterparts (identities of a network, networks of an identity) of the current window.
 */
export function authFailuresLayout(hours: number) {
  return stateLayout({ history: logRing(hours), counterparts: bitmap(16) });
}

/** One detector per entity kind the parameters ask for. */
export function createAuthFailuresDetectors(params: AuthFailuresParams): Detector<AuthFailuresState>[] {
  return params.entities.map((kind) => createAuthFailuresDetector(params, kind));
}

export function createAuthFailuresDetector(
  params: AuthFailuresParams,
  kind: AuthEntityKind,
): Detector<AuthFailuresState> {
  const name = `${NAME}/${kind}`;
  const hours = params.history_hours;
  const windowMs = params.window;
  const minutes = Math.round(windowMs / 60_000);
  const layout = authFailuresLayout(hours);
  const { history, counterparts } = layout.sections;
  const markers = params.revoked_markers.map((m) => m.toLowerCase());
  const counterpart = COUNTERPART[kind];
  const entityType: EntityType = kind;

  const bandOf = (s: AuthFailuresState) =>
    logBand(history, s.buf, params.threshold_sigmas, params.min_failures, Math.floor(s.hour / 24));
  const revokedNotice = (e: AccessEvent) => {
    if (e.attributes.credential_status?.toLowerCase() === 'revoked') return true;
    const t = e.error_type.toLowerCase();
    return t !== '' && markers.some((m) => t.includes(m));
  };

  function closeWindow(s: AuthFailuresState, e: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    if (grewSinceFired(s, s.failures)) out.push(burstFinding(s, e, bandOf(s), now));
    s.failures = 0;
    s.logins = 0;
    s.firedActor = '';
    counterparts.clear(s.buf);
    resetFiring(s);
    return out;
  }

  function closeHour(s: AuthFailuresState): void {
    // No warm-up here: the history is clipped to the band from the first hour.
    closeLogHour(history, s.buf, s.hourPeak, bandOf(s), Math.floor(s.hour / 24), true);
    s.hourPeak = 0;
  }

  function burstFinding(s: AuthFailuresState, e: AccessEvent, band: LogBand, now: number): Finding {
    const entity = entityOf(kind, e);
    const start = s.window * windowMs;
    const others = Math.round(counterparts.estimate(s.buf));
    const logins = s.logins ?? 0;
    // Mostly failed logins is password guessing; from one network against many identities, spraying.
    const guessing = logins * 2 >= s.failures;
    const title = !guessing
      ? `Authentication failures: ${fmt(s.failures)} in ${minutes} min`
      : kind === 'src_net' && others > 1
        ? `Password spraying: ${plural(logins, 'denied login', 'denied logins')} across ${fmt(others)} identities in ${minutes} min`
        : `Password guessing: ${plural(logins, 'denied login', 'denied logins')} in ${minutes} min`;
    const which = guessing
      ? `${plural(logins, 'denied login', 'denied logins')}${logins < s.failures ? ` (of ${fmt(s.failures)} denied or failed requests)` : ''}`
      : `${fmt(s.failures)} denied or failed requests`;
    return makeFinding({
      detector: NAME,
      scope: name,
      tenant: e.tenant,
      entityType,
      entity,
      actor: s.firedActor || e.actor,
      windowStart: start,
      score: logScore(s.failures, band),
      // The floor does not need history to be right; history makes the band sharper.
      confidence: 0.6 + 0.4 * Math.min(1, band.samples / hours),
      ...issue(s),
      now,
      title,
      sentence:
        `${entity} had ${which} in ${minutes} min from ${isoMinute(start)}, ` +
        `from ${plural(others, `distinct ${counterpart.one}`, `distinct ${counterpart.label}`)}; its usual busiest ${minutes} min has ` +
        `${fmtSmall(band.expected)} (band up to ${fmt(band.high)}).`,
      observed: s.failures,
      expected: band.expected,
      bandLow: band.low,
      bandHigh: band.high,
      baselinePeriod: describeLogBaseline(
        band,
        s.firstHour,
        `active hours' busiest-${minutes}-min failure counts`,
      ),
      features: {
        failures: s.failures,
        failed_logins: logins,
        expected_failures: band.expected,
        [`distinct_${kind === 'src_net' ? 'actors' : 'networks'}`]: others,
        window_minutes: minutes,
      },
      evidence: s.evidence ?? [],
      techniques: ['T1110'],
    });
  }

  function revokedFinding(r: RevokedUse, e: AccessEvent, now: number): Finding {
    const start = r.hour * HOUR;
    return makeFinding({
      detector: NAME,
      scope: `${NAME}/revoked`,
      tenant: e.tenant,
      entityType: 'credential',
      entity: e.credential,
      actor: r.firedActor || e.actor,
      windowStart: start,
      score: r.allowed > 0 ? REVOKED_ALLOWED_SCORE : REVOKED_SCORE,
      confidence: 1,
      ...issue(r),
      now,
      title: r.allowed > 0 ? 'Revoked credential still accepted' : 'Use of a revoked credential',
      sentence:
        `${e.credential} was used ${plural(r.uses, 'time', 'times')} in the hour from ${isoMinute(start)} after the ` +
        `gateway reported it revoked at ${isoMinute(r.since)}; ${fmt(r.allowed)} of those uses ${r.allowed === 1 ? 'was' : 'were'} allowed.`,
      observed: r.uses,
      expected: 0,
      bandLow: 0,
      bandHigh: 0,
      baselinePeriod: `revoked since ${isoMinute(r.since)}`,
      features: { uses_after_revocation: r.uses, allowed_after_revocation: r.allowed },
      evidence: r.evidence ?? [],
      techniques: ['T1078'],
    });
  }

  /** Any use of a credential once the gateway said it is revoked. */
  function observeRevoked(s: AuthFailuresState, e: AccessEvent, now: number): Finding[] {
    if (kind !== 'credential') return [];
    if (!s.revoked) {
      if (!revokedNotice(e)) return [];
      s.revoked = withFiring({
        since: e.time,
        hour: hourIndex(e.time),
        uses: 0,
        allowed: 0,
        firedActor: '',
      });
    }
    const r = s.revoked;
    const out: Finding[] = [];
    const hour = hourIndex(e.time);
    if (hour > r.hour) {
      if (grewSinceFired(r, r.uses)) out.push(revokedFinding(r, e, now));
      r.hour = hour;
      r.uses = 0;
      r.allowed = 0;
      r.firedActor = '';
      resetFiring(r);
    }
    r.uses++;
    if (e.outcome === 'allowed') r.allowed++;
    noteEvidence(r, e.event_id);
    const score = r.allowed > 0 ? REVOKED_ALLOWED_SCORE : REVOKED_SCORE;
    if (dueToFire(r, r.uses, score)) {
      markFired(r, r.uses, score, e);
      r.firedActor = e.actor;
      out.push(revokedFinding(r, e, now));
    }
    return out;
  }

  /**
   * An identity's busiest-window failures per active hour, replayed from its stored history. Only
   * for the actor instance: the runtime bootstraps per identity, and a credential's or a network's
   * history is not any one identity's (see the README).
   */
  function bootstrap(s: AuthFailuresState, history: IdentityHistory, before: number): void {
    // The peaks were counted over the history's windows: only when those are this detector's
    // windows are they this ring's values (by default both are 10 minutes). Otherwise the ring
    // stays cold and the floor stands in, as for any entity without history.
    if (!history.events || history.windowMs !== windowMs) return;
    // Every hour with an event has a row (live, every active hour closes, failures or not).
    const stored = history.events;
    if (stored.length === 0) return;
    s.firstHour = historyStartHour(history, hourIndex(stored[0]!.hour));
    for (const r of stored) {
      s.hour = hourIndex(r.hour);
      s.hourPeak = r.failurePeak;
      closeHour(s);
    }
    s.hour = hourIndex(before);
  }

  return {
    name,
    ...(kind === 'actor' ? { bootstrap } : {}),
    entityKey: (e) => `${e.tenant}\u0000${kind}\u0000${entityOf(kind, e)}`,
    initState(e) {
      return withFiring({
        firstHour: hourIndex(e.time),
        hour: hourIndex(e.time),
        window: Math.floor(e.time / windowMs),
        failures: 0,
        logins: 0,
        hourPeak: 0,
        firedActor: '',
        late: 0,
        revoked: undefined,
        buf: layout.alloc(),
      });
    },
    observe(s, e, now) {
      // Events without this kind of entity (no credential, no network) share one idle state.
      if (entityOf(kind, e) === '') return [];
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      const out: Finding[] = [];
      const window = Math.floor(e.time / windowMs);
      if (window > s.window) {
        out.push(...closeWindow(s, e, now));
        s.window = window;
      }
      if (hour > s.hour) {
        closeHour(s);
        s.hour = hour;
      }
      out.push(...observeRevoked(s, e, now));
      if (!isAuthFailure(e)) return out;
      s.failures++;
      if (isFailedLogin(e)) s.logins = (s.logins ?? 0) + 1;
      s.hourPeak = Math.max(s.hourPeak, s.failures);
      const other = counterpart.of(e);
      if (other) counterparts.add(s.buf, hash32(other));
      const band = bandOf(s);
      if (s.failures <= watchLevel(band)) return out;
      noteEvidence(s, e.event_id);
      if (s.failures <= band.high) return out;
      const score = logScore(s.failures, band);
      if (!dueToFire(s, s.failures, score)) return out;
      markFired(s, s.failures, score, e);
      s.firedActor = e.actor;
      out.push(burstFinding(s, e, band, now));
      return out;
    },
  };
}
