// Local stand-ins for the containment and notification targets we cannot run here. Each follows
// the upstream specification it stands for — routes, request and answer shapes, status codes,
// error bodies — cited at its section (repository, path, commit); a field upstream does not send
// is not sent here either. Each keeps the requests it saw and can be told to fail.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { testIso } from './clock.js';

/** When the mocks' users and keys were created: some weeks before the run. */
const CREATED_AT = testIso(-28, 10);

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

export interface FakeTarget<S> {
  readonly url: string;
  readonly requests: SeenRequest[];
  readonly state: S;
  /** The next `times` requests answer `status` (with an empty JSON body) before anything else. */
  failNext(status: number, times?: number): void;
  /** While set, every request fails with this status ("down"); null restores. */
  down(status: number | null): void;
  close(): Promise<void>;
}

async function serve<S>(state: S, routes: (app: FastifyInstance, state: S) => void): Promise<FakeTarget<S>> {
  const app = Fastify({ logger: false });
  const requests: SeenRequest[] = [];
  let failures: Array<number> = [];
  let downStatus: number | null = null;
  app.addHook('onRequest', async (_req, reply) => {
    if (downStatus !== null) return reply.code(downStatus).send({ error: 'unavailable' });
    const f = failures.shift();
    if (f !== undefined) return reply.code(f).send({ error: `injected ${f}` });
  });
  app.addHook('preHandler', async (req) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers }, body: req.body });
  });
  routes(app, state);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    requests,
    state,
    failNext(status, times = 1) {
      failures = [...failures, ...Array(times).fill(status)];
    },
    down(status) {
      downStatus = status;
    },
    close: () => app.close(),
  };
}

const bearer = (req: FastifyRequest) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

// ---------------------------------------------------------------- Weaviate
// weaviate/weaviate openapi-specs/schema.json @ 59315cbaeda058cbf1c7a2ef5fac7519524fd535:
// /users/db/{user_id}/deactivate (200, 404, 409 already deactivated), /activate (200, 409),
// /rotate-key (200 {apikey}), GET /users/db/{user_id} (200 DBUserInfo {userId, dbUserType, roles,
// active, createdAt}; 404). ErrorResponse is {error: [{message}]}.
export interface WeaviateState {
  adminKey: string;
  users: Map<string, { active: boolean; key: string }>;
}

export function startFakeWeaviate(adminKey = 'wv-admin'): Promise<FakeTarget<WeaviateState>> {
  return serve<WeaviateState>({ adminKey, users: new Map() }, (app, s) => {
    const guard = (req: FastifyRequest, reply: FastifyReply) => {
      if (bearer(req) !== s.adminKey) {
        reply.code(401).send({ code: 401, message: 'anonymous access not enabled' });
        return false;
      }
      return true;
    };
    const user = (req: FastifyRequest, reply: FastifyReply) => {
      const id = (req.params as { id: string }).id;
      const u = s.users.get(id);
      if (!u) reply.code(404).send({ error: [{ message: `user ${id} not found` }] });
      return u;
    };
    app.get('/v1/users/db/:id', async (req, reply) => {
      if (!guard(req, reply)) return;
      const u = user(req, reply);
      if (!u) return;
      const userId = (req.params as { id: string }).id;
      return {
        userId,
        dbUserType: 'db_user',
        roles: [],
        active: u.active,
        createdAt: CREATED_AT,
      };
    });
    app.post('/v1/users/db/:id/deactivate', async (req, reply) => {
      if (!guard(req, reply)) return;
      const u = user(req, reply);
      if (!u) return;
      if (!u.active) return reply.code(409).send({ error: [{ message: 'user already deactivated' }] });
      u.active = false;
      if ((req.body as { revoke_key?: boolean } | undefined)?.revoke_key) u.key = '';
      return reply.code(200).send();
    });
    app.post('/v1/users/db/:id/activate', async (req, reply) => {
      if (!guard(req, reply)) return;
      const u = user(req, reply);
      if (!u) return;
      if (u.active) return reply.code(409).send({ error: [{ message: 'user already activated' }] });
      u.active = true;
      return reply.code(200).send();
    });
    app.post('/v1/users/db/:id/rotate-key', async (req, reply) => {
      if (!guard(req, reply)) return;
      const u = user(req, reply);
      if (!u) return;
      u.key = `wv-key-${Math.random().toString(36).slice(2)}`;
      return reply.code(200).send({ apikey: u.key });
    });
  });
}

