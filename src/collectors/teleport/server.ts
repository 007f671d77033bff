// POST /v1/teleport/events — Teleport audit events as NDJSON or a JSON array (what Teleport's event
// handler, or a fluentd forwarder behind it, posts), gzip accepted, bearer token of the `teleport`
// source. Answers like the generic collector: 200 {accepted, ignored, rejected[], rejected_count}
// when at least one event was kept or every event was deliberately ignored (not access to a vector
// store), 400 when nothing valid was sent, 401/403 (before the body is read), 403 for a tenant
// the token is not bound to (pipeline `tenancy`), 413 (size or item limit), 429 + Retry-After (throttled address; pipeline saturated), 503 + Retry-After. 2xx only
// once the events are durable.
// The tenant is `X-Vigil-Tenant` / `?tenant=` (else `default`), never the Teleport cluster name.
// POST /v1/teleport/sessions/<name>.<sid>.log — the same, for the event handler's session-recording
// stream: statement events (`db.session.postgres.statements.*`, `db.session.result`) and
// application requests come only through it (integrations/event-handler/session_events_job.go).
import { isExpiredReason, type RetentionBound } from '../normalize.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AccessEvent } from '../../model/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import { tenantRefusal } from '../auth.js';
import type { CollectorDeps } from '../deps.js';
import { authenticated, bearerAuthentication } from '../http/authenticate.js';
import { decodeBodyAsync } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { DEFAULT_MAX_ITEMS, frameJsonBody, type ItemLimits, isRejection, itemAt } from '../ndjson.js';
import { type Rejection, RejectionList } from '../reasons.js';
import { runSliced, runToEnd, type Steps } from '../slices.js';
import { requestTenant } from '../tenant.js';
import { normalizeTeleport, type TeleportAppSession } from './teleport.normalizer.js';

export interface TeleportBatch {
  readonly events: AccessEvent[];
  /** The first rejections (MAX_LISTED_REJECTIONS), by line. */
  readonly rejected: Rejection[];
  /** Every rejection, listed or not. */
  readonly rejectedCount: number;
  /** Events that are not database or application access (or not to a vector store). */
  readonly ignored: number;
  /** Rejections because the event time is past the events retention, listed or not. */
  readonly expiredCount: number;
}

/** How long an application session's identity is remembered for its request events. */
const APP_SESSION_TTL_MS = 12 * 3_600_000;

/** Identities of application sessions, by tenant + `sid` / `session_chunk_id` (bounded). */
export type TeleportAppSessions = LRUCache<string, TeleportAppSession>;

export function createAppSessions(max = 50_000): TeleportAppSessions {
  return new LRUCache<string, TeleportAppSession>({ max, ttl: APP_SESSION_TTL_MS });
}

interface TeleportParseContext extends RetentionBound {
  readonly tokenizer: Tokenizer;
  readonly tenant: string;
  readonly now: number;
  readonly appSessions?: TeleportAppSessions;
  /** The session recording the body belongs to (session stream route), if any. */
  readonly streamSession?: string;
}

/**
 * Splits and normalizes a body of Teleport events, pausing between items; pure apart from the
 * tokenizer cache and the application-session memory (requests that name no user are attributed
 * through it).
 * @throws HttpError 400 (not UTF-8, broken JSON document) or 413 (more items than the limit)
 */
export function* teleportBatch(
  body: Buffer,
  contentType: string,
  ctx: TeleportParseContext,
  limits: ItemLimits = { maxItems: DEFAULT_MAX_ITEMS },
): Steps<TeleportBatch> {
  const framed = yield* frameJsonBody(body, contentType, limits);
  const events: AccessEvent[] = [];
  const rejected = new RejectionList();
  let ignored = 0;
  let expiredCount = 0;
  const key = (k: string) => `${ctx.tenant}\u0000${k}`;
  const appSession = (k: string) => ctx.appSessions?.get(key(k));
  for (let i = 0; i < framed.count; i++) {
    const item = itemAt(framed, i);
    if (isRejection(item)) rejected.add(item);
    else {
      const r = normalizeTeleport(item.value, {
        tokenizer: ctx.tokenizer,
        tenant: ctx.tenant,
        now: ctx.now,
        appSession,
        streamSession: ctx.streamSession,
        describe: rejected.listing,
        retentionDays: ctx.retentionDays,
      });
      if (r.kind === 'rejected') {
        if (isExpiredReason(r.reason)) expiredCount++;
        rejected.add({ line: item.line, reason: r.reason });
      } else {
        if (r.kind === 'event') events.push(r.event);
        else ignored++;
        if (r.appSession)
          for (const k of r.appSession.keys) ctx.appSessions?.set(key(k), r.appSession.session);
      }
    }
    if (i % 32 === 31) yield;
  }
  return { events, rejected: rejected.listed, rejectedCount: rejected.count, ignored, expiredCount };
}

