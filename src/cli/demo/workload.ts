// A realistic, seeded multi-day workload for `vigil demo` and the tests: people with working
// hours, service accounts with flat load, a nightly batch job, noise — and one exfiltration burst.
// Produces generic gateway events (raw identifiers: the collector tokenizes them).
import type { GenericEvent } from '../../collectors/generic/generic.schema.js';

export interface WorkloadOptions {
  readonly tenant: string;
  readonly days: number;
  readonly people: number;
  readonly services: number;
  /** Last hour of the workload (exclusive), epoch ms; defaults to the last Friday 18:00 UTC. */
  readonly end?: number;
  readonly seed?: number;
  /** Inject the exfiltration burst in the last working hour. @defaultValue true */
  readonly attack?: boolean;
}

export interface Workload {
  readonly events: GenericEvent[];
  readonly attacker: string;
  readonly attackStart: number;
  readonly attackEvents: number;
  readonly identities: number;
}

const HOUR = 3_600_000;
const COLLECTIONS = [
  'docs_public',
  'support_tickets',
  'product_specs',
  'code_snippets',
  'customer_pii',
  'hr_records',
  'sales_calls',
];
const SYSTEMS = ['qdrant', 'weaviate', 'pgvector'];

/**
 * The most recent Friday 18:00 UTC at or before `now`: the workload ends there by default, so the
 * attack (the last weekday 14:20 before the end) always has `days` of history behind it, whatever
 * the day and hour the demo or a test runs.
 */
export function lastFridayEvening(now: number): number {
  const d = new Date(now);
  const friday = Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate() - ((d.getUTCDay() + 2) % 7),
    18,
  );
  return friday <= now ? friday : friday - 7 * 24 * HOUR;
}

/** Mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export function generateWorkload(opts: WorkloadOptions): Workload {
  const rand = prng(opts.seed ?? 42);
  const end = opts.end ?? lastFridayEvening(Date.now());
  const start = end - opts.days * 24 * HOUR;
  const events: GenericEvent[] = [];
  let seq = 0;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

  const emit = (
    actor: string,
    actorType: 'user' | 'service',
    t: number,
    collection: string,
    op: string,
    extra: Partial<GenericEvent> = {},
  ) => {
    const returned =
      op === 'search' ? 5 + Math.floor(rand() * 15) : op === 'scroll' ? 100 : op === 'upsert' ? 0 : 1;
    events.push({
      id: `demo-${seq++}`,
      time: new Date(t).toISOString(),
      tenant: opts.tenant,
      user: actor,
      actor_type: actorType,
      credential: `key-${actor.split('@')[0]}`,
      session: `sess-${actor.split('@')[0]}-${Math.floor(t / (4 * HOUR))}`,
      src_ip:
        actorType === 'user' ? `10.20.${Math.floor(seq % 7)}.${10 + (actor.length % 200)}` : '10.0.5.21',
      client: actorType === 'user' ? 'rag-console/2.3' : 'rag-api/5.1',
      system: pick(SYSTEMS),
      operation: op,
      collection,
      top_k: op === 'search' ? 10 : undefined,
      returned,
      bytes_out: returned * 2048,
      latency_ms: Math.round(5 + rand() * 40),
      status_code: rand() < 0.01 ? 500 : 200,
      ...extra,
    });
  };

  const people = Array.from({ length: opts.people }, (_, i) => ({
    name: `person${String(i + 1).padStart(3, '0')}@acme.example`,
    rate: 4 + rand() * 14,
    collections: [
      pick(COLLECTIONS.slice(0, 4)),
      pick(COLLECTIONS.slice(0, 4)),
      rand() < 0.2 ? 'customer_pii' : 'docs_public',
    ],
    startHour: 7 + Math.floor(rand() * 3),
    endHour: 16 + Math.floor(rand() * 3),
  }));
  const services = Array.from({ length: opts.services }, (_, i) => ({
    name: `svc-rag-${i + 1}`,
    rate: 20 + rand() * 40,
    collection: pick(COLLECTIONS),
  }));

  for (let h = start; h < end; h += HOUR) {
    const d = new Date(h);
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    const hour = d.getUTCHours();
    for (const p of people) {
      const working = !weekend && hour >= p.startHour && hour < p.endHour;
      const lambda = working ? p.rate : rand() < 0.03 ? 2 : 0;
      for (let n = poisson(rand, lambda); n > 0; n--) {
        emit(
          p.name,
          'user',
          h + Math.floor(rand() * HOUR),
          pick(p.collections),
          rand() < 0.85 ? 'search' : 'fetch',
        );
      }
    }
    for (const s of services) {
      const lambda = s.rate * (hour >= 8 && hour < 20 ? 1.3 : 0.7);
      for (let n = poisson(rand, lambda); n > 0; n--)
        emit(
          s.name,
          'service',
          h + Math.floor(rand() * HOUR),
          s.collection,
          rand() < 0.9 ? 'search' : 'upsert',
        );
    }
    // A nightly re-indexing job: its whole load in the first minutes of 02:00.
    if (hour === 2) {
      const n = poisson(rand, 500);
      for (let i = 0; i < n; i++)
        emit('svc-reindex', 'service', h + Math.floor(rand() * 6 * 60_000), 'product_specs', 'upsert');
    }
  }

  // The exfiltration: one person scrapes customer_pii for ten minutes in the last working hour.
  const attacker = people[Math.min(3, people.length - 1)]!.name;
  let attackStart = end - HOUR;
  while ([0, 6].includes(new Date(attackStart).getUTCDay()) || new Date(attackStart).getUTCHours() !== 14)
    attackStart -= HOUR;
  attackStart += 20 * 60_000;
  let attackEvents = 0;
  if (opts.attack ?? true) {
    for (let i = 0; i < 1_500; i++) {
      const op = i % 5 === 0 ? 'scroll' : 'search';
      emit(attacker, 'user', attackStart + Math.floor((i / 1_500) * 10 * 60_000), 'customer_pii', op, {
        top_k: 100,
        returned: 100,
        bytes_out: 100 * 6144,
        src_ip: '203.0.113.77',
      });
      attackEvents++;
    }
  }
  events.sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)));
  return { events, attacker, attackStart, attackEvents, identities: people.length + services.length + 1 };
}
