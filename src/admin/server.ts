// The admin API (port 8089). Every route needs a bearer token; roles are checked per route:
// `analyst` reads (findings, incidents, summary, metrics), `admin` does everything, including
// re-identification and replay. Privileged calls are written to the admin_audit table.
// Tenants (pipeline `tenancy`): a tenant-bound analyst reads only its tenants' rows. A `?tenant=`
// outside them is refused (403) on every route; without one, reads are limited to them; routes
// that read across tenants (process metrics) refuse a bound caller.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type SourceAuth, tenantReadRefusal } from '../collectors/auth.js';
import type { AuthFailures } from '../collectors/auth-failures.js';
import { genericBatch } from '../collectors/generic/server.js';
import { createUnknownFieldPolicy } from '../collectors/generic/unknown-fields.js';
import { recordRefusal, refuse, refuseThrottled } from '../collectors/http/authenticate.js';
import { decodeBody, decodeBodyAsync } from '../collectors/http/body.js';
import { replyWithError } from '../collectors/http/server.js';
import type { Ingest } from '../collectors/ingest.js';
import { DEFAULT_MAX_ITEMS } from '../collectors/ndjson.js';
import { runSliced } from '../collectors/slices.js';
import type { Tokenizer } from '../privacy/index.js';
import type { StoreClient } from '../store/index.js';
import {
  findFinding,
  findingFilterFromQuery,
  listAudit,
  listFindings,
  listIncidents,
  NEXT_CURSOR_HEADER,
  nextCursor,
  pageLimit,
  recordAudit,
  summary,
} from '../store/index.js';
import {
  type Logger,
  type Metrics,
  PROMETHEUS_CONTENT_TYPE,
  type ReadinessReport,
  renderPrometheus,
} from '../telemetry/index.js';
import type { BacktestReport, Feedback, FeedbackLabel } from '../detect/index.js';
import { type ReidentifyDeps, reidentify } from './reidentify.js';
import type { ResponderControl } from '../respond/index.js';
import { boundTenants, type Incident, type TenantSet } from '../model/index.js';
import { registerRespondRoutes } from './respond.routes.js';
import { type AdminRouteConfig, callerTenants } from './caller.js';
import type { VerifyReport } from '../store/audit-chain/index.js';
import { DEFAULT_TOP_KEYS, MAX_TOP_KEYS, type SourceReport } from '../collectors/source-stats.js';

