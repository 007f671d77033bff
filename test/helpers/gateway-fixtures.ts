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

// Teleport events as the audit log and the event handler carry them. Field sets follow upstream's
// sample of every event type, web/packages/teleport/src/Audit/fixtures/index.ts at
// gravitational/teleport@00d0ff93cf0d54c2fcf17994cfe59ff571f6e6dc (codes: lib/events/codes.go at
// @43a7dc2d9600d1dfd6faec392e2ea08289bc591a); identities and times are the test's own.
const TELEPORT_FIXTURES = 'gravitational/teleport@00d0ff93 web/packages/teleport/src/Audit/fixtures/index.ts';
void TELEPORT_FIXTURES;

function teleportDb(event: string, code: string, over: TeleportFields): TeleportFields {
  // Fields of the db.session.start TDB00I sample (no addr.remote, no user_agent: lib/srv/db/common/audit.go).
  return {
    cluster_name: 'teleport.example.com',
    code,
    db_name: 'rag',
    db_protocol: 'postgres',
    db_service: 'pg-rag',
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
    ...over,
  };
}

/** `db.session.query` (TDB02I; sample: the mongodb query, here with SQL). */
export function makeTeleportQuery(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.query', 'TDB02I', {
    db_query: "SELECT id, title FROM docs ORDER BY embedding <-> '[0.1,0.2,0.3]' LIMIT 10",
    ...over,
  });
}

/** `db.session.start`: TDB00I, or TDB00W with `denied: true` (the error text of the TSPN001W sample). */
export function makeTeleportStart(over: TeleportFields & { denied?: boolean } = {}): TeleportFields {
  const { denied, ...rest } = over;
  return teleportDb('db.session.start', denied ? 'TDB00W' : 'TDB00I', {
    namespace: 'default',
    server_id: '05ff66c9-a948-42f4-af0e-a1b6ba62561e',
    ...(denied
      ? {
          success: false,
          error: 'access to db denied. User does not have permissions. Confirm database user and name.',
          message: 'access to db denied. User does not have permissions. Confirm database user and name.',
        }
      : {}),
    ...rest,
  });
}

/** `db.session.query.failed` TDB02W (sample: error "access to database denied"). */
export function makeTeleportQueryFailed(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.query.failed', 'TDB02W', {
    db_query: 'DELETE FROM docs WHERE id = 7',
    success: false,
    error: 'access to database denied',
    message: 'access to database denied',
    ...over,
  });
}

/** `db.session.result` TDB10I: session-recording stream only. */
export function makeTeleportResult(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.result', 'TDB10I', { affected_records: 10, ...over });
}

/** `db.session.end` TDB01I; `session_start` / `session_stop` of events.proto DatabaseSessionEnd. */
export function makeTeleportEnd(over: TeleportFields = {}): TeleportFields {
  const stop = Date.now();
  return teleportDb('db.session.end', 'TDB01I', {
    session_start: new Date(stop - 90_000).toISOString(),
    session_stop: new Date(stop).toISOString(),
    ...over,
  });
}

/** Postgres extended protocol (TPG00I parse with `query`, TPG01I bind, TPG02I execute). */
export function makeTeleportPgParse(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.postgres.statements.parse', 'TPG00I', {
    query: 'SELECT id FROM docs ORDER BY embedding <=> $1::vector LIMIT 8',
    statement_name: '',
    ...over,
  });
}
export function makeTeleportPgBind(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.postgres.statements.bind', 'TPG01I', {
    parameters: ['[0.1,0.2]'],
    portal_name: '',
    statement_name: '',
    ...over,
  });
}
export function makeTeleportPgExecute(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.postgres.statements.execute', 'TPG02I', { portal_name: '', ...over });
}

/** `db.session.mysql.statements.prepare` TMY00I (sample has no uid and no sid). */
export function makeTeleportMysqlPrepare(over: TeleportFields = {}): TeleportFields {
  const {
    uid: _u,
    sid: _s,
    ...rest
  } = teleportDb('db.session.mysql.statements.prepare', 'TMY00I', {
    db_protocol: 'mysql',
    db_service: 'self-hosted-mysql',
    db_uri: 'localhost:3306',
    query: "UPDATE `test`.`user` SET `age` = '7' WHERE (`name` = 'alice')",
  });
  return { ...rest, ...over };
}

