// POST /v1/hoop/webhooks — hoop.dev session events delivered by Svix. The Svix / Standard Webhooks
// signature is the authentication: `svix-id`, `svix-timestamp`, `svix-signature` (or the same
// headers named `webhook-*`), HMAC-SHA256 over `${id}.${timestamp}.${body}` with any configured
// `whsec_…` secret (several during rotation), checked over the body bytes exactly as received
// (before any decompression: a compressed delivery is signed over its compressed bytes).
//
// Order of the checks, cheapest first, so that an unsigned sender costs vigil nothing: in the
// `onRequest` hook, before the body is read, the address's throttle (429 + Retry-After after
// repeated refusals), then the presence of the signature headers and the freshness of the
// timestamp; then the body is read (bounded by the size limit) and its signature verified over the
// raw bytes; only a signed body is decompressed and parsed. Refusals are counted and logged.
//
// Answers: 200 {accepted: 1} once the event is durable; 200 {accepted: 0, ignored: 1} for event
// types vigil does not map; 200 {accepted: 0, duplicate: true} for a message id already accepted
// within the replay window (see below); 400 with a reason naming the field; 401 for a missing,
// invalid or stale signature (timestamp outside ±5 min); 403 when the tenant (`X-Vigil-Tenant` /
// `?tenant=`) is not one the verifying secret is bound to (pipeline `tenancy`); 413; 429/503.
//
// Replays: a message id accepted less than 10 min ago (twice the timestamp tolerance, so every
// replay the timestamp check lets through is covered) is acknowledged without being ingested again.
// 200 rather than 409 because Svix retries any non-2xx: a retry after a lost acknowledgement must
// end the retries, and a replayed capture gains the replayer nothing either way. Ids are remembered
// only once their event is durable, so a delivery that failed (503) is taken again when retried.
// Two identical deliveries in flight at once are both ingested and fold into one row by event_id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { ALL_TENANTS, type TenantSet } from '../../model/index.js';
import { tenantRefusal } from '../auth.js';
import type { RefusalReason } from '../auth-failures.js';
import type { CollectorDeps } from '../deps.js';
import { recordRefusal, refuse, refuseThrottled } from '../http/authenticate.js';
import { decodeBodyAsync } from '../http/body.js';
import { replyWithError } from '../http/server.js';
import { decodeUtf8, MAX_JSON_DEPTH, nestsDeeperThan, TOO_DEEP_REASON } from '../ndjson.js';
import { requestTenant } from '../tenant.js';
import { type HoopOpenedSession, normalizeHoopWebhook, openedSessionOf } from './hoop.normalizer.js';
import { signedWith, webhookKey } from './signature.js';

/** A signing secret bound to the tenants its deliveries may write. */
export interface BoundSecret {
  readonly secret: string;
  readonly tenants: TenantSet;
}

export interface HoopRouteDeps extends CollectorDeps {
  /**
   * `whsec_…` signing secrets; a delivery signed with any of them is accepted, for the tenants of
   * the secret that signed it (a plain string: every tenant).
   */
  readonly webhookSecrets: ReadonlyArray<string | BoundSecret>;
  /** Message ids remembered for replay detection. @defaultValue 100000 */
  readonly replayCacheSize?: number;
}

/** Standard Webhooks receivers reject timestamps further than this from their clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
const REPLAY_WINDOW_MS = 2 * WEBHOOK_TOLERANCE_SECONDS * 1000;
/** How long a session.open is remembered for its session.close (sessions rarely outlive a day). */
const OPEN_SESSION_TTL_MS = 24 * 3_600_000;

interface SignatureHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The signature headers under their Svix names or their Standard Webhooks names. */
function signatureHeaders(req: FastifyRequest): SignatureHeaders | undefined {
  const pick = (suffix: string) => header(req, `svix-${suffix}`) ?? header(req, `webhook-${suffix}`);
  const id = pick('id');
  const timestamp = pick('timestamp');
  const signature = pick('signature');
  if (!id || !timestamp || !signature) return undefined;
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
}

