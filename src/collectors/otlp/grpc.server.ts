// OTLP/gRPC traces: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on @grpc/grpc-js,
// registered from a hand-made service definition (no .proto loading). The request arrives as raw
// bytes and is decoded in the handler by the same decoder as OTLP/HTTP, so an undecodable body is
// INVALID_ARGUMENT rather than grpc-js's INTERNAL for a throwing deserializer.
//
// Authentication happens in a server interceptor, on the call's metadata, before its message is
// read: a caller without a valid token (or from an address throttled after repeated refused
// credentials: RESOURCE_EXHAUSTED) never gets its message buffered. Refusals are counted and logged.
//
// Status codes (OTLP spec): UNAUTHENTICATED / PERMISSION_DENIED for credentials, INVALID_ARGUMENT
// for an undecodable request, RESOURCE_EXHAUSTED over `grpc.max_receive_message_length` (grpc-js
// checks the size after gzip too) or over VIGIL_MAX_ITEMS_PER_REQUEST spans, DEADLINE_EXCEEDED when
// the message does not arrive within the request timeout, UNAVAILABLE + RetryInfo when the pipeline
// cannot take more.
// Note the JS gRPC exporter does not retry anything: UNAVAILABLE loses that batch on that client.
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerInterceptingCallInterface,
  ServerInterceptingCall,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { type BackpressureError, errorMessage, type TenantSet } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { certificateSubjects, type TlsSettings } from '../http/tls.js';
import { DEFAULT_MAX_ITEMS } from '../ndjson.js';
import { runSliced } from '../slices.js';
import {
  decodeExportResponseProto,
  decodeTraceRequestProtoSteps,
  encodeExportResponseProto,
  type ExportTraceResult,
  OtlpDecodeError,
  OtlpLimitError,
} from './otlp.decoder.js';
import { receiveExport } from './receive.js';

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
  /** Longest wait for a call's message once its metadata was admitted. @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
}

/** How a call ends when it is refused. */
interface CallStatus {
  readonly code: status;
  readonly details: string;
  readonly metadata?: Metadata;
}

/** The route's name in metrics and logs of refused credentials. */
const ROUTE = 'otlp_grpc';

/** Callers admitted by the interceptor, by the metadata object their call carries to the handler. */
type Admitted = WeakMap<
  Metadata,
  { readonly source: string; readonly caller: string; readonly tenants: TenantSet }
>;

/**
 * Admits a call on its metadata, before its message is read: the client certificate (mTLS
 * allow-list), the address's throttle, then the bearer token. Refused calls end here.
 */
function admissionInterceptor(deps: OtlpGrpcServerOptions, admitted: Admitted): ServerInterceptor {
  const allow = deps.clientAllowList ?? [];
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  return (_method, call: ServerInterceptingCallInterface) => {
    let timer: NodeJS.Timeout | undefined;
    const end = (s: CallStatus) => {
      clearTimeout(timer);
      call.sendStatus(s);
    };
    const admit = (metadata: Metadata): CallStatus | undefined => {
      const address = call.getConnectionInfo().remoteAddress;
      const failures = deps.authFailures;
      if (allow.length) {
        // Before the token, as on the HTTP listeners: a certificate not on the list is refused.
        const cert = call.getAuthContext().sslPeerCertificate;
        if (!cert || !certificateSubjects(cert).some((name) => allow.includes(name))) {
          failures?.refused(ROUTE, 'client_certificate', address);
          return { code: status.PERMISSION_DENIED, details: 'client certificate not allowed' };
        }
      }
      const wait = failures?.retryAfter(address) ?? 0;
      if (wait > 0) {
        failures!.throttled(ROUTE);
        const trailer = new Metadata();
        trailer.set('grpc-status-details-bin', retryInfoStatus(status.RESOURCE_EXHAUSTED, 'throttled', wait));
        return {
          code: status.RESOURCE_EXHAUSTED,
          details: `too many refused credentials from this address: retry in ${wait} s`,
          metadata: trailer,
        };
      }
      const authorization = metadata.get('authorization')[0];
      const auth = deps.auth.check(typeof authorization === 'string' ? authorization : undefined, 'otlp');
      if (!auth.ok) {
        failures?.refused(ROUTE, auth.refusal, address);
        return {
          code: auth.status === 401 ? status.UNAUTHENTICATED : status.PERMISSION_DENIED,
          details: auth.reason,
        };
      }
      admitted.set(metadata, { source: auth.source, caller: auth.caller, tenants: auth.tenants });
      return undefined;
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const refusal = admit(metadata);
            if (refusal) return end(refusal);
            // A slow sender holds a stream and its buffers: its message has this long to arrive.
            timer = setTimeout(
              () =>
                end({
                  code: status.DEADLINE_EXCEEDED,
                  details: `request not received within ${timeoutMs} ms`,
                }),
              timeoutMs,
            );
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            clearTimeout(timer);
            nextMessage(message);
          },
          onCancel: () => clearTimeout(timer),
        }),
    });
  };
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
  const admitted: Admitted = new WeakMap();
  const server = new Server({
    'grpc.max_receive_message_length': deps.maxBodyBytes,
    interceptors: [admissionInterceptor(deps, admitted)],
  });
  server.addService(traceServiceDefinition, {
    Export: (
      call: ServerUnaryCall<Buffer, ExportTraceResult>,
      callback: sendUnaryData<ExportTraceResult>,
    ) => {
      handleExport(deps, call, admitted).then(
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
  admitted: Admitted,
): Promise<ExportTraceResult> {
  // Fail closed: a call the interceptor did not admit (it always runs first) is refused.
  const auth = admitted.get(call.metadata);
  if (!auth) throw new GrpcStatusError(status.UNAUTHENTICATED, 'call was not authenticated');
  const request = await runSliced(
    decodeTraceRequestProtoSteps(call.request, { maxSpans: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS }),
  );
  const tenantHint = call.metadata.get('x-vigil-tenant')[0];
  const outcome = await receiveExport(deps, request, {
    caller: auth.caller,
    tenantHint: typeof tenantHint === 'string' && tenantHint !== '' ? tenantHint : undefined,
    tenants: auth.tenants,
  });
  if (outcome.kind === 'tenant_refused') throw new GrpcStatusError(status.PERMISSION_DENIED, outcome.message);
  return outcome.result;
}

function toGrpcError(
  deps: CollectorDeps,
  err: unknown,
): { code: status; details: string; metadata?: Metadata } {
  if (err instanceof GrpcStatusError) return { code: err.code, details: err.message };
  if (err instanceof OtlpDecodeError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof OtlpLimitError) return { code: status.RESOURCE_EXHAUSTED, details: err.message };
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
