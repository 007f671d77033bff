// hoop.dev session events (webhooks) and sessions (API) → canonical AccessEvents, tokenized. Pure
// apart from the tokenizer cache. The session's script is read for the operation and collection,
// hashed into query_hash, and never kept.
import { type AccessEvent, type ActorType, deterministicId } from '../../model/index.js';
import { setQueryFields, type Tokenizer } from '../../privacy/index.js';
import { blankEvent, expiredTimeReason, parseEventTime, type RetentionBound } from '../normalize.js';
import { describeZodError, type NormalizeResult } from '../reasons.js';
import {
  parseClientScript,
  parseHttpScript,
  parseSql,
  systemHint,
  type VectorOp,
} from '../vector-query/index.js';
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

/** Review states in which the session did not (or may no longer) run. */
const REVIEW_DENIED = new Set(['REJECTED', 'REVOKED']);
/** The review waits for approval: nothing has run (the interceptor holds the packet). */
const REVIEW_PENDING = 'PENDING';
/** hoop.dev's "exit status unknown" codes (-100 in webhooks, -2 from the gateway). */
const UNKNOWN_EXIT = new Set([-100, -2]);

/**
 * hoop.dev's database subtypes (common/proto/const.go, ToConnectionType). Webhooks send only the
 * connection type (`database` / `application` / `custom`); the sessions API sends the subtype too.
 */
const DATABASE_SUBTYPES = new Set(['postgres', 'mysql', 'mssql', 'oracledb', 'mongodb']);
const SQL_SYSTEMS = new Set(['postgres', 'mysql', 'mssql', 'oracledb']);
/** The vendor clients hoop.dev runs for its database subtypes (client/cmd/run.go, agent controller). */
const CLIENT_SYSTEMS: Readonly<Record<string, string>> = {
  psql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlcmd: 'mssql',
  sqlplus: 'oracledb',
  mongo: 'mongodb',
  mongosh: 'mongodb',
};

/** What hoop.dev tells about a session's connection; which fields depends on the source. */
export interface HoopConnection {
  readonly connection?: string | null;
  /** `database`, `application` or `custom` (older gateways stored the subtype here). */
  readonly type?: string | null;
  /** `postgres`, `mysql`, … — sessions API only. */
  readonly subtype?: string | null;
  /** The command run in the agent — webhooks only. */
  readonly command?: readonly string[] | string | null;
  /** Keys of the connection's secrets (`envvar:HOST`) — webhooks only. */
  readonly envs?: readonly string[] | null;
}

/** Where the system name came from; `unknown` when nothing hoop.dev sent names it. */
export type HoopSystemBasis =
  | 'script'
  | 'subtype'
  | 'command'
  | 'connection_name'
  | 'connection_envs'
  | 'unknown';

function dbKind(value: string | null | undefined): string | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'postgresql' || v === 'pg') return 'postgres';
  return DATABASE_SUBTYPES.has(v) ? v : undefined;
}

function commandWords(command: HoopConnection['command']): string[] {
  if (!command) return [];
  const words = typeof command === 'string' ? command.trim().split(/\s+/) : [...command];
  return words.slice(0, 64).map((w) => w.slice(0, 512));
}

/** The database the command's client speaks to (`/usr/bin/psql` → postgres), from its first word. */
function commandClient(words: readonly string[]): string | undefined {
  const client = (words[0] ?? '').split('/').pop()?.toLowerCase() ?? '';
  return Object.hasOwn(CLIENT_SYSTEMS, client) ? CLIENT_SYSTEMS[client] : undefined;
}

export interface ScriptAnalysis {
  readonly system: string;
  readonly basis: HoopSystemBasis;
  readonly op?: VectorOp;
}

/**
 * The system and operation of a session from its connection and script. The system comes from,
 * in order: the script itself (pgvector operators, a vector store's HTTP API or client), a vector
 * store named by the connection name, its secret keys or its command, the database subtype, the
 * command's client (`psql`, `mysql`, …). A webhook from a `database` connection whose command is
 * empty (hoop.dev's in-process drivers) names no database: the system is `unknown`, not a guess.
 * SQL is tried first on database connections; HTTP requests and client calls after; SQL last on
 * other connections, and there only when it finds a data operation.
 */
