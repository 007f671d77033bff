// Teleport audit event → canonical AccessEvent, tokenized. Pure apart from the tokenizer cache.
// Event names, codes and fields are Teleport's (lib/events/codes.go, api/proto/teleport/legacy/
// types/events/events.proto, lib/srv/db/common/audit.go, lib/srv/app/common/audit.go).
// - Database access (`db.session.*`): query text — `db_query` of `db.session.query`, `query` of the
//   statement events (Postgres extended protocol `…postgres.statements.parse`, MySQL
//   `…statements.prepare`, Cassandra `…prepare`), `args.sql` of Spanner — is parsed (SQL; pgvector
//   when it uses vector operators) and hashed, never kept. The other statement events (bind,
//   execute, close, …) carry no text and are acknowledged and counted, not stored.
// - Elasticsearch / OpenSearch requests (k-NN searches) and DynamoDB requests: method, path and
//   target say the operation and the index or table.
// - Application access to HTTP vector stores: `app.session.request` names no user and no session
//   (audit.go OnRequest); it is attributed through the session recording it arrives in (the event
//   handler posts a recording to `<session URL>.<sid>.log`, and an application chunk's recording is
//   named by the chunk id that `app.session.chunk` tied to its user), else its actor is recorded as
//   unattributed (unknown), one per application.
// - Authentication: `user.login`, `auth` (T3007W), `session.rejected` (T1006W) are auth decisions.
// Outcomes follow Teleport's event codes where it has one (`…W` / `…E` failure codes); the error
// text is read only where the code does not tell (`db.session.query.failed`).
// Other events are not access to a vector store and are ignored (counted, never rejected).
import { type AccessEvent, type ActorType, deterministicId, type Operation } from '../../model/index.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import {
  blankEvent,
  expiredTimeReason,
  outcomeFromStatus,
  parseEventTime,
  type RetentionBound,
} from '../normalize.js';
import { describeZodError, UNLISTED_REASON } from '../reasons.js';
import { parseSql, parseVectorHttp, systemHint, type VectorOp } from '../vector-query/index.js';
import { type TeleportEvent, teleportEventRejects, teleportEventSchema } from './teleport.schema.js';

/** Who an application session belongs to, remembered from its start / chunk events. */
export interface TeleportAppSession {
  readonly actor: string;
  readonly actor_type: ActorType;
  readonly src_ip: string;
  readonly src_net: string;
}

export interface TeleportNormalizeContext extends RetentionBound {
  readonly tokenizer: Tokenizer;
  readonly tenant: string;
  readonly now: number;
  /** An application session seen earlier, by `sid` or `session_chunk_id`. */
  readonly appSession?: (key: string) => TeleportAppSession | undefined;
  /**
   * The session whose recording the event came in (the event handler's session stream,
   * `<session URL>.<sid>.log`); undefined for the audit log stream.
   */
  readonly streamSession?: string;
  /**
   * False when a rejection's reason will not be shown (past the listed ones): an invalid event is
   * then refused without zod wording why. @defaultValue true
   */
  readonly describe?: boolean;
}

export type TeleportResult =
  | {
      readonly kind: 'event';
      readonly event: AccessEvent;
      /** Identity of an application session, for the requests that follow it. */
      readonly appSession?: { readonly keys: string[]; readonly session: TeleportAppSession };
    }
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
  'db.session.postgres.statements.parse',
  'db.session.mysql.statements.prepare',
  'db.session.cassandra.prepare',
  'db.session.spanner.rpc',
  'db.session.elasticsearch.request',
  'db.session.opensearch.request',
  'db.session.dynamodb.request',
  'db.session.user.create',
  'db.session.user.deactivate',
  'db.session.permissions.update',
  'db.session.mysql.create_db',
  'db.session.mysql.drop_db',
]);
const APP_EVENTS = new Set([
  'app.session.request',
  'app.session.dynamodb.request',
  'app.session.start',
  'app.session.chunk',
  'app.session.end',
  'http.request',
]);
const AUTH_EVENTS = new Set(['user.login', 'auth', 'session.rejected']);
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
  'cassandra',
]);
/**
 * Failure codes that are access decisions (lib/events/codes.go): a refused session start, a
 * refused Spanner RPC, a refused login or SSH authentication, a session over its limit.
 */
