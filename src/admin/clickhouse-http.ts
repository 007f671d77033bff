// A read-only ClickHouse HTTP interface over vigil's embedded store, on the admin port under
// /clickhouse. The embedded engine admits one process per data directory, so Grafana (the
// ClickHouse plugin over HTTP, i.e. clickhouse-go) and @clickhouse/client read it through the vigil
// that holds it. It is the subset those clients use: GET /ping; GET or POST with the SQL in `query`
// and/or the body; `database`, `default_format` or a FORMAT clause, `param_<name>` parameters, a
// few limits in the URL, HTTP compression of the answer, and Native re-framed for
// `client_protocol_version`. With a ClickHouse server (CLICKHOUSE_URL) it is not served: Grafana
// then reads the server as its own read-only user (dashboards/README.md).
//
// Authentication: the password (basic auth, X-ClickHouse-Key or `password`) is an analyst or
// admin token of vigil; the user name is not checked. Admission is by allow-list over the engine's
// own parse (./clickhouse-gate.ts): one SELECT over the dashboards' tables, pure functions, no
// SETTINGS, table functions or INTO OUTFILE. Refusals are 403 with a ClickHouse-style error body,
// so clients surface them as exceptions. Every query of an authenticated caller — answered,
// refused or failed — is recorded in admin_audit (who, a hash of the text, rows or the reason)
// before the answer is sent.
import { createHash, randomUUID } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SourceAuth } from '../collectors/auth.js';
import type { AuthFailures } from '../collectors/auth-failures.js';
import { authenticated, recordRefusal } from '../collectors/http/authenticate.js';
import { decodeBody, HttpError } from '../collectors/http/body.js';
import { boundTenants, errorMessage } from '../model/index.js';
import { type AuditRecord, recordAudit, type StoreClient } from '../store/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import { type AdmitRequest, createReadOnlyGate, type QueryLimits } from './clickhouse-gate.js';
import { NativeTranscodeError, nativeForRevision } from './clickhouse-native.js';
import { isRefusal, type Refusal } from './clickhouse-sql.js';

export const CLICKHOUSE_HTTP_PREFIX = '/clickhouse';

/** The authenticated caller of a query: its role and the digest-based name the audit uses. */
export interface ClickHouseCaller {
  readonly role: string;
  readonly caller: string;
  /**
   * The tenants the caller may read (pipeline `tenancy`): rows of other tenants are filtered out by
   * the engine, tables without a tenant column refused. Undefined: every tenant.
   */
  readonly tenants: readonly string[] | undefined;
}

export interface ClickHouseHttpDeps {
  readonly auth: SourceAuth;
  /** Refused credentials: counted, logged, and throttled per address. */
  readonly authFailures?: AuthFailures;
  readonly store: StoreClient;
  /** The store's database: unqualified table names resolve here. */
  readonly database: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly maxBodyBytes: number;
  /** @defaultValue DEFAULT_QUERY_LIMITS of ./clickhouse-gate.ts */
  readonly limits?: QueryLimits;
  /** Where each query's audit record goes. @defaultValue admin_audit in `store` */
  readonly audit?: (record: AuditRecord) => Promise<void>;
}

/** URL parameters that are not settings. */
const REQUEST_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'client_protocol_version',
  'role',
  'compress',
  'decompress',
]);

/**
 * Settings clients send in the URL that mean nothing to a read here (HTTP-layer ones) or that the
 * interface sets itself (readonly): dropped.
 */
const IGNORED_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'http_response_buffer_size',
  'buffer_size',
  'enable_http_compression',
  'http_zlib_compression_level',
  'cancel_http_readonly_queries_on_client_close',
  'http_write_exception_in_output_format',
  'output_format_parallel_formatting',
  'readonly',
]);

/** URL settings that can only lower a limit of the interface (positive integers). */
const LOWERING_SETTINGS = new Set([
  'max_execution_time',
  'max_result_rows',
  'max_result_bytes',
  'max_memory_usage',
  'limit',
]);

const CONTENT_TYPES: Array<[RegExp, string]> = [
  [/^JSON/i, 'application/json; charset=UTF-8'],
  [/^(TabSeparated|TSV)/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV/i, 'text/csv; charset=UTF-8'],
  [/^Native/i, 'application/octet-stream'],
];