/** `teleportBatch` run straight through (the Kafka source's decoder). */
export function parseTeleportBody(
  body: Buffer,
  contentType: string,
  ctx: TeleportParseContext,
  limits?: ItemLimits,
): TeleportBatch {
  return runToEnd(teleportBatch(body, contentType, ctx, limits));
}

/** `<prefix>.<sid>.log`: the event handler's session-recording URL (session_events_job.go). */
const SESSION_FILE = /^[A-Za-z0-9_-]{0,64}\.([A-Za-z0-9-]{1,128})\.log$/;

export function registerTeleportRoutes(app: FastifyInstance, deps: CollectorDeps): void {
  const appSessions = createAppSessions();
  const limits = { maxItems: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS };

  const handle = async (req: FastifyRequest, reply: FastifyReply, streamSession?: string) => {
    const tenant = requestTenant(req);
    if (!tenant.ok) return reply.code(400).send({ error: tenant.reason });
    // Every event of the request is the request's tenant: all refused, before anything is parsed.
    const refused = tenantRefusal(authenticated(req).tenants, tenant.tenant);
    if (refused) {
      deps.metrics.inc('ingest_tenant_refused_teleport');
      return reply.code(403).send({ error: refused });
    }
    try {
      const body = await decodeBodyAsync(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      const now = deps.now?.() ?? Date.now();
      const { events, rejected, rejectedCount, ignored, expiredCount } = await runSliced(
        teleportBatch(
          body,
          req.headers['content-type'] ?? '',
          {
            tokenizer: deps.tokenizer,
            tenant: tenant.tenant,
            now,
            appSessions,
            streamSession,
            retentionDays: deps.retentionDays,
          },
          limits,
        ),
      );
      deps.metrics.inc('ingest_rejected_teleport', rejectedCount);
      deps.metrics.inc('ingest_ignored_teleport', ignored);
      deps.metrics.inc('ingest_rejected_expired', expiredCount);
      if (events.length === 0 && (rejectedCount > 0 || ignored === 0)) {
        return reply.code(400).send({
          accepted: 0,
          ignored,
          rejected: rejected.length ? rejected : [{ line: 0, reason: 'no events in body' }],
          rejected_count: rejectedCount,
        });
      }
      await deps.ingest.submit(events);
      deps.metrics.inc('ingest_accepted_teleport', events.length);
      return reply
        .code(200)
        .send({ accepted: events.length, ignored, rejected, rejected_count: rejectedCount });
    } catch (err) {
      return replyWithError(reply, err);
    }
  };

  const onRequest = bearerAuthentication(deps, 'teleport', 'teleport');
  // The audit log stream (the event handler's `--fluentd-url`).
  app.post('/v1/teleport/events', { onRequest }, (req, reply) => handle(req, reply));
  // The session-recording stream (`--fluentd-session-url https://…/v1/teleport/sessions/recording`):
  // the handler posts each recorded session's events to `<that URL>.<sid>.log`. The sid ties
  // application requests, which name no user, to their session chunk.
  app.post<{ Params: { file: string } }>('/v1/teleport/sessions/:file', { onRequest }, (req, reply) => {
    const m = SESSION_FILE.exec(req.params.file);
    if (!m)
      return reply.code(404).send({ error: 'path: expected /v1/teleport/sessions/<name>.<session id>.log' });
    return handle(req, reply, m[1]);
  });
}
