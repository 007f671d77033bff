// The admin API (port 8089): authenticated reads of findings, incidents and a summary, and replay
// intake, so the CLI can work while `vigil serve` holds the embedded store.
import type { FastifyInstance } from 'fastify';
import type { StoreClient } from '../store/index.js';
import { listFindings, listIncidents, summary } from '../store/index.js';
import type { SourceAuth } from '../collectors/auth.js';
import type { Ingest } from '../collectors/ingest.js';
import { decodeBody } from '../collectors/http/body.js';
import { replyWithError } from '../collectors/http/server.js';
import { parseGenericBody } from '../collectors/generic/server.js';
import type { Tokenizer } from '../privacy/index.js';
import type { Metrics } from '../telemetry/index.js';

export interface AdminDeps {
  /** One registry of every source's credentials: a valid credential of another source gets 403. */
  readonly auth: SourceAuth;
  readonly store: StoreClient;
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  readonly ready: () => Promise<boolean>;
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    const r = deps.auth.check(req.headers.authorization, 'admin');
    if (!r.ok) return reply.code(r.status).send({ error: r.reason });
  });
  const limitOf = (q: unknown) =>
    Math.min(10_000, Math.max(1, Number((q as { limit?: string }).limit ?? 1000) || 1000));
  const tenantOf = (q: unknown) => String((q as { tenant?: string }).tenant ?? '');

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await deps.ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ ready: ok });
  });
  app.get('/v1/findings', async (req) =>
    listFindings(deps.store, { tenant: tenantOf(req.query), limit: limitOf(req.query) }),
  );
  app.get('/v1/incidents', async (req) =>
    listIncidents(deps.store, {
      tenant: tenantOf(req.query),
      limit: limitOf(req.query),
      status: String((req.query as { status?: string }).status ?? ''),
    }),
  );
  app.get('/v1/summary', async (req) => summary(deps.store, tenantOf(req.query)));
  app.get('/v1/metrics', async () => deps.metrics.snapshot());
  app.post('/v1/replay', async (req, reply) => {
    try {
      const body = decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      const { events, rejected } = parseGenericBody(body, 'application/x-ndjson', deps, Date.now());
      await deps.ingest.submit(events);
      return reply.send({ accepted: events.length, rejected });
    } catch (err) {
      return replyWithError(reply, err);
    }
  });
}
