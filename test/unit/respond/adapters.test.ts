// Each HTTP action adapter against a local receiver speaking the product's documented shapes:
// success, the quirks (Weaviate 409, Milvus 200 + code, Pinecone token + 202, hoop's group-replacing
// PUT), and the error mapping (4xx permanent except 408/429; 5xx and network retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseSchema, type TargetConfigOf, type TargetType } from '../../../src/config/index.js';
import * as hoop from '../../../src/respond/actions/hoop.action.js';
import * as milvus from '../../../src/respond/actions/milvus.action.js';
import * as pagerduty from '../../../src/respond/actions/pagerduty.action.js';
import * as pinecone from '../../../src/respond/actions/pinecone.action.js';
import * as qdrantCloud from '../../../src/respond/actions/qdrant-cloud.action.js';
import * as slack from '../../../src/respond/actions/slack.action.js';
import * as weaviate from '../../../src/respond/actions/weaviate.action.js';
import * as webhook from '../../../src/respond/actions/webhook.action.js';
import { createIncidentBook } from '../../../src/respond/incidents.js';
import type { ActionJob } from '../../../src/respond/jobs.js';
import {
  type FakeTarget,
  type HoopState,
  type HoopUser,
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
} from '../../helpers/containment-targets.js';
import { makeFinding } from '../../helpers/factories.js';