export function analyzeHoopScript(script: string, conn: HoopConnection): ScriptAnalysis {
  const words = commandWords(conn.command);
  const envs = (conn.envs ?? []).slice(0, 256);
  const hints: Array<[HoopSystemBasis, string | undefined]> = [
    ['connection_name', systemHint(conn.connection ?? undefined)],
    ['connection_envs', systemHint(...envs)],
    ['command', systemHint(...words)],
  ];
  const [hintBasis, hint] = hints.find(([, h]) => h !== undefined) ?? ['unknown', undefined];
  const subtype = dbKind(conn.subtype) ?? dbKind(conn.type);
  const client = subtype ? undefined : commandClient(words);
  const kind = subtype ?? client;
  const isDatabase = (conn.type ?? '').trim().toLowerCase() === 'database';
  const sqlFirst =
    (kind !== undefined && SQL_SYSTEMS.has(kind)) ||
    (isDatabase && kind === undefined) ||
    hint === 'pgvector';
  let op: VectorOp | undefined;
  if (script.trim() !== '') {
    if (sqlFirst) op = parseSql(script);
    op ??= parseHttpScript(script, hint) ?? parseClientScript(script, hint);
    if (!op && !sqlFirst) {
      const sql = parseSql(script);
      if (sql && sql.operation !== 'other') op = sql;
    }
  }
  if (op?.system) return { system: op.system.slice(0, 64), basis: 'script', op };
  if (hint) return { system: hint, basis: hintBasis, op };
  if (kind) return { system: kind, basis: subtype ? 'subtype' : 'command', op };
  return { system: 'unknown', basis: 'unknown', op };
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
  e.top_k = op?.top_k ?? null;
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
  // Svix delivers every event type of the hoop.dev application to the endpoint: some carry no
  // event_type (`microsoftteams.review.create` is a Teams card), others are not session events
  // (`dbroles.job.finished`). Acknowledged and ignored, so Svix does not retry them.
  if (type === undefined) return { ok: true, value: undefined };
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
  const { system, basis, op } = analyzeHoopScript(script, {
    connection: o.connection,
    type: o.connection_type,
    command: o.command,
    envs: o.connection_envs,
  });
  e.system = system;
  e.attributes['hoop.system_basis'] = basis;
  // An interactive session (`connect`, no script) is an access decision: the session was opened.
  applyOp(e, op, `session.open:${o.verb ?? ''}`, script ? 'other' : 'auth');
  setQueryFields(e, script, ctx.tokenizer.queryText);
  if (o.review) {
    e.review = true;
    const status = (o.review.status ?? '').toUpperCase();
    if (status === REVIEW_PENDING) {
      // The review interceptor holds the packet while plugins run: nothing has run, and a
      // rejection later sends no webhook. The sessions API (poller) says what became of it.
      e.outcome = 'pending';
    } else if (REVIEW_DENIED.has(status)) {
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
    // Upstream's session.close is {event_type, id, exit_code, exit_err}: no connection to name a system.
    e.system = analyzeHoopScript('', { connection: c.connection, type: c.connection_type }).system;
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

export interface HoopApiNormalizeContext extends RetentionBound {
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
  const expired = expiredTimeReason('start_date', time, ctx.now, ctx);
  if (expired) return { ok: false, reason: expired };
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
  const { system, basis, op } = analyzeHoopScript(script, {
    connection: s.connection,
    type: s.type,
    subtype: s.connection_subtype,
  });
  e.system = system;
  e.attributes['hoop.system_basis'] = basis;
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
    const status = (s.review.status ?? '').toUpperCase();
    if (status === REVIEW_PENDING) {
      // Waiting for approval: nothing ran. Polled again until the review is decided.
      e.outcome = 'pending';
      e.error_type = '';
    } else if (REVIEW_DENIED.has(status)) {
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
