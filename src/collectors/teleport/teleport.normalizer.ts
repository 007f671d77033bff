// Teleport audit event → canonical AccessEvent, tokenized. Pure apart from the tokenizer cache.
// Database access (`db.session.*`): the query text is parsed (SQL; pgvector when it uses vector
// operators) and hashed, never kept. Application access (`app.session.request`) to HTTP vector
// stores: the method and path say the operation and collection. Other events are not access to a
// vector store and are ignored (counted, never rejected).
import { type AccessEvent, type ActorType, deterministicId, type Operation } from '../../model/index.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import { blankEvent, outcomeFromStatus, parseEventTime } from '../normalize.js';
import { describeZodError, UNLISTED_REASON } from '../reasons.js';
import { parseSql, parseVectorHttp, systemHint, type VectorOp } from '../vector-query.js';
import { type TeleportEvent, teleportEventRejects, teleportEventSchema } from './teleport.schema.js';

/** Who an application session belongs to, remembered from its start / chunk events. */
export interface TeleportAppSession {
  readonly actor: string;
  readonly actor_type: ActorType;
  readonly src_ip: string;
  readonly src_net: string;
}

export interface TeleportNormalizeContext {
  readonly tokenizer: Tokenizer;
  readonly tenant: string;
  readonly now: number;
  /** An application session seen earlier, by `sid` or `session_chunk_id`. */
  readonly appSession?: (key: string) => TeleportAppSession | undefined;
  /**
   * False when a rejection's reason will not be shown (past the listed ones): an invalid event is
   * then refused without zod wording why. @defaultValue true
   */
  readonly describe?: boolean;
}

export type TeleportResult =
  | { readonly kind: 'event'; readonly event: AccessEvent }
  | {
      readonly kind: 'ignored';
      readonly type: string;
      /** Identity of an application session, for the requests that follow it. */
      readonly appSession?: { readonly keys: string[]; readonly session: TeleportAppSession };
    }
  | { readonly kind: 'rejected'; readonly reason: string };

const DB_EVENTS = new Set([
  'db.session.start',
  'db.session.query',
  'db.session.query.failed',
  'db.session.result',
  'db.session.end',
]);
const APP_EVENTS = new Set(['app.session.request', 'app.session.start', 'app.session.chunk']);
/** Protocols whose db_query is SQL. */
const SQL_PROTOCOLS = new Set([
  'postgres',
  'mysql',
  'cockroachdb',
  'sqlserver',
  'oracle',
  'clickhouse',
  'snowflake',
  'spanner',
  'redshift',
]);
const DENIED_TEXT =
  /permission denied|access denied|access to db denied|not authorized|unauthorized|insufficient privilege/i;

function protocolSystem(p: string | null | undefined): string | undefined {
  const v = (p ?? '').trim().toLowerCase();
  if (v === 'clickhouse-http') return 'clickhouse';
  return v || undefined;
}

/** Teleport's user_kind: 1 human, 2 bot (Machine ID). Bots are also named `bot-<name>`. */
function actorTypeOf(e: TeleportEvent): ActorType {
  if (e.user_kind === 2 || e.user?.startsWith('bot-')) return 'service';
  if (e.user_kind === 1 || e.user) return 'user';
  return 'unknown';
}

function setAttr(e: AccessEvent, key: string, value: string | null | undefined) {
  if (value) e.attributes[key] = value.slice(0, 256);
}

export function normalizeTeleport(raw: unknown, ctx: TeleportNormalizeContext): TeleportResult {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { kind: 'rejected', reason: 'event: expected object' };
  const type = (raw as { event?: unknown }).event;
  if (type === undefined) return { kind: 'rejected', reason: 'event: is required' };
  if (typeof type !== 'string') return { kind: 'rejected', reason: 'event: expected string' };
  if (!DB_EVENTS.has(type) && !APP_EVENTS.has(type)) return { kind: 'ignored', type };
  if (ctx.describe === false && teleportEventRejects(raw))
    return { kind: 'rejected', reason: UNLISTED_REASON };
  const parsed = teleportEventSchema.safeParse(raw);
  if (!parsed.success) return { kind: 'rejected', reason: describeZodError(parsed.error) };
  const ev = parsed.data;
  const time = parseEventTime(ev.time, ctx.now);
  if (time === undefined)
    return { kind: 'rejected', reason: 'time: not an ISO-8601 time or epoch number within 2000 … now+24h' };
  if (DB_EVENTS.has(type)) {
    if (!ev.user) return { kind: 'rejected', reason: 'user: is required' };
    return { kind: 'event', event: dbEvent(ev, time, ctx) };
  }
  return appEvent(ev, time, ctx);
}

function base(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): AccessEvent {
  const { tokenizer, tenant } = ctx;
  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('teleport', ev.uid);
  e.time = time;
  e.tenant = tenant;
  e.source = 'teleport';
  e.actor_type = actorTypeOf(ev);
  if (ev.user) e.actor = tokenizer.token('actor', tenant, ev.user, e.actor_type);
  e.session = tokenizer.token('session', tenant, ev.sid ?? ev.session_chunk_id ?? '');
  Object.assign(e, tokenizer.address(tenant, ev['addr.remote'] ?? ''));
  e.client = (ev.user_agent ?? '').slice(0, 256);
  setAttr(e, 'teleport.cluster', ev.cluster_name);
  setAttr(e, 'teleport.event', ev.event);
  setAttr(e, 'teleport.code', ev.code);
  return e;
}