export const ADMIN_ROLES = ['admin', 'analyst'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export interface AdminDeps {
  /** One registry of every credential: a valid credential of a collector source gets 403. */
  readonly auth: SourceAuth;
  /** Refused credentials: counted, logged, and throttled per address. */
  readonly authFailures?: AuthFailures;
  /** Items one replay may hold. @defaultValue DEFAULT_MAX_ITEMS */
  readonly maxItemsPerRequest?: number;
  /**
   * VIGIL_EVENTS_TTL_DAYS: a replayed event older than this is rejected with its reason, unless
   * the replay asks `expired=include`. Absent: no lower bound.
   */
  readonly retentionDays?: number;
  readonly store: StoreClient;
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** Readiness; a report names each dependency's state in the /readyz body. */
  readonly ready: () => Promise<boolean | ReadinessReport>;
  /** Prometheus text for GET /metrics (default: the counters of `metrics`, no process metrics). */
  readonly prometheus?: () => string;
  readonly reidentify: ReidentifyDeps;
  /** Records analyst feedback on a finding (undefined: no such finding). */
  readonly feedback?: (req: {
    findingId: string;
    label: FeedbackLabel;
    caller: string;
    /** The caller's tenants (undefined: every tenant): a finding outside them is not found. */
    tenants?: readonly string[];
  }) => Promise<Feedback | undefined>;
  /** Runs the pipeline's detectors over stored history (no side effects). */
  readonly backtest?: (opts: {
    since: number;
    until: number;
    tenant: string;
    tenants?: readonly string[];
  }) => Promise<BacktestReport>;
  /** Rotates the tokenization key in place; undefined when keys come from the environment. */
  readonly rotateKey?: () => { version: number };
  /** The responder's controls (incident lifecycle, approvals, undo, kill switch); absent without the respond role. */
  readonly responder?: ResponderControl;
  /**
   * Stores an incident through this process's chained incident writer: how the incident lifecycle
   * routes write when no responder runs here (every write to a chained table is chained).
   */
  readonly saveIncident?: (incident: Incident) => Promise<void>;
  /** Per-source figures since a time: received, mapped, rejected by reason, unused attribute keys. */
  readonly sources?: (opts: { sinceMs: number; topKeys: number }) => Promise<SourceReport[]>;
  /** Checks the tamper-evident audit trail (`vigil verify`). */
  readonly verify?: (opts: { since?: number }) => Promise<VerifyReport>;
}

declare module 'fastify' {
  interface FastifyRequest {
    vigilCaller?: { role: AdminRole; caller: string; tenants: TenantSet };
  }
}

/** The body as a JSON object, or undefined when it is anything else (bad JSON, null, an array, too big). */
function jsonObject(req: FastifyRequest, maxBytes: number): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(
      decodeBody(req.body, req.headers['content-encoding'], maxBytes).toString('utf8'),
    );
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Route option: the roles allowed (default: every admin role). */
const adminOnly = { config: { roles: ['admin'], allTenants: true } satisfies AdminRouteConfig };
/** Route option: reads every tenant's numbers (refused to a tenant-bound caller). */
const allTenants = { config: { allTenants: true } satisfies AdminRouteConfig };

const ALL_TENANTS_REFUSED = 'this route reads every tenant: a tenant-bound token may not';

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  // Before any body is read: a throttled address, then the credential (refusals are counted,
  // logged and held against the address like on the collectors' listeners).
  app.addHook('onRequest', async (req, reply) => {
    if (refuseThrottled(deps.authFailures, 'admin', req, reply)) return reply;
    const routeConfig = req.routeOptions.config as AdminRouteConfig | undefined;
    // Routes that authenticate callers themselves (the ClickHouse HTTP interface: basic auth).
    if (routeConfig?.ownAuth) return;
    const allowed = (routeConfig?.roles ?? ADMIN_ROLES) as readonly string[];
    const r = deps.auth.check(req.headers.authorization, allowed);
    if (!r.ok) {
      recordRefusal(deps.authFailures, 'admin', r.refusal, req);
      return refuse(reply, { status: r.status, message: r.reason });
    }
    req.vigilCaller = { role: r.source as AdminRole, caller: r.caller, tenants: r.tenants };
    // Tenants, for every route here: one place, so a route added tomorrow cannot forget them.
    const tenant = (req.query as Record<string, unknown> | undefined)?.tenant;
    if (tenant !== undefined && typeof tenant !== 'string')
      return reply.code(400).send({ error: 'tenant: give one tenant' });
    const refused =
      routeConfig?.allTenants && boundTenants(r.tenants)
        ? ALL_TENANTS_REFUSED
        : tenantReadRefusal(r.tenants, tenant);
    if (refused) return reply.code(403).send({ error: refused });
  });
  const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  // A limit past the page size is refused (400), never clamped: a reader that asked for more than
  // it got would take a silently cut list for the whole. Findings page further with a cursor.
  const limitOf = (req: FastifyRequest) => pageLimit(q(req).limit, 1000);

  app.get('/healthz', async () => ({ status: 'ok' }));
  registerRespondRoutes(app, {
    store: deps.store,
    responder: deps.responder,
    saveIncident: deps.saveIncident,
  });
  app.get('/readyz', async (_req, reply) => {
    const result = await deps.ready().catch(() => false);
    const report = typeof result === 'boolean' ? { ready: result } : result;
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', allTenants, async (_req, reply) =>
    reply
      .type(PROMETHEUS_CONTENT_TYPE)
      .send(deps.prometheus ? deps.prometheus() : renderPrometheus(deps.metrics)),
  );
  // Findings newest first; a full page answers the next page's cursor in the Vigil-Next-Cursor
  // header (the body stays the array of findings).
  app.get('/v1/findings', async (req, reply) => {
    const limit = limitOf(req);
    if (typeof limit === 'object') return reply.code(400).send(limit);
    const filter = findingFilterFromQuery(q(req));
    if ('error' in filter) return reply.code(400).send(filter);
    const page = await listFindings(deps.store, {
      ...filter,
      tenant: q(req).tenant ?? '',
      tenants: callerTenants(req),
      limit,
    });
    const cursor = nextCursor(page, limit);
    if (cursor) reply.header(NEXT_CURSOR_HEADER, cursor);
    return page;
  });
  app.get('/v1/findings/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const finding = await findFinding(deps.store, id, { tenants: callerTenants(req) });
    if (!finding) return reply.code(404).send({ error: `no finding ${id.slice(0, 64)}` });
    return finding;
  });
  app.get('/v1/incidents', async (req, reply) => {
    const limit = limitOf(req);
    if (typeof limit === 'object') return reply.code(400).send(limit);
    return listIncidents(deps.store, {
      tenant: q(req).tenant ?? '',
      tenants: callerTenants(req),
      limit,
      status: q(req).status ?? '',
    });
  });
  app.get('/v1/summary', async (req) =>
    summary(deps.store, q(req).tenant ?? '', { tenants: callerTenants(req) }),
  );
  app.get('/v1/metrics', allTenants, async () => deps.metrics.snapshot());
  // What each source sent and what vigil made of it (`vigil sources`). Not per tenant: the
  // figures and key names are the deployment's, so a tenant-bound caller is refused.
  app.get('/v1/sources', allTenants, async (req, reply) => {
    const since = q(req).since === undefined ? Date.now() - 86_400_000 : Date.parse(q(req).since!);
    if (!Number.isFinite(since)) return reply.code(400).send({ error: 'since: an ISO-8601 time' });
    const topText = q(req).top ?? String(DEFAULT_TOP_KEYS);
    const top = /^\d{1,3}$/.test(topText) ? Number(topText) : Number.NaN;
    if (!(top >= 1 && top <= MAX_TOP_KEYS))
      return reply.code(400).send({ error: `top: a whole number from 1 to ${MAX_TOP_KEYS}` });
    if (!deps.sources)
      return reply.code(409).send({ error: 'source figures are not available in this process' });
    return {
      since: new Date(since).toISOString(),
      sources: await deps.sources({ sinceMs: since, topKeys: top }),
    };
  });
  app.get('/v1/audit', adminOnly, async (req, reply) => {
    const limit = limitOf(req);
    if (typeof limit === 'object') return reply.code(400).send(limit);
    return listAudit(deps.store, limit);
  });
  app.post('/v1/reidentify', adminOnly, async (req, reply) => {
    const body = jsonObject(req, 64 * 1024) as { token?: unknown; reason?: unknown } | undefined;
    if (!body)
      return reply.code(400).send({ error: 'body must be a JSON object {"token": "...", "reason": "..."}' });
    if (typeof body.token !== 'string' || !/^[a-z]{2,3}_k\d+_[A-Za-z0-9_-]{22}$/.test(body.token)) {
      return reply.code(400).send({ error: 'token: must be a vigil token (e.g. usr_k1_…)' });
    }
    if (typeof body.reason !== 'string' || body.reason.trim().length < 3) {
      return reply.code(400).send({ error: 'reason: required (why the raw value is needed)' });
    }
    const result = await reidentify(deps.reidentify, {
      token: body.token,
      reason: body.reason.slice(0, 500),
      caller: req.vigilCaller!.caller,
    });
    deps.logger.info(
      { caller: req.vigilCaller!.caller, token: body.token, found: result.found },
      'reidentify',
    );
    return reply.code(result.found ? 200 : 404).send(result);
  });
  app.post('/v1/findings/:id/feedback', async (req, reply) => {
    const { id } = req.params as { id: string };
    const label = (jsonObject(req, 16 * 1024) as { label?: unknown } | undefined)?.label;
    if (label !== 'false-positive' && label !== 'true-positive') {
      return reply.code(400).send({ error: 'label: must be false-positive or true-positive' });
    }
    if (!deps.feedback) return reply.code(409).send({ error: 'feedback is not available in this process' });
    const entry = await deps.feedback({
      findingId: id,
      label,
      caller: req.vigilCaller!.caller,
      tenants: callerTenants(req),
    });
    if (!entry) return reply.code(404).send({ error: `no finding ${id.slice(0, 64)}` });
    await recordAudit(deps.store, {
      caller: req.vigilCaller!.caller,
      action: 'finding.feedback',
      target: id,
      reason: label,
      outcome: 'recorded',
    });
    return reply.send(entry);
  });
  app.get('/v1/backtest', async (req, reply) => {
    const since = Date.parse(q(req).since ?? '');
    const until = q(req).until ? Date.parse(q(req).until!) : Date.now();
    if (!Number.isFinite(since) || !Number.isFinite(until) || since >= until) {
      return reply.code(400).send({ error: 'since/until: ISO-8601 times with since < until' });
    }
    if (!deps.backtest) return reply.code(409).send({ error: 'this process has no detectors configured' });
    return deps.backtest({ since, until, tenant: q(req).tenant ?? '', tenants: callerTenants(req) });
  });
  app.post('/v1/keys/rotate', adminOnly, async (req, reply) => {
    if (!deps.rotateKey) {
      return reply.code(409).send({
        error:
          'keys come from VIGIL_TOKEN_KEY: rotate by setting a new key, its version and VIGIL_TOKEN_KEY_PREVIOUS',
      });
    }
    const { version } = deps.rotateKey();
    await recordAudit(deps.store, {
      caller: req.vigilCaller!.caller,
      action: 'keys.rotate',
      target: `k${version}`,
      reason: '',
      outcome: 'rotated',
    });
    return reply.send({ version });
  });
  app.get('/v1/verify', adminOnly, async (req, reply) => {
    const since = q(req).since ? Date.parse(q(req).since!) : undefined;
    if (since !== undefined && !Number.isFinite(since))
      return reply.code(400).send({ error: 'since: an ISO-8601 time' });
    if (!deps.verify) return reply.code(409).send({ error: 'verification is not available in this process' });
    const report = await deps.verify({ since });
    await recordAudit(deps.store, {
      caller: req.vigilCaller!.caller,
      action: 'audit.verify',
      target: since === undefined ? 'all' : new Date(since).toISOString(),
      reason: '',
      outcome: report.intact ? 'intact' : 'tampered',
    });
    return reply.send(report);
  });
  // ?expired=reject (default) refuses events past the events retention, as the collectors do;
  // ?expired=include stores them anyway (the user chose so: `vigil replay --expired include`), and
  // the store drops them at its next retention merge.
  app.post('/v1/replay', adminOnly, async (req, reply) => {
    const expired = q(req).expired ?? 'reject';
    if (expired !== 'reject' && expired !== 'include')
      return reply.code(400).send({ error: 'expired: must be reject or include' });
    try {
      const body = await decodeBodyAsync(req.body, req.headers['content-encoding'], deps.maxBodyBytes);
      // A replay is a history import: unknown top-level fields become attributes rather than
      // rejecting the line; the answer names them (never their values) so the CLI can warn.
      const unknownFields = createUnknownFieldPolicy();
      const ctx = {
        ...deps,
        unknownFields,
        retentionDays: expired === 'reject' ? deps.retentionDays : undefined,
      };
      const { events, rejected, rejectedCount, expiredCount } = await runSliced(
        genericBatch(body, 'application/x-ndjson', ctx, Date.now(), {
          maxItems: deps.maxItemsPerRequest ?? DEFAULT_MAX_ITEMS,
        }),
      );
      deps.metrics.inc('ingest_rejected_expired', expiredCount);
      await deps.ingest.submit(events);
      return reply.send({
        accepted: events.length,
        rejected,
        rejected_count: rejectedCount,
        unknown_fields: Object.fromEntries(unknownFields.counts.byName),
      });
    } catch (err) {
      return replyWithError(reply, err);
    }
  });
}
