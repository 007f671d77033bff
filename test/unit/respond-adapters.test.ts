// Each HTTP action adapter against a local receiver speaking the product's documented shapes:
// success, the quirks (Weaviate 409, Milvus 200 + code, Pinecone token + 202, hoop's group-replacing
// PUT), and the error mapping (4xx permanent except 408/429; 5xx and network retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseSchema, type TargetConfigOf, type TargetType } from '../../src/config/index.js';
import * as hoop from '../../src/respond/actions/hoop.action.js';
import * as milvus from '../../src/respond/actions/milvus.action.js';
import * as pagerduty from '../../src/respond/actions/pagerduty.action.js';
import * as pinecone from '../../src/respond/actions/pinecone.action.js';
import * as qdrantCloud from '../../src/respond/actions/qdrant-cloud.action.js';
import * as slack from '../../src/respond/actions/slack.action.js';
import * as weaviate from '../../src/respond/actions/weaviate.action.js';
import * as webhook from '../../src/respond/actions/webhook.action.js';
import { createIncidentBook } from '../../src/respond/incidents.js';
import type { ActionJob } from '../../src/respond/jobs.js';
import {
  type FakeTarget,
  type HoopState,
  type MilvusState,
  type PineconeState,
  type QdrantCloudState,
  startFakeHoop,
  startFakeMilvus,
  startFakePagerduty,
  startFakePinecone,
  startFakeQdrantCloud,
  startFakeSlack,
  startFakeWeaviate,
  type WeaviateState,
} from '../helpers/containment-targets.js';
import { makeFinding } from '../helpers/factories.js';

const finding = makeFinding({ collection: 'hr-docs' });
const { incident } = createIncidentBook(3_600_000).upsert(finding, Date.UTC(2026, 10, 2, 10));
const job: ActionJob = {
  job_id: `${incident.incident_id}-t-enforce`,
  kind: 'weaviate',
  mode: 'enforce',
  action_index: -1,
  target: 't',
  subject: incident.actor,
  incident,
  finding,
  enqueued_time: Date.now(),
};

