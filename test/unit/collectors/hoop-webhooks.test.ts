// POST /v1/hoop/webhooks in process (fastify inject): the Svix signature is the authentication,
// secrets rotate, stale and replayed deliveries are refused, and a delivery is remembered only once
// its event is durable.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSourceAuth } from '../../../src/collectors/auth.js';
import { registerHoopRoutes } from '../../../src/collectors/hoop/server.js';
import { createHttpServer } from '../../../src/collectors/http/server.js';
import type { Ingest } from '../../../src/collectors/ingest.js';
import { type AccessEvent, BackpressureError } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import {
  makeHoopDbRolesJobFinished,
  makeHoopSessionClose,
  makeHoopSessionOpen,
  makeHoopTeamsReviewCard,
  signHoopWebhook,
} from '../../helpers/gateway-fixtures.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const OLD = secret();
const NEW = secret();

describe('hoop.dev webhook route', () => {
  const logger = createLogger('silent');
  let app: ReturnType<typeof createHttpServer>;
  let stored: AccessEvent[];
  let failNext: boolean;
  let metrics: ReturnType<typeof createMetrics>;

  beforeEach(async () => {
    stored = [];
    failNext = false;
    const ingest: Ingest = {
      inflight: () => 0,
      async submit(events) {
        if (failNext) {
          failNext = false;
          throw new BackpressureError('pipeline saturated', 1, 'saturated');
        }
        stored.push(...events);
      },
    };
    metrics = createMetrics();
    app = createHttpServer({ logger, maxBodyBytes: 1024 * 1024 });
    registerHoopRoutes(app, {
      auth: createSourceAuth({}),
      ingest,
      tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 5) }),
      metrics,
      logger,
      maxBodyBytes: 1024 * 1024,
      webhookSecrets: [NEW, OLD],
    });
    await app.ready();
  });
  afterEach(() => app.close());

  const deliver = (body: string, headers: Record<string, string>, url = '/v1/hoop/webhooks') =>
    app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('accepts a delivery signed with any configured secret, under svix-* or webhook-* names', async () => {
    const body = JSON.stringify(makeHoopSessionOpen());
    const a = await deliver(body, signHoopWebhook(OLD, body));
    expect(a.statusCode).toBe(200);
    expect(a.json()).toEqual({ accepted: 1 });
    const body2 = JSON.stringify(makeHoopSessionOpen());
    expect((await deliver(body2, signHoopWebhook(NEW, body2, { prefix: 'webhook' }))).statusCode).toBe(200);
    expect(stored).toHaveLength(2);
    expect(stored[0]!.tenant).toBe('default');
  });

  it('answers 2xx to signed deliveries that are not session events, stores nothing, counts them', async () => {
    for (const payload of [makeHoopTeamsReviewCard(), makeHoopDbRolesJobFinished()]) {
      const body = JSON.stringify(payload);
      const r = await deliver(body, signHoopWebhook(NEW, body));
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ accepted: 0, ignored: 1 });
    }
    expect(stored).toHaveLength(0);
    expect(metrics.counter('ingest_ignored_hoop')).toBe(2);
  });

  it('stores a session.open held for review as pending, and its upstream-shaped close', async () => {
    const open = makeHoopSessionOpen({
      review: { type: 'onetime', status: 'PENDING', owner_email: 'alice@example.com' },
      script: 'DELETE FROM docs',
    });
    const body = JSON.stringify(open);
    expect((await deliver(body, signHoopWebhook(NEW, body))).json()).toEqual({ accepted: 1 });
    const close = JSON.stringify(makeHoopSessionClose({ id: open.id, exit_code: -100, exit_err: null }));
    expect((await deliver(close, signHoopWebhook(NEW, close))).json()).toEqual({ accepted: 1 });
    expect(stored.map((e) => [e.operation, e.outcome])).toEqual([
      ['delete', 'pending'],
      ['other', 'allowed'],
    ]);
  });

  it('answers 401 for missing, forged or re-bodied signatures, and for stale timestamps', async () => {
    const body = JSON.stringify(makeHoopSessionOpen());
    expect((await deliver(body, {})).statusCode).toBe(401);
    const forged = await deliver(body, signHoopWebhook(secret(), body));
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toEqual({ error: 'invalid webhook signature' });
    // The signature is over the exact bytes: the same JSON re-serialized with a space is another body.
    const tampered = await deliver(body.replace('{', '{ '), signHoopWebhook(NEW, body));
    expect(tampered.statusCode).toBe(401);
    const stale = await deliver(
      body,
      signHoopWebhook(NEW, body, { timestamp: new Date(Date.now() - 6 * 60_000) }),
    );
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error).toMatch(/stale/);
    const future = await deliver(
      body,
      signHoopWebhook(NEW, body, { timestamp: new Date(Date.now() + 6 * 60_000) }),
    );
    expect(future.statusCode).toBe(401);
    expect(stored).toHaveLength(0);
  });

  it('acknowledges a replayed message id without ingesting it again', async () => {
    const body = JSON.stringify(makeHoopSessionOpen());
    const headers = signHoopWebhook(NEW, body);
    expect((await deliver(body, headers)).json()).toEqual({ accepted: 1 });
    const again = await deliver(body, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ accepted: 0, duplicate: true });
    expect(stored).toHaveLength(1);
  });

  it('takes a retried delivery again when the first attempt was not durable', async () => {
    const body = JSON.stringify(makeHoopSessionOpen());
    const headers = signHoopWebhook(NEW, body);
    failNext = true;
    const first = await deliver(body, headers);
    expect(first.statusCode).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect((await deliver(body, headers)).json()).toEqual({ accepted: 1 });
    expect(stored).toHaveLength(1);
  });

  it('takes the tenant from X-Vigil-Tenant or ?tenant=, and refuses a malformed one', async () => {
    const body = JSON.stringify(makeHoopSessionOpen());
    await deliver(body, { ...signHoopWebhook(NEW, body), 'x-vigil-tenant': 'acme' });
    const body2 = JSON.stringify(makeHoopSessionOpen());
    await deliver(body2, signHoopWebhook(NEW, body2), '/v1/hoop/webhooks?tenant=globex');
    expect(stored.map((e) => e.tenant)).toEqual(['acme', 'globex']);
    const body3 = JSON.stringify(makeHoopSessionOpen());
    const bad = await deliver(body3, {
      ...signHoopWebhook(NEW, body3),
      'x-vigil-tenant': 'alice@example.com',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('alice');
  });

  it('answers 400 naming the field of a bad event, 200 ignored for an unmapped type', async () => {
    const bad = JSON.stringify({ ...makeHoopSessionOpen(), user_email: 42 });
    const r = await deliver(bad, signHoopWebhook(NEW, bad));
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({
      accepted: 0,
      rejected: [{ line: 1, reason: 'user_email: expected string, got number' }],
    });
    const other = JSON.stringify({ event_type: 'review.create', id: 'r1' });
    const o = await deliver(other, signHoopWebhook(NEW, other));
    expect(o.json()).toEqual({ accepted: 0, ignored: 1 });
    const notJson = '{"event_type":';
    expect((await deliver(notJson, signHoopWebhook(NEW, notJson))).statusCode).toBe(400);
  });

  it('attributes a session.close to the user of its session.open', async () => {
    const open = makeHoopSessionOpen();
    const b1 = JSON.stringify(open);
    await deliver(b1, signHoopWebhook(NEW, b1));
    const b2 = JSON.stringify(makeHoopSessionClose({ id: open.id, exit_code: 1 }));
    await deliver(b2, signHoopWebhook(NEW, b2));
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({ actor: stored[0]!.actor, actor_type: 'user', outcome: 'error' });
  });

  it('refuses to start with a secret that is not a whsec_ key', () => {
    const other = createHttpServer({ logger, maxBodyBytes: 1024 });
    const deps = {
      auth: createSourceAuth({}),
      ingest: { inflight: () => 0, submit: async () => {} },
      tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 5) }),
      metrics: createMetrics(),
      logger,
      maxBodyBytes: 1024,
    };
    expect(() => registerHoopRoutes(other, { ...deps, webhookSecrets: ['whsec_!!!'] })).toThrow(/secret #1/);
    expect(() => registerHoopRoutes(other, { ...deps, webhookSecrets: [] })).toThrow(/at least one/);
  });
});
