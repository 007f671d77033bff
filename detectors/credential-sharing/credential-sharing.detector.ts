// credential-sharing: one credential used by more identities, or from more source networks, in an
// hour than it ever was (a leaked API key in a second pair of hands, a shared service key spreading),
// or from several networks it never used at once (a stolen key tried from elsewhere), and — per
// identity — a source network the identity never used before. Two Detector objects: the
// first keyed by credential, the second by actor.
import type { CredentialSharingParams } from './credential-sharing.params.js';
import type { Detector } from '../../src/detect/index.js';
import { type AccessEvent, type Finding, PREVIOUS_TOKEN_ATTRIBUTES } from '../../src/model/index.js';
import { median } from 'simple-statistics';
import {
  withFiring,
  decay,
  decayedRatePerDay,
  dueToFire,
  estimateBytes,
  excessScore,
  type Firing,
  fmt,
  fmtSmall,
  grewSinceFired,
  HOUR,
  hash16,
  hourIndex,
  isoMinute,
  issue,
  MIN_SAMPLES,
  plural,
  makeFinding,
  markFired,
  noteEvidence,
  resetFiring,
  countRing,
  recentSet,
  type SmallSet,
  smallSet,
  stateLayout,
} from '../shared/index.js';

const NAME = 'credential-sharing';
const NEW_NETWORK = `${NAME}/new-network`;
/** Distinct identities / networks counted per credential and hour (beyond: shared by design). */
const ACTOR_CAP = 16;
const NETWORK_CAP = 16;
/** Half-life of an identity's rate of new networks: a roaming identity soon stops being news. */
const DISCOVERY_HALF_LIFE_DAYS = 7;
/** What an identity uses in its first day is where it starts from, not discovery. */
const FIRST_DAY_HOURS = 24;

// ---------------------------------------------------------------- per credential

/**
 * Adds a token to a small set; true when it is new. After a tokenization key rotation a token
 * arrives with its previous one alongside: if that one is in the set it is renamed, not counted
 * twice.
 */
function addRekeyed(set: SmallSet, b: Uint8Array, token: string, previous: string | undefined): boolean {
  const h = hash16(token);
  if (previous) {
    const p = hash16(previous);
    if (p !== h && set.rename(b, p, h)) return false;
  }
  return set.add(b, h) === 'new';
}

/**
 * The bytes of a credential's state: the hour's identities and networks, the histories of
 * identities and networks per active hour, the networks it was ever used from (least recently used
 * forgotten), and the history of foreign networks per active hour. Sections added later go last,
 * so a checkpoint of the older layout converts by padding.
 */
export function credentialSharingLayout(hours: number, knownNetworks: number) {
  return stateLayout({
    actors: smallSet(ACTOR_CAP),
    networks: smallSet(NETWORK_CAP),
    actorRing: countRing(hours),
    networkRing: countRing(hours),
    known: recentSet(knownNetworks),
    foreignRing: countRing(hours),
  });
}

/** The bytes of an identity's state for new-network: the networks it used, least recent forgotten. */
export function newNetworkLayout(knownNetworks: number) {
  return stateLayout({ known: recentSet(knownNetworks) });
}

export interface CredentialSharingState extends Firing {
  firstHour: number;
  hour: number;
  /** Distinct identities and source networks of the current hour (exact up to the caps). */
  actors: number;
  networks: number;
  /** Distinct networks of the current hour the credential never used (not in its known set). */
  foreign: number;
  /**
   * First hour in which foreign networks may fire: the known set must have learnt the credential's
   * networks first (`warmup_hours` after a bootstrap, which cannot fill it).
   */
  foreignFrom: number;
  firedActor: string;
  late: number;
  /**
   * [actor hashes | network hashes | ring of identities per active hour | ring of networks per
   * active hour | known networks: (16-bit hash, last-seen hour since firstHour), least recently
   * used forgotten | ring of foreign networks per active hour]
   */
  buf: Uint8Array;
}

