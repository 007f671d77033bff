// The HTTP edge every listener shares: who may call (the credentials), one record of refused
// credentials (an address refused on one listener is throttled on all), TLS, and listeners that
// record their routes for the security tests.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ADMIN_ROLES } from '../../admin/server.js';
import { createSourceAuth, type SourceAuth } from '../../collectors/auth.js';
import { type AuthFailures, createAuthFailures } from '../../collectors/auth-failures.js';
import { recordRefusal, refuse, refuseThrottled } from '../../collectors/http/authenticate.js';
import { createHttpServer } from '../../collectors/http/server.js';
import { type TlsSettings, tlsFromEnv } from '../../collectors/http/tls.js';
import { DEFAULT_TENANT } from '../../collectors/tenant.js';
import type { Config } from '../../config/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import type { Logger, Metrics } from '../../telemetry/index.js';
import { BEARER_SOURCES, type Credentials } from '../credentials.js';

export type Listener = 'gateway' | 'otlp' | 'admin';

export interface HttpRoute {
  readonly listener: Listener;
  readonly method: string;
  readonly url: string;
  /** Admin roles allowed (route option); undefined: every role of the listener. */
  readonly roles?: readonly string[];
}

export interface HttpEdge {
  readonly auth: SourceAuth;
  readonly authFailures: AuthFailures;
  readonly tls: TlsSettings | undefined;
  readonly host: string;
  /** Every route of every listener, as registered. */
  readonly routes: HttpRoute[];
  /** The listeners listening, closed first at shutdown. */
  readonly servers: FastifyInstance[];
  /** A listener whose routes are recorded. */
  create(listener: Listener): FastifyInstance;
  /** Listens on `port` (0: any free one); returns the listener's URL. */
  listen(app: FastifyInstance, port: number): Promise<string>;
}

export function createHttpEdge(o: {
  config: Config;
  credentials: Credentials;
  adminTokens: string[];
  tokenizer: Tokenizer;
  metrics: Metrics;
  logger: Logger;
}): HttpEdge {
  const { env } = o.config;
  const auth = createSourceAuth({
    ...o.credentials.sources,
    admin: o.adminTokens,
    analyst: o.credentials.analysts,
  });
  const tls = tlsFromEnv(env);
  // Addresses appear in logs only as tokens.
  const authFailures = createAuthFailures({
    limit: env.VIGIL_AUTH_FAILURE_LIMIT,
    windowMs: env.VIGIL_AUTH_FAILURE_WINDOW,
    metrics: o.metrics,
    logger: o.logger,
    tokenizeAddress: (address) => o.tokenizer.address(DEFAULT_TENANT, address).src_ip,
  });
  const routes: HttpRoute[] = [];
  const servers: FastifyInstance[] = [];
  const host = env.VIGIL_HOST;
  const scheme = tls ? 'https' : 'http';
  const create = (listener: Listener) => {
    const app = createHttpServer({
      logger: o.logger,
      maxBodyBytes: env.VIGIL_MAX_BODY_BYTES,
      tls,
      requestTimeoutMs: env.VIGIL_REQUEST_TIMEOUT,
      authFailures,
    });
    app.addHook('onRoute', (r) => {
      const roles = (r.config as { roles?: string[] } | undefined)?.roles;
      for (const method of [r.method].flat()) routes.push({ listener, method, url: r.url, roles });
    });
    if (listener !== 'admin') hideUnknownRoutes(app, auth, authFailures);
    return app;
  };
  const listen = async (app: FastifyInstance, port: number) => {
    await app.listen({ host, port });
    servers.push(app);
    return `${scheme}://${host}:${(app.server.address() as AddressInfo).port}`;
  };
  return { auth, authFailures, tls, host, routes, servers, create, listen };
}

/** On a collector listener an unknown route answers 401 to a caller without a valid credential,
 * so the route map is not disclosed to strangers; authenticated before any body is read, like the
 * known routes. */
function hideUnknownRoutes(app: FastifyInstance, auth: SourceAuth, authFailures: AuthFailures): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    if (refuseThrottled(authFailures, 'unknown_route', req, reply)) return reply;
    const r = auth.check(req.headers.authorization, [...BEARER_SOURCES, ...ADMIN_ROLES]);
    if (!r.ok) {
      recordRefusal(authFailures, 'unknown_route', r.refusal, req);
      return refuse(reply, { status: 401, message: r.reason });
    }
  });
  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'no such route' }));
}