function applyOp(e: AccessEvent, op: VectorOp | undefined, operation: Operation, operationRaw: string) {
  e.operation = op?.operation ?? operation;
  e.operation_raw = (op?.operation_raw ?? operationRaw).slice(0, 128);
  e.collection = op?.collection ?? '';
  if (op?.namespace) e.namespace = op.namespace;
  e.top_k = op?.top_k ?? 0;
}

function dbEvent(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): AccessEvent {
  const e = base(ev, time, ctx);
  e.credential = ctx.tokenizer.token('credential', ctx.tenant, ev.db_user ?? '');
  e.namespace = (ev.db_name ?? '').slice(0, 256);
  const protocol = protocolSystem(ev.db_protocol);
  const query = ev.db_query ?? '';
  const op = query && (protocol === undefined || SQL_PROTOCOLS.has(protocol)) ? parseSql(query) : undefined;
  e.system = (
    op?.system ??
    systemHint(ev.db_service ?? undefined) ??
    protocol ??
    protocolSystem(ev.db_type) ??
    'unknown'
  ).slice(0, 64);
  setQueryFields(e, query, ctx.tokenizer.queryText);
  setAttr(e, 'teleport.db_service', ev.db_service);
  switch (ev.event) {
    case 'db.session.start':
      applyOp(e, undefined, 'auth', ev.event);
      if (ev.code === 'TDB00W' || ev.success === false) {
        e.outcome = 'denied';
        e.error_type = 'access_denied';
      }
      break;
    case 'db.session.query':
      applyOp(e, op, 'other', ev.event);
      break;
    case 'db.session.query.failed':
      applyOp(e, op, 'other', ev.event);
      // The error text classifies the failure; it may quote data, so it is never stored.
      if (DENIED_TEXT.test(ev.error ?? '')) {
        e.outcome = 'denied';
        e.error_type = 'permission_denied';
      } else {
        e.outcome = 'error';
        e.error_type = 'query_failed';
      }
      break;
    case 'db.session.result':
      applyOp(e, undefined, 'other', ev.event);
      e.returned = ev.affected_records ?? 0;
      if (ev.success === false) {
        e.outcome = 'error';
        e.error_type = 'query_failed';
      }
      break;
    default:
      applyOp(e, undefined, 'other', ev.event);
  }
  return e;
}

function appEvent(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): TeleportResult {
  const hint = systemHint(
    ev.app_name ?? undefined,
    ev.app_public_addr ?? ev.public_addr ?? undefined,
    ev.app_uri ?? undefined,
  );
  if (ev.event !== 'app.session.request') {
    const keys = [ev.sid, ev.session_chunk_id].filter((k): k is string => Boolean(k));
    const e = base(ev, time, ctx);
    const appSession =
      ev.user && keys.length
        ? {
            keys,
            session: { actor: e.actor, actor_type: e.actor_type, src_ip: e.src_ip, src_net: e.src_net },
          }
        : undefined;
    // Opening a session to a vector-store app is an access decision; chunks only carry identity.
    if (ev.event === 'app.session.start' && hint && ev.user) {
      e.system = hint;
      applyOp(e, undefined, 'auth', ev.event);
      if (ev.code?.endsWith('E') || ev.success === false) {
        e.outcome = 'denied';
        e.error_type = 'access_denied';
      }
      setAttr(e, 'teleport.app', ev.app_name);
      return { kind: 'event', event: e };
    }
    return { kind: 'ignored', type: ev.event, appSession };
  }
  const method = (ev.method ?? 'GET').toUpperCase();
  const path = ev.path ?? '/';
  const op = parseVectorHttp({ method, path, query: ev.raw_query ?? '', body: ev.body, hint });
  if (!op && !hint) return { kind: 'ignored', type: 'app.session.request (not a vector store)' };
  const e = base(ev, time, ctx);
  if (!ev.user) {
    // Request events may name no user: their session's start or chunk event did.
    const known = [ev.session_chunk_id, ev.sid]
      .map((k) => (k ? ctx.appSession?.(k) : undefined))
      .find(Boolean);
    if (known) Object.assign(e, known);
    else {
      e.actor_type = 'unknown';
      const sessionKey = ev.sid ?? ev.session_chunk_id ?? ev.uid;
      e.actor = ctx.tokenizer.token('actor', ctx.tenant, `teleport-app-session:${sessionKey}`, 'unknown');
    }
  }
  e.system = op?.system ?? hint ?? 'unknown';
  const firstSegment = path.split('/').find(Boolean) ?? '';
  applyOp(e, op, 'other', `${method} /${firstSegment}`);
  const status = ev.status_code ?? 0;
  e.status_code = status;
  e.outcome = outcomeFromStatus(status);
  if (status >= 400) e.error_type = `http_${status}`;
  setAttr(e, 'teleport.app', ev.app_name);
  return { kind: 'event', event: e };
}
