// The second organisation of the detection benchmark: a small tenant of 67 identities over 12
// collections (hr_docs, finance_ledger, legal_contracts among them, labelled by nobody: their
// sensitivity comes from the default name patterns), people touching ~3 collections an hour in
// working hours, services around the clock. Five attack kinds run here, each placed several times
// per run at seeded random days and hours, on weekdays and at weekends, every placement on an
// identity of its own, so that no detection leans on the calendar by luck (issue 14, item 3).
import { prng } from '../../src/cli/demo/workload.js';
import { blankEvent } from '../../src/collectors/normalize.js';
import { type AccessEvent, deterministicId, type Operation } from '../../src/model/index.js';
import type { Attack } from './scenario.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;

export const SMALL_TENANT = 'acme';

const TEAMS: Record<string, readonly string[]> = {
  eng: ['eng_wiki', 'eng_specs', 'product_docs', 'ops_runbooks'],
  sales: ['sales_kb', 'sales_playbooks', 'product_docs', 'marketing_assets'],
  support: ['support_kb', 'support_tickets', 'product_docs', 'eng_wiki'],
  finance: ['finance_ledger', 'sales_kb', 'product_docs'],
  hr: ['hr_docs', 'product_docs'],
  legal: ['legal_contracts', 'sales_playbooks', 'product_docs'],
  marketing: ['marketing_assets', 'product_docs', 'sales_kb'],
};
export const SMALL_COLLECTIONS = [...new Set(Object.values(TEAMS).flat())];
const HEADCOUNT: Record<string, number> = { eng: 14, sales: 9, support: 8, finance: 8, hr: 4, legal: 3, marketing: 4 };

/** The attack kinds the issue lists as not escalated, and where on the calendar each may fall. */
export const PLACED_KINDS = [
  { kind: 'svc-new-network-hr', title: 'service key from a never-seen network reading an HR collection', days: 'any', hours: 'any' },
  { kind: 'foreign-networks', title: "one user's key from three foreign networks in parallel within 30 min", days: 'any', hours: 'any' },
  { kind: 'svc-finance-slow', title: 'a service reading a finance collection it never read, ~6/h for 9 days', days: 'any', hours: 'any' },
  { kind: 'enumerate-all', title: 'a user touching every collection of the tenant within 20 min on a weekday', days: 'weekday', hours: 'work' },
  { kind: 'analyst-legal-hr', title: 'a finance analyst reading legal and HR collections at normal pace in working hours', days: 'weekday', hours: 'work' },
] as const;
export type PlacedKind = (typeof PLACED_KINDS)[number]['kind'];

interface Member {
  readonly id: string;
  readonly team: string;
  readonly rate: number;
  readonly startHour: number;
  readonly endHour: number;
}

interface Placed extends Attack {
  readonly kind: PlacedKind;
}

export interface SmallTenant {
  readonly tenant: string;
  readonly identities: number;
  readonly attacks: Placed[];
  hour(h: number): AccessEvent[];
}

/** First day a placement may start: every detector's warm-up (a week) is behind it. */
const FIRST_DAY = 8;

