// hoop.dev and Teleport collectors over real HTTP into the real store: Svix-signed webhooks (forged,
// stale and replayed deliveries refused), Teleport NDJSON batches, and the hoop.dev sessions poller
// against a local stand-in for its sessions API (a SaaS we do not run; the mock serves the
// documented shapes). Raw identifiers must never reach a stored row.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hoopListItem,
  makeHoopApiSession,
  makeHoopSessionClose,
  makeHoopSessionOpen,
  makeTeleportAppRequest,
  makeTeleportQuery,
  makeTeleportStart,
  signHoopWebhook,
} from '../helpers/gateway-fixtures.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const HOOP_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_HOOP_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const HOOP_API_TOKEN = `xapi-${randomBytes(12).toString('hex')}`;
const TELEPORT_TOKEN = `teleport-${randomBytes(12).toString('hex')}`;
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;

interface StoredRow {
  event_id: string;
  source: string;
  actor: string;
  actor_type: string;
  credential: string;
  session: string;
  src_ip: string;
  system: string;
  operation: string;
  collection: string;
  top_k: number;
  outcome: string;
  error_type: string;
  review: boolean;
  blocked: boolean;
  masked: boolean;
  attributes: Record<string, string>;
}

/**
 * The hoop.dev sessions API as hoophq/hoop@e939597 serves it (gateway/api/apiroutes/auth.go,
 * gateway/api/session/session.go): a legacy `xapi-` key only in `Api-Key`; the list newest first
 * within start_date…end_date, `script` and `ai_analysis` blank; `GET /api/sessions/{id}` whole.
 */