// ---------------------------------------------------------------- Milvus REST v2
// milvus-io/milvus-docs drop_users_roles.md and the RESTful v2 reference: POST /v2/vectordb/users/
// {describe, revoke_role, grant_role, drop, list}; answers {code, data} with HTTP 200, errors
// {code, message} with HTTP 200; users/list data is a list of user names.
export interface MilvusState {
  token: string;
  users: Map<string, string[]>;
}

export function startFakeMilvus(token = 'root:Milvus'): Promise<FakeTarget<MilvusState>> {
  return serve<MilvusState>({ token, users: new Map() }, (app, s) => {
    // Milvus answers most errors as HTTP 200 with a non-zero code.
    const err = (reply: FastifyReply, code: number, message: string) =>
      reply.code(200).send({ code, message });
    const body = (req: FastifyRequest) => (req.body ?? {}) as { userName?: string; roleName?: string };
    app.addHook('preHandler', async (req, reply) => {
      if (bearer(req) !== s.token) return err(reply, 1800, "user hasn't authenticated");
    });
    app.post('/v2/vectordb/users/describe', async (req, reply) => {
      const roles = s.users.get(body(req).userName ?? '');
      if (!roles) return err(reply, 65535, `user not found: ${body(req).userName}`);
      return { code: 0, data: roles };
    });
    app.post('/v2/vectordb/users/revoke_role', async (req, reply) => {
      const { userName = '', roleName = '' } = body(req);
      const roles = s.users.get(userName);
      if (!roles) return err(reply, 65535, `user not found: ${userName}`);
      s.users.set(
        userName,
        roles.filter((r) => r !== roleName),
      );
      return { code: 0, data: {} };
    });
    app.post('/v2/vectordb/users/grant_role', async (req, reply) => {
      const { userName = '', roleName = '' } = body(req);
      const roles = s.users.get(userName);
      if (!roles) return err(reply, 65535, `user not found: ${userName}`);
      if (!roles.includes(roleName)) roles.push(roleName);
      return { code: 0, data: {} };
    });
    app.post('/v2/vectordb/users/list', async () => ({ code: 0, data: ['root', ...s.users.keys()] }));
    app.post('/v2/vectordb/users/drop', async (req, reply) => {
      const { userName = '' } = body(req);
      if (userName === 'root') return err(reply, 1100, 'root user cannot be deleted');
      s.users.delete(userName);
      return { code: 0, data: {} };
    });
  });
}

// ---------------------------------------------------------------- Pinecone (token + admin API)
// pinecone-io/pinecone-api 2025-04/admin_2025-04.oas.yaml @ 068bdf773d321e467e8158c4f097b62b60ef8020:
// GET /admin/api-keys/{api_key_id} (200 APIKey {id, name, project_id, roles}; 404), DELETE (202
// "deletion request accepted", empty body; 404), PATCH {roles} (201 APIKeyWithSecret {key, value}, as
// the spec states); errors are ErrorResponse {error: {code, message}, status}. Bearer tokens from the
// client-credentials grant (docs: "Manage service accounts").
export interface PineconeState {
  clientId: string;
  clientSecret: string;
  issued: Set<string>;
  tokenRequests: number;
  keys: Map<string, { id: string; name: string; project_id: string; roles: string[] }>;
  /** Deletion is accepted (202) before it is applied: reads keep finding a key this many times. */
  readsBeforeDeleted: number;
  /** Keys accepted for deletion and the reads left before they disappear. */
  deleting: Map<string, number>;
}

