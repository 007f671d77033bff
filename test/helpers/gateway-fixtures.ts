// Factories for gateway payloads, shaped and named as the products publish them: hoop.dev webhook
// events (session.open / session.close schemas of its webhooks plugin) and sessions of its API;
// Teleport audit events (database access reference, application access `app.session.*`).
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export interface HoopSessionOpen {
  event_type: 'session.open';
  id: string;
  user_id?: string;
  user_email?: string;
  connection: string;
  connection_type: string;
  connection_envs: string[] | null;
  input: string;
  is_input_truncated: boolean;
  input_size: number;
  input_envs?: string[];
  has_input_args?: boolean;
  command: string[];
  verb: string;
  review: { type: string; status: string; owner_email: string } | null;
}

/**
 * A hoop.dev `session.open` webhook; `script` is the session input before base64.
 * Shape: hoophq/hoop@e939597dc425d78dbd146d98fad21b7171ccaaf5
 * gateway/transport/plugins/webhooks/webhooks.go `svixSessionOpenPayload` and
 * session.open.schema.json (its example). `connection_type` is only database / application /
 * custom (plugins/types/types.go); `command` is the connection's command plus client args — here
 * the postgres command of client/cmd/run.go; `connection_envs` are the secret keys that run.go sets.
 */
export function makeHoopSessionOpen(
  over: Partial<HoopSessionOpen> & { script?: string } = {},
): HoopSessionOpen {
  const { script = "SELECT id FROM docs ORDER BY embedding <-> '[0.1,0.2,0.3]' LIMIT 5", ...rest } = over;
  return {
    event_type: 'session.open',
    id: randomUUID(),
    user_id: 'google-oauth2|224363319008942157048',
    user_email: 'alice@example.com',
    connection: 'pg-rag',
    connection_type: 'database',
    connection_envs: ['envvar:HOST', 'envvar:USER', 'envvar:PASS', 'envvar:PORT', 'envvar:DB'],
    input: b64(script),
    is_input_truncated: false,
    input_size: Buffer.byteLength(script),
    input_envs: [],
    has_input_args: false,
    command: [
      'psql',
      '-v',
      'ON_ERROR_STOP=1',
      '-A',
      '-F\t',
      '-P',
      'pager=off',
      '-h',
      '$HOST',
      '-U',
      '$USER',
      '--port=$PORT',
      '$DB',
    ],
    verb: 'exec',
    review: null,
    ...rest,
  };
}

/** Upstream: webhooks.go `processSessionCloseEvent` (exit_code -100 when unknown, exit_err null when empty). */
export interface HoopSessionClose {
  event_type: 'session.close';
  id: string;
  exit_code: number;
  exit_err: string | null;
}

export function makeHoopSessionClose(over: Partial<HoopSessionClose> = {}): HoopSessionClose {
  return { event_type: 'session.close', id: randomUUID(), exit_code: 0, exit_err: null, ...over };
}

/**
 * A session as `GET /api/sessions/{id}` answers it (openapi.Session, gateway/api/openapi/types.go
 * at hoophq/hoop@e939597; the list blanks `script` — parser.go toOpenApiSessionList — and its query
 * does not load `ai_analysis`: see hoopListItem).
 */
export function makeHoopApiSession(over: Record<string, unknown> = {}): Record<string, unknown> {
  const start = (over.start_date as string | undefined) ?? new Date(Date.now() - 60_000).toISOString();
  return {
    id: randomUUID(),
    org_id: '0CD7F941-2BB8-4F9F-93B0-11620D4652AB',
    script: { data: "SELECT id FROM docs ORDER BY embedding <=> '[0.3,0.1]' LIMIT 20" },
    script_size: 64,
    labels: {},
    metadata: {},
    metrics: { data_masking: { total_redact_count: 0, info_types: {} } },
    user: 'bob@example.com',
    user_id: 'nJ1xV3ASWGTi7L8Y6zvnKqxNlnZM2TxV1bRdc0706vZ',
    user_name: 'Bob Example',
    identity_type: 'user',
    type: 'database',
    connection_subtype: 'postgres',
    connection: 'pg-rag',
    connection_tags: { environment: 'prod' },
    review: null,
    verb: 'exec',
    status: 'done',
    exit_code: 0,
    guardrails_info: [],
    ai_analysis: null,
    event_size: 569,
    start_date: start,
    end_date: new Date(Date.parse(start) + 250).toISOString(),
    ...over,
  };
}

