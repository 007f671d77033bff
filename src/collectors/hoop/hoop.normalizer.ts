// hoop.dev session events (webhooks) and sessions (API) → canonical AccessEvents, tokenized. Pure
// apart from the tokenizer cache. The session's script is read for the operation and collection,
// hashed into query_hash, and never kept.
import { type AccessEvent, type ActorType, deterministicId } from '../../model/index.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import { blankEvent, parseEventTime } from '../normalize.js';
import { describeZodError, type NormalizeResult } from '../reasons.js';
import { parseClientScript, parseHttpScript, parseSql, systemHint, type VectorOp } from '../vector-query.js';
import {
  type HoopApiSession,
  hoopApiSessionSchema,
  type HoopSessionClose,
  hoopSessionCloseSchema,
  type HoopSessionOpen,
  hoopSessionOpenSchema,
} from './hoop.schema.js';

/** What a `session.open` told about its session, so the matching `session.close` can say who it was. */
export interface HoopOpenedSession {
  readonly actor: string;
  readonly actor_type: ActorType;
  readonly system: string;
  readonly collection: string;
  readonly namespace: string;
  readonly connection: string;
}

export interface HoopNormalizeContext {
  readonly tokenizer: Tokenizer;
  readonly tenant: string;
  readonly now: number;
  /** Event time of a webhook (it carries none): the delivery's signed timestamp; else `now`. */
  readonly time?: number;
  /** The `session.open` seen earlier for a session id, when the caller remembers it. */
  readonly openedSession?: (id: string) => HoopOpenedSession | undefined;
}

/** `value` undefined: an event type vigil does not map (acknowledged and ignored, never an error). */
export type HoopWebhookResult = NormalizeResult<AccessEvent | undefined>;

const SQL_TYPES = new Set(['postgres', 'mysql', 'mssql', 'oracledb', 'database']);
/** Review states in which the session did not (or may no longer) run. */
const REVIEW_DENIED = new Set(['REJECTED', 'REVOKED']);
/** hoop.dev's "exit status unknown" codes (-100 in webhooks, -2 from the gateway). */
const UNKNOWN_EXIT = new Set([-100, -2]);

function dbType(value: string | null | undefined): string | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'postgresql' || v === 'pg') return 'postgres';
  return v || undefined;
}

export interface ScriptAnalysis {
  readonly system: string;
  readonly op?: VectorOp;
}

/**
 * The system and operation of a session from its connection and script. SQL is tried first on
 * database connections; HTTP requests (curl, request lines) and vector-store client calls after;
 * SQL last on other connections, and there only when it finds a data operation.
 */
export function analyzeHoopScript(
  script: string,
  conn: { connection?: string | null; type?: string | null; subtype?: string | null },
): ScriptAnalysis {
  const hint = systemHint(conn.connection ?? undefined, conn.subtype ?? undefined, conn.type ?? undefined);
  const kind = dbType(conn.subtype) ?? dbType(conn.type);
  const sqlFirst = (kind !== undefined && SQL_TYPES.has(kind)) || hint === 'pgvector';
  let op: VectorOp | undefined;
  if (script.trim() !== '') {
    if (sqlFirst) op = parseSql(script);
    op ??= parseHttpScript(script, hint) ?? parseClientScript(script, hint);
    if (!op && !sqlFirst) {
      const sql = parseSql(script);
      if (sql && sql.operation !== 'other') op = sql;
    }
  }
  const system = op?.system ?? hint ?? kind ?? 'unknown';
  return { system: system.slice(0, 64), op };
}

function decodeInput(input: string | null | undefined): string {
  if (!input) return '';
  return Buffer.from(input.replace(/\s+/g, ''), 'base64').toString('utf8');
}

/** The principal of a session: hoop.dev identifies users by email, falling back on the subject id. */
function principal(email: string | null | undefined, id: string | null | undefined): string {
  return (email || id || '').trim();
}

function applyOp(
  e: AccessEvent,
  op: VectorOp | undefined,
  fallbackRaw: string,
  fallback: AccessEvent['operation'],
) {
  e.operation = op?.operation ?? fallback;
  e.operation_raw = (op?.operation_raw ?? fallbackRaw).slice(0, 128);
  e.collection = op?.collection ?? '';
  e.namespace = op?.namespace ?? '';
  e.top_k = op?.top_k ?? 0;
}