export function startFakePinecone(): Promise<FakeTarget<PineconeState>> {
  return serve<PineconeState>(
    {
      clientId: 'pc-client',
      clientSecret: 'pc-secret',
      issued: new Set(),
      tokenRequests: 0,
      keys: new Map(),
      readsBeforeDeleted: 0,
      deleting: new Map(),
    },
    (app, s) => {
      app.post('/oauth/token', async (req, reply) => {
        s.tokenRequests++;
        const b = (req.body ?? {}) as Record<string, string>;
        if (b.grant_type !== 'client_credentials')
          return reply.code(400).send({ error: 'unsupported_grant_type' });
        if (b.client_id !== s.clientId || b.client_secret !== s.clientSecret)
          return reply.code(401).send({ error: 'access_denied', error_description: 'Unauthorized' });
        if (b.audience !== 'https://api.pinecone.io/')
          return reply.code(403).send({ error: 'invalid audience' });
        const token = `pc-token-${s.issued.size + 1}`;
        s.issued.add(token);
        return { access_token: token, expires_in: 1800, token_type: 'Bearer' };
      });
      const guard = (req: FastifyRequest, reply: FastifyReply) => {
        const t = bearer(req);
        if (!t || !s.issued.has(t)) {
          reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'Invalid token' }, status: 401 });
          return false;
        }
        if (!req.headers['x-pinecone-api-version']) {
          reply
            .code(400)
            .send({ error: { code: 'INVALID_ARGUMENT', message: 'missing X-Pinecone-Api-Version' } });
          return false;
        }
        return true;
      };
      const key = (req: FastifyRequest, reply: FastifyReply) => {
        const k = s.keys.get((req.params as { id: string }).id);
        if (!k)
          reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'API key not found' }, status: 404 });
        return k;
      };
      app.get('/admin/api-keys/:id', async (req, reply) => {
        if (!guard(req, reply)) return;
        const id = (req.params as { id: string }).id;
        const left = s.deleting.get(id);
        if (left !== undefined) {
          if (left <= 0) {
            s.deleting.delete(id);
            s.keys.delete(id);
          } else s.deleting.set(id, left - 1);
        }
        return key(req, reply);
      });
      app.delete('/admin/api-keys/:id', async (req, reply) => {
        if (!guard(req, reply)) return;
        const k = key(req, reply);
        if (!k) return;
        if (s.deleting.has(k.id)) return reply.code(202).send();
        if (s.readsBeforeDeleted > 0) s.deleting.set(k.id, s.readsBeforeDeleted);
        else s.keys.delete(k.id);
        return reply.code(202).send();
      });
      app.patch('/admin/api-keys/:id', async (req, reply) => {
        if (!guard(req, reply)) return;
        const k = key(req, reply);
        if (!k) return;
        const roles = (req.body as { roles?: unknown } | undefined)?.roles;
        if (!Array.isArray(roles))
          return reply.code(400).send({ error: { code: 'INVALID_ARGUMENT', message: 'roles' } });
        k.roles = roles as string[];
        return reply.code(201).send({ key: k, value: `pckey_${k.id}_x` });
      });
    },
  );
}

// ---------------------------------------------------------------- Qdrant Cloud
// qdrant/qdrant-cloud-public-api @ ff1c923e85012fba850022116790cfd556eedd7a:
// proto/qdrant/cloud/cluster/auth/v2/database_api_key.proto (DatabaseApiKeyService) and
// gen/openapiv2/qdrant/cloud/cluster/auth/v2/database_api_key.swagger.json:
//   GET    /api/cluster/auth/v2/accounts/{accountId}/database-api-keys?clusterId=  → {items: [DatabaseApiKey]}
//   DELETE /api/cluster/auth/v2/accounts/{accountId}/database-api-keys/{databaseApiKeyId}?clusterId= → {}
// ids are UUIDs (buf.validate → InvalidArgument); errors are google.rpc.Status {code, message,
// details}; `Authorization: apikey <management key>` (README.md). The unknown v3 path answers 404.
export interface QdrantCloudState {
  managementKey: string;
  keys: Map<string, { accountId: string; clusterId: string; name: string }>;
}