const DENIED_CODES: Readonly<Record<string, string>> = {
  TDB00W: 'access_denied',
  TSPN001W: 'access_denied',
  T1000W: 'login_failed',
  T1001W: 'login_failed',
  T1011W: 'login_failed',
  T1014W: 'login_rejected',
  T1013W: 'login_failed',
  T3007W: 'auth_failed',
  T1006W: 'session_rejected',
};
/**
 * `db.session.query.failed` has one code (TDB02W) for every failure: the text tells a refusal
 * (Teleport's own "access to db/database denied", the database's permission errors) from an error.
 */
const DENIED_TEXT =
  /access to (?:db|database) denied|permission denied|access denied|not authorized|unauthorized|insufficient privilege/i;

function protocolSystem(p: string | null | undefined): string | undefined {
  const v = (p ?? '').trim().toLowerCase();
  if (v === 'clickhouse-http') return 'clickhouse';
  return v || undefined;
}

/**
 * Teleport's user_kind (events.proto UserKind): 1 human, 2 bot (Machine ID), 3 system (a Teleport
 * component acting on its own). Bots are also named `bot-<name>`. Only humans are users.
 */
function actorTypeOf(e: TeleportEvent): ActorType {
  if (e.user_kind === 2 || e.user_kind === 3 || e.user?.startsWith('bot-')) return 'service';
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
  if (!DB_EVENTS.has(type) && !APP_EVENTS.has(type) && !AUTH_EVENTS.has(type))
    return { kind: 'ignored', type };
  if (ctx.describe === false && teleportEventRejects(raw))
    return { kind: 'rejected', reason: UNLISTED_REASON };
  const parsed = teleportEventSchema.safeParse(raw);
  if (!parsed.success) return { kind: 'rejected', reason: describeZodError(parsed.error) };
  const ev = parsed.data;
  if (ev.uid === '') return { kind: 'rejected', reason: 'uid: must not be empty' };
  const time = parseEventTime(ev.time, ctx.now);
  if (time === undefined)
    return { kind: 'rejected', reason: 'time: not an ISO-8601 time or epoch number within 2000 … now+24h' };
  const expired = expiredTimeReason('time', time, ctx.now, ctx);
  if (expired) return { kind: 'rejected', reason: expired };
  if (AUTH_EVENTS.has(type)) return { kind: 'event', event: authEvent(ev, time, ctx) };
  if (DB_EVENTS.has(type)) {
    if (!ev.user) return { kind: 'rejected', reason: 'user: is required' };
    return { kind: 'event', event: dbEvent(ev, time, ctx) };
  }
  return appEvent(ev, time, ctx);
}

/**
 * Teleport's uid; without one (some statement events), the session and event index, which are
 * unique within a recording; else the event's own content, so a redelivery folds into one row.
 */
function eventId(ev: TeleportEvent): string {
  if (ev.uid) return deterministicId('teleport', ev.uid);
  if (ev.sid && ev.ei !== undefined && ev.ei !== null)
    return deterministicId('teleport', ev.sid, String(ev.ei), ev.event);
  return deterministicId(
    'teleport',
    ev.event,
    String(ev.time),
    ev.code ?? '',
    ev.user ?? '',
    ev.query ?? ev.db_query ?? '',
  );
}

function base(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): AccessEvent {
  const { tokenizer, tenant } = ctx;
  const e = blankEvent(ctx.now);
  e.event_id = eventId(ev);
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
  if (ev.user_kind === 3) e.attributes['teleport.user_kind'] = 'system';
  const denied = ev.code ? DENIED_CODES[ev.code] : undefined;
  if (denied) {
    e.outcome = 'denied';
    e.error_type = denied;
  } else if (ev.code?.endsWith('E') || (ev.code?.endsWith('W') && ev.success === false)) {
    e.outcome = 'error';
    e.error_type = 'failed';
  }
  return e;
}