/** A target's configuration with its schema defaults, as a pipeline would produce it. */
function targetConfig<T extends TargetType>(raw: Record<string, unknown> & { type: T }): TargetConfigOf<T> {
  return responseSchema.parse({ targets: { t: raw } }).targets.t as TargetConfigOf<T>;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('weaviate.action', () => {
  let fake: FakeTarget<WeaviateState>;
  let target: weaviate.WeaviateTarget;
  beforeAll(async () => {
    fake = await startFakeWeaviate();
    target = { ...targetConfig({ type: 'weaviate', timeout: '2s' }), url: fake.url, apiKey: 'wv-admin' };
  });
  afterAll(() => fake.close());

  it('deactivates the user and revokes its key in one call', async () => {
    fake.state.users.set('svc-rag', { active: true, key: 'k1' });
    const r = await weaviate.execute({ target, subject: 'svc-rag', job });
    expect(r).toMatchObject({ outcome: 'succeeded', detail: 'user deactivated, API key revoked' });
    const req = fake.requests.at(-1)!;
    expect(req).toMatchObject({
      method: 'POST',
      url: '/v1/users/db/svc-rag/deactivate',
      body: { revoke_key: true },
    });
    expect(req.headers.authorization).toBe('Bearer wv-admin');
    expect(fake.state.users.get('svc-rag')).toEqual({ active: false, key: '' });
  });

  it('takes 409 (already deactivated) as done', async () => {
    const r = await weaviate.execute({ target, subject: 'svc-rag', job });
    expect(r).toMatchObject({ outcome: 'succeeded', detail: 'user was already deactivated' });
  });

  it('escapes the user id in the path', async () => {
    fake.state.users.set('a/b c', { active: true, key: 'k' });
    await weaviate.execute({ target, subject: 'a/b c', job });
    expect(fake.requests.at(-1)!.url).toBe('/v1/users/db/a%2Fb%20c/deactivate');
  });

  it('fails permanently on an unknown user (404) and on a bad admin key (401)', async () => {
    expect((await rejection(weaviate.execute({ target, subject: 'nobody', job }))).name).toBe(
      'PermanentError',
    );
    const bad = { ...target, apiKey: 'wrong' };
    const err = await rejection(weaviate.execute({ target: bad, subject: 'svc-rag', job }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('401');
  });

  it('retries 5xx, 429 and 408', async () => {
    for (const status of [500, 503, 429, 408]) {
      fake.failNext(status);
      const err = await rejection(weaviate.execute({ target, subject: 'svc-rag', job }));
      expect(err.name, String(status)).toBe('RetriableError');
    }
  });

  it('retries when the target is unreachable', async () => {
    const gone = { ...target, url: 'http://127.0.0.1:1' };
    const err = await rejection(weaviate.execute({ target: gone, subject: 'svc-rag', job }));
    expect(err.name).toBe('RetriableError');
    expect(err.message).toContain('unreachable');
  });

  it('undo activates the user and hands the caller its new key', async () => {
    const r = await weaviate.undo({ target, subject: 'svc-rag', jobId: job.job_id });
    const user = fake.state.users.get('svc-rag')!;
    expect(user.active).toBe(true);
    expect(r.secret).toBe(user.key);
    expect(r.detail).not.toContain(user.key);
    expect(fake.requests.slice(-2).map((q) => q.url)).toEqual([
      '/v1/users/db/svc-rag/activate',
      '/v1/users/db/svc-rag/rotate-key',
    ]);
  });
});

describe('milvus.action', () => {
  let fake: FakeTarget<MilvusState>;
  let target: milvus.MilvusTarget;
  beforeAll(async () => {
    fake = await startFakeMilvus();
    target = { ...targetConfig({ type: 'milvus', timeout: '2s' }), url: fake.url, token: 'root:Milvus' };
  });
  afterAll(() => fake.close());

  it('revokes every role of the user and records them for undo', async () => {
    fake.state.users.set('analyst', ['reader', 'exporter']);
    const r = await milvus.execute({ target, subject: 'analyst', job });
    expect(r).toMatchObject({ outcome: 'succeeded', state: { revoked_roles: ['reader', 'exporter'] } });
    expect(fake.state.users.get('analyst')).toEqual([]);
    expect(fake.requests.map((q) => q.url)).toEqual([
      '/v2/vectordb/users/describe',
      '/v2/vectordb/users/revoke_role',
      '/v2/vectordb/users/revoke_role',
    ]);
    expect(fake.requests[1]!.body).toEqual({ userName: 'analyst', roleName: 'reader' });
    const undone = await milvus.undo({ target, subject: 'analyst', jobId: job.job_id, state: r.state });
    expect(undone.outcome).toBe('succeeded');
    expect(fake.state.users.get('analyst')).toEqual(['reader', 'exporter']);
  });

  it('treats HTTP 200 with a non-zero code as a failure, never a success', async () => {
    const err = await rejection(milvus.execute({ target, subject: 'ghost', job }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('code 65535');
    const badAuth = await rejection(
      milvus.execute({ target: { ...target, token: 'x' }, subject: 'analyst', job }),
    );
    expect(badAuth.message).toContain('code 1800');
  });

  it('drops the user when configured to, and never root', async () => {
    fake.state.users.set('temp', []);
    const drop = { ...target, operation: 'drop' as const };
    expect((await milvus.execute({ target: drop, subject: 'temp', job })).detail).toBe('user dropped');
    expect(fake.state.users.has('temp')).toBe(false);
    expect((await milvus.execute({ target: drop, subject: 'root', job })).outcome).toBe('escalated');
    await expect(milvus.undo({ target: drop, subject: 'temp', jobId: 'j' })).rejects.toThrow(
      /cannot be restored/,
    );
  });

  it('retries 503', async () => {
    fake.failNext(503);
    expect((await rejection(milvus.execute({ target, subject: 'analyst', job }))).name).toBe(
      'RetriableError',
    );
  });
});

describe('pinecone.action', () => {
  let fake: FakeTarget<PineconeState>;
  let target: pinecone.PineconeTarget;
  beforeAll(async () => {
    fake = await startFakePinecone();
  });
  afterAll(() => fake.close());
  const fresh = (over: Record<string, unknown> = {}): pinecone.PineconeTarget => ({
    ...targetConfig({ type: 'pinecone', timeout: '2s', ...over }),
    apiUrl: fake.url,
    tokenUrl: `${fake.url}/oauth/token`,
    clientId: 'pc-client',
    clientSecret: 'pc-secret',
    tokenCache: { expiresAt: 0 },
  });

  it('gets a client-credentials token, then deletes the key (202)', async () => {
    target = fresh();
    fake.state.keys.set('key-1', { id: 'key-1', name: 'rag', project_id: 'p', roles: ['ProjectEditor'] });
    const r = await pinecone.execute({ target, subject: 'key-1', job });
    expect(r).toMatchObject({ outcome: 'succeeded', detail: 'API key deleted' });
    const [tokenReq, del] = fake.requests;
    expect(tokenReq).toMatchObject({
      url: '/oauth/token',
      body: {
        grant_type: 'client_credentials',
        client_id: 'pc-client',
        client_secret: 'pc-secret',
        audience: 'https://api.pinecone.io/',
      },
    });
    expect(del).toMatchObject({ method: 'DELETE', url: '/admin/api-keys/key-1' });
    expect(del!.headers.authorization).toBe('Bearer pc-token-1');
    expect(del!.headers['x-pinecone-api-version']).toBe('2025-04');
    expect(fake.state.keys.has('key-1')).toBe(false);
  });

  it('reuses the token until it nears expiry', async () => {
    fake.state.keys.set('key-2', { id: 'key-2', name: 'x', project_id: 'p', roles: [] });
    const before = fake.state.tokenRequests;
    await pinecone.execute({ target, subject: 'key-2', job });
    expect(fake.state.tokenRequests).toBe(before);
  });

  it('takes 404 on delete as already deleted (a retry after a lost answer)', async () => {
    expect((await pinecone.execute({ target, subject: 'key-2', job })).detail).toContain('already deleted');
  });

  it('restricts the key instead when configured, and undo restores its roles', async () => {
    const restrict = fresh({ operation: 'restrict', restricted_roles: ['ControlPlaneViewer'] });
    fake.state.keys.set('key-3', {
      id: 'key-3',
      name: 'y',
      project_id: 'p',
      roles: ['ProjectEditor', 'DataPlaneEditor'],
    });
    const r = await pinecone.execute({ target: restrict, subject: 'key-3', job });
    expect(fake.state.keys.get('key-3')!.roles).toEqual(['ControlPlaneViewer']);
    await pinecone.undo({ target: restrict, subject: 'key-3', jobId: 'j', state: r.state });
    expect(fake.state.keys.get('key-3')!.roles).toEqual(['ProjectEditor', 'DataPlaneEditor']);
  });

  it('fails permanently on bad client credentials and forgets a token the API rejects', async () => {
    const bad = { ...fresh(), clientSecret: 'nope' };
    expect((await rejection(pinecone.execute({ target: bad, subject: 'key-9', job }))).name).toBe(
      'PermanentError',
    );
    const stale = fresh();
    stale.tokenCache.token = 'pc-token-revoked';
    stale.tokenCache.expiresAt = Date.now() + 3_600_000;
    const err = await rejection(pinecone.execute({ target: stale, subject: 'key-9', job }));
    expect(err.message).toContain('401');
    expect(stale.tokenCache.token).toBeUndefined();
  });
});

describe('qdrant-cloud.action', () => {
  let fake: FakeTarget<QdrantCloudState>;
  let target: qdrantCloud.QdrantCloudTarget;
  beforeAll(async () => {
    fake = await startFakeQdrantCloud();
    target = {
      ...targetConfig({ type: 'qdrant-cloud', account_id: 'acc-1', cluster_id: 'cl-1', timeout: '2s' }),
      apiUrl: fake.url,
      apiKey: 'qc-mgmt',
    };
  });
  afterAll(() => fake.close());

  it('deletes the database API key with the management key', async () => {
    fake.state.keys.set('dbk-1', { account: 'acc-1', cluster: 'cl-1' });
    const r = await qdrantCloud.execute({ target, subject: 'dbk-1', job });
    expect(r.detail).toBe('database API key deleted');
    const req = fake.requests.at(-1)!;
    expect(req.url).toBe('/api/cluster/auth/v3/accounts/acc-1/database-api-keys/dbk-1?cluster_id=cl-1');
    expect(req.headers.authorization).toBe('apikey qc-mgmt');
    expect(fake.state.keys.size).toBe(0);
  });

  it('refuses with a wrong management key (permanent), retries 502', async () => {
    fake.state.keys.set('dbk-2', { account: 'acc-1', cluster: 'cl-1' });
    const err = await rejection(
      qdrantCloud.execute({ target: { ...target, apiKey: 'x' }, subject: 'dbk-2', job }),
    );
    expect(err.name).toBe('PermanentError');
    fake.failNext(502);
    expect((await rejection(qdrantCloud.execute({ target, subject: 'dbk-2', job }))).name).toBe(
      'RetriableError',
    );
  });
});

describe('hoop.action', () => {
  let fake: FakeTarget<HoopState>;
  let target: hoop.HoopTarget;
  beforeAll(async () => {
    fake = await startFakeHoop();
    target = {
      ...targetConfig({
        type: 'hoop',
        operations: ['deactivate_user', 'kill_sessions', 'revoke_reviews', 'revoke_api_key'],
        timeout: '2s',
      }),
      url: fake.url,
      token: 'hoop-admin',
    };
  });
  afterAll(() => fake.close());

  it('deactivates the user keeping its groups, kills open sessions, revokes live reviews and the key', async () => {
    fake.state.users.set('u1', {
      id: 'u1',
      email: 'dana@corp.test',
      name: 'Dana',
      status: 'active',
      groups: ['engineering', 'pg-rag-readers'],
      slack_id: '',
    });
    fake.state.sessions.push(
      { id: 's-open', user: 'dana@corp.test', status: 'open', review: { id: 'r-1', status: 'APPROVED' } },
      { id: 's-done', user: 'dana@corp.test', status: 'done', review: { id: 'r-2', status: 'REJECTED' } },
      { id: 's-other', user: 'eve@corp.test', status: 'open', review: null },
    );
    fake.state.reviews.set('r-1', 'APPROVED').set('r-2', 'REJECTED');
    fake.state.apiKeys.set('dana@corp.test', 'active');
    const r = await hoop.execute({ target, subject: 'dana@corp.test', job });
    expect(r.outcome).toBe('succeeded');
    expect(r.detail).toBe('user deactivated; API key revoked; 1 session(s) killed; 1 review(s) revoked');
    const user = fake.state.users.get('u1')!;
    expect(user.status).toBe('inactive');
    expect(user.groups).toEqual(['engineering', 'pg-rag-readers']);
    const put = fake.requests.find((q) => q.method === 'PUT' && q.url.startsWith('/api/users/'))!;
    expect(put.body).toMatchObject({ status: 'inactive', groups: ['engineering', 'pg-rag-readers'] });
    expect(fake.state.killed).toEqual(['s-open']);
    expect(fake.state.reviews.get('r-1')).toBe('REVOKED');
    expect(fake.state.reviews.get('r-2')).toBe('REJECTED');
    expect(fake.state.apiKeys.get('dana@corp.test')).toBe('revoked');

    const undone = await hoop.undo({ target, subject: 'dana@corp.test', jobId: 'j', state: r.state });
    expect(undone.detail).toBe('user reactivated; API key reactivated');
    expect(fake.state.users.get('u1')).toMatchObject({
      status: 'active',
      groups: ['engineering', 'pg-rag-readers'],
    });
    expect(fake.state.apiKeys.get('dana@corp.test')).toBe('active');
  });

  it('does not reactivate a user that was inactive before containment', async () => {
    fake.state.users.set('u2', {
      id: 'u2',
      email: 'old@corp.test',
      name: 'Old',
      status: 'inactive',
      groups: ['x'],
      slack_id: '',
    });
    const only = { ...target, operations: ['deactivate_user' as const] };
    const r = await hoop.execute({ target: only, subject: 'u2', job });
    expect(r.detail).toBe('user was already inactive');
    await hoop.undo({ target: only, subject: 'u2', jobId: 'j', state: r.state });
    expect(fake.state.users.get('u2')!.status).toBe('inactive');
  });

  it('sends the API key as Api-Key when configured, and maps 401 to permanent', async () => {
    const apiKeyAuth = { ...target, auth: 'api-key' as const, operations: ['deactivate_user' as const] };
    const err = await rejection(hoop.execute({ target: apiKeyAuth, subject: 'u1', job }));
    expect(fake.requests.at(-1)!.headers['api-key']).toBe('hoop-admin');
    expect(err.name).toBe('PermanentError');
  });
});

describe('slack.action', () => {
  let fake: FakeTarget<{ messages: string[] }>;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(() => fake.close());

  it('posts {text} with the incident and its sentence (tokens only)', async () => {
    const target = { ...targetConfig({ type: 'slack' }), url: `${fake.url}/services/T000/B000/XXXX` };
    await slack.execute({ target, subject: incident.actor, job });
    expect(fake.state.messages).toHaveLength(1);
    expect(fake.state.messages[0]).toContain(incident.incident_id);
    expect(fake.state.messages[0]).toContain(finding.sentence);
  });

  it("treats Slack's 410 channel_is_archived as final", async () => {
    const target = { ...targetConfig({ type: 'slack' }), url: `${fake.url}/services/archived` };
    const err = await rejection(slack.execute({ target, subject: incident.actor, job }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('channel_is_archived');
  });
});

describe('pagerduty.action', () => {
  let fake: FakeTarget<{
    routingKey: string;
    events: Array<{ dedup_key?: string; payload: { severity: string } }>;
  }>;
  beforeAll(async () => {
    fake = await startFakePagerduty();
  });
  afterAll(() => fake.close());

  it('enqueues a trigger deduplicated by the incident id (202)', async () => {
    const target = { ...targetConfig({ type: 'pagerduty' }), apiUrl: fake.url, routingKey: 'R0UT1NGKEY' };
    await pagerduty.execute({ target, subject: incident.actor, job });
    expect(fake.state.events).toHaveLength(1);
    expect(fake.state.events[0]).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: incident.incident_id,
      payload: { source: 'vigil', severity: 'critical' },
    });
  });

  it('fails permanently on an invalid event (400) and retries 429', async () => {
    const target = { ...targetConfig({ type: 'pagerduty' }), apiUrl: fake.url, routingKey: 'wrong' };
    const err = await rejection(pagerduty.execute({ target, subject: incident.actor, job }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('Invalid routing key');
    fake.failNext(429);
    const ok = { ...target, routingKey: 'R0UT1NGKEY' };
    expect((await rejection(pagerduty.execute({ target: ok, subject: incident.actor, job }))).name).toBe(
      'RetriableError',
    );
  });
});

describe('webhook.action', () => {
  it('marks 410 Gone with its status so the responder can disable the endpoint', async () => {
    const fake = await startFakeSlack();
    try {
      const target = {
        url: `${fake.url}/services/archived`,
        secrets: [`whsec_${Buffer.alloc(32, 1).toString('base64')}`],
        timeoutMs: 2000,
      };
      const err = await rejection(webhook.execute({ target, subject: incident.actor, job }));
      expect(err.name).toBe('PermanentError');
      expect((err as Error & { status?: number }).status).toBe(410);
    } finally {
      await fake.close();
    }
  });
});
