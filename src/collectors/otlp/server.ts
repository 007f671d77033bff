// POST /v1/traces — OTLP/HTTP traces, `application/x-protobuf` or `application/json`, gzip accepted.
// Answers in the request's content type: 200 with an empty ExportTraceServiceResponse once the
// database spans are durable, or with `partial_success {rejected_spans, error_message}` for spans
// that are database spans vigil cannot map (clients must not retry those). Spans that are not
// database operations are dropped and counted, neither stored nor rejected. 400 for an undecodable
// body (JSON nested deeper than 64 levels included), 401/403 for credentials (checked before the
// body is read), 403 when every database span names a tenant the token is not bound to (pipeline
// `tenancy`; beside kept spans they are rejected spans), 413 over the size limit (after decompression too) or over VIGIL_MAX_ITEMS_PER_REQUEST
// spans, 415 for another content type, 429 + Retry-After for an address throttled after repeated
// refused credentials, 429/503 + Retry-After when the pipeline cannot take more (clients retry).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CollectorDeps } from '../deps.js';
import { authenticated, bearerAuthentication, type RefusalWriter } from '../http/authenticate.js';
import { decodeBodyAsync, HttpError } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { DEFAULT_MAX_ITEMS } from '../ndjson.js';
import { runSliced } from '../slices.js';
import { requestTenant } from '../tenant.js';
import {
  decodeTraceRequestJsonSteps,
  decodeTraceRequestProtoSteps,
  encodeExportResponseJson,
  encodeExportResponseProto,
  encodeRpcStatusProto,
  type ExportTraceResult,
  OtlpDecodeError,
  OtlpLimitError,
} from './otlp.decoder.js';
import { receiveExport } from './receive.js';

type Format = 'protobuf' | 'json';

const CONTENT_TYPE: Record<Format, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** HTTP status → google.rpc.Code, for the Status message OTLP puts in error bodies. */
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8 };

export function registerOtlpHttpRoutes(app: FastifyInstance, deps: CollectorDeps): void {
  const limits = { maxSpans: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS };
  // Refusals of the authentication hook, in the request's encoding like every OTLP error.
  const refusal: RefusalWriter = (reply, r) =>
    sendStatus(reply, formatOf(reply.request.headers['content-type']) ?? 'json', r.status, r.message);
  app.post(
    '/v1/traces',
    { onRequest: bearerAuthentication(deps, 'otlp', 'otlp_http', refusal) },
    async (req, reply) => {
      const format = formatOf(req.headers['content-type']);
      if (!format)
        return sendStatus(
          reply,
          'json',
          415,
          'Content-Type must be application/x-protobuf or application/json',
        );
      try {
        // The header (or ?tenant=) is the fallback for spans whose resource names no tenant.
        const tenant = requestTenant(req);
        if (!tenant.ok) return sendStatus(reply, format, 400, tenant.reason);
        const body = await decodeBodyAsync(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
        const request = await runSliced(
          format === 'protobuf'
            ? decodeTraceRequestProtoSteps(body, limits)
            : decodeTraceRequestJsonSteps(body, limits),
        );
        const caller = authenticated(req);
        const outcome = await receiveExport(deps, request, {
          caller: caller.caller,
          tenantHint: tenant.tenant,
          tenants: caller.tenants,
        });
        if (outcome.kind === 'tenant_refused') return sendStatus(reply, format, 403, outcome.message);
        return sendResult(reply, format, outcome.result);
      } catch (err) {
        if (err instanceof OtlpDecodeError) return sendStatus(reply, format, 400, err.message);
        if (err instanceof OtlpLimitError) return sendStatus(reply, format, 413, err.message);
        if (err instanceof HttpError) return sendStatus(reply, format, err.status, err.message);
        return replyWithError(reply, err);
      }
    },
  );
}

function formatOf(contentType: string | undefined): Format | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function sendResult(reply: FastifyReply, format: Format, result: ExportTraceResult): FastifyReply {
  const body =
    format === 'protobuf' ? toBuffer(encodeExportResponseProto(result)) : encodeExportResponseJson(result);
  return reply.code(200).type(CONTENT_TYPE[format]).send(body);
}

/** OTLP error bodies are a google.rpc.Status in the request's encoding. */
function sendStatus(reply: FastifyReply, format: Format, status: number, message: string): FastifyReply {
  const code = RPC_CODE[status] ?? 2;
  const body =
    format === 'protobuf' ? toBuffer(encodeRpcStatusProto(code, message)) : JSON.stringify({ code, message });
  return reply.code(status).type(CONTENT_TYPE[format]).send(body);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
