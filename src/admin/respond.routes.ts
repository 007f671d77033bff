// Admin API routes of the responder. Reads (actions, the dead-letter view, the kill switch) are
// open to analysts; acknowledging and resolving incidents too (SOC work); approving, undoing a
// containment and the kill switch need an admin. Without a respond role in this process the
// mutating routes answer 409, except the incident lifecycle, which then writes the store itself:
// through the process's chained incident writer, like every write to a chained table, so the
// change is a recorded batch of the audit trail and not something `vigil verify` calls tampering.
// A tenant-bound analyst (pipeline `tenancy`) lists only its tenants' actions, and an incident of
// another tenant is, to it, no incident (404).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ResponderControl } from '../respond/index.js';
import type { Incident } from '../model/index.js';
import type { StoreClient } from '../store/index.js';
import { changeIncidentStatus } from '../respond/index.js';
import { findIncident, listActionAttempts, listFailedActions, recordAudit } from '../store/index.js';
import { type AdminRouteConfig, callerTenants } from './caller.js';

export interface RespondRoutesDeps {
  readonly store: StoreClient;
  readonly responder?: ResponderControl;
  /** Stores an incident through the chained incident writer (never a bare insert). */
  readonly saveIncident?: (incident: Incident) => Promise<void>;
}

const adminOnly = { config: { roles: ['admin'], allTenants: true } satisfies AdminRouteConfig };
const NO_RESPONDER = 'this vigil runs no responder (start it with the respond role)';
const ID = /^[A-Za-z0-9_-]{1,200}$/;

export function registerRespondRoutes(app: FastifyInstance, deps: RespondRoutesDeps): void {
  const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  const caller = (req: FastifyRequest) => req.vigilCaller!.caller;
  const limitOf = (req: FastifyRequest) =>
    Math.min(10_000, Math.max(1, Number(q(req).limit ?? 1000) || 1000));

  app.get('/v1/actions', async (req) => {
    const opts = {
      tenant: q(req).tenant ?? '',
      tenants: callerTenants(req),
      incident: q(req).incident ?? '',
      limit: limitOf(req),
    };
    const failed = ['1', 'true', 'yes'].includes((q(req).failed ?? '').toLowerCase());
    return failed ? listFailedActions(deps.store, opts) : listActionAttempts(deps.store, opts);
  });

  for (const [verb, to] of [
    ['ack', 'acknowledged'],
    ['resolve', 'resolved'],
  ] as const) {
    app.post(`/v1/incidents/:id/${verb}`, async (req, reply) => {
      const id = idOf(req);
      if (!ID.test(id)) return reply.code(400).send({ error: 'id: not an incident id' });
      const save = deps.saveIncident;
      if (!deps.responder && !save) return reply.code(409).send({ error: NO_RESPONDER });
      const tenants = callerTenants(req);
      if (tenants) {
        // The stored incident says whose it is (one just opened may not be stored yet: try again).
        const incident = await findIncident(deps.store, id);
        if (!incident || !tenants.includes(incident.tenant))
          return reply.code(404).send({ error: `no incident ${id}` });
      }
      // Without a responder here, the store is the only copy to change.
      const r = deps.responder
        ? await deps.responder.transition(id, to, caller(req))
        : await changeIncidentStatus(
            {
              findIncident: (i) => findIncident(deps.store, i),
              saveIncident: save!,
              audit: (e) => recordAudit(deps.store, e),
            },
            id,
            to,
            caller(req),
          );
      return r.ok ? reply.send(r.value) : reply.code(r.status).send({ error: r.error });
    });
  }

  app.post('/v1/incidents/:id/approve', adminOnly, async (req, reply) => {
    const id = idOf(req);
    if (!ID.test(id)) return reply.code(400).send({ error: 'id: not an incident id' });
    if (!deps.responder) return reply.code(409).send({ error: NO_RESPONDER });
    const r = await deps.responder.approve(id, caller(req));
    return r.ok ? reply.send(r.value) : reply.code(r.status).send({ error: r.error });
  });

  app.post('/v1/actions/:id/undo', adminOnly, async (req, reply) => {
    const id = idOf(req);
    if (!ID.test(id)) return reply.code(400).send({ error: 'id: not an action or job id' });
    if (!deps.responder) return reply.code(409).send({ error: NO_RESPONDER });
    const r = await deps.responder.undo(id, caller(req));
    return r.ok ? reply.send(r.value) : reply.code(r.status).send({ error: r.error });
  });

  app.get('/v1/responder/kill-switch', async (_req, reply) => {
    if (!deps.responder) return reply.code(409).send({ error: NO_RESPONDER });
    return deps.responder.killSwitch();
  });

  app.post('/v1/responder/kill-switch', adminOnly, async (req, reply) => {
    if (!deps.responder) return reply.code(409).send({ error: NO_RESPONDER });
    const body = parseJson(req.body);
    if (typeof body?.on !== 'boolean')
      return reply.code(400).send({ error: 'body must be JSON {"on": true|false}' });
    const r = await deps.responder.setKillSwitch(body.on, caller(req));
    return r.ok ? reply.send(r.value) : reply.code(r.status).send({ error: r.error });
  });
}

function parseJson(body: unknown): { on?: unknown } | undefined {
  try {
    if (Buffer.isBuffer(body)) return JSON.parse(body.toString('utf8'));
    if (typeof body === 'string') return JSON.parse(body);
    return body as { on?: unknown };
  } catch {
    return undefined;
  }
}
