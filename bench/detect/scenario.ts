// A labelled scenario for the detection-quality benchmark: 30 days of a 200-identity organisation
// (people with working hours, a holiday, vacations, new hires, team changes; services with flat or
// bursty load; nightly batch jobs), benign surprises (a release-day spike across a team, a new
// service coming online) and eight injected attacks, each on its own identity. Generated hour by
// hour so memory stays flat. Identities are already pseudonymous (no raw identifiers here).
import { prng } from '../../src/cli/demo/workload.js';
import { blankEvent } from '../../src/collectors/normalize.js';
import { type AccessEvent, deterministicId, type Operation } from '../../src/model/index.js';
import { makeSmallTenant } from './small-tenant.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface Attack {
  readonly id: string;
  readonly title: string;
  /** Tokens that a finding about this attack may name (actor, credential or network). */
  readonly entities: readonly string[];
  readonly start: number;
  readonly end: number;
  /** Placed variants (small-tenant.ts): the kind the placement belongs to. */
  readonly kind?: string;
}

export interface Scenario {
  readonly tenant: string;
  /** The second, small tenant (12 collections) where the placed attack variants run. */
  readonly smallTenant: string;
  readonly start: number;
  readonly days: number;
  readonly identities: number;
  readonly attacks: Attack[];
  /** Events of hour h (0-based), sorted by time. */
  hour(h: number): AccessEvent[];
  readonly hours: number;
}

interface Person {
  id: string;
  team: number;
  rate: number;
  startHour: number;
  endHour: number;
  vacation: [number, number];
  firstDay: number;
  home: string;
}

const TEAMS = 15;
const SENSITIVE_BY_TEAM: Record<number, string> = { 0: 'customer_pii', 1: 'hr_records', 2: 'finance_reports' };