async function startSessionsApi(
  sessions: Array<Record<string, unknown>>,
): Promise<{ url: string; app: FastifyInstance; calls: () => number }> {
  const app = Fastify({ logger: false });
  let calls = 0;
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers['api-key'] !== HOOP_API_TOKEN) return reply.code(401).send({ message: 'unauthorized' });
  });
  app.get('/api/sessions', async (req) => {
    calls++;
    const q = req.query as { start_date?: string; end_date?: string; limit?: string; offset?: string };
    const since = q.start_date ? Math.floor(Date.parse(q.start_date) / 1000) * 1000 : 0;
    const until = q.end_date ? Math.floor(Date.parse(q.end_date) / 1000) * 1000 : Number.POSITIVE_INFINITY;
    const limit = Math.min(Number(q.limit ?? 100), 100);
    const offset = Number(q.offset ?? 0);
    const matching = sessions
      .filter(
        (s) => Date.parse(s.start_date as string) >= since && Date.parse(s.start_date as string) <= until,
      )
      .sort((a, b) => Date.parse(b.start_date as string) - Date.parse(a.start_date as string));
    return {
      data: matching.slice(offset, offset + limit).map(hoopListItem),
      total: matching.length,
      has_next_page: offset + limit < matching.length,
    };
  });
  app.get('/api/sessions/:id', async (req, reply) => {
    const s = sessions.find((x) => x.id === (req.params as { id: string }).id);
    return s ?? reply.code(404).send({ message: 'not found' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, app, calls: () => calls };
}

describe('gateway collectors (hoop.dev, Teleport)', () => {
  let v: TestVigil;
  let sessionsApi: Awaited<ReturnType<typeof startSessionsApi>>;
  const apiSessions = [
    makeHoopApiSession({ review: { type: 'onetime', status: 'APPROVED', review_groups_data: [] } }),
    makeHoopApiSession({
      identity_type: 'machine',
      user: 'etl-bot@example.com',
      guardrails_info: [{ rule_name: 'deny-bulk-read', direction: 'input', matched_words: ['LIMIT 100000'] }],
      ai_analysis: { risk_level: 'high', action: 'block' },
    }),
    makeHoopApiSession({
      metrics: { data_masking: { total_redact_count: 12, info_types: { EMAIL_ADDRESS: 12 } } },
    }),
  ];

  beforeAll(async () => {
    sessionsApi = await startSessionsApi(apiSessions);
    v = await startTestVigil({
      env: {
        // Rotation: both secrets are accepted.
        VIGIL_HOOP_WEBHOOK_SECRET: `${HOOP_SECRET}, ${OLD_HOOP_SECRET}`,
        VIGIL_HOOP_API_URL: sessionsApi.url,
        VIGIL_HOOP_API_TOKEN: HOOP_API_TOKEN,
        VIGIL_SOURCE_TOKEN_TELEPORT: TELEPORT_TOKEN,
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
      },
    });
  });
  afterAll(async () => {
    await v?.stop();
    await sessionsApi?.app.close();
  });

  async function rows(tenant: string): Promise<StoredRow[]> {
    const stored = await v.app.store.client.query<StoredRow>(
      `SELECT * EXCEPT (time, observed_time, stored_time) FROM events FINAL WHERE tenant = {t:String} ORDER BY event_id`,
      { t: tenant },
    );
    return stored.map((r) => ({ ...r, top_k: Number(r.top_k) }));
  }

  async function rawRows(tenant: string): Promise<string> {
    const { body } = await v.app.store.client.exec('SELECT * FROM events WHERE tenant = {t:String}', {
      format: 'JSONEachRow',
      params: { t: tenant },
    });
    return body.toString('utf8');
  }

  const hoop = (body: string, headers: Record<string, string>, tenant?: string) =>
    fetch(`${v.app.collectorUrl}/v1/hoop/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(tenant ? { 'x-vigil-tenant': tenant } : {}),
        ...headers,
      },
      body,
    });

  const teleport = (body: string | Buffer, headers: Record<string, string> = {}, tenant?: string) =>
    fetch(`${v.app.collectorUrl}/v1/teleport/events${tenant ? `?tenant=${tenant}` : ''}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TELEPORT_TOKEN}`,
        'content-type': 'application/x-ndjson',
        ...headers,
      },
      body,
    });

  describe('hoop.dev webhooks', () => {
    it('stores a Svix-signed session.open with a tokenized actor, and its session.close', async () => {
      const tenant = uniqueName('hoop');
      const open = makeHoopSessionOpen();
      const body = JSON.stringify(open);
      const res = await hoop(body, signHoopWebhook(HOOP_SECRET, body), tenant);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 1 });
      const closeBody = JSON.stringify(makeHoopSessionClose({ id: open.id, exit_code: 1 }));
      // Signed with the older secret of a rotation.
      expect((await hoop(closeBody, signHoopWebhook(OLD_HOOP_SECRET, closeBody), tenant)).status).toBe(200);

      const stored = await rows(tenant);
      expect(stored).toHaveLength(2);
      const [openRow, closeRow] = [
        stored.find((r) => r.operation === 'search')!,
        stored.find((r) => r.operation === 'other')!,
      ];
      expect(openRow).toMatchObject({
        source: 'hoop',
        system: 'pgvector',
        collection: 'docs',
        top_k: 5,
        actor_type: 'user',
      });
      expect(openRow.actor).toMatch(/^usr_k1_/);
      expect(openRow.session).toMatch(/^ses_k1_/);
      expect(closeRow).toMatchObject({ actor: openRow.actor, outcome: 'error', error_type: 'exit_code_1' });
      const raw = await rawRows(tenant);
      expect(raw).not.toContain('alice@example.com');
      expect(raw).not.toContain('google-oauth2');
      expect(raw).not.toContain('embedding');
    });

    it('refuses a forged signature, a stale timestamp and a replayed message', async () => {
      const tenant = uniqueName('hoop-refused');
      const body = JSON.stringify(makeHoopSessionOpen());
      const forged = await hoop(
        body,
        signHoopWebhook(`whsec_${randomBytes(32).toString('base64')}`, body),
        tenant,
      );
      expect(forged.status).toBe(401);
      const unsigned = await hoop(body, {}, tenant);
      expect(unsigned.status).toBe(401);
      const stale = await hoop(
        body,
        signHoopWebhook(HOOP_SECRET, body, { timestamp: new Date(Date.now() - 10 * 60_000) }),
        tenant,
      );
      expect(stale.status).toBe(401);
      expect(((await stale.json()) as { error: string }).error).toMatch(/stale/);
      expect(await rows(tenant)).toHaveLength(0);

      const headers = signHoopWebhook(HOOP_SECRET, body);
      expect((await hoop(body, headers, tenant)).status).toBe(200);
      const replay = await hoop(body, headers, tenant);
      // Documented choice: acknowledged (so Svix stops retrying) and not ingested again.
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ accepted: 0, duplicate: true });
      const stored = await rawRows(tenant);
      expect(stored.trim().split('\n')).toHaveLength(1);
    });

    it('answers 400 naming the field, never echoing the value', async () => {
      const body = JSON.stringify({ ...makeHoopSessionOpen(), user_email: ['mallory@example.com'] });
      const res = await hoop(body, signHoopWebhook(HOOP_SECRET, body), uniqueName('hoop-bad'));
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain('user_email');
      expect(text).not.toContain('mallory');
    });
  });

  describe('Teleport audit events', () => {
    it('maps a batch of database and application-access events', async () => {
      const tenant = uniqueName('teleport');
      const lines = [
        makeTeleportStart({ denied: true, user: 'eve@example.com' }),
        makeTeleportStart(),
        makeTeleportQuery(),
        makeTeleportQuery({ db_query: 'SELECT * FROM orders WHERE id = 4' }),
        makeTeleportAppRequest({ path: '/collections/support/points/scroll' }),
        makeTeleportAppRequest({
          app_name: 'weaviate',
          method: 'DELETE',
          path: '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303',
        }),
        makeTeleportAppRequest({
          app_name: 'milvus',
          path: '/v2/vectordb/entities/search',
          status_code: 403,
        }),
        {
          event: 'user.login',
          code: 'T1000I',
          uid: 'x',
          time: new Date().toISOString(),
          user: 'frank@example.com',
        },
      ];
      const res = await teleport(lines.map((l) => JSON.stringify(l)).join('\n'), {}, tenant);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 8, ignored: 0, rejected: [], rejected_count: 0 });

      const stored = await rows(tenant);
      const shape = stored
        .map((r) => `${r.system} ${r.operation} ${r.collection || '-'} ${r.outcome}`)
        .sort();
      expect(shape).toEqual(
        [
          'postgres auth - denied',
          'postgres auth - allowed',
          'pgvector search docs allowed',
          'postgres fetch orders allowed',
          'qdrant scroll support allowed',
          'weaviate delete Article allowed',
          'milvus search - denied',
          // A login is an auth decision of Teleport itself.
          'teleport auth - allowed',
        ].sort(),
      );
      expect(stored.every((r) => r.source === 'teleport')).toBe(true);
      expect(stored.find((r) => r.operation === 'search' && r.system === 'pgvector')).toMatchObject({
        top_k: 10,
        credential: expect.stringMatching(/^key_k1_/),
      });
      // Upstream's db.session.start carries no client address (lib/srv/db/common/audit.go).
      expect(stored.find((r) => r.system === 'postgres' && r.operation === 'auth')!.src_ip).toBe('');
      expect(stored[0]!.attributes['teleport.cluster']).toBe('teleport.example.com');
      const raw = await rawRows(tenant);
      for (const secret of ['alice@example.com', 'eve@example.com', 'frank@example.com', 'rds.amazonaws.com'])
        expect(raw).not.toContain(secret);
    });

    it('answers 401 without a token and 403 with another source’s token', async () => {
      const line = JSON.stringify(makeTeleportQuery());
      expect((await teleport(line, { authorization: '' })).status).toBe(401);
      expect((await teleport(line, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await teleport(line, { authorization: `Bearer ${v.app.sourceToken}` })).status).toBe(403);
      expect((await teleport(line, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(403);
    });

    it('keeps the good lines of a partly bad batch, naming each bad line', async () => {
      const tenant = uniqueName('teleport-partial');
      const lines = [
        JSON.stringify(makeTeleportQuery()),
        '{"event": "db.session.query", ',
        JSON.stringify({ ...makeTeleportQuery(), user: undefined }),
        '',
        JSON.stringify(makeTeleportAppRequest()),
        JSON.stringify({ ...makeTeleportQuery(), time: 'grace@example.com' }),
      ];
      const res = await teleport(lines.join('\n'), {}, tenant);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        accepted: number;
        rejected: Array<{ line: number; reason: string }>;
      };
      expect(body.accepted).toBe(2);
      expect(body.rejected.map((r) => r.line)).toEqual([2, 3, 6]);
      expect(body.rejected[0]!.reason).toBe('invalid JSON');
      expect(body.rejected[1]!.reason).toBe('user: is required');
      expect(JSON.stringify(body)).not.toContain('grace');
      expect(await rows(tenant)).toHaveLength(2);
      const none = await teleport('{"event":"db.session.query"}\n', {}, tenant);
      expect(none.status).toBe(400);
    });

    it('accepts a gzip JSON array and deduplicates a resent batch by uid', async () => {
      const tenant = uniqueName('teleport-gzip');
      const batch = JSON.stringify([makeTeleportQuery(), makeTeleportAppRequest()]);
      const send = () =>
        teleport(gzipSync(batch), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, tenant);
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      expect(await rows(tenant)).toHaveLength(2);
    });
  });

  describe('hoop.dev sessions poller', () => {
    it('maps review, guardrails and masking from the sessions API', async () => {
      // The poller runs in the `default` tenant of this vigil; its first poll starts with vigil.
      const stored = await waitFor(
        async () => (await rows('default')).filter((r) => r.source === 'hoop'),
        (r) => r.length === apiSessions.length,
        { timeoutMs: 15_000, what: 'polled hoop.dev sessions' },
      );
      expect(sessionsApi.calls()).toBeGreaterThan(0);
      const reviewed = stored.find((r) => r.review)!;
      expect(reviewed).toMatchObject({
        outcome: 'allowed',
        blocked: false,
        system: 'pgvector',
        operation: 'search',
      });
      const blocked = stored.find((r) => r.blocked)!;
      expect(blocked).toMatchObject({ outcome: 'denied', actor_type: 'service', error_type: 'guardrail' });
      expect(blocked.actor).toMatch(/^svc_k1_/);
      expect(blocked.attributes['hoop.ai_risk']).toBe('high');
      const masked = stored.find((r) => r.masked)!;
      expect(masked.attributes['hoop.redact_count']).toBe('12');
      const raw = await rawRows('default');
      for (const secret of ['bob@example.com', 'etl-bot@example.com', 'LIMIT 100000'])
        expect(raw).not.toContain(secret);
    });
  });
});
