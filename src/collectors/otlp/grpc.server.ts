// OTLP/gRPC traces: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on @grpc/grpc-js,
// registered from a hand-made service definition (no .proto loading). The request arrives as raw
// bytes and is decoded in the handler by the same decoder as OTLP/HTTP, so an undecodable body is
// INVALID_ARGUMENT rather than grpc-js's INTERNAL for a throwing deserializer.
//
// Status codes (OTLP spec): UNAUTHENTICATED / PERMISSION_DENIED for credentials, INVALID_ARGUMENT
// for an undecodable request, RESOURCE_EXHAUSTED over `grpc.max_receive_message_length` (grpc-js
// checks the size after gzip too), UNAVAILABLE + RetryInfo when the pipeline cannot take more.
// Note the JS gRPC exporter does not retry anything: UNAVAILABLE loses that batch on that client.
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { type BackpressureError, errorMessage } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { certificateSubjects, type TlsSettings } from '../http/tls.js';
import {
  decodeExportResponseProto,
  decodeTraceRequestProto,
  encodeExportResponseProto,
  type ExportTraceResult,
  OtlpDecodeError,
} from './otlp.decoder.js';
import { everyTenantRefused, ingestMapped } from './server.js';
import { mapExportRequest } from './span.mapper.js';

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** TraceService with the request left as bytes (server side) and our own response codec. */
export const traceServiceDefinition: ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Buffer) => bytes,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (result: ExportTraceResult) => toBuffer(encodeExportResponseProto(result)),
    responseDeserialize: (bytes: Buffer) => decodeExportResponseProto(bytes),
    originalName: 'export',
  },
};

export interface OtlpGrpcServerOptions extends CollectorDeps {
  readonly host: string;
  readonly port: number;
  /** TLS / mTLS; plaintext when absent. */
  readonly credentials?: ServerCredentials;
  /** mTLS: client certificate subjects (CN, DNS / URI SAN) allowed; empty = any the CA signed. */
  readonly clientAllowList?: readonly string[];
}

/** The listeners' TLS settings as gRPC server credentials (client certificates required with a CA). */
export function grpcCredentials(tls: TlsSettings | undefined): ServerCredentials | undefined {
  if (!tls) return undefined;
  return ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    Boolean(tls.ca),
  );
}

export async function startOtlpGrpcServer(
  deps: OtlpGrpcServerOptions,
): Promise<{ address: string; close(): Promise<void> }> {
  const server = new Server({
    'grpc.max_receive_message_length': deps.maxBodyBytes,
  });
  server.addService(traceServiceDefinition, {
    Export: (
      call: ServerUnaryCall<Buffer, ExportTraceResult>,
      callback: sendUnaryData<ExportTraceResult>,
    ) => {
      handleExport(deps, call).then(
        (result) => callback(null, result),
        (err: unknown) => callback(toGrpcError(deps, err)),
      );
    },
  });
  const host = deps.host.includes(':') && !deps.host.startsWith('[') ? `[${deps.host}]` : deps.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${deps.port}`,
      deps.credentials ?? ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  let closed: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        // Let in-flight exports finish (their events become durable) but not forever.
        const force = setTimeout(() => server.forceShutdown(), 5_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closed;
    },
  };
}

class GrpcStatusError extends Error {
  override readonly name = 'GrpcStatusError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

async function handleExport(
  deps: OtlpGrpcServerOptions,
  call: ServerUnaryCall<Buffer, ExportTraceResult>,
): Promise<ExportTraceResult> {
  const allow = deps.clientAllowList ?? [];
  if (allow.length) {
    // Before authentication, as on the HTTP listeners: a certificate not on the list is refused.
    const cert = call.getAuthContext().sslPeerCertificate;
    if (!cert || !certificateSubjects(cert).some((name) => allow.includes(name)))
      throw new GrpcStatusError(status.PERMISSION_DENIED, 'client certificate not allowed');
  }
  const authorization = call.metadata.get('authorization')[0];
  const auth = deps.auth.check(typeof authorization === 'string' ? authorization : undefined, 'otlp');
  if (!auth.ok)
    throw new GrpcStatusError(
      auth.status === 401 ? status.UNAUTHENTICATED : status.PERMISSION_DENIED,
      auth.reason,
    );
  const request = decodeTraceRequestProto(call.request);
  const tenantHint = call.metadata.get('x-vigil-tenant')[0];
  const mapped = mapExportRequest(request, {
    tokenizer: deps.tokenizer,
    now: deps.now?.() ?? Date.now(),
    tenantHint: typeof tenantHint === 'string' && tenantHint !== '' ? tenantHint : undefined,
    tenants: auth.tenants,
  });
  if (everyTenantRefused(mapped)) {
    deps.metrics.inc('ingest_rejected_otlp', mapped.rejected);
    throw new GrpcStatusError(status.PERMISSION_DENIED, mapped.errorMessage);
  }
  await ingestMapped(deps, mapped);
  return { rejectedSpans: mapped.rejected, errorMessage: mapped.errorMessage };
}

function toGrpcError(
  deps: CollectorDeps,
  err: unknown,
): { code: status; details: string; metadata?: Metadata } {
  if (err instanceof GrpcStatusError) return { code: err.code, details: err.message };
  if (err instanceof OtlpDecodeError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof Error && err.name === 'BackpressureError') {
    const bp = err as BackpressureError;
    const metadata = new Metadata();
    metadata.set(
      'grpc-status-details-bin',
      retryInfoStatus(status.UNAVAILABLE, bp.message, bp.retryAfterSeconds),
    );
    return { code: status.UNAVAILABLE, details: bp.message, metadata };
  }
  deps.logger.error({ err: errorMessage(err) }, 'otlp grpc export failed');
  return { code: status.INTERNAL, details: 'internal error' };
}

/**
 * `google.rpc.Status {code(1), message(2), details(3): [Any {type_url(1), value(2): RetryInfo
 * {retry_delay(1): Duration {seconds(1)}}}]}`: how OTLP/gRPC tells a client when to retry.
 */
function retryInfoStatus(code: number, message: string, retryAfterSeconds: number): Buffer {
  const { Writer } = protobuf;
  const duration = Writer.create()
    .uint32(8)
    .int64(Math.max(1, Math.ceil(retryAfterSeconds)))
    .finish();
  const retryInfo = Writer.create().uint32(10).bytes(duration).finish();
  const any = Writer.create()
    .uint32(10)
    .string('type.googleapis.com/google.rpc.RetryInfo')
    .uint32(18)
    .bytes(retryInfo)
    .finish();
  return toBuffer(
    Writer.create().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish(),
  );
}