export function makeScenario(opts: { days?: number; seed?: number; placementSeed?: number; placements?: number } = {}): Scenario {
  const days = opts.days ?? 30;
  const rand = prng(opts.seed ?? 2026);
  const tenant = 'bench';
  const start = Date.UTC(2026, 8, 7); // a Monday
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

  const people: Person[] = [];
  for (let i = 0; i < 150; i++) {
    const vacStart = 3 + Math.floor(rand() * 22);
    people.push({
      id: `usr_bench_p${String(i).padStart(3, '0')}`,
      team: i % TEAMS,
      rate: 4 + rand() * 14,
      startHour: 7 + Math.floor(rand() * 3),
      endHour: 16 + Math.floor(rand() * 3),
      vacation: rand() < 0.35 ? [vacStart, vacStart + 5] : [-1, -1],
      firstDay: i >= 145 ? 15 : 0, // new hires
      home: `net_bench_home${i}`,
    });
  }
  const services = Array.from({ length: 40 }, (_, i) => ({
    id: `svc_bench_s${String(i).padStart(2, '0')}`,
    rate: 10 + rand() * 30,
    bursty: i >= 30,
    collection: `team${i % TEAMS}_kb`,
    firstDay: i === 39 ? 25 : 0, // a new service comes online
  }));
  const batchJobs = Array.from({ length: 10 }, (_, i) => ({ id: `svc_bench_batch${i}`, collection: `team${i}_docs` }));
  const small = makeSmallTenant({ start, days, seed: opts.placementSeed ?? 1, placements: opts.placements ?? 4 });
  const identities = people.length + services.length + batchJobs.length + small.identities;

  // Attack victims / insiders: distinct people of ordinary teams.
  const who = (i: number) => people[20 + i * 7]!;
  const at = (day: number, hour: number, min = 0) => start + day * DAY + hour * HOUR + min * 60_000;
  const attacks: Attack[] = [
    { id: 'fast-exfiltration', title: 'fast exfiltration', entities: [who(0).id], start: at(24, 14, 20), end: at(24, 14, 30) },
    { id: 'low-and-slow', title: 'low-and-slow scraping', entities: [who(1).id], start: at(25, 0), end: at(27, 0) },
    { id: 'enumeration', title: 'collection enumeration', entities: [who(2).id], start: at(26, 11), end: at(26, 12) },
    { id: 'credential-sharing', title: 'credential sharing', entities: [`key_${services[5]!.id}`, services[5]!.id, 'usr_bench_x1', 'usr_bench_x2', 'usr_bench_x3'], start: at(27, 3), end: at(27, 4) },
    { id: 'stolen-key', title: 'stolen key used from a new network', entities: [who(3).id, `key_${who(3).id}`, 'net_bench_evil'], start: at(27, 23), end: at(27, 23, 30) },
    { id: 'brute-force', title: 'brute force', entities: [who(4).id, `key_${who(4).id}`, 'net_bench_evil2'], start: at(28, 2), end: at(28, 2, 10) },
    { id: 'mass-delete', title: 'mass delete', entities: [who(5).id], start: at(28, 15), end: at(28, 15, 20) },
    { id: 'insider', title: 'insider reading a sensitive collection', entities: [who(6).id], start: at(29, 10), end: at(29, 11) },
  ];

  function ev(time: number, actor: string, over: Partial<AccessEvent> = {}): AccessEvent {
    const op: Operation = over.operation ?? 'search';
    const returned = op === 'search' ? 10 : op === 'scroll' ? 100 : op === 'fetch' ? 1 : 0;
    return {
      ...blankEvent(time),
      event_id: deterministicId('bench', actor, time, rand()),
      tenant,
      actor,
      actor_type: actor.startsWith('svc_') ? 'service' : 'user',
      credential: `key_${actor}`,
      src_net: actor.startsWith('svc_') ? 'net_bench_dc' : 'net_bench_office',
      system: 'qdrant',
      operation: op,
      operation_raw: op,
      collection: 'docs_public',
      top_k: op === 'search' ? 10 : 0,
      returned,
      bytes_out: returned * 2048,
      status_code: 200,
      latency_ms: 10,
      ...over,
    };
  }

  const poisson = (lambda: number) => {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * (rand() + rand() + rand() - 1.5) * 2));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rand();
    } while (p > l);
    return k - 1;
  };
  const teamCollections = (team: number) => [`team${team}_docs`, `team${team}_kb`, 'docs_public', 'product_specs', ...(SENSITIVE_BY_TEAM[team] ? [SENSITIVE_BY_TEAM[team]!] : [])];

  function hour(h: number): AccessEvent[] {
    const t0 = start + h * HOUR;
    const day = Math.floor(h / 24);
    const hod = h % 24;
    const dow = new Date(t0).getUTCDay();
    const weekend = dow === 0 || dow === 6;
    const holiday = day === 10;
    const out: AccessEvent[] = [];
    const within = (n: number) => t0 + Math.floor(rand() * n);
    for (const p of people) {
      if (day < p.firstDay) continue;
      const onVacation = day >= p.vacation[0] && day < p.vacation[1];
      const working = !weekend && !holiday && !onVacation && hod >= p.startHour && hod < p.endHour;
      // Team change on day 20: three people of team 1 move to team 2.
      const team = day >= 20 && p.team === 1 && Number(p.id.slice(-3)) < 50 ? 2 : p.team;
      let lambda = working ? p.rate : 0;
      if (working && team === 5 && day === 22 && hod >= 14 && hod < 16) lambda *= 3; // release day
      for (let n = poisson(lambda); n > 0; n--) {
        out.push(ev(within(HOUR), p.id, { collection: pick(teamCollections(team)), operation: rand() < 0.85 ? 'search' : 'fetch', src_net: rand() < 0.2 ? p.home : 'net_bench_office', attributes: { team: `team${team}` } }));
      }
    }
    for (const s of services) {
      if (day < s.firstDay) continue;
      const lambda = s.rate * (hod >= 8 && hod < 20 ? 1.3 : 0.7);
      for (let n = poisson(lambda); n > 0; n--) out.push(ev(within(HOUR), s.id, { collection: s.collection, operation: rand() < 0.9 ? 'search' : 'upsert' }));
      if (s.bursty && h % 3 === 0) for (let n = 0; n < 200; n++) out.push(ev(t0 + Math.floor(rand() * 600_000), s.id, { collection: s.collection }));
    }
    if (hod === 2) {
      for (const b of batchJobs) {
        for (let n = poisson(500); n > 0; n--) out.push(ev(t0 + Math.floor(rand() * 300_000), b.id, { collection: b.collection, operation: 'upsert' }));
        if (dow === 0) for (let n = 0; n < 200; n++) out.push(ev(t0 + 300_000 + n * 100, b.id, { collection: b.collection, operation: 'delete' }));
      }
    }
    injectAttacks(t0, out);
    out.push(...small.hour(h));
    return out.sort((a, b) => a.time - b.time);
  }

  function injectAttacks(t0: number, out: AccessEvent[]): void {
    const inHour = (a: Attack) => a.start < t0 + HOUR && a.end > t0;
    for (const a of attacks.filter(inHour)) {
      const from = Math.max(a.start, t0);
      const to = Math.min(a.end, t0 + HOUR);
      const spread = (n: number, f: (time: number, i: number) => AccessEvent) => {
        for (let i = 0; i < n; i++) out.push(f(from + Math.floor(((to - from) * i) / n), i));
      };
      const actor = a.entities[0]!;
      switch (a.id) {
        case 'fast-exfiltration':
          spread(1_500, (t, i) => ev(t, actor, { collection: 'customer_pii', operation: i % 5 ? 'search' : 'scroll', top_k: 100, returned: 100, bytes_out: 600_000 }));
          break;
        case 'low-and-slow':
          spread(25, (t) => ev(t, actor, { collection: 'customer_pii', operation: 'scroll', returned: 100, bytes_out: 400_000 }));
          break;
        case 'enumeration':
          spread(60, (t, i) => ev(t, actor, { collection: `team${i % TEAMS}_${i < 30 ? 'docs' : 'kb'}`, operation: 'fetch' }));
          break;
        case 'credential-sharing':
          spread(120, (t, i) => ev(t, a.entities[2 + (i % 3)]!, { credential: a.entities[0]!, src_net: `net_bench_share${i % 6}`, collection: services[5]!.collection }));
          break;
        case 'stolen-key':
          spread(100, (t) => ev(t, actor, { src_net: 'net_bench_evil', collection: 'customer_pii', operation: 'scroll', returned: 100 }));
          break;
        case 'brute-force':
          spread(300, (t) => ev(t, actor, { operation: 'auth', outcome: 'denied', status_code: 401, src_net: 'net_bench_evil2', returned: 0 }));
          break;
        case 'mass-delete':
          spread(300, (t, i) => ev(t, actor, { collection: `team${who(5).team}_docs`, operation: i === 299 ? 'drop_collection' : 'delete', returned: 0 }));
          break;
        case 'insider':
          spread(40, (t) => ev(t, actor, { collection: 'hr_records', operation: 'fetch' }));
          break;
      }
    }
  }

  return { tenant, smallTenant: small.tenant, start, days, identities, attacks: [...attacks, ...small.attacks], hour, hours: days * 24 };
}