export function registerHoopRoutes(app: FastifyInstance, deps: HoopRouteDeps): void {
  if (deps.webhookSecrets.length === 0) throw new Error('hoop webhooks need at least one signing secret');
  const keys = deps.webhookSecrets.map((entry, i) => {
    const { secret, tenants }: BoundSecret =
      typeof entry === 'string' ? { secret: entry, tenants: ALL_TENANTS } : entry;
    try {
      return { key: webhookKey(secret), tenants };
    } catch {
      // Never echo the secret: say which one.
      throw new Error(`hoop webhook secret #${i + 1} is not a valid whsec_… secret`);
    }
  });
  const accepted = new LRUCache<string, true>({
    max: deps.replayCacheSize ?? 100_000,
    ttl: REPLAY_WINDOW_MS,
  });
  const opened = new LRUCache<string, HoopOpenedSession>({ max: 50_000, ttl: OPEN_SESSION_TTL_MS });

  /** The tenants of the secret that signed the delivery; undefined when none did. */
  const verify = (body: Buffer, sig: SignatureHeaders): TenantSet | undefined =>
    keys.find(({ key }) =>
      signedWith(key, sig['webhook-id'], sig['webhook-timestamp'], sig['webhook-signature'], body),
    )?.tenants;

  const ROUTE = 'hoop';
  const refuseSignature = (
    req: FastifyRequest,
    reply: FastifyReply,
    reason: RefusalReason,
    message: string,
  ) => {
    deps.metrics.inc('hoop_webhook_unauthenticated');
    recordRefusal(deps.authFailures, ROUTE, reason, req);
    return refuse(reply, { status: 401, message });
  };

  // Before the body is read: what the headers alone can refuse.
  const checkHeaders = async (req: FastifyRequest, reply: FastifyReply) => {
    if (refuseThrottled(deps.authFailures, ROUTE, req, reply)) return reply;
    const sig = signatureHeaders(req);
    if (!sig)
      return refuseSignature(
        req,
        reply,
        'missing_signature',
        'missing webhook signature headers (svix-id, svix-timestamp, svix-signature)',
      );
    if (!/^\d{1,12}$/.test(sig['webhook-timestamp']))
      return refuseSignature(req, reply, 'invalid_signature', 'invalid webhook timestamp');
    const now = deps.now?.() ?? Date.now();
    if (Math.abs(now / 1000 - Number(sig['webhook-timestamp'])) > WEBHOOK_TOLERANCE_SECONDS)
      return refuseSignature(
        req,
        reply,
        'stale_signature',
        'stale webhook timestamp (more than 5 min from vigil clock)',
      );
  };

  app.post('/v1/hoop/webhooks', { onRequest: checkHeaders }, async (req, reply) => {
    const now = deps.now?.() ?? Date.now();
    try {
      // The hook saw these headers; the signature is checked over the bytes as received.
      const sig = signatureHeaders(req)!;
      const ts = Number(sig['webhook-timestamp']);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const tenants = verify(raw, sig);
      if (!tenants) return refuseSignature(req, reply, 'invalid_signature', 'invalid webhook signature');
      const msgId = sig['webhook-id'];
      if (accepted.has(msgId)) {
        deps.metrics.inc('hoop_webhook_replayed');
        return reply.code(200).send({ accepted: 0, duplicate: true });
      }
      const tenant = requestTenant(req);
      if (!tenant.ok) return reply.code(400).send({ error: tenant.reason });
      const refused = tenantRefusal(tenants, tenant.tenant);
      if (refused) {
        deps.metrics.inc('ingest_tenant_refused_hoop');
        return reply.code(403).send({ error: refused });
      }
      const body = await decodeBodyAsync(raw, req.headers['content-encoding'], deps.maxBodyBytes);
      const text = decodeUtf8(body);
      if (nestsDeeperThan(text, 0, text.length, MAX_JSON_DEPTH))
        return reply.code(400).send({ error: `body: ${TOO_DEEP_REASON}` });
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return reply.code(400).send({ error: 'body is not valid JSON' });
      }
      const r = normalizeHoopWebhook(value, {
        tokenizer: deps.tokenizer,
        tenant: tenant.tenant,
        now,
        time: ts * 1000,
        openedSession: (id) => opened.get(`${tenant.tenant}\u0000${id}`),
      });
      if (!r.ok) {
        deps.metrics.inc('ingest_rejected_hoop');
        return reply.code(400).send({ accepted: 0, rejected: [{ line: 1, reason: r.reason }] });
      }
      if (r.value === undefined) {
        deps.metrics.inc('ingest_ignored_hoop');
        accepted.set(msgId, true);
        return reply.code(200).send({ accepted: 0, ignored: 1 });
      }
      // Durable from here: only now may the delivery be acknowledged and its id remembered.
      await deps.ingest.submit([r.value]);
      deps.metrics.inc('ingest_accepted_hoop');
      accepted.set(msgId, true);
      const { event_type, id } = value as { event_type: string; id: string };
      if (event_type === 'session.open') opened.set(`${tenant.tenant}\u0000${id}`, openedSessionOf(r.value));
      return reply.code(200).send({ accepted: 1 });
    } catch (err) {
      return replyWithError(reply, err);
    }
  });
}
