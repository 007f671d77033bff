// Local stand-ins for the containment and notification targets, answering with the request and
// response shapes, error bodies and quirks the products document (REFERENCE.md "Containment
// endpoints", "hoop.dev"): Weaviate's 409 for an already deactivated user, Milvus's HTTP 200 with
// a non-zero `code`, Pinecone's token endpoint and 202 on delete, hoop's PUT that replaces a
// user's groups, PagerDuty's 202. Each keeps the requests it saw and can be told to fail.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

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
    app.post('/v2/vectordb/users/drop', async (req, reply) => {
      const { userName = '' } = body(req);
      if (userName === 'root') return err(reply, 1100, 'root user cannot be deleted');
      s.users.delete(userName);
      return { code: 0, data: {} };
    });
  });
}

// ---------------------------------------------------------------- Pinecone (token + admin API)
export interface PineconeState {
  clientId: string;
  clientSecret: string;
  issued: Set<string>;
  tokenRequests: number;
  keys: Map<string, { id: string; name: string; project_id: string; roles: string[] }>;
}

export function startFakePinecone(): Promise<FakeTarget<PineconeState>> {
  return serve<PineconeState>(
    {
      clientId: 'pc-client',
      clientSecret: 'pc-secret',
      issued: new Set(),
      tokenRequests: 0,
      keys: new Map(),
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
        return key(req, reply);
      });
      app.delete('/admin/api-keys/:id', async (req, reply) => {
        if (!guard(req, reply)) return;
        const k = key(req, reply);
        if (!k) return;
        s.keys.delete(k.id);
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
        return k;
      });
    },
  );
}

// ---------------------------------------------------------------- Qdrant Cloud
export interface QdrantCloudState {
  managementKey: string;
  keys: Map<string, { account: string; cluster: string }>;
}

export function startFakeQdrantCloud(): Promise<FakeTarget<QdrantCloudState>> {
  return serve<QdrantCloudState>({ managementKey: 'qc-mgmt', keys: new Map() }, (app, s) => {
    app.delete('/api/cluster/auth/v3/accounts/:account/database-api-keys/:key', async (req, reply) => {
      if (req.headers.authorization !== `apikey ${s.managementKey}`)
        return reply.code(401).send({ detail: 'Invalid management key' });
      const { account, key } = req.params as { account: string; key: string };
      const k = s.keys.get(key);
      if (!k || k.account !== account) return reply.code(404).send({ detail: 'API key not found' });
      const cluster = (req.query as { cluster_id?: string }).cluster_id;
      if (cluster && cluster !== k.cluster)
        return reply.code(404).send({ detail: 'API key not found in cluster' });
      s.keys.delete(key);
      return reply.code(200).send({});
    });
  });
}

// ---------------------------------------------------------------- hoop.dev
export interface HoopUser {
  id: string;
  email: string;
  name: string;
  status: 'active' | 'inactive' | 'invited';
  groups: string[];
  slack_id: string;
}

export interface HoopState {
  token: string;
  users: Map<string, HoopUser>;
  sessions: Array<{
    id: string;
    user: string;
    status: string;
    review: { id: string; status: string } | null;
  }>;
  killed: string[];
  reviews: Map<string, string>;
  apiKeys: Map<string, 'active' | 'revoked'>;
}

export function startFakeHoop(): Promise<FakeTarget<HoopState>> {
  return serve<HoopState>(
    {
      token: 'hoop-admin',
      users: new Map(),
      sessions: [],
      killed: [],
      reviews: new Map(),
      apiKeys: new Map(),
    },
    (app, s) => {
      app.addHook('preHandler', async (req, reply) => {
        if (bearer(req) !== s.token) return reply.code(401).send({ message: 'unauthorized' });
      });
      const find = (idOrEmail: string) =>
        [...s.users.values()].find((u) => u.id === idOrEmail || u.email === idOrEmail);
      app.get('/api/users/:id', async (req, reply) => {
        const u = find((req.params as { id: string }).id);
        return u ?? reply.code(404).send({ message: 'user not found' });
      });
      // The PUT replaces the user: groups absent from the body are removed (hoop's documented behaviour).
      app.put('/api/users/:id', async (req, reply) => {
        const u = find((req.params as { id: string }).id);
        if (!u) return reply.code(404).send({ message: 'user not found' });
        const b = (req.body ?? {}) as Partial<HoopUser>;
        u.status = (b.status as HoopUser['status']) ?? u.status;
        u.groups = Array.isArray(b.groups) ? b.groups : [];
        u.name = b.name ?? u.name;
        return u;
      });
      app.get('/api/sessions', async (req) => {
        const user = (req.query as { user?: string }).user;
        const data = s.sessions.filter((x) => !user || x.user === user);
        return { data, has_next_page: false, total: data.length };
      });
      app.post('/api/sessions/:sid/kill', async (req, reply) => {
        const sid = (req.params as { sid: string }).sid;
        const session = s.sessions.find((x) => x.id === sid);
        if (!session) return reply.code(404).send({ message: 'session not found' });
        session.status = 'done';
        s.killed.push(sid);
        return reply.code(200).send({});
      });
      app.put('/api/reviews/:id', async (req, reply) => {
        const id = (req.params as { id: string }).id;
        if (!s.reviews.has(id)) return reply.code(404).send({ message: 'review not found' });
        const status = (req.body as { status?: string } | undefined)?.status;
        if (status !== 'REVOKED' && status !== 'APPROVED' && status !== 'REJECTED')
          return reply.code(422).send({ message: 'invalid status' });
        s.reviews.set(id, status);
        for (const x of s.sessions) if (x.review?.id === id) x.review.status = status;
        return { id, status };
      });
      app.delete('/api/api-keys/:name', async (req, reply) => {
        const name = (req.params as { name: string }).name;
        if (!s.apiKeys.has(name)) return reply.code(404).send({ message: 'api key not found' });
        s.apiKeys.set(name, 'revoked');
        return reply.code(204).send();
      });
      app.post('/api/api-keys/:name/reactivate', async (req, reply) => {
        const name = (req.params as { name: string }).name;
        if (!s.apiKeys.has(name)) return reply.code(404).send({ message: 'api key not found' });
        s.apiKeys.set(name, 'active');
        return reply.code(200).send({ name, status: 'active' });
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