export function createCredentialSharingDetector(
  params: CredentialSharingParams,
): Detector<CredentialSharingState> {
  const hours = params.history_hours;
  const layout = credentialSharingLayout(hours, params.max_known_networks);
  const { actors, networks, actorRing, networkRing, known, foreignRing } = layout.sections;

  interface Limits {
    readonly usualActors: number;
    readonly usualNetworks: number;
    readonly maxActors: number;
    readonly maxNetworks: number;
    readonly maxForeign: number;
    /** The band's tops: more than any hour had (and at least the floors). */
    readonly highActors: number;
    readonly highNetworks: number;
    readonly highForeign: number;
    readonly samples: number;
  }

  function limits(s: CredentialSharingState): Limits {
    const actorHours = actorRing.values(s.buf);
    const networkHours = networkRing.values(s.buf);
    const maxActors = actorRing.max(s.buf);
    const maxNetworks = networkRing.max(s.buf);
    const maxForeign = foreignRing.max(s.buf);
    return {
      usualActors: actorHours.length ? median(actorHours) : 0,
      usualNetworks: networkHours.length ? median(networkHours) : 0,
      maxActors,
      maxNetworks,
      maxForeign,
      highActors: Math.max(maxActors, params.min_actors - 1),
      highNetworks: Math.max(2 * maxNetworks, params.min_networks - 1),
      highForeign: Math.max(maxForeign, params.min_foreign_networks - 1),
      samples: actorHours.length,
    };
  }

  /**
   * Whether the event's network (new this hour) is one the credential never used, and remembers it.
   * After a key rotation a known network arrives under a new token with its previous one: renamed.
   */
  function isForeign(s: CredentialSharingState, e: AccessEvent, hour: number): boolean {
    const h = hash16(e.src_net);
    const previous = e.attributes[PREVIOUS_TOKEN_ATTRIBUTES.src_net];
    const foreign = !known.has(s.buf, h) && !(previous && known.rename(s.buf, hash16(previous), h));
    known.touch(s.buf, h, hour - s.firstHour);
    return foreign;
  }

  const warm = (s: CredentialSharingState, hour: number) =>
    hour - s.firstHour >= params.warmup_hours && actorRing.samples(s.buf) >= MIN_SAMPLES;

  type By = 'actors' | 'networks' | 'foreign';

  function scoreOf(s: CredentialSharingState, l: Limits): { score: number; by: By } {
    const a = s.actors > l.highActors ? excessScore(s.actors, l.highActors) : 0;
    const n = s.networks > l.highNetworks ? excessScore(s.networks, l.highNetworks) : 0;
    // Each network beyond the limit is one the credential never used, news on its own: the excess is
    // counted in networks (unit 1), not in multiples of the limit. Three at once score ≈ 0.82.
    const f =
      s.hour >= s.foreignFrom && s.foreign > l.highForeign
        ? 1 - 0.5 * Math.exp(-(s.foreign - l.highForeign))
        : 0;
    if (a >= n && a >= f) return { score: a, by: 'actors' };
    return n >= f ? { score: n, by: 'networks' } : { score: f, by: 'foreign' };
  }

  function closeHour(s: CredentialSharingState, next: AccessEvent, now: number): Finding[] {
    const out: Finding[] = [];
    const l = limits(s);
    if (grewSinceFired(s, s.actors + s.networks)) out.push(finding(s, next, l, now));
    endHour(s, l);
    return out;
  }

  /** Puts the current hour into the history and starts an empty one. */
  function endHour(s: CredentialSharingState, l: Limits): void {
    // Winsorize: a sharing hour enters the history at the band's top, not at its real size.
    const ok = warm(s, s.hour);
    actorRing.push(s.buf, ok ? Math.min(s.actors, l.highActors) : s.actors);
    networkRing.push(s.buf, ok ? Math.min(s.networks, l.highNetworks) : s.networks);
    foreignRing.push(s.buf, ok ? Math.min(s.foreign, l.highForeign) : s.foreign);
    actors.clear(s.buf);
    networks.clear(s.buf);
    s.actors = 0;
    s.networks = 0;
    s.foreign = 0;
    s.firedActor = '';
    resetFiring(s);
  }

  function finding(s: CredentialSharingState, e: AccessEvent, l: Limits, now: number): Finding {
    const start = s.hour * HOUR;
    const { score, by } = scoreOf(s, l);
    const atLeast = (n: number, cap: number, one: string, many: string) =>
      n >= cap ? `at least ${n} ${many}` : plural(n, one, many);
    const observed = by === 'actors' ? s.actors : by === 'networks' ? s.networks : s.foreign;
    const usual = by === 'actors' ? l.usualActors : by === 'networks' ? l.usualNetworks : 0;
    const high = by === 'actors' ? l.highActors : by === 'networks' ? l.highNetworks : l.highForeign;
    const foreign =
      s.foreign > 0 ? ` (${plural(s.foreign, 'network', 'networks')} it had never been used from)` : '';
    return makeFinding({
      detector: NAME,
      scope: NAME,
      tenant: e.tenant,
      entityType: 'credential',
      entity: e.credential,
      actor: s.firedActor || e.actor,
      windowStart: start,
      score,
      confidence: Math.min(1, l.samples / hours),
      ...issue(s),
      now,
      title:
        by === 'actors'
          ? `Credential shared: ${fmt(s.actors)} identities in an hour`
          : by === 'networks'
            ? `Credential used from ${fmt(s.networks)} source networks in an hour`
            : `Credential used from ${fmt(s.foreign)} source networks it never used, in an hour`,
      sentence:
        `${e.credential} was used by ${atLeast(s.actors, ACTOR_CAP, 'identity', 'identities')} from ` +
        `${atLeast(s.networks, NETWORK_CAP, 'source network', 'source networks')}${foreign} in the hour from ${isoMinute(start)}; ` +
        `in ${l.samples} active hours it never had more than ${plural(l.maxActors, 'identity', 'identities')}, ` +
        `${plural(l.maxNetworks, 'network', 'networks')} or ${plural(l.maxForeign, 'new network', 'new networks')} in an hour.`,
      observed,
      expected: usual,
      bandLow: 0,
      bandHigh: high,
      baselinePeriod: `${l.samples} active hours since ${isoMinute(s.firstHour * HOUR)}`,
      features: {
        identities: s.actors,
        networks: s.networks,
        usual_identities: l.usualActors,
        usual_networks: l.usualNetworks,
        max_identities: l.maxActors,
        max_networks: l.maxNetworks,
        foreign_networks: s.foreign,
        max_foreign_networks: l.maxForeign,
      },
      evidence: s.evidence ?? [],
      techniques: ['T1078'],
    });
  }

  return {
    name: NAME,
    entityKey: (e) => `${e.tenant}\u0000credential\u0000${e.credential}`,
    initState(e) {
      const hour = hourIndex(e.time);
      return withFiring({
        firstHour: hour,
        hour,
        actors: 0,
        networks: 0,
        foreign: 0,
        foreignFrom: hour,
        firedActor: '',
        late: 0,
        buf: layout.alloc(),
      });
    },
    restoreState(decoded) {
      if (!decoded || typeof decoded !== 'object') return undefined;
      const s = decoded as CredentialSharingState;
      if (layout.fits(s.buf)) return s;
      // Checkpointed before the known networks were kept: padded, its known set learns anew.
      const buf = layout.grow(s.buf, 'known');
      return buf && { ...s, buf, foreign: 0, foreignFrom: s.hour + params.warmup_hours };
    },
    bootstrap(s, history, before, first) {
      // The stored hours of the first event's credential (all its users, not only this identity's),
      // oldest first, replayed as live traffic would have closed them: clipped once warm, and the
      // warm-up counted from the first of them. The hour of `before` is left to the live events (its
      // users would count twice). Nothing stored for the credential: it starts cold.
      const now = hourIndex(before);
      const stored = (history.credentials ?? []).filter(
        (c) => c.credential === first.credential && hourIndex(c.hour) < now,
      );
      if (first.credential === '' || stored.length === 0) return;
      s.firstHour = hourIndex(stored[0]!.hour);
      for (const c of stored) {
        s.hour = hourIndex(c.hour);
        s.actors = Math.min(c.actors, ACTOR_CAP);
        s.networks = Math.min(c.networks, NETWORK_CAP);
        endHour(s, limits(s));
      }
      s.hour = now;
      // The stored hours have no network tokens: the known set learns them from the live events.
      s.foreignFrom = now + params.warmup_hours;
    },
    observe(s, e, now) {
      if (e.credential === '') return [];
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      const out = hour > s.hour ? closeHour(s, e, now) : [];
      s.hour = hour;
      const newActor = addRekeyed(actors, s.buf, e.actor, e.attributes[PREVIOUS_TOKEN_ATTRIBUTES.actor]);
      const newNetwork =
        e.src_net !== '' &&
        addRekeyed(networks, s.buf, e.src_net, e.attributes[PREVIOUS_TOKEN_ATTRIBUTES.src_net]);
      if (newActor) s.actors++;
      if (newNetwork) {
        s.networks++;
        if (isForeign(s, e, hour)) s.foreign++;
      }
      if (!(newActor || newNetwork) || !warm(s, hour)) return out;
      const l = limits(s);
      if (s.actors <= l.maxActors && s.networks <= l.maxNetworks && s.foreign <= l.maxForeign) return out;
      noteEvidence(s, e.event_id);
      const { score } = scoreOf(s, l);
      if (score <= 0 || !dueToFire(s, s.actors + s.networks, score)) return out;
      markFired(s, s.actors + s.networks, score, e);
      s.firedActor = e.actor;
      out.push(finding(s, e, l, now));
      return out;
    },
  };
}