/** `user.login`, `auth`, `session.rejected`: decisions on who may get in (system `teleport`). */
function authEvent(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): AccessEvent {
  const e = base(ev, time, ctx);
  if (!ev.user) {
    // A failed login may name no user (T1011W): the attempt is kept, its actor unknown.
    e.actor_type = 'unknown';
    e.actor = ctx.tokenizer.token('actor', ctx.tenant, 'teleport-login:unnamed', 'unknown');
  }
  e.system = 'teleport';
  applyOp(e, undefined, 'auth', ev.event);
  if (ev.success === false && e.outcome === 'allowed') {
    e.outcome = 'denied';
    e.error_type = 'auth_failed';
  }
  if (ev.event === 'user.login') setAttr(e, 'teleport.login_method', ev.method);
  return e;
}

function applyOp(e: AccessEvent, op: VectorOp | undefined, operation: Operation, operationRaw: string) {
  e.operation = op?.operation ?? operation;
  e.operation_raw = (op?.operation_raw ?? operationRaw).slice(0, 128);
  e.collection = op?.collection ?? '';
  if (op?.namespace) e.namespace = op.namespace;
  e.top_k = op?.top_k ?? null;
}

function dbEvent(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): AccessEvent {
  const e = base(ev, time, ctx);
  e.credential = ctx.tokenizer.token('credential', ctx.tenant, ev.db_user ?? '');
  e.namespace = (ev.db_name ?? '').slice(0, 256);
  const protocol = protocolSystem(ev.db_protocol);
  const query = ev.db_query ?? ev.query ?? spannerSql(ev.args) ?? '';
  const sqlText =
    query && (protocol === undefined || SQL_PROTOCOLS.has(protocol)) && !isHttpProtocol(protocol);
  const op = sqlText ? parseSql(query) : undefined;
  e.system = (
    op?.system ??
    systemHint(ev.db_service ?? undefined) ??
    protocol ??
    protocolSystem(ev.db_type) ??
    'unknown'
  ).slice(0, 64);
  if (sqlText) setQueryFields(e, query, ctx.tokenizer.queryText);
  setAttr(e, 'teleport.db_service', ev.db_service);
  switch (ev.event) {
    case 'db.session.start':
      applyOp(e, undefined, 'auth', ev.event);
      if (ev.success === false && e.outcome === 'allowed') {
        e.outcome = 'denied';
        e.error_type = 'access_denied';
      }
      break;
    case 'db.session.query':
    case 'db.session.postgres.statements.parse':
    case 'db.session.mysql.statements.prepare':
    case 'db.session.cassandra.prepare':
    case 'db.session.spanner.rpc':
      // A statement is parsed (prepared) before its executions; the bind / execute events that
      // follow carry no text, so the statement counts once, where its text is.
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
      // Unknown is not zero: a result event without a count leaves the rows unknown.
      e.returned = ev.affected_records ?? null;
      if (ev.success === false) {
        e.outcome = 'error';
        e.error_type = 'query_failed';
      }
      break;
    case 'db.session.end': {
      applyOp(e, undefined, 'other', ev.event);
      const start = ev.session_start ? Date.parse(ev.session_start) : Number.NaN;
      const stop = ev.session_stop ? Date.parse(ev.session_stop) : Number.NaN;
      if (stop >= start) e.latency_ms = stop - start;
      break;
    }
    case 'db.session.elasticsearch.request':
    case 'db.session.opensearch.request':
      searchRequest(e, ev);
      break;
    case 'db.session.dynamodb.request':
      dynamoRequest(e, ev);
      break;
    case 'db.session.user.create':
    case 'db.session.user.deactivate':
    case 'db.session.permissions.update':
      // Teleport provisioning the database user or its grants: administration of the database.
      applyOp(e, undefined, 'admin', ev.event);
      break;
    case 'db.session.mysql.create_db':
      applyOp(e, undefined, 'admin', ev.event);
      e.namespace = (ev.schema_name ?? '').slice(0, 256);
      break;
    case 'db.session.mysql.drop_db':
      applyOp(e, undefined, 'drop_collection', ev.event);
      e.namespace = (ev.schema_name ?? '').slice(0, 256);
      break;
    default:
      applyOp(e, undefined, 'other', ev.event);
  }
  return e;
}