/** HTTP status ClickHouse answers for an exception type (the rest are 500). */
function statusOf(type: string): number {
  if (
    /^(SYNTAX_ERROR|CANNOT_PARSE_|TYPE_MISMATCH|INCORRECT_DATA|BAD_ARGUMENTS|ILLEGAL_|NUMBER_OF_ARGUMENTS)/.test(
      type,
    )
  )
    return 400;
  if (/^UNKNOWN_/.test(type)) return 404;
  if (/^(READONLY|ACCESS_DENIED|AUTHENTICATION_FAILED)$/.test(type)) return 403;
  if (/^(TIMEOUT_EXCEEDED|QUERY_WAS_CANCELLED)$/.test(type)) return 504;
  return 500;
}

function sendException(
  reply: FastifyReply,
  status: number,
  e: { code: number | string; type: string; message: string },
): FastifyReply {
  return reply
    .code(status)
    .header('X-ClickHouse-Exception-Code', String(e.code))
    .type('text/plain; charset=UTF-8')
    .send(`Code: ${e.code}. DB::Exception: ${e.message}. (${e.type})\n`);
}

/** The token a ClickHouse client presents as its password, in any of the ways clients send it. */
function presentedToken(req: FastifyRequest, params: URLSearchParams): string | undefined {
  const header = req.headers['x-clickhouse-key'];
  if (typeof header === 'string' && header) return header;
  const authorization = req.headers.authorization ?? '';
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password || undefined;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  return params.get('password') || undefined;
}

function contentTypeOf(format: string): string {
  return CONTENT_TYPES.find(([re]) => re.test(format))?.[1] ?? 'text/plain; charset=UTF-8';
}

/** gzip / deflate / br of the answer when the client both allows it and asked for it. */
function compressFor(req: FastifyRequest, enabled: boolean): 'gzip' | 'deflate' | 'br' | undefined {
  if (!enabled) return undefined;
  const accepted = String(req.headers['accept-encoding'] ?? '')
    .split(',')
    .map((s) => s.trim().split(';')[0]!.toLowerCase());
  return (['gzip', 'deflate', 'br'] as const).find((e) => accepted.includes(e));
}

const refusal = (
  status: 400 | 403,
  code: number,
  type: string,
  reason: string,
  message: string,
): Refusal => ({
  status,
  code,
  type,
  reason,
  message,
});

/** A setting name as an error may show it: a plain name, else not at all. */
const shownName = (name: string) => (/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? `'${name}'` : 'this');

/**
 * Whether this process serves the interface: only over the embedded store. With a ClickHouse
 * server (CLICKHOUSE_URL) Grafana reads the server directly as its own read-only user, and the
 * server's grants, not this interface, decide what it may read.
 */
export function servesClickHouseHttp(env: {
  readonly VIGIL_CLICKHOUSE_HTTP_ENABLED: boolean;
  readonly CLICKHOUSE_URL?: string;
}): boolean {
  return env.VIGIL_CLICKHOUSE_HTTP_ENABLED && !env.CLICKHOUSE_URL;
}

