// POST /v1/teleport/events — Teleport audit events as NDJSON or a JSON array (what Teleport's event
// handler, or a fluentd forwarder behind it, posts), gzip accepted, bearer token of the `teleport`
// source. Answers like the generic collector: 200 {accepted, ignored, rejected[]} when at least one
// event was kept or every event was deliberately ignored (not access to a vector store), 400 when
// nothing valid was sent, 401/403, 403 for a tenant the token is not bound to (pipeline `tenancy`),
// 413, 429/503 + Retry-After. 2xx only once the events are durable.
// The tenant is `X-Vigil-Tenant` / `?tenant=` (else `default`), never the Teleport cluster name.
import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AccessEvent } from '../../model/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import { tenantRefusal } from '../auth.js';
import type { CollectorDeps } from '../deps.js';
import { decodeBody } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { splitJsonBody } from '../ndjson.js';
import type { Rejection } from '../reasons.js';
import { requestTenant } from '../tenant.js';
import { normalizeTeleport, type TeleportAppSession } from './teleport.normalizer.js';

export interface TeleportBatch {
  readonly events: AccessEvent[];
  readonly rejected: Rejection[];
  /** Events that are not database or application access (or not to a vector store). */
  readonly ignored: number;
}

/** How long an application session's identity is remembered for its request events. */
const APP_SESSION_TTL_MS = 12 * 3_600_000;

/** Identities of application sessions, by tenant + `sid` / `session_chunk_id` (bounded). */
export type TeleportAppSessions = LRUCache<string, TeleportAppSession>;

export function createAppSessions(max = 50_000): TeleportAppSessions {
  return new LRUCache<string, TeleportAppSession>({ max, ttl: APP_SESSION_TTL_MS });
}

/**
 * Splits and normalizes a body of Teleport events; pure apart from the tokenizer cache and the
 * application-session memory (requests that name no user are attributed through it).
 */
export function parseTeleportBody(
  body: Buffer,
  contentType: string,
  ctx: { tokenizer: Tokenizer; tenant: string; now: number; appSessions?: TeleportAppSessions },
): TeleportBatch {
  const { items, rejected } = splitJsonBody(body, contentType);
  const events: AccessEvent[] = [];
  let ignored = 0;
  const key = (k: string) => `${ctx.tenant}\u0000${k}`;
  for (const { value, line } of items) {
    const r = normalizeTeleport(value, {
      tokenizer: ctx.tokenizer,
      tenant: ctx.tenant,
      now: ctx.now,
      appSession: (k) => ctx.appSessions?.get(key(k)),
    });
    if (r.kind === 'event') events.push(r.event);
    else if (r.kind === 'rejected') rejected.push({ line, reason: r.reason });
    else {
      ignored++;
      if (r.appSession) for (const k of r.appSession.keys) ctx.appSessions?.set(key(k), r.appSession.session);
    }
  }
  rejected.sort((a, b) => a.line - b.line);
  return { events, rejected, ignored };
}

export function registerTeleportRoutes(app: FastifyInstance, deps: CollectorDeps): void {
  const appSessions = createAppSessions();

  app.post('/v1/teleport/events', async (req, reply) => {
    const auth = deps.auth.check(req.headers.authorization, 'teleport');
    if (!auth.ok) return reply.code(auth.status).send({ error: auth.reason });
    const tenant = requestTenant(req);
    if (!tenant.ok) return reply.code(400).send({ error: tenant.reason });
    // Every event of the request is the request's tenant: all refused, before anything is read.
    const refused = tenantRefusal(auth.tenants, tenant.tenant);
    if (refused) {
      deps.metrics.inc('ingest_tenant_refused_teleport');
      return reply.code(403).send({ error: refused });
    }
    try {
      const body = decodeBody(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      const now = deps.now?.() ?? Date.now();
      const { events, rejected, ignored } = parseTeleportBody(body, req.headers['content-type'] ?? '', {
        tokenizer: deps.tokenizer,
        tenant: tenant.tenant,
        now,
        appSessions,
      });
      deps.metrics.inc('ingest_rejected_teleport', rejected.length);
      deps.metrics.inc('ingest_ignored_teleport', ignored);
      if (events.length === 0 && (rejected.length > 0 || ignored === 0)) {
        return reply.code(400).send({
          accepted: 0,
          ignored,
          rejected: rejected.length ? rejected : [{ line: 0, reason: 'no events in body' }],
        });
      }
      await deps.ingest.submit(events);
      deps.metrics.inc('ingest_accepted_teleport', events.length);
      return reply.code(200).send({ accepted: events.length, ignored, rejected });
    } catch (err) {
      return replyWithError(reply, err);
    }
  });
}