const QC_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function startFakeQdrantCloud(): Promise<FakeTarget<QdrantCloudState>> {
  return serve<QdrantCloudState>({ managementKey: 'qc-mgmt', keys: new Map() }, (app, s) => {
    const status = (reply: FastifyReply, http: number, code: number, message: string) =>
      reply.code(http).send({ code, message, details: [] });
    app.addHook('preHandler', async (req, reply) => {
      if (req.headers.authorization !== `apikey ${s.managementKey}`)
        return status(reply, 401, 16, 'unauthenticated');
    });
    const base = '/api/cluster/auth/v2/accounts/:accountId/database-api-keys';
    app.get(base, async (req, reply) => {
      const { accountId } = req.params as { accountId: string };
      const clusterId = (req.query as { clusterId?: string }).clusterId;
      if (!QC_UUID.test(accountId) || (clusterId !== undefined && !QC_UUID.test(clusterId)))
        return status(reply, 400, 3, 'validation error: value must be a valid UUID');
      const items = [...s.keys.entries()]
        .filter(([, k]) => k.accountId === accountId && (!clusterId || k.clusterId === clusterId))
        .map(([id, k]) => ({
          id,
          accountId: k.accountId,
          clusterId: k.clusterId,
          name: k.name,
          postfix: 'x1y2',
        }));
      return { items };
    });
    app.delete(`${base}/:databaseApiKeyId`, async (req, reply) => {
      const { accountId, databaseApiKeyId } = req.params as { accountId: string; databaseApiKeyId: string };
      const clusterId = (req.query as { clusterId?: string }).clusterId ?? '';
      if (![accountId, clusterId, databaseApiKeyId].every((v) => QC_UUID.test(v)))
        return status(reply, 400, 3, 'validation error: value must be a valid UUID');
      const k = s.keys.get(databaseApiKeyId);
      if (!k || k.accountId !== accountId || k.clusterId !== clusterId)
        return status(reply, 404, 5, 'database api key not found');
      s.keys.delete(databaseApiKeyId);
      return {};
    });
  });
}

// ---------------------------------------------------------------- hoop.dev
// hoophq/hoop @ e939597dc425d78dbd146d98fad21b7171ccaaf5, gateway/api/server.go routes with shapes
// from gateway/api/openapi/types.go (User, Session, SessionList, SessionReview, Review,
// APIKeyResponse, HTTPError {message}):
//   GET/PUT /api/users/{emailOrID} (user/user.go: `id` is the user's subject; PUT replaces groups)
//   GET /api/sessions?user=<subject id> (session/list_options.go; models/session.go matches user_id)
//   GET /api/sessions/{session_id}; POST /api/sessions/{session_id}/kill (204; 404; 400 when the
//     transport fails — session/session.go Kill)
//   GET/PUT /api/reviews/{id} (review/review.go: only PENDING or APPROVED change; REVOKED only on an
//     APPROVED jit review; a wrong state is 400, REVOKED on a one-time review 500)
//   GET/DELETE /api/api-keys/{nameOrID}, POST …/reactivate (apikeys/apikeys.go; revoke is a soft
//     delete, status "revoked")
export interface HoopUser {
  id: string;
  name: string;
  email: string;
  status: 'active' | 'inactive' | 'invited';
  verified: boolean;
  role: 'admin' | 'standard';
  slack_id: string;
  picture: string;
  groups: string[];
}

export interface HoopSession {
  id: string;
  user: string;
  user_id: string;
  status: 'open' | 'ready' | 'done';
  review: { id: string; type: 'jit' | 'onetime'; status: string } | null;
}