/** `db.session.elasticsearch.request` TES00I: body base64 of the JSON request, category 2 = search. */
export function makeTeleportEsRequest(over: TeleportFields = {}): TeleportFields {
  const body = { knn: { field: 'embedding', query_vector: [0.1, 0.2], k: 12, num_candidates: 100 } };
  return teleportDb('db.session.elasticsearch.request', 'TES00I', {
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    category: 2,
    db_name: undefined,
    db_protocol: 'elasticsearch',
    db_service: 'myelastic',
    db_uri: 'localhost:9201',
    db_user: 'elasticuser',
    headers: { 'Content-Type': ['application/json'] },
    method: 'POST',
    path: '/docs/_search',
    query: '',
    raw_query: '',
    status_code: 200,
    target: 'docs',
    ...over,
  });
}

/** `db.session.opensearch.request` TOS00I / TOS00E (status 0: did not round-trip). */
export function makeTeleportOsRequest(over: TeleportFields = {}): TeleportFields {
  return makeTeleportEsRequest({
    event: 'db.session.opensearch.request',
    code: 'TOS00I',
    db_protocol: 'opensearch',
    db_service: 'opensearch-aws',
    ...over,
  });
}

/** `db.session.dynamodb.request` TDY01I (sample: Scan of test-table). */
export function makeTeleportDynamoRequest(over: TeleportFields = {}): TeleportFields {
  return teleportDb('db.session.dynamodb.request', 'TDY01I', {
    db_name: '',
    db_protocol: 'dynamodb',
    db_service: 'ddb1',
    db_user: 'DynamoDBRole',
    uri: 'dynamodb.us-west-2.amazonaws.com',
    body: { TableName: 'test-table' },
    method: 'POST',
    path: '',
    raw_query: '',
    status_code: 200,
    target: 'DynamoDB_20120810.Scan',
    ...over,
  });
}

/** `db.session.user.create` TDB08I / TDB08W, `….user.deactivate` TDB09I, `db.session.permissions.update` TDB07I. */
export function makeTeleportDbAdmin(event: string, code: string, over: TeleportFields = {}): TeleportFields {
  return teleportDb(event, code, { private_key_policy: 'none', roles: null, username: 'alice', ...over });
}

/** `user.login` T1000I / T1000W (sample: error "user(...) not found", method local). */
export function makeTeleportLogin(over: TeleportFields = {}): TeleportFields {
  return {
    code: 'T1000W',
    error: 'user not found',
    event: 'user.login',
    method: 'local',
    success: false,
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'mallory@example.com',
    ...over,
  };
}

/** `auth` T3007W (sample). */
export function makeTeleportAuthFailure(over: TeleportFields = {}): TeleportFields {
  return {
    code: 'T3007W',
    error: 'ssh: principal not in the set of valid principals for given certificate',
    event: 'auth',
    success: false,
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'mallory@example.com',
    ...over,
  };
}

/** `session.rejected` T1006W: events.proto SessionReject (user, server, connection metadata, reason, maximum). */
export function makeTeleportSessionRejected(over: TeleportFields = {}): TeleportFields {
  return {
    code: 'T1006W',
    event: 'session.rejected',
    reason: 'too many concurrent sessions',
    maximum: 2,
    server_id: 'de3800ea-69d9-4d72-a108-97e57f8eb393',
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'alice@example.com',
    ...over,
  };
}

/** `app.session.chunk` T2008I (sample): ties a chunk id to its user and session. */
export function makeTeleportAppChunk(over: TeleportFields = {}): TeleportFields {
  return {
    code: 'T2008I',
    ei: 0,
    event: 'app.session.chunk',
    namespace: 'default',
    server_id: 'a0518380-0d53-4188-ac8b-8ddd8103e45b',
    session_chunk_id: '3a54f32d-210f-4338-abf5-133bfe19ccc0',
    sid: '6593cf87-9839-4f18-abf8-c54873aaeb4e',
    time: new Date().toISOString(),
    uid: randomUUID(),
    user: 'dana@example.com',
    app_name: 'qdrant',
    ...over,
  };
}

/**
 * `app.session.request` (T2009I) to an HTTP vector store: what lib/srv/app/common/audit.go
 * OnRequest sets — app metadata, method, path, raw_query, status_code; no user, sid or chunk id.
 */
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
    status_code: 200,
    time: new Date().toISOString(),
    uid: randomUUID(),
    ...over,
  };
}