export function makeSmallTenant(opts: { start: number; days: number; seed: number; placements: number }): SmallTenant {
  const rand = prng(opts.seed * 7919 + 17);
  const { start, days } = opts;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

  const people: Member[] = [];
  for (const [team, n] of Object.entries(HEADCOUNT))
    for (let i = 0; i < n; i++)
      people.push({
        id: `usr_acme_${team}${i}`,
        team,
        rate: 4 + rand() * 8,
        startHour: 8 + Math.floor(rand() * 2),
        endHour: 17 + Math.floor(rand() * 2),
      });
  const teamNames = Object.keys(TEAMS);
  const services = Array.from({ length: 12 }, (_, i) => ({
    id: `svc_acme_s${String(i).padStart(2, '0')}`,
    rate: 8 + rand() * 25,
    collection: TEAMS[teamNames[i % teamNames.length]!]![i % 2]!,
  }));
  const batch = Array.from({ length: 67 - people.length - services.length }, (_, i) => ({
    id: `svc_acme_batch${i}`,
    collection: SMALL_COLLECTIONS[(i * 5) % SMALL_COLLECTIONS.length]!,
  }));
  const identities = people.length + services.length + batch.length;

  // Placements: each kind `placements` times, alternating weekday and weekend where the kind allows
  // both, at a random day and hour; victims drawn without replacement.
  const dayOf = (t: number) => new Date(t).getUTCDay();
  const isWeekend = (d: number) => dayOf(start + d * DAY) === 0 || dayOf(start + d * DAY) === 6;
  const used = new Set<string>();
  const victim = (pool: readonly { id: string }[]) => {
    const free = pool.filter((p) => !used.has(p.id));
    const v = pick(free);
    used.add(v.id);
    return v.id;
  };
  /** Who a kind's victim may be when it starts at `hour`. */
  const victimsAt = (kind: string, hour: number): readonly { id: string }[] => {
    switch (kind) {
      case 'svc-new-network-hr':
        // A service that never reads the HR collection (one of them does, as its job).
        return services.filter((x) => x.collection !== 'hr_docs');
      case 'foreign-networks':
        return people.filter((m) => m.team !== 'finance');
      case 'svc-finance-slow':
        return services.filter((x) => x.collection !== 'finance_ledger');
      case 'enumerate-all':
        // Someone who works at that hour: a weekday placement falls in everybody's working day.
        return people.filter((m) => m.team !== 'finance' && m.startHour <= hour && hour < m.endHour);
      case 'analyst-legal-hr':
        return people.filter((m) => m.team === 'finance' && m.startHour <= hour && hour + 2 < m.endHour);
      default:
        throw new Error(`small tenant: unknown kind ${kind}`);
    }
  };
  const attacks: Placed[] = [];
  for (const k of PLACED_KINDS) {
    const lastDay = days - (k.kind === 'svc-finance-slow' ? 10 : 2);
    for (let n = 0; n < opts.placements; n++) {
      const weekend = k.days === 'any' && n % 2 === 1;
      const candidates = Array.from({ length: lastDay - FIRST_DAY + 1 }, (_, i) => FIRST_DAY + i).filter(
        (d) => isWeekend(d) === weekend,
      );
      const day = pick(candidates);
      // An hour at which the kind has a victim left (people who work then, for the kinds that need one).
      let hour = -1;
      for (let tries = 0; tries < 100 && hour < 0; tries++) {
        const h = k.hours === 'work' ? 9 + Math.floor(rand() * 7) : Math.floor(rand() * 24);
        if (victimsAt(k.kind, h).some((v) => !used.has(v.id))) hour = h;
      }
      if (hour < 0) throw new Error(`small tenant: no victim left for ${k.kind} placement ${n + 1}`);
      const minute = Math.floor(rand() * 40);
      const t = start + day * DAY + hour * HOUR + minute * MINUTE;
      const id = `${k.kind}#${n + 1}`;
      const base = { id, kind: k.kind, title: k.title, start: t };
      switch (k.kind) {
        case 'svc-new-network-hr': {
          const s = victim(victimsAt(k.kind, hour));
          attacks.push({ ...base, entities: [s, `key_${s}`, `net_acme_evil${n}`], end: t + 20 * MINUTE });
          break;
        }
        case 'foreign-networks': {
          const p = victim(victimsAt(k.kind, hour));
          attacks.push({ ...base, entities: [p, `key_${p}`], end: t + 30 * MINUTE });
          break;
        }
        case 'svc-finance-slow': {
          const s = victim(victimsAt(k.kind, hour));
          attacks.push({ ...base, entities: [s, `key_${s}`], end: t + 9 * DAY });
          break;
        }
        case 'enumerate-all': {
          const p = victim(victimsAt(k.kind, hour));
          attacks.push({ ...base, entities: [p], end: t + 20 * MINUTE });
          break;
        }
        case 'analyst-legal-hr': {
          const p = victim(victimsAt(k.kind, hour));
          attacks.push({ ...base, entities: [p], end: t + 2 * HOUR });
          break;
        }
      }
    }
  }

  function ev(time: number, actor: string, over: Partial<AccessEvent> = {}): AccessEvent {
    const op: Operation = over.operation ?? 'search';
    const returned = op === 'search' ? 10 : op === 'fetch' ? 1 : 0;
    return {
      ...blankEvent(time),
      event_id: deterministicId('bench-acme', actor, time, rand()),
      tenant: SMALL_TENANT,
      actor,
      actor_type: actor.startsWith('svc_') ? 'service' : 'user',
      credential: `key_${actor}`,
      src_net: actor.startsWith('svc_') ? 'net_acme_dc' : 'net_acme_office',
      system: 'qdrant',
      operation: op,
      operation_raw: op,
      collection: 'product_docs',
      top_k: op === 'search' ? 10 : 0,
      returned,
      bytes_out: returned * 2048,
      status_code: 200,
      latency_ms: 10,
      ...over,
    };
  }
  const poisson = (lambda: number) => {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rand();
    } while (p > l);
    return k - 1;
  };

  function hour(h: number): AccessEvent[] {
    const t0 = start + h * HOUR;
    const hod = h % 24;
    const weekend = dayOf(t0) === 0 || dayOf(t0) === 6;
    const out: AccessEvent[] = [];
    const within = () => t0 + Math.floor(rand() * HOUR);
    for (const p of people) {
      const working = !weekend && hod >= p.startHour && hod < p.endHour;
      if (!working) continue;
      // A person's hour centres on two or three of the team's collections.
      const mine = TEAMS[p.team]!;
      const offset = Math.floor(rand() * mine.length);
      const width = 2 + Math.floor(rand() * 2);
      for (let n = poisson(p.rate); n > 0; n--) {
        const collection = mine[(offset + Math.floor(rand() * width)) % mine.length]!;
        out.push(ev(within(), p.id, { collection, operation: rand() < 0.85 ? 'search' : 'fetch', attributes: { team: p.team } }));
      }
    }
    for (const s of services) {
      const lambda = s.rate * (hod >= 8 && hod < 20 ? 1.2 : 0.8);
      for (let n = poisson(lambda); n > 0; n--) out.push(ev(within(), s.id, { collection: s.collection }));
    }
    if (hod === 1) for (const b of batch) for (let n = poisson(200); n > 0; n--) out.push(ev(t0 + Math.floor(rand() * 600_000), b.id, { collection: b.collection, operation: 'upsert' }));
    for (const a of attacks) if (a.start < t0 + HOUR && a.end > t0) inject(a, t0, out);
    return out;
  }

  function inject(a: Placed, t0: number, out: AccessEvent[]): void {
    const from = Math.max(a.start, t0);
    const to = Math.min(a.end, t0 + HOUR);
    const spread = (n: number, f: (time: number, i: number) => AccessEvent) => {
      for (let i = 0; i < n; i++) out.push(f(from + Math.floor(((to - from) * i) / n), i));
    };
    const actor = a.entities[0]!;
    const team = people.find((p) => p.id === actor)?.team;
    switch (a.kind) {
      case 'svc-new-network-hr':
        spread(60, (t, i) => ev(t, actor, { src_net: a.entities[2]!, collection: 'hr_docs', operation: i % 3 ? 'search' : 'fetch' }));
        break;
      case 'foreign-networks':
        // The owner keeps working from the office (if it is a working hour); three networks it never used share its key.
        spread(90, (t, i) => ev(t, actor, { src_net: `net_acme_foreign${i % 3}_${a.id}`, collection: pick(TEAMS[team!]!), attributes: { team: team! } }));
        break;
      case 'svc-finance-slow':
        for (let n = poisson((6 * (to - from)) / HOUR); n > 0; n--) out.push(ev(from + Math.floor(rand() * (to - from)), actor, { collection: 'finance_ledger' }));
        break;
      case 'enumerate-all':
        spread(SMALL_COLLECTIONS.length * 2, (t, i) => ev(t, actor, { collection: SMALL_COLLECTIONS[i % SMALL_COLLECTIONS.length]!, operation: 'fetch', attributes: { team: team! } }));
        break;
      case 'analyst-legal-hr':
        // The analyst's usual pace (~8 an hour), on collections its team never reads.
        spread(8, (t, i) => ev(t, actor, { collection: i % 2 ? 'hr_docs' : 'legal_contracts', attributes: { team: team! } }));
        break;
    }
  }

  return { tenant: SMALL_TENANT, identities, attacks, hour };
}