/** Rough heap bytes of one entity's state, either kind (see detectors/shared/size.ts). */
export function estimateStateBytes(state: CredentialSharingState | NewNetworkState): number {
  return estimateBytes(state);
}

// ---------------------------------------------------------------- per identity: new networks

export interface NewNetworkState extends Firing {
  firstHour: number;
  hour: number;
  /** New networks first used this hour (after warm-up). */
  newThisHour: number;
  /** New networks found after the first day, decayed (half-life 7 days) to `discoveredHour`. */
  discovered: number;
  discoveredHour: number;
  firedNetwork: string;
  late: number;
  /** Known networks: (16-bit hash, last-seen hour since firstHour), least recently used forgotten. */
  buf: Uint8Array;
}

export function createNewNetworkDetector(params: CredentialSharingParams): Detector<NewNetworkState> {
  const cap = params.max_known_networks;
  const layout = newNetworkLayout(cap);
  const { known: knownNetworks } = layout.sections;
  const halfLifeHours = DISCOVERY_HALF_LIFE_DAYS * 24;

  function finding(
    s: NewNetworkState,
    e: AccessEvent,
    score: number,
    known: number,
    recent: number,
    now: number,
  ): Finding {
    const perWeek = 7 * decayedRatePerDay(recent, DISCOVERY_HALF_LIFE_DAYS);
    return makeFinding({
      detector: NAME,
      scope: NEW_NETWORK,
      tenant: e.tenant,
      entityType: 'actor',
      entity: e.actor,
      actor: e.actor,
      windowStart: s.hour * HOUR,
      score,
      confidence: Math.min(1, (s.hour - s.firstHour) / (params.new_network_warmup_hours * 2)),
      ...issue(s),
      now,
      title: 'Identity used a source network it never used before',
      sentence:
        `${e.actor} connected from ${s.firedNetwork}, a source network it had not used before, at ${isoMinute(s.firedTime)}; ` +
        `it used ${fmt(known)} networks since ${isoMinute(s.firstHour * HOUR)} and adds about ${fmtSmall(perWeek)} new ones a week.`,
      observed: s.newThisHour,
      expected: perWeek / (7 * 24),
      bandLow: 0,
      bandHigh: perWeek / (7 * 24),
      baselinePeriod: `${fmt((s.hour - s.firstHour) / 24)} days of networks (up to ${cap} remembered)`,
      features: {
        new_networks: s.newThisHour,
        known_networks: known,
        new_networks_per_week: perWeek,
      },
      evidence: s.evidence ?? [],
      techniques: ['T1078'],
    });
  }

  return {
    name: NEW_NETWORK,
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState(e) {
      const hour = hourIndex(e.time);
      return withFiring({
        firstHour: hour,
        hour,
        newThisHour: 0,
        discovered: 0,
        discoveredHour: hour,
        firedNetwork: '',
        late: 0,
        buf: layout.alloc(),
      });
    },
    bootstrap(s, history, before) {
      // Without the stored networks the identity cannot start warm: its age would end the warm-up
      // and every network it uses would be new. It stays cold (a week of warm-up) instead.
      if (!history.networks) return;
      const firstSeen = history.networks.map((n) => hourIndex(n.firstSeen));
      const starts = [
        ...firstSeen,
        hourIndex(history.rows[0]?.start ?? Number.POSITIVE_INFINITY),
        hourIndex(history.hourly[0]?.hour ?? Number.POSITIVE_INFINITY),
      ];
      const firstHour = Math.min(...starts);
      if (!Number.isFinite(firstHour)) return;
      s.firstHour = firstHour;
      // The rate of new networks, replayed from each network's first use (oldest first) as live
      // traffic would have counted it: after the identity's first day.
      s.discoveredHour = firstHour;
      for (const hour of firstSeen.sort((a, b) => a - b)) {
        if (hour - firstHour < FIRST_DAY_HOURS) continue;
        s.discovered = decay(s.discovered, s.discoveredHour, hour, halfLifeHours) + 1;
        s.discoveredHour = hour;
      }
      // Known networks by last use, least recent first, so a full set keeps the most recent.
      for (const n of [...history.networks].sort((a, b) => a.lastSeen - b.lastSeen))
        knownNetworks.touch(s.buf, hash16(n.network), hourIndex(n.lastSeen) - firstHour);
      s.hour = hourIndex(before);
    },
    observe(s, e, now) {
      if (e.src_net === '') return [];
      const hour = hourIndex(e.time);
      if (hour < s.hour) {
        s.late++;
        return [];
      }
      if (hour > s.hour) {
        s.hour = hour;
        s.newThisHour = 0;
        s.firedNetwork = '';
        resetFiring(s);
      }
      const h = hash16(e.src_net);
      const age = hour - s.firstHour;
      const known = knownNetworks.size(s.buf);
      // After a tokenization key rotation a known network arrives under a new token, with its
      // previous one alongside: rename it rather than calling it new.
      const previous = e.attributes[PREVIOUS_TOKEN_ATTRIBUTES.src_net];
      const isNew =
        !knownNetworks.has(s.buf, h) && !(previous && knownNetworks.rename(s.buf, hash16(previous), h));
      knownNetworks.touch(s.buf, h, age);
      if (!isNew) return [];
      // The rate of new networks learns from the first day on (its own first networks excepted), so
      // an identity that roamed through its warm-up is already known to roam when it ends.
      const recent = decay(s.discovered, s.discoveredHour, hour, halfLifeHours);
      if (age >= FIRST_DAY_HOURS) {
        s.discovered = recent + 1;
        s.discoveredHour = hour;
      }
      if (age < params.new_network_warmup_hours) return [];
      s.newThisHour++;
      // A stable identity (one or two networks) moving is more telling than a roaming one; one that
      // already roams over more than five scores under the default threshold.
      const base = known <= 2 ? 0.65 : known <= 5 ? 0.55 : 0.45;
      const score = base / (1 + recent / 4);
      if (score < params.new_network_min_score) return [];
      noteEvidence(s, e.event_id);
      if (!dueToFire(s, s.newThisHour, score)) return [];
      markFired(s, s.newThisHour, score, e);
      s.firedNetwork = e.src_net;
      return [finding(s, e, score, known + 1, recent, now)];
    },
  };
}