export interface HoopState {
  token: string;
  users: Map<string, HoopUser>;
  sessions: HoopSession[];
  killed: string[];
  apiKeys: Map<string, { id: string; name: string; status: 'active' | 'revoked' }>;
}

export function startFakeHoop(): Promise<FakeTarget<HoopState>> {
  return serve<HoopState>(
    { token: 'hoop-admin', users: new Map(), sessions: [], killed: [], apiKeys: new Map() },
    (app, s) => {
      const msg = (reply: FastifyReply, code: number, message: string) => reply.code(code).send({ message });
      app.addHook('preHandler', async (req, reply) => {
        const key = req.headers['api-key'] ?? bearer(req);
        if (key !== s.token) return msg(reply, 401, 'unauthorized');
      });
      // Email or subject id, as user.go decides by the shape of the value.
      const find = (emailOrID: string) =>
        [...s.users.values()].find((u) =>
          emailOrID.includes('@') ? u.email === emailOrID : u.id === emailOrID,
        );
      app.get('/api/users/:emailOrID', async (req, reply) => {
        const id = (req.params as { emailOrID: string }).emailOrID;
        return find(id) ?? msg(reply, 404, `user ${id} not found`);
      });
      app.put('/api/users/:emailOrID', async (req, reply) => {
        const id = (req.params as { emailOrID: string }).emailOrID;
        const u = find(id);
        if (!u) return msg(reply, 404, `user ${id} not found`);
        const b = (req.body ?? {}) as Partial<HoopUser>;
        u.name = b.name ?? '';
        u.picture = b.picture ?? '';
        u.slack_id = b.slack_id ?? '';
        u.status = b.status as HoopUser['status'];
        u.groups = Array.isArray(b.groups) ? b.groups : [];
        return u;
      });
      app.get('/api/sessions', async (req) => {
        const q = req.query as { user?: string; limit?: string; offset?: string; count?: string };
        const limit = Math.min(Number(q.limit ?? 100), 100);
        const offset = Number(q.offset ?? 0);
        const matching = s.sessions.filter((x) => !q.user || x.user_id === q.user);
        const data = matching.slice(offset, offset + limit);
        return {
          data,
          total: q.count === 'none' ? null : matching.length,
          total_is_capped: false,
          has_next_page: offset + limit < matching.length,
        };
      });
      app.get('/api/sessions/:id', async (req, reply) => {
        const x = s.sessions.find((y) => y.id === (req.params as { id: string }).id);
        return x ?? msg(reply, 404, 'not found');
      });
      app.post('/api/sessions/:id/kill', async (req, reply) => {
        const x = s.sessions.find((y) => y.id === (req.params as { id: string }).id);
        if (!x) return msg(reply, 404, 'session not found');
        if (x.status === 'done') return msg(reply, 400, 'session is not running');
        x.status = 'done';
        s.killed.push(x.id);
        return reply.code(204).send();
      });
      const review = (id: string) => s.sessions.find((x) => x.review?.id === id)?.review;
      const reviewBody = (id: string) => {
        const x = s.sessions.find((y) => y.review?.id === id)!;
        return { id, session: x.id, type: x.review!.type, status: x.review!.status };
      };
      app.get('/api/reviews/:id', async (req, reply) => {
        const id = (req.params as { id: string }).id;
        return review(id) ? reviewBody(id) : msg(reply, 404, 'review not found');
      });
      app.put('/api/reviews/:id', async (req, reply) => {
        const id = (req.params as { id: string }).id;
        const r = review(id);
        const to = String((req.body as { status?: unknown } | undefined)?.status ?? '').toUpperCase();
        if (!r) return msg(reply, 500, 'failed updating review status: review not found');
        if (!['APPROVED', 'REJECTED', 'REVOKED'].includes(to))
          return msg(reply, 500, 'failed updating review status: unknown status');
        if (r.status !== 'PENDING' && r.status !== 'APPROVED')
          return msg(reply, 400, 'review is in wrong state');
        if (to === 'REVOKED' && r.status !== 'APPROVED') return msg(reply, 400, 'review is in wrong state');
        if (to === 'REVOKED' && r.type !== 'jit')
          return msg(reply, 500, 'failed updating review status: review not found');
        r.status = to;
        return reviewBody(id);
      });
      const key = (nameOrID: string) =>
        [...s.apiKeys.values()].find((k) => k.id === nameOrID || k.name === nameOrID);
      const keyBody = (k: { id: string; name: string; status: string }) => ({
        id: k.id,
        org_id: '0cd7f941-2bb8-4f9f-93b0-11620d4652ab',
        name: k.name,
        masked_key: 'hpk_1nzb****',
        status: k.status,
        groups: [],
        created_by: 'admin',
        created_at: CREATED_AT,
      });
      app.get('/api/api-keys/:nameOrID', async (req, reply) => {
        const k = key((req.params as { nameOrID: string }).nameOrID);
        return k ? keyBody(k) : msg(reply, 404, 'resource not found');
      });
      app.delete('/api/api-keys/:nameOrID', async (req, reply) => {
        const k = key((req.params as { nameOrID: string }).nameOrID);
        if (!k) return msg(reply, 404, 'resource not found');
        k.status = 'revoked';
        return reply.code(204).send();
      });
      app.post('/api/api-keys/:nameOrID/reactivate', async (req, reply) => {
        const k = key((req.params as { nameOrID: string }).nameOrID);
        if (!k) return msg(reply, 404, 'resource not found');
        if (k.status === 'active') return msg(reply, 422, 'cannot reactivate an active api key');
        k.status = 'active';
        return keyBody(k);
      });
    },
  );
}