function isHttpProtocol(p: string | undefined): boolean {
  return p === 'elasticsearch' || p === 'opensearch' || p === 'dynamodb';
}

/** Spanner's `args.sql` (ExecuteSql / ExecuteStreamingSql). */
function spannerSql(args: unknown): string | undefined {
  const sql = args && typeof args === 'object' ? (args as { sql?: unknown }).sql : undefined;
  return typeof sql === 'string' ? sql.slice(0, 4 * 1024 * 1024) : undefined;
}

/** The request body as JSON: an object as sent, or base64 of JSON (Elasticsearch / OpenSearch). */
function bodyJson(body: unknown): Record<string, unknown> | undefined {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  if (typeof body !== 'string' || body.length > 1024 * 1024) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const nonNeg = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined);

/** Elasticsearch / OpenSearch: the path's endpoint (`_search`, `_doc`, …) and index say it. */
function searchRequest(e: AccessEvent, ev: TeleportEvent) {
  const method = (ev.method ?? 'GET').toUpperCase();
  const segments = (ev.path ?? '/').split('/').filter(Boolean);
  const index = ev.target || (segments[0] && !segments[0].startsWith('_') ? segments[0] : '');
  const endpoint = segments.find((s) => s.startsWith('_')) ?? '';
  const body = bodyJson(ev.body);
  const knn = body?.knn ?? (body?.query as Record<string, unknown> | undefined)?.knn;
  const params = new URLSearchParams(ev.raw_query ?? '');
  let operation: Operation;
  if (ev.category === 3 || endpoint === '_sql') operation = 'search';
  else if (params.has('scroll') || endpoint === '_scroll') operation = 'scroll';
  else if (['_search', '_msearch', '_knn_search', '_count'].includes(endpoint)) operation = 'search';
  else if (['_doc', '_source', '_mget'].includes(endpoint))
    operation = method === 'GET' || method === 'HEAD' ? 'fetch' : method === 'DELETE' ? 'delete' : 'upsert';
  else if (['_create', '_update', '_bulk', '_update_by_query'].includes(endpoint)) operation = 'upsert';
  else if (endpoint === '_delete_by_query') operation = 'delete';
  else if (!endpoint && index && method === 'PUT') operation = 'create_collection';
  else if (!endpoint && index && method === 'DELETE') operation = 'drop_collection';
  // Teleport's own classification (category 2 = search) where the path does not tell.
  else if (ev.category === 2 || knn) operation = 'search';
  else if (endpoint) operation = 'admin';
  else operation = 'other';
  applyOp(e, undefined, operation, knn ? 'knn_search' : `${method} ${endpoint || '/'}`);
  e.collection = index.slice(0, 256);
  const k =
    nonNeg((knn as { k?: unknown } | undefined)?.k) ??
    nonNeg(body?.size) ??
    nonNeg(Number(params.get('size') ?? Number.NaN));
  if (operation === 'search' && k !== undefined) e.top_k = k;
  httpOutcome(e, ev);
}

/** DynamoDB: the API target names the operation, the body the table. */
const DYNAMO_OPS: Readonly<Record<string, Operation>> = {
  Query: 'search',
  Scan: 'scroll',
  GetItem: 'fetch',
  BatchGetItem: 'fetch',
  TransactGetItems: 'fetch',
  PutItem: 'upsert',
  UpdateItem: 'upsert',
  BatchWriteItem: 'upsert',
  TransactWriteItems: 'upsert',
  DeleteItem: 'delete',
  CreateTable: 'create_collection',
  DeleteTable: 'drop_collection',
  ExecuteStatement: 'other',
};