const finding = makeFinding({ collection: 'hr-docs' });
const { incident } = createIncidentBook(3_600_000).upsert(finding, Date.UTC(2026, 10, 2, 10));
const job: ActionJob = {
  job_id: `${incident.incident_id}-t-enforce`,
  kind: 'weaviate',
  mode: 'enforce',
  target: 't',
  subject: incident.actor,
  incident,
  finding,
  enqueued_time: Date.now(),
};
/** What the responder adds to every call: the subject's token (for messages) and the attempt. */
const ctx = { job, subjectRef: 'usr_k1_subject', attempt: 1 };
const retry = { ...ctx, attempt: 2 };

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
    const r = await weaviate.execute({ target, subject: 'svc-rag', ...ctx });
    expect(r).toMatchObject({
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: 'user deactivated, API key revoked; read back inactive',
    });
    const req = fake.requests.find((q) => q.method === 'POST')!;
    expect(req).toMatchObject({
      method: 'POST',
      url: '/v1/users/db/svc-rag/deactivate',
      body: { revoke_key: true },
    });
    expect(req.headers.authorization).toBe('Bearer wv-admin');
    expect(fake.state.users.get('svc-rag')).toEqual({ active: false, key: '' });
  });

  it('takes 409 (already deactivated) as done', async () => {
    const r = await weaviate.execute({ target, subject: 'svc-rag', ...ctx });
    expect(r).toMatchObject({
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: 'user was already deactivated; read back inactive',
    });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', url: '/v1/users/db/svc-rag' });
  });

  it('escapes the user id in the path', async () => {
    fake.state.users.set('a/b c', { active: true, key: 'k' });
    await weaviate.execute({ target, subject: 'a/b c', ...ctx });
    expect(fake.requests.at(-2)!.url).toBe('/v1/users/db/a%2Fb%20c/deactivate');
  });

  it('fails permanently on an unknown user (404) and on a bad admin key (401)', async () => {
    expect((await rejection(weaviate.execute({ target, subject: 'nobody', ...ctx }))).name).toBe(
      'PermanentError',
    );
    const bad = { ...target, apiKey: 'wrong' };
    const err = await rejection(weaviate.execute({ target: bad, subject: 'svc-rag', ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('401');
  });

  it('retries 5xx, 429 and 408', async () => {
    for (const status of [500, 503, 429, 408]) {
      fake.failNext(status);
      const err = await rejection(weaviate.execute({ target, subject: 'svc-rag', ...ctx }));
      expect(err.name, String(status)).toBe('RetriableError');
    }
  });

  it('retries when the target is unreachable', async () => {
    const gone = { ...target, url: 'http://127.0.0.1:1' };
    const err = await rejection(weaviate.execute({ target: gone, subject: 'svc-rag', ...ctx }));
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
    const r = await milvus.execute({ target, subject: 'analyst', ...ctx });
    expect(r).toMatchObject({ outcome: 'succeeded', state: { revoked_roles: ['reader', 'exporter'] } });
    expect(fake.state.users.get('analyst')).toEqual([]);
    expect(fake.requests.map((q) => q.url)).toEqual([
      '/v2/vectordb/users/describe',
      '/v2/vectordb/users/revoke_role',
      '/v2/vectordb/users/revoke_role',
      '/v2/vectordb/users/describe',
    ]);
    expect(r.confirmation).toBe('confirmed');
    expect(fake.requests[1]!.body).toEqual({ userName: 'analyst', roleName: 'reader' });
    const undone = await milvus.undo({ target, subject: 'analyst', jobId: job.job_id, state: r.state });
    expect(undone.outcome).toBe('succeeded');
    expect(fake.state.users.get('analyst')).toEqual(['reader', 'exporter']);
  });

  it('treats HTTP 200 with a non-zero code as a failure, never a success', async () => {
    const err = await rejection(milvus.execute({ target, subject: 'ghost', ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('code 65535');
    const badAuth = await rejection(
      milvus.execute({ target: { ...target, token: 'x' }, subject: 'analyst', ...ctx }),
    );
    expect(badAuth.message).toContain('code 1800');
  });

  it('drops the user when configured to, and never root', async () => {
    fake.state.users.set('temp', []);
    const drop = { ...target, operation: 'drop' as const };
    expect(await milvus.execute({ target: drop, subject: 'temp', ...ctx })).toMatchObject({
      confirmation: 'confirmed',
      detail: 'user dropped; absent from users/list',
    });
    expect(fake.state.users.has('temp')).toBe(false);
    // A user Milvus does not list is a wrong subject on the first attempt, never "already dropped".
    const err = await rejection(milvus.execute({ target: drop, subject: 'temp', ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toBe('milvus drop user: no such user <usr_k1_subject>');
    expect((await milvus.execute({ target: drop, subject: 'temp', ...retry })).confirmation).toBe(
      'confirmed',
    );
    expect((await milvus.execute({ target: drop, subject: 'root', ...ctx })).outcome).toBe('escalated');
    await expect(milvus.undo({ target: drop, subject: 'temp', jobId: 'j' })).rejects.toThrow(
      /cannot be restored/,
    );
  });

  it('retries 503', async () => {
    fake.failNext(503);
    expect((await rejection(milvus.execute({ target, subject: 'analyst', ...ctx }))).name).toBe(
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
    const r = await pinecone.execute({ target, subject: 'key-1', ...ctx });
    expect(r).toMatchObject({
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: 'API key deleted; reading it back answers 404',
    });
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
    await pinecone.execute({ target, subject: 'key-2', ...ctx });
    expect(fake.state.tokenRequests).toBe(before);
  });

  it('fails on a key Pinecone does not know on the first attempt, naming the subject by its token', async () => {
    const err = await rejection(pinecone.execute({ target, subject: 'key-2', ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toBe('pinecone delete api key: no such API key <usr_k1_subject>');
  });

  it('takes 404 on a retry as the earlier attempt having deleted it, confirmed by reading back', async () => {
    const r = await pinecone.execute({ target, subject: 'key-2', ...retry });
    expect(r).toMatchObject({ confirmation: 'confirmed' });
    expect(r.detail).toContain('an earlier attempt deleted it');
  });

  it('retries while the accepted deletion has not happened yet, then confirms it', async () => {
    fake.state.keys.set('key-4', { id: 'key-4', name: 'z', project_id: 'p', roles: [] });
    fake.state.readsBeforeDeleted = 1;
    try {
      const err = await rejection(pinecone.execute({ target, subject: 'key-4', ...ctx }));
      expect(err.name).toBe('RetriableError');
      expect(err.message).toBe(
        'pinecone delete api key: accepted, but reading back <usr_k1_subject> still finds the key',
      );
      expect((await pinecone.execute({ target, subject: 'key-4', ...retry })).confirmation).toBe('confirmed');
    } finally {
      fake.state.readsBeforeDeleted = 0;
    }
  });

  it('restricts the key instead when configured, and undo restores its roles', async () => {
    const restrict = fresh({ operation: 'restrict', restricted_roles: ['ControlPlaneViewer'] });
    fake.state.keys.set('key-3', {
      id: 'key-3',
      name: 'y',
      project_id: 'p',
      roles: ['ProjectEditor', 'DataPlaneEditor'],
    });
    const r = await pinecone.execute({ target: restrict, subject: 'key-3', ...ctx });
    expect(r.confirmation).toBe('confirmed');
    expect(fake.state.keys.get('key-3')!.roles).toEqual(['ControlPlaneViewer']);
    await pinecone.undo({ target: restrict, subject: 'key-3', jobId: 'j', state: r.state });
    expect(fake.state.keys.get('key-3')!.roles).toEqual(['ProjectEditor', 'DataPlaneEditor']);
  });

  it('fails permanently on bad client credentials and forgets a token the API rejects', async () => {
    const bad = { ...fresh(), clientSecret: 'nope' };
    expect((await rejection(pinecone.execute({ target: bad, subject: 'key-9', ...ctx }))).name).toBe(
      'PermanentError',
    );
    const stale = fresh();
    stale.tokenCache.token = 'pc-token-revoked';
    stale.tokenCache.expiresAt = Date.now() + 3_600_000;
    const err = await rejection(pinecone.execute({ target: stale, subject: 'key-9', ...ctx }));
    expect(err.message).toContain('401');
    expect(stale.tokenCache.token).toBeUndefined();
  });
});

describe('qdrant-cloud.action', () => {
  const ACCOUNT = '6f1d2b7e-0c4a-4f63-9d55-1b2a3c4d5e6f';
  const CLUSTER = '0e9b8a7c-6d5e-4f3a-8b2c-1d0e9f8a7b6c';
  const KEY_1 = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
  const KEY_2 = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
  let fake: FakeTarget<QdrantCloudState>;
  let target: qdrantCloud.QdrantCloudTarget;
  beforeAll(async () => {
    fake = await startFakeQdrantCloud();
    target = {
      ...targetConfig({ type: 'qdrant-cloud', account_id: ACCOUNT, cluster_id: CLUSTER, timeout: '2s' }),
      apiUrl: fake.url,
      apiKey: 'qc-mgmt',
    };
  });
  afterAll(() => fake.close());

  it('deletes the key on the v2 path with the cluster id, and confirms it left the key list', async () => {
    fake.state.keys.set(KEY_1, { accountId: ACCOUNT, clusterId: CLUSTER, name: 'rag-reader' });
    const r = await qdrantCloud.execute({ target, subject: KEY_1, ...ctx });
    expect(r).toMatchObject({
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: 'database API key deleted; absent from the cluster key list',
    });
    const [del, list] = fake.requests.slice(-2);
    expect(del).toMatchObject({
      method: 'DELETE',
      url: `/api/cluster/auth/v2/accounts/${ACCOUNT}/database-api-keys/${KEY_1}?clusterId=${CLUSTER}`,
    });
    expect(del!.headers.authorization).toBe('apikey qc-mgmt');
    expect(list).toMatchObject({
      method: 'GET',
      url: `/api/cluster/auth/v2/accounts/${ACCOUNT}/database-api-keys?clusterId=${CLUSTER}`,
    });
    expect(fake.state.keys.size).toBe(0);
  });

  it('fails on a key the cluster does not have on the first attempt: a wrong subject is not a containment', async () => {
    const err = await rejection(qdrantCloud.execute({ target, subject: KEY_1, ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toBe('qdrant cloud delete api key: no such database API key <usr_k1_subject>');
    // On a retry the earlier attempt may have deleted it: the key list decides.
    const r = await qdrantCloud.execute({ target, subject: KEY_1, ...retry });
    expect(r.confirmation).toBe('confirmed');
    expect(r.detail).toContain('an earlier attempt deleted it');
  });

  it('refuses a subject that is not a key id without calling the API', async () => {
    const before = fake.requests.length;
    const err = await rejection(qdrantCloud.execute({ target, subject: 'dana@corp.test', ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).not.toContain('dana');
    expect(fake.requests.length).toBe(before);
  });

  it('refuses with a wrong management key (permanent), retries 502', async () => {
    fake.state.keys.set(KEY_2, { accountId: ACCOUNT, clusterId: CLUSTER, name: 'rag-writer' });
    const err = await rejection(
      qdrantCloud.execute({ target: { ...target, apiKey: 'x' }, subject: KEY_2, ...ctx }),
    );
    expect(err.name).toBe('PermanentError');
    fake.failNext(502);
    expect((await rejection(qdrantCloud.execute({ target, subject: KEY_2, ...ctx }))).name).toBe(
      'RetriableError',
    );
  });

  it('config: account and cluster ids are required UUIDs', () => {
    expect(() => targetConfig({ type: 'qdrant-cloud', account_id: ACCOUNT })).toThrow(/cluster_id/);
    expect(() => targetConfig({ type: 'qdrant-cloud', account_id: ACCOUNT, cluster_id: 'prod' })).toThrow(
      /must be the cluster id \(a UUID\)/,
    );
  });
});

describe('hoop.action', () => {
  let fake: FakeTarget<HoopState>;
  let target: hoop.HoopTarget;
  const dana = (): HoopUser => ({
    id: 'auth0|5f2b9c',
    name: 'Dana',
    email: 'dana@corp.test',
    status: 'active',
    verified: true,
    role: 'standard',
    slack_id: '',
    picture: '',
    groups: ['engineering', 'pg-rag-readers'],
  });
  beforeAll(async () => {
    fake = await startFakeHoop();
    target = {
      ...targetConfig({
        type: 'hoop',
        operations: ['deactivate_user', 'kill_sessions', 'revoke_reviews'],
        timeout: '2s',
      }),
      url: fake.url,
      token: 'hoop-admin',
    };
  });
  afterAll(() => fake.close());

  it('deactivates the user keeping its groups, revises its reviews by state, kills its sessions by user id', async () => {
    fake.state.users.set('dana', dana());
    fake.state.sessions.push(
      {
        id: 's-jit',
        user: 'dana@corp.test',
        user_id: 'auth0|5f2b9c',
        status: 'open',
        review: { id: 'r-jit', type: 'jit', status: 'APPROVED' },
      },
      {
        id: 's-pending',
        user: 'dana@corp.test',
        user_id: 'auth0|5f2b9c',
        status: 'ready',
        review: { id: 'r-pending', type: 'onetime', status: 'PENDING' },
      },
      {
        id: 's-once',
        user: 'dana@corp.test',
        user_id: 'auth0|5f2b9c',
        status: 'ready',
        review: { id: 'r-once', type: 'onetime', status: 'APPROVED' },
      },
      {
        id: 's-done',
        user: 'dana@corp.test',
        user_id: 'auth0|5f2b9c',
        status: 'done',
        review: { id: 'r-old', type: 'onetime', status: 'EXECUTED' },
      },
      { id: 's-other', user: 'eve@corp.test', user_id: 'auth0|eve', status: 'open', review: null },
    );
    const r = await hoop.execute({ target, subject: 'dana@corp.test', ...ctx });
    expect(r).toMatchObject({ outcome: 'succeeded', confirmation: 'confirmed' });
    expect(r.detail).toBe(
      'user deactivated; read back inactive; 1 pending review(s) rejected, 1 just-in-time review(s) revoked, ' +
        '1 left: approved one-time review (hoop revokes just-in-time reviews only); read back; ' +
        '3 session(s) killed; read back done',
    );
    const user = fake.state.users.get('dana')!;
    expect(user.status).toBe('inactive');
    expect(user.groups).toEqual(['engineering', 'pg-rag-readers']);
    // Sessions are listed by the user's subject id, not by the email hoop's filter would not match.
    const list = fake.requests.find((q) => q.url.startsWith('/api/sessions?'))!;
    expect(list.url).toBe('/api/sessions?user=auth0%7C5f2b9c&limit=100&offset=0&count=none');
    expect(fake.state.killed.sort()).toEqual(['s-jit', 's-once', 's-pending']);
    const reviews = Object.fromEntries(fake.state.sessions.map((x) => [x.id, x.review?.status]));
    expect(reviews).toMatchObject({
      's-jit': 'REVOKED',
      's-pending': 'REJECTED',
      's-once': 'APPROVED',
      's-done': 'EXECUTED',
    });
    // Never REVOKED on a review hoop cannot revoke (a 400 or a 500 that would be retried).
    const puts = fake.requests.filter((q) => q.method === 'PUT' && q.url.startsWith('/api/reviews/'));
    expect(puts.map((q) => [q.url, (q.body as { status: string }).status])).toEqual([
      ['/api/reviews/r-jit', 'REVOKED'],
      ['/api/reviews/r-pending', 'REJECTED'],
    ]);

    const undone = await hoop.undo({ target, subject: 'dana@corp.test', jobId: 'j', state: r.state });
    expect(undone.detail).toBe('user reactivated');
    expect(fake.state.users.get('dana')).toMatchObject({
      status: 'active',
      groups: ['engineering', 'pg-rag-readers'],
    });
  });

  it('fails naming the subject when hoop has no such user, on any attempt', async () => {
    for (const c of [ctx, retry]) {
      const err = await rejection(hoop.execute({ target, subject: 'ghost@corp.test', ...c }));
      expect(err.name).toBe('PermanentError');
      expect(err.message).toBe('hoop get user: no such user <usr_k1_subject>');
    }
  });

  it('does not reactivate a user that was inactive before containment', async () => {
    fake.state.users.set('old', { ...dana(), id: 'auth0|old', email: 'old@corp.test', status: 'inactive' });
    const only = { ...target, operations: ['deactivate_user' as const] };
    const r = await hoop.execute({ target: only, subject: 'old@corp.test', ...ctx });
    expect(r.detail).toBe('user was already inactive; read back inactive');
    await hoop.undo({ target: only, subject: 'old@corp.test', jobId: 'j', state: r.state });
    expect(fake.state.users.get('old')!.status).toBe('inactive');
  });

  it('revokes an API key named by the subject and confirms it; refuses an email as a key', async () => {
    const keys = { ...target, operations: ['revoke_api_key' as const] };
    fake.state.apiKeys.set('k', {
      id: '4c1e2d3f-0a9b-4c8d-9e7f-6a5b4c3d2e1f',
      name: 'rag-agent',
      status: 'active',
    });
    const r = await hoop.execute({ target: keys, subject: 'rag-agent', ...ctx });
    expect(r).toMatchObject({ confirmation: 'confirmed', detail: 'API key revoked; read back revoked' });
    expect(fake.state.apiKeys.get('k')!.status).toBe('revoked');
    await hoop.undo({ target: keys, subject: 'rag-agent', jobId: 'j', state: r.state });
    expect(fake.state.apiKeys.get('k')!.status).toBe('active');

    const missing = await rejection(hoop.execute({ target: keys, subject: 'no-such-key', ...retry }));
    expect(missing.message).toBe('hoop revoke api key: no such API key <usr_k1_subject>');
    const email = await rejection(hoop.execute({ target: keys, subject: 'dana@corp.test', ...ctx }));
    expect(email.name).toBe('PermanentError');
    expect(email.message).not.toContain('dana');
    expect(() => targetConfig({ type: 'hoop', operations: ['deactivate_user', 'revoke_api_key'] })).toThrow(
      /revoke_api_key acts on an API key/,
    );
  });

  it('sends the API key as Api-Key when configured, and maps 401 to permanent', async () => {
    const apiKeyAuth = {
      ...target,
      auth: 'api-key' as const,
      token: 'wrong',
      operations: ['deactivate_user' as const],
    };
    const err = await rejection(hoop.execute({ target: apiKeyAuth, subject: 'dana@corp.test', ...ctx }));
    expect(fake.requests.at(-1)!.headers['api-key']).toBe('wrong');
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
    await slack.execute({ target, subject: incident.actor, ...ctx });
    expect(fake.state.messages).toHaveLength(1);
    expect(fake.state.messages[0]).toContain(incident.incident_id);
    expect(fake.state.messages[0]).toContain(finding.sentence);
  });

  it("treats Slack's 410 channel_is_archived as final", async () => {
    const target = { ...targetConfig({ type: 'slack' }), url: `${fake.url}/services/archived` };
    const err = await rejection(slack.execute({ target, subject: incident.actor, ...ctx }));
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
    await pagerduty.execute({ target, subject: incident.actor, ...ctx });
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
    const err = await rejection(pagerduty.execute({ target, subject: incident.actor, ...ctx }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('Invalid routing key');
    fake.failNext(429);
    const ok = { ...target, routingKey: 'R0UT1NGKEY' };
    expect((await rejection(pagerduty.execute({ target: ok, subject: incident.actor, ...ctx }))).name).toBe(
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
      const err = await rejection(webhook.execute({ target, subject: incident.actor, ...ctx }));
      expect(err.name).toBe('PermanentError');
      expect((err as Error & { status?: number }).status).toBe(410);
    } finally {
      await fake.close();
    }
  });
});