// ---------------------------------------------------------------- Slack incoming webhook
export function startFakeSlack(): Promise<FakeTarget<{ messages: string[] }>> {
  return serve<{ messages: string[] }>({ messages: [] }, (app, s) => {
    app.post('/services/T000/B000/XXXX', async (req, reply) => {
      const text = (req.body as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || !text)
        return reply.code(400).type('text/plain').send('invalid_payload');
      s.messages.push(text);
      return reply.code(200).type('text/plain').send('ok');
    });
    app.post('/services/archived', async (_req, reply) =>
      reply.code(410).type('text/plain').send('channel_is_archived'),
    );
  });
}

// ---------------------------------------------------------------- PagerDuty Events v2
export interface PagerdutyEvent {
  routing_key: string;
  event_action: string;
  dedup_key?: string;
  payload: { summary: string; source: string; severity: string };
}

export function startFakePagerduty(): Promise<FakeTarget<{ routingKey: string; events: PagerdutyEvent[] }>> {
  return serve<{ routingKey: string; events: PagerdutyEvent[] }>(
    { routingKey: 'R0UT1NGKEY', events: [] },
    (app, s) => {
      app.post('/v2/enqueue', async (req, reply) => {
        const e = (req.body ?? {}) as Partial<PagerdutyEvent>;
        const errors: string[] = [];
        if (e.routing_key !== s.routingKey) errors.push('Invalid routing key');
        if (e.event_action !== 'trigger') errors.push('event_action is invalid');
        if (!e.payload?.summary || !e.payload.source) errors.push("'payload' is invalid or missing");
        if (!['critical', 'error', 'warning', 'info'].includes(e.payload?.severity ?? ''))
          errors.push("'payload.severity' is invalid");
        if (errors.length)
          return reply
            .code(400)
            .send({ status: 'invalid event', message: 'Event object is invalid', errors });
        s.events.push(e as PagerdutyEvent);
        return reply
          .code(202)
          .send({ status: 'success', message: 'Event processed', dedup_key: e.dedup_key });
      });
    },
  );
}