function dynamoRequest(e: AccessEvent, ev: TeleportEvent) {
  const action = (ev.target ?? '').split('.').pop() ?? '';
  const operation = Object.hasOwn(DYNAMO_OPS, action) ? DYNAMO_OPS[action]! : action ? 'admin' : 'other';
  applyOp(e, undefined, operation, action || 'dynamodb');
  e.system = 'dynamodb';
  const table = bodyJson(ev.body)?.TableName;
  e.collection = typeof table === 'string' ? table.slice(0, 256) : '';
  httpOutcome(e, ev);
}

/** A failure code (…E: the request did not round-trip) outranks the status; else the status. */
function httpOutcome(e: AccessEvent, ev: TeleportEvent) {
  const status = ev.status_code ?? 0;
  e.status_code = status;
  if (e.outcome !== 'allowed') return;
  if (status > 0) {
    e.outcome = outcomeFromStatus(status);
    if (status >= 400) e.error_type = `http_${status}`;
  }
}

function appEvent(ev: TeleportEvent, time: number, ctx: TeleportNormalizeContext): TeleportResult {
  const hint = systemHint(
    ev.app_name ?? undefined,
    ev.app_public_addr ?? ev.public_addr ?? undefined,
    ev.app_uri ?? undefined,
  );
  const isRequest =
    ev.event === 'app.session.request' ||
    ev.event === 'app.session.dynamodb.request' ||
    ev.event === 'http.request';
  if (!isRequest) {
    const keys = [ev.sid, ev.session_chunk_id].filter((k): k is string => Boolean(k));
    const e = base(ev, time, ctx);
    const appSession =
      ev.user && keys.length
        ? {
            keys,
            session: { actor: e.actor, actor_type: e.actor_type, src_ip: e.src_ip, src_net: e.src_net },
          }
        : undefined;
    // Opening (or ending) a session to a vector-store app is an access decision; chunks only carry identity.
    if ((ev.event === 'app.session.start' || ev.event === 'app.session.end') && hint && ev.user) {
      e.system = hint;
      applyOp(e, undefined, ev.event === 'app.session.start' ? 'auth' : 'other', ev.event);
      if (ev.success === false && e.outcome === 'allowed') {
        e.outcome = 'denied';
        e.error_type = 'access_denied';
      }
      setAttr(e, 'teleport.app', ev.app_name);
      return { kind: 'event', event: e, appSession };
    }
    return { kind: 'ignored', type: ev.event, appSession };
  }
  if (ev.event === 'app.session.dynamodb.request') {
    const e = base(ev, time, ctx);
    attribute(e, ev, ctx);
    dynamoRequest(e, ev);
    setAttr(e, 'teleport.app', ev.app_name);
    return { kind: 'event', event: e };
  }
  const method = (ev.method ?? 'GET').toUpperCase();
  const path = ev.path ?? '/';
  const op = parseVectorHttp({ method, path, query: ev.raw_query ?? '', body: ev.body, hint });
  if (!op && !hint) return { kind: 'ignored', type: `${ev.event} (not a vector store)` };
  const e = base(ev, time, ctx);
  attribute(e, ev, ctx);
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

/**
 * Who made an application request. Upstream's request events name no user and no session
 * (lib/srv/app/common/audit.go OnRequest); the session is known only from the recording they
 * arrive in (`ctx.streamSession`: the chunk id), tied to its user by `app.session.chunk`. Without
 * it the actor is one unattributed (unknown) actor per application, never a person's baseline.
 */
function attribute(e: AccessEvent, ev: TeleportEvent, ctx: TeleportNormalizeContext) {
  if (ev.user) return;
  const keys = [ctx.streamSession, ev.session_chunk_id, ev.sid].filter((k): k is string => Boolean(k));
  const known = keys.map((k) => ctx.appSession?.(k)).find(Boolean);
  if (keys[0]) e.session = ctx.tokenizer.token('session', ctx.tenant, keys[0]);
  if (known) {
    Object.assign(e, known);
    return;
  }
  e.actor_type = 'unknown';
  e.actor = ctx.tokenizer.token(
    'actor',
    ctx.tenant,
    `teleport-app-unattributed:${ev.app_name ?? ''}`,
    'unknown',
  );
  e.attributes['teleport.actor'] = keys[0] ? 'session_unknown' : 'unattributed';
}