/** The same session as the list shows it: `script` null (toOpenApiSession with hasInputExpanded false), no AI analysis. */
export function hoopListItem(session: Record<string, unknown>): Record<string, unknown> {
  return { ...session, script: null, ai_analysis: null };
}

/**
 * The Microsoft Teams card Svix delivers to the same endpoint (microsoftteams.review.create.json,
 * webhooks.go processReviewCreateEvent): no `event_type`.
 */
export function makeHoopTeamsReviewCard(): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', body: [] } },
    ],
  };
}

/** `dbroles.job.finished` (gateway/api/integrations/aws/provisioner.go): {event_type, event_payload}. */
export function makeHoopDbRolesJobFinished(): Record<string, unknown> {
  return { event_type: 'dbroles.job.finished', event_payload: { id: randomUUID(), status: 'completed' } };
}

/** Svix / Standard Webhooks headers for a body, as hoop.dev's Svix delivery sends them. */
export function signHoopWebhook(
  secret: string,
  body: string,
  opts: { id?: string; timestamp?: Date; prefix?: 'svix' | 'webhook' } = {},
): Record<string, string> {
  const id = opts.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const at = opts.timestamp ?? new Date();
  const prefix = opts.prefix ?? 'svix';
  return {
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
    [`${prefix}-signature`]: new Webhook(secret).sign(id, at, body),
  };
}

type TeleportFields = Record<string, unknown>;

function teleportDb(event: string, code: string, over: TeleportFields): TeleportFields {
  return {
    cluster_name: 'teleport.example.com',
    code,
    db_name: 'rag',
    db_origin: 'dynamic',
    db_protocol: 'postgres',
    db_roles: ['access'],
    db_service: 'pg-rag',
    db_type: 'rds',
    db_uri: 'databases-1.us-east-1.rds.amazonaws.com:5432',
    db_user: 'alice',
    ei: 2,
    event,
    sid: '307b49d6-56c7-4d20-8cf0-5bc5348a7101',
    success: true,
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'alice@example.com',
    user_kind: 1,
    user_roles: ['access'],
    login: 'alice',
    ...over,
  };
}

/** `db.session.query` (TDB02I). */
export function makeTeleportQuery(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.query', 'TDB02I', {
    db_query: "SELECT id, title FROM docs ORDER BY embedding <-> '[0.1,0.2,0.3]' LIMIT 10",
    db_query_parameters: [],
    ...over,
  });
}

/** `db.session.start`: TDB00I, or TDB00W with `denied: true`. */
export function makeTeleportStart(over: TeleportFields & { denied?: boolean } = {}): TeleportFields {
  const { denied, ...rest } = over;
  return teleportDb('db.session.start', denied ? 'TDB00W' : 'TDB00I', {
    'addr.remote': '203.0.113.7:51234',
    user_agent: 'psql/16.2',
    private_key_policy: 'none',
    ...(denied
      ? {
          success: false,
          error: 'access to db denied. User does not have permissions.',
          message: 'access denied',
        }
      : {}),
    ...rest,
  });
}

export function makeTeleportQueryFailed(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.query.failed', 'TDB02W', {
    db_query: 'DELETE FROM docs WHERE id = 7',
    success: false,
    error: 'ERROR: permission denied for table docs (SQLSTATE 42501)',
    ...over,
  });
}

export function makeTeleportResult(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.result', 'TDB10I', { affected_records: 10, ...over });
}

export function makeTeleportEnd(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.end', 'TDB01I', over);
}

/** `app.session.request` (T2009I) through application access to an HTTP vector store. */
export function makeTeleportAppRequest(over: TeleportFields = {}): TeleportFields {
  return {
    app_name: 'qdrant',
    app_public_addr: 'qdrant.teleport.example.com',
    app_uri: 'http://qdrant.internal:6333',
    cluster_name: 'teleport.example.com',
    code: 'T2009I',
    ei: 1,
    event: 'app.session.request',
    method: 'POST',
    path: '/collections/docs/points/search',
    raw_query: '',
    session_chunk_id: '3a54f32d-210f-4338-abf5-133bfe19ccc0',
    status_code: 200,
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'carol@example.com',
    ...over,
  };
}
