// The collectors' HTTP listener (port 8088): a fastify instance that takes every body as bytes
// (each route decodes its own formats) and never logs requests (they carry identities). A request
// must arrive whole within the request timeout (a sender trickling its body holds a connection and
// its buffers: 408, connection closed).
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { type BackpressureError, errorMessage } from '../../model/index.js';
import type { Logger } from '../../telemetry/index.js';
import type { AuthFailures } from '../auth-failures.js';
import { recordRefusal, refuse } from './authenticate.js';
import { HttpError } from './body.js';
import { clientAllowed, type TlsSettings } from './tls.js';

export interface HttpServerOptions {
  readonly logger: Logger;
  /** Limit on the body as sent (compressed); routes apply it again after decompression. */
  readonly maxBodyBytes: number;
  /** TLS (and mTLS when a CA is given). */
  readonly tls?: TlsSettings;
  /** Longest time to receive a whole request, headers and body (VIGIL_REQUEST_TIMEOUT). @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
  /** Where refused client certificates are counted (route `listener`). */
  readonly authFailures?: AuthFailures;
}

export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    bodyLimit: opts.maxBodyBytes,
    logger: false,
    requestTimeout,
    ...(opts.tls
      ? {
          https: {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.ca,
            requestCert: opts.tls.requestCert,
            rejectUnauthorized: opts.tls.rejectUnauthorized,
            minVersion: opts.tls.minVersion,
          },
        }
      : {}),
  }) as unknown as FastifyInstance;
  // Fastify sets requestTimeout after the server exists, which leaves Node's headersTimeout at its
  // 60 s default: Node then takes the larger of the two as the request's deadline. Both are set.
  // And Node checks them every 30 s by default: a slow sender would hold on up to 30 s longer.
  const server = app.server as typeof app.server & { connectionsCheckingInterval?: number };
  server.headersTimeout = Math.min(60_000, requestTimeout);
  server.connectionsCheckingInterval = Math.min(1_000, requestTimeout);
  if (opts.tls?.requestCert && opts.authFailures) {
    // A client certificate refused during the handshake (none, or not signed by the CA) is a
    // refused credential too; other handshake failures (a port scan, an old TLS version) are not.
    const failures = opts.authFailures;
    app.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (/CERTIFICATE|UNKNOWN_CA|CERT_/i.test(`${err.code ?? ''} ${err.message}`))
        failures.refused('listener', 'client_certificate', socket.remoteAddress);
    });
  }
  const allow = opts.tls?.allow ?? [];
  if (allow.length) {
    // Before any route (and before authentication): a certificate not on the list is refused.
    app.addHook('onRequest', async (req, reply) => {
      if (!clientAllowed(req.socket as TLSSocket, allow)) {
        recordRefusal(opts.authFailures, 'listener', 'client_certificate', req);
        return refuse(reply, { status: 403, message: 'client certificate not allowed' });
      }
    });
  }
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 413 || (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // The rest of an oversize upload is not worth reading to keep the connection.
      return reply
        .code(413)
        .header('connection', 'close')
        .send({ error: `body exceeds ${opts.maxBodyBytes} bytes` });
    }
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: errorMessage(err) });
    opts.logger.error({ err: errorMessage(err) }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });
  return app;
}

/** Turns an infrastructure error into the HTTP answer senders understand (retry or not). */
export function replyWithError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
  if (err instanceof Error && err.name === 'BackpressureError') {
    const bp = err as BackpressureError;
    return reply
      .code(bp.kind === 'saturated' ? 429 : 503)
      .header('Retry-After', String(bp.retryAfterSeconds))
      .send({ error: bp.message });
  }
  throw err;
}