export function registerClickHouseHttpRoutes(app: FastifyInstance, deps: ClickHouseHttpDeps): void {
  const gate = createReadOnlyGate({ client: deps.store, database: deps.database, limits: deps.limits });
  const audit = deps.audit ?? ((record: AuditRecord) => recordAudit(deps.store, record));
  // These routes authenticate their callers themselves (ClickHouse clients do not send bearer
  // tokens): the admin API's hook skips routes flagged ownAuth.
  const ownAuth = { config: { ownAuth: true } };
  // Liveness only, like ClickHouse's own /ping: no credentials, nothing read.
  app.get(`${CLICKHOUSE_HTTP_PREFIX}/ping`, ownAuth, async (_req, reply) =>
    reply.type('text/plain; charset=UTF-8').send('Ok.\n'),
  );
  // Before the body (a query) is read: the password must be an analyst or admin token. Refusals
  // are counted, logged and held against the address (the admin hook answers a throttled one).
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = new URL(req.url, 'http://localhost').searchParams;
    const token = presentedToken(req, params);
    const auth = deps.auth.check(token ? `Bearer ${token}` : undefined, ['admin', 'analyst']);
    if (!auth.ok) {
      deps.metrics?.inc('clickhouse_http_unauthenticated');
      recordRefusal(deps.authFailures, 'clickhouse', auth.refusal, req);
      reply.header('connection', 'close');
      return sendException(reply, token ? 403 : 401, {
        code: 516,
        type: 'AUTHENTICATION_FAILED',
        message: 'Authentication failed: the password must be a vigil analyst or admin token',
      });
    }
    req.vigilAuth = { source: auth.source, caller: auth.caller, tenants: auth.tenants };
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const params = new URL(req.url, 'http://localhost').searchParams;
    const auth = authenticated(req);
    const caller: ClickHouseCaller = {
      role: auth.source,
      caller: auth.caller,
      tenants: boundTenants(auth.tenants),
    };

    // The query's text: the `query` parameter, then the body, as one text (ClickHouse's rule).
    let sql = '';
    // Who asked what: the text only as a digest (it may hold literals an analyst typed). False when
    // the record could not be written (the caller then gets no rows).
    const record = async (outcome: string, reason: string): Promise<boolean> => {
      try {
        await audit({
          caller: caller.caller,
          action: 'clickhouse.query',
          target: `sha256:${createHash('sha256').update(sql).digest('hex')}`,
          reason,
          outcome,
        });
        return true;
      } catch (err) {
        deps.metrics?.inc('clickhouse_http_audit_errors');
        deps.logger.error({ err: errorMessage(err) }, 'ClickHouse HTTP query could not be audited');
        return false;
      }
    };
    let body: Buffer;
    try {
      body =
        req.method === 'POST'
          ? decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes)
          : Buffer.alloc(0);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      await record('refused', 'body');
      return sendException(reply, status, {
        code: 27,
        type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
        message: errorMessage(err),
      });
    }
    sql = [params.get('query') ?? '', body.toString('utf8')].filter((s) => s.trim()).join('\n');
    const refused = async (r: Refusal) => {
      deps.metrics?.inc('clickhouse_http_refused');
      deps.logger.info({ caller: caller.caller, reason: r.reason }, 'ClickHouse HTTP query refused');
      await record('refused', r.reason);
      return sendException(reply, r.status, r);
    };

    if (params.get('compress') === '1' || params.get('decompress') === '1')
      return refused(
        refusal(
          400,
          48,
          'NOT_IMPLEMENTED',
          'compress',
          'ClickHouse block compression (compress=1) is not supported here; use HTTP compression (Accept-Encoding)',
        ),
      );
    if (/^multipart\//i.test(String(req.headers['content-type'] ?? '')))
      return refused(
        refusal(
          400,
          48,
          'NOT_IMPLEMENTED',
          'external_tables',
          'external tables (multipart requests) are not supported here',
        ),
      );
    const database = params.get('database');
    if (database && database !== deps.database && database !== 'default')
      return refused(
        refusal(
          403,
          497,
          'ACCESS_DENIED',
          'database',
          `this interface serves database ${deps.database} only`,
        ),
      );

    // URL settings: HTTP-layer ones are dropped; limits may only be lowered; anything else refused.
    const queryParams: Record<string, string> = {};
    const limits: Record<string, number> = {};
    let httpCompression = false;
    for (const [key, value] of params) {
      if (key.startsWith('param_')) queryParams[key.slice('param_'.length)] = value;
      else if (REQUEST_PARAMS.has(key)) continue;
      else if (IGNORED_SETTINGS.has(key))
        httpCompression ||= key === 'enable_http_compression' && value === '1';
      else if (LOWERING_SETTINGS.has(key) && /^\d{1,15}$/.test(value)) limits[key] = Number(value);
      else
        return refused(
          refusal(
            403,
            164,
            'READONLY',
            'url_setting',
            `Cannot modify ${shownName(key)} setting in readonly mode: only max_execution_time, max_result_rows, max_result_bytes, max_memory_usage and limit (lower values) are accepted`,
          ),
        );
    }

    const request: AdmitRequest = {
      sql,
      params: queryParams,
      defaultFormat: params.get('default_format') ?? undefined,
      tenants: caller.tenants,
      limits,
    };
    let admitted: Awaited<ReturnType<typeof gate.admit>>;
    try {
      admitted = await gate.admit(request);
    } catch (err) {
      deps.metrics?.inc('clickhouse_http_errors');
      deps.logger.error({ err: errorMessage(err) }, 'ClickHouse HTTP admission failed');
      await record('failed', 'admission');
      return sendException(reply, 500, { code: 1001, type: 'STD_EXCEPTION', message: 'internal error' });
    }
    if (isRefusal(admitted)) return refused(admitted);
    const { format } = admitted;

    // max_execution_time is enforced by the engine (it rides in SETTINGS); the abort is a backstop,
    // and also ends the query when the client goes away.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), (admitted.maxExecutionSeconds + 5) * 1000);
    // The response's close (not the request's, which fires once the body is read): the client left.
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    const queryId = params.get('query_id') || randomUUID();
    let out: Buffer;
    let summary: { result_rows?: string } | undefined;
    try {
      // The statement names its format (the store client passes the same one as the engine's output
      // format of this call) and carries its own SETTINGS.
      const result = await deps.store.exec(admitted.query, {
        format,
        params: queryParams,
        signal: abort.signal,
      });
      out = result.body;
      const revision = Number(params.get('client_protocol_version') ?? 0);
      if (format === 'Native' && revision > 0) out = nativeForRevision(out, revision);
      summary = result.summary;
    } catch (err) {
      deps.metrics?.inc('clickhouse_http_errors');
      if (err instanceof NativeTranscodeError) {
        await record('failed', 'native_transcode');
        return sendException(reply, 500, { code: 48, type: 'NOT_IMPLEMENTED', message: err.message });
      }
      const ch = err as { code?: string; type?: string; message?: string };
      if (ch.code && ch.type) {
        await record('failed', /^[A-Z_]{1,64}$/.test(ch.type) ? ch.type : 'engine');
        return sendException(reply, statusOf(ch.type), {
          code: ch.code,
          type: ch.type,
          message: String(ch.message ?? '')
            .trim()
            .replace(/\.$/, ''),
        });
      }
      if (abort.signal.aborted) {
        await record('failed', 'TIMEOUT_EXCEEDED');
        return sendException(reply, 504, {
          code: 159,
          type: 'TIMEOUT_EXCEEDED',
          message: 'query was cancelled',
        });
      }
      deps.logger.error({ err: errorMessage(err) }, 'ClickHouse HTTP query failed');
      await record('failed', 'internal');
      return sendException(reply, 500, { code: 1001, type: 'STD_EXCEPTION', message: 'internal error' });
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
    // Recorded before anything is sent: an answer that cannot be audited is not given.
    if (!(await record('answered', `rows=${Number(summary?.result_rows ?? 0)}`)))
      return sendException(reply, 503, {
        code: 1002,
        type: 'UNKNOWN_EXCEPTION',
        message: 'the query could not be recorded in the audit trail, so it is not answered',
      });
    const encoding = compressFor(req, httpCompression);
    if (encoding === 'gzip') out = gzipSync(out);
    else if (encoding === 'deflate') out = deflateSync(out);
    else if (encoding === 'br') out = brotliCompressSync(out);
    deps.metrics?.inc('clickhouse_http_queries');
    deps.metrics?.observe('clickhouse_http_query_ms', performance.now() - started);
    reply
      .code(200)
      .header('X-ClickHouse-Query-Id', queryId)
      .header('X-ClickHouse-Format', format)
      .header('X-ClickHouse-Timezone', 'UTC')
      .header('X-ClickHouse-Server-Display-Name', 'vigil')
      .type(contentTypeOf(format));
    if (summary) reply.header('X-ClickHouse-Summary', JSON.stringify(summary));
    if (encoding) reply.header('Content-Encoding', encoding);
    return reply.send(out);
  };
  const withAuthentication = { ...ownAuth, onRequest: authenticate };
  for (const path of [CLICKHOUSE_HTTP_PREFIX, `${CLICKHOUSE_HTTP_PREFIX}/`]) {
    app.get(path, withAuthentication, handler);
    app.post(path, withAuthentication, handler);
  }
}
