// A read-only ClickHouse HTTP interface over vigil's store, on the admin port under /clickhouse.
// The embedded engine admits one process per data directory, so Grafana (the ClickHouse plugin
// over HTTP, i.e. clickhouse-go) and @clickhouse/client read it through the vigil that holds it.
// It is the subset those clients use: GET /ping; GET or POST with the SQL in `query` and/or the
// body; `database`, `default_format` or a FORMAT clause, `param_<name>` parameters, settings in
// the URL, HTTP compression of the answer, and Native re-framed for `client_protocol_version`.
//
// Authentication: the password (basic auth, X-ClickHouse-Key or `password`) is an analyst or
// admin token of vigil; the user name is not checked. Only reads pass (./clickhouse-sql.ts);
// refusals are 403 with a ClickHouse-style error body, so clients surface them as exceptions.
import { randomUUID } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { DataFormat } from '@clickhouse/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SourceAuth } from '../collectors/auth.js';
import type { AuthFailures } from '../collectors/auth-failures.js';
import { recordRefusal } from '../collectors/http/authenticate.js';
import { decodeBody, HttpError } from '../collectors/http/body.js';
import { errorMessage } from '../model/index.js';
import type { StoreClient } from '../store/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import {
  checkReadStatement,
  isHttpLayerSetting,
  isRefusal,
  type Refusal,
  settingAllowed,
  withReadOnlySettings,
} from './clickhouse-sql.js';
import { NativeTranscodeError, nativeForRevision } from './clickhouse-native.js';

export const CLICKHOUSE_HTTP_PREFIX = '/clickhouse';

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

/** Formats that read schema or template files named by settings: never, whatever asked for them. */
const FILE_BACKED_FORMAT =
  /^(template|templateignorespaces|protobuf|protobufsingle|protobuflist|capnproto|regexp)$/i;