function setAttr(e: AccessEvent, key: string, value: string | number | boolean | null | undefined) {
  if (value === undefined || value === null || value === '') return;
  e.attributes[key] = String(value).slice(0, 256);
}

/** A hoop.dev webhook body (`session.open` or `session.close`). */
export function normalizeHoopWebhook(raw: unknown, ctx: HoopNormalizeContext): HoopWebhookResult {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, reason: 'event: expected object' };
  const type = (raw as { event_type?: unknown }).event_type;
  if (type === undefined) return { ok: false, reason: 'event_type: is required' };
  if (type === 'session.open') {
    const parsed = hoopSessionOpenSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error) };
    return { ok: true, value: sessionOpen(parsed.data, ctx) };
  }
  if (type === 'session.close') {
    const parsed = hoopSessionCloseSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error) };
    return { ok: true, value: sessionClose(parsed.data, ctx) };
  }
  if (typeof type !== 'string') return { ok: false, reason: 'event_type: expected string' };
  return { ok: true, value: undefined };
}

function webhookEvent(ctx: HoopNormalizeContext, id: string, eventType: string): AccessEvent {
  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('hoop', id, eventType);
  e.time = ctx.time ?? ctx.now;
  e.tenant = ctx.tenant;
  e.source = 'hoop';
  e.session = ctx.tokenizer.token('session', ctx.tenant, id);
  e.attributes['hoop.event'] = eventType;
  return e;
}

function sessionOpen(o: HoopSessionOpen, ctx: HoopNormalizeContext): AccessEvent {
  const e = webhookEvent(ctx, o.id, o.event_type);
  e.actor_type = 'user';
  e.actor = ctx.tokenizer.token('actor', ctx.tenant, principal(o.user_email, o.user_id), 'user');
  const script = decodeInput(o.input);
  const { system, op } = analyzeHoopScript(script, { connection: o.connection, type: o.connection_type });
  e.system = system;
  // An interactive session (`connect`, no script) is an access decision: the session was opened.
  applyOp(e, op, `session.open:${o.verb ?? ''}`, script ? 'other' : 'auth');
  setQueryFields(e, script, ctx.tokenizer.queryText);
  if (o.review) {
    e.review = true;
    if (REVIEW_DENIED.has((o.review.status ?? '').toUpperCase())) {
      e.outcome = 'denied';
      e.error_type = 'review_rejected';
    }
  }
  setAttr(e, 'hoop.connection', o.connection);
  setAttr(e, 'hoop.connection_type', o.connection_type);
  setAttr(e, 'hoop.verb', o.verb);
  setAttr(e, 'hoop.review_status', o.review?.status);
  setAttr(e, 'hoop.review_type', o.review?.type);
  if (o.is_input_truncated) e.attributes['hoop.input_truncated'] = 'true';
  return e;
}

function sessionClose(c: HoopSessionClose, ctx: HoopNormalizeContext): AccessEvent {
  const e = webhookEvent(ctx, c.id, c.event_type);
  const opened = ctx.openedSession?.(c.id);
  if (opened) {
    e.actor = opened.actor;
    e.actor_type = opened.actor_type;
    e.system = opened.system;
    e.collection = opened.collection;
    e.namespace = opened.namespace;
  } else {
    // session.close names no user: without its session.open (another collector instance, a
    // restart) the actor is the session itself, typed unknown so it never joins a person's baseline.
    e.actor_type = 'unknown';
    e.actor = ctx.tokenizer.token('actor', ctx.tenant, `hoop-session:${c.id}`, 'unknown');
    e.system = (dbType(c.connection_type) ?? systemHint(c.connection ?? undefined) ?? 'unknown').slice(0, 64);
  }
  e.operation = 'other';
  e.operation_raw = 'session.close';
  const code = c.exit_code;
  if (code !== null && code !== undefined && code !== 0 && !UNKNOWN_EXIT.has(code)) {
    e.outcome = 'error';
    e.error_type = `exit_code_${code}`;
  }
  setAttr(e, 'hoop.connection', c.connection ?? opened?.connection);
  setAttr(e, 'hoop.exit_code', code);
  return e;
}

