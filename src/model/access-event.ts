// The canonical AccessEvent: one row per vector-database operation or access decision.
// Field names are the contract between collectors, store, detectors, exporters and dashboards
// (ARCHITECTURE.md, "Canonical event"). Identifier fields hold tokens, never raw values.
import { z } from 'zod';

export const SOURCES = ['otel', 'hoop', 'teleport', 'generic'] as const;
export const ACTOR_TYPES = ['user', 'service', 'agent', 'unknown'] as const;
export const OPERATIONS = [
  'search',
  'fetch',
  'scroll',
  'upsert',
  'delete',
  'create_collection',
  'drop_collection',
  'admin',
  'auth',
  'other',
] as const;
/**
 * `pending`: a request that has not run and may never run (a gateway holding it for review). It is
 * stored as the record of the request and never counted as access: the detect stage and the
 * baselines skip it (detect/stage.ts, migration 009).
 */
export const OUTCOMES = ['allowed', 'denied', 'error', 'pending'] as const;
/** What an outside sender may say happened; `pending` is set only by collectors that know it. */
export const REPORTED_OUTCOMES = ['allowed', 'denied', 'error'] as const;

export type Source = (typeof SOURCES)[number];
export type ActorType = (typeof ACTOR_TYPES)[number];
export type Operation = (typeof OPERATIONS)[number];
export type Outcome = (typeof OUTCOMES)[number];

const count = z.number().int().nonnegative();
/** A count the source may not report: null is unknown (not zero), and nothing is learnt from it. */
const maybeCount = count.nullable();

export const accessEventSchema = z.object({
  event_id: z.string().min(1),
  /** Event time (source clock), epoch milliseconds. */
  time: z.number().int(),
  /** When vigil received it, epoch milliseconds. */
  observed_time: z.number().int(),
  tenant: z.string().min(1),
  source: z.enum(SOURCES),
  actor: z.string().min(1),
  actor_type: z.enum(ACTOR_TYPES),
  credential: z.string(),
  session: z.string(),
  src_ip: z.string(),
  src_net: z.string(),
  client: z.string(),
  system: z.string().min(1),
  operation: z.enum(OPERATIONS),
  operation_raw: z.string(),
  collection: z.string(),
  namespace: z.string(),
  top_k: maybeCount,
  returned: maybeCount,
  vectors_returned: maybeCount,
  bytes_out: maybeCount,
  outcome: z.enum(OUTCOMES),
  status_code: z.number().int(),
  error_type: z.string(),
  masked: z.boolean(),
  review: z.boolean(),
  blocked: z.boolean(),
  latency_ms: z.number().nonnegative(),
  query_hash: z.string(),
  trace_id: z.string(),
  span_id: z.string(),
  attributes: z.record(z.string(), z.string()),
});

export type AccessEvent = z.infer<typeof accessEventSchema>;

/** Maps a raw operation name from any source onto the canonical set. */
export function canonicalOperation(raw: string): Operation {
  const op = raw
    .trim()
    .toLowerCase()
    .replace(/[\s.-]+/g, '_');
  if ((OPERATIONS as readonly string[]).includes(op)) return op as Operation;
  // hasOwn: a name like "constructor" must not resolve through Object.prototype.
  return Object.hasOwn(OPERATION_ALIASES, op) ? OPERATION_ALIASES[op]! : 'other';
}

const OPERATION_ALIASES: Record<string, Operation> = {
  query: 'search',
  query_points: 'search',
  search_points: 'search',
  knn: 'search',
  similarity_search: 'search',
  hybrid_search: 'search',
  get: 'fetch',
  retrieve: 'fetch',
  read: 'fetch',
  select: 'fetch',
  list: 'scroll',
  export: 'scroll',
  iterate: 'scroll',
  query_iterator: 'scroll',
  insert: 'upsert',
  add: 'upsert',
  update: 'upsert',
  write: 'upsert',
  remove: 'delete',
  delete_points: 'delete',
  create: 'create_collection',
  create_index: 'create_collection',
  create_table: 'create_collection',
  drop: 'drop_collection',
  drop_table: 'drop_collection',
  delete_collection: 'drop_collection',
  delete_index: 'drop_collection',
  login: 'auth',
  connect: 'auth',
  authenticate: 'auth',
};

/**
 * After a tokenization key rotation the ingest edge stamps, on events whose identifiers it saw,
 * the token each had under the previous key; detectors use it to carry baselines over.
 */
export const PREVIOUS_TOKEN_ATTRIBUTES = {
  actor: 'vigil.prev.actor',
  credential: 'vigil.prev.credential',
  src_net: 'vigil.prev.src_net',
} as const;