const CONTENT_TYPES: Array<[RegExp, string]> = [
  [/^JSON/i, 'application/json; charset=UTF-8'],
  [/^(TabSeparated|TSV)/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV/i, 'text/csv; charset=UTF-8'],
  [/^(Native|RowBinary|Parquet|Arrow|ORC|Avro|MsgPack|BSON)/i, 'application/octet-stream'],
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

const refuse = (reply: FastifyReply, r: Refusal) => sendException(reply, r.status, r);

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

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

export function registerClickHouseHttpRoutes(app: FastifyInstance, deps: ClickHouseHttpDeps): void {
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
        message: `${params.get('user') ?? 'default'}: Authentication failed: the password must be a vigil analyst or admin token`,
      });
    }
    req.vigilAuth = { source: auth.source, caller: auth.caller };
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const params = new URL(req.url, 'http://localhost').searchParams;
    const auth = req.vigilAuth!;
    const refused = (r: Refusal) => {
      deps.metrics?.inc('clickhouse_http_refused');
      deps.logger.info({ caller: auth.caller, reason: r.type }, 'ClickHouse HTTP query refused');
      return refuse(reply, r);
    };

    if (params.get('compress') === '1' || params.get('decompress') === '1') {
      return sendException(reply, 400, {
        code: 48,
        type: 'NOT_IMPLEMENTED',
        message:
          'ClickHouse block compression (compress=1) is not supported here; use HTTP compression (Accept-Encoding)',
      });
    }
    if (/^multipart\//i.test(String(req.headers['content-type'] ?? ''))) {
      return sendException(reply, 400, {
        code: 48,
        type: 'NOT_IMPLEMENTED',
        message: 'external tables (multipart requests) are not supported here',
      });
    }
    const database = params.get('database');
    if (database && database !== deps.database && database !== 'default') {
      return refused({
        status: 403,
        code: 497,
        type: 'ACCESS_DENIED',
        message: `this interface serves database ${deps.database}; name other databases in the query (e.g. system.tables)`,
      });
    }

    // Settings: HTTP-layer ones are dropped, allowed ones ride in the query's SETTINGS clause.
    const settings: Array<[string, string]> = [];
    const queryParams: Record<string, string> = {};
    let httpCompression = false;
    for (const [key, value] of params) {
      if (key.startsWith('param_')) queryParams[key.slice('param_'.length)] = value;
      else if (REQUEST_PARAMS.has(key)) continue;
      else if (isHttpLayerSetting(key))
        httpCompression ||= key === 'enable_http_compression' && value === '1';
      else if (settingAllowed(key)) settings.push([key, value]);
      else
        return refused({
          status: 403,
          code: 164,
          type: 'READONLY',
          message: `Cannot modify '${key}' setting in readonly mode`,
        });
    }

    let body: Buffer;
    try {
      body =
        req.method === 'POST'
          ? decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes)
          : Buffer.alloc(0);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      return sendException(reply, status, {
        code: 27,
        type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
        message: errorMessage(err),
      });
    }
    const sql = [params.get('query') ?? '', body.toString('utf8')].filter((s) => s.trim()).join('\n');
    const stmt = checkReadStatement(sql);
    if (isRefusal(stmt)) return refused(stmt);
    const format = stmt.format ?? params.get('default_format') ?? 'TabSeparated';
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(format))
      return sendException(reply, 404, { code: 73, type: 'UNKNOWN_FORMAT', message: 'Unknown format' });
    if (FILE_BACKED_FORMAT.test(format))
      return refused({
        status: 403,
        code: 497,
        type: 'ACCESS_DENIED',
        message: `format ${format} is not allowed here`,
      });

    // max_execution_time is enforced by the engine (it rides in SETTINGS); the abort is a backstop,
    // and also ends the query when the client goes away.
    const abort = new AbortController();
    const maxSeconds = Number(settings.find(([k]) => k === 'max_execution_time')?.[1] ?? 0);
    const timer = maxSeconds > 0 ? setTimeout(() => abort.abort(), (maxSeconds + 5) * 1000) : undefined;
    // The response's close (not the request's, which fires once the body is read): the client left.
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    const queryId = params.get('query_id') || randomUUID();
    try {
      const result = await deps.store.exec({
        query: withReadOnlySettings(stmt, settings),
        query_params: queryParams,
        // Any engine format may be asked for; the client's type lists only the ones it parses.
        clickhouse_settings: { default_format: format as DataFormat },
        abort_signal: abort.signal,
      });
      let out = await readAll(result.stream);
      const revision = Number(params.get('client_protocol_version') ?? 0);
      if (/^native$/i.test(format) && revision > 0) out = nativeForRevision(out, revision);
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
      if ('summary' in result && result.summary)
        reply.header('X-ClickHouse-Summary', JSON.stringify(result.summary));
      if (encoding) reply.header('Content-Encoding', encoding);
      return reply.send(out);
    } catch (err) {
      deps.metrics?.inc('clickhouse_http_errors');
      if (err instanceof NativeTranscodeError)
        return sendException(reply, 500, { code: 48, type: 'NOT_IMPLEMENTED', message: err.message });
      const ch = err as { code?: string; type?: string; message?: string };
      if (ch.code && ch.type) {
        return sendException(reply, statusOf(ch.type), {
          code: ch.code,
          type: ch.type,
          message: String(ch.message ?? '')
            .trim()
            .replace(/\.$/, ''),
        });
      }
      if (abort.signal.aborted)
        return sendException(reply, 504, {
          code: 159,
          type: 'TIMEOUT_EXCEEDED',
          message: 'query was cancelled',
        });
      deps.logger.error({ err: errorMessage(err) }, 'ClickHouse HTTP query failed');
      return sendException(reply, 500, { code: 1001, type: 'STD_EXCEPTION', message: 'internal error' });
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  };
  const authenticated = { ...ownAuth, onRequest: authenticate };
  for (const path of [CLICKHOUSE_HTTP_PREFIX, `${CLICKHOUSE_HTTP_PREFIX}/`]) {
    app.get(path, authenticated, handler);
    app.post(path, authenticated, handler);
  }
}