/** What the server remembers of a `session.open` for its `session.close`. */
export function openedSessionOf(e: AccessEvent): HoopOpenedSession {
  return {
    actor: e.actor,
    actor_type: e.actor_type,
    system: e.system,
    collection: e.collection,
    namespace: e.namespace,
    connection: e.attributes['hoop.connection'] ?? '',
  };
}

export interface HoopApiNormalizeContext {
  readonly tokenizer: Tokenizer;
  readonly tenant: string;
  readonly now: number;
}

/**
 * A session of hoop.dev's sessions API: carries what webhooks do not — review decisions,
 * guardrail blocks, data masking, AI risk analysis, the identity type. One event per session,
 * with an id of its own ('hoop-api', session id): polling the same session again replaces it.
 */
export function normalizeHoopApiSession(
  raw: unknown,
  ctx: HoopApiNormalizeContext,
): NormalizeResult<AccessEvent> {
  const parsed = hoopApiSessionSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: describeZodError(parsed.error) };
  const s: HoopApiSession = parsed.data;
  const time = parseEventTime(s.start_date, ctx.now);
  if (time === undefined)
    return { ok: false, reason: 'start_date: not an ISO-8601 time within 2000 … now+24h' };
  const who = principal(s.user, s.user_id);
  if (!who) return { ok: false, reason: 'user: one of user or user_id is required' };
  const { tokenizer, tenant } = ctx;
  const e = blankEvent(ctx.now);
  e.event_id = deterministicId('hoop-api', s.id);
  e.time = time;
  e.tenant = tenant;
  e.source = 'hoop';
  e.actor_type = s.identity_type?.toLowerCase() === 'machine' ? 'service' : 'user';
  e.actor = tokenizer.token('actor', tenant, who, e.actor_type);
  e.session = tokenizer.token('session', tenant, s.id);
  const script = typeof s.script === 'string' ? s.script : (s.script?.data ?? '');
  const { system, op } = analyzeHoopScript(script, {
    connection: s.connection,
    type: s.type,
    subtype: s.connection_subtype,
  });
  e.system = system;
  applyOp(e, op, `session:${s.verb ?? ''}`, script ? 'other' : 'auth');
  setQueryFields(e, script, ctx.tokenizer.queryText);
  const end = s.end_date ? parseEventTime(s.end_date, ctx.now) : undefined;
  if (end !== undefined && end >= time) e.latency_ms = end - time;

  const code = s.exit_code;
  if (code !== null && code !== undefined && code !== 0 && !UNKNOWN_EXIT.has(code)) {
    e.outcome = 'error';
    e.error_type = `exit_code_${code}`;
  }
  if (s.review) {
    e.review = true;
    if (REVIEW_DENIED.has((s.review.status ?? '').toUpperCase())) {
      e.outcome = 'denied';
      e.error_type = 'review_rejected';
    }
  }
  const guardrails = s.guardrails_info ?? [];
  if (guardrails.length > 0) {
    // A guardrail match stops the session: the decision outranks whatever exit code followed.
    e.blocked = true;
    e.outcome = 'denied';
    e.error_type = 'guardrail';
    const rules = [...new Set(guardrails.map((g) => g.rule_name ?? '').filter(Boolean))];
    setAttr(e, 'hoop.guardrail_rules', rules.join(','));
  }
  const redacted = s.metrics?.data_masking?.total_redact_count ?? 0;
  if (redacted > 0) {
    e.masked = true;
    setAttr(e, 'hoop.redact_count', redacted);
  }
  setAttr(e, 'hoop.ai_risk', s.ai_analysis?.risk_level);
  setAttr(e, 'hoop.ai_action', s.ai_analysis?.action);
  setAttr(e, 'hoop.connection', s.connection);
  setAttr(e, 'hoop.connection_type', s.type);
  setAttr(e, 'hoop.verb', s.verb);
  setAttr(e, 'hoop.status', s.status);
  setAttr(e, 'hoop.review_status', s.review?.status);
  setAttr(e, 'hoop.review_type', s.review?.type);
  setAttr(e, 'hoop.exit_code', code);
  return { ok: true, value: e };
}
