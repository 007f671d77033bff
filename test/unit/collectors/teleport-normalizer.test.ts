// Teleport audit events → canonical events: database sessions (start, query, failure, result,
// end) and application-access requests to HTTP vector stores; everything else is ignored.
import { describe, expect, it } from 'vitest';
import {
  normalizeTeleport,
  type TeleportResult,
} from '../../../src/collectors/teleport/teleport.normalizer.js';
import { type AccessEvent, accessEventSchema, deterministicId } from '../../../src/model/index.js';
import { createTokenizer, queryHash } from '../../../src/privacy/index.js';
import {
  makeTeleportAppChunk,
  makeTeleportAppRequest,
  makeTeleportAuthFailure,
  makeTeleportDbAdmin,
  makeTeleportDynamoRequest,
  makeTeleportEnd,
  makeTeleportEsRequest,
  makeTeleportLogin,
  makeTeleportMysqlPrepare,
  makeTeleportOsRequest,
  makeTeleportPgBind,
  makeTeleportPgExecute,
  makeTeleportPgParse,
  makeTeleportQuery,
  makeTeleportQueryFailed,
  makeTeleportResult,
  makeTeleportSessionRejected,
  makeTeleportStart,
} from '../../helpers/gateway-fixtures.js';

const NOW = Date.now();
const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 4) });
const ctx = { tokenizer, tenant: 'acme', now: NOW };

function event(raw: unknown, c: Parameters<typeof normalizeTeleport>[1] = ctx): AccessEvent {
  const r = normalizeTeleport(raw, c);
  if (r.kind !== 'event') throw new Error(JSON.stringify(r));
  expect(accessEventSchema.safeParse(r.event).success).toBe(true);
  return r.event;
}

describe('Teleport database access', () => {
  it('db.session.start TDB00I is an allowed auth; TDB00W is denied', () => {
    const ok = event(makeTeleportStart());
    expect(ok).toMatchObject({
      source: 'teleport',
      tenant: 'acme',
      system: 'postgres',
      operation: 'auth',
      operation_raw: 'db.session.start',
      outcome: 'allowed',
      namespace: 'rag',
      // Upstream's db.session.start carries no addr.remote and no user agent.
      client: '',
      src_ip: '',
      actor_type: 'user',
      actor: tokenizer.token('actor', 'acme', 'alice@example.com', 'user'),
      credential: tokenizer.token('credential', 'acme', 'alice'),
    });
    expect(ok.attributes['teleport.cluster']).toBe('teleport.example.com');
    const denied = event(makeTeleportStart({ denied: true }));
    expect(denied).toMatchObject({ operation: 'auth', outcome: 'denied', error_type: 'access_denied' });
    expect(JSON.stringify(denied)).not.toMatch(/alice|rds\.amazonaws/);
  });

  it('db.session.query with pgvector operators is a pgvector search', () => {
    const q = makeTeleportQuery();
    const e = event(q);
    expect(e).toMatchObject({
      event_id: deterministicId('teleport', q.uid as string),
      system: 'pgvector',
      operation: 'search',
      operation_raw: 'select',
      collection: 'docs',
      top_k: 10,
      query_hash: queryHash(q.db_query as string),
      session: tokenizer.token('session', 'acme', '307b49d6-56c7-4d20-8cf0-5bc5348a7101'),
    });
    expect(JSON.stringify(e)).not.toContain('embedding');
  });

  it('a plain SQL query keeps the protocol as system', () => {
    expect(event(makeTeleportQuery({ db_query: 'INSERT INTO orders VALUES (1)' }))).toMatchObject({
      system: 'postgres',
      operation: 'upsert',
      collection: 'orders',
    });
    expect(event(makeTeleportQuery({ db_protocol: 'mongodb', db_query: '{"find":"docs"}' }))).toMatchObject({
      system: 'mongodb',
      operation: 'other',
      operation_raw: 'db.session.query',
    });
  });

  it('db.session.query.failed is an error, or denied when the database refused the privilege', () => {
    expect(event(makeTeleportQueryFailed())).toMatchObject({
      operation: 'delete',
      collection: 'docs',
      outcome: 'denied',
      error_type: 'permission_denied',
    });
    const failed = event(
      makeTeleportQueryFailed({ error: 'ERROR: syntax error at or near "alice@example.com"' }),
    );
    expect(failed).toMatchObject({ outcome: 'error', error_type: 'query_failed' });
    expect(JSON.stringify(failed)).not.toContain('syntax error');
  });

  it('db.session.result carries affected_records as returned; db.session.end is recorded', () => {
    expect(event(makeTeleportResult({ affected_records: 250 }))).toMatchObject({
      returned: 250,
      operation: 'other',
    });
    expect(event(makeTeleportEnd())).toMatchObject({ operation: 'other', operation_raw: 'db.session.end' });
  });

  it('bots (user_kind 2) are services', () => {
    const e = event(makeTeleportQuery({ user: 'bot-indexer', user_kind: 2 }));
    expect(e.actor_type).toBe('service');
    expect(e.actor).toMatch(/^svc_k1_/);
  });

  it('the cluster name is an attribute, never the tenant', () => {
    const e = event(makeTeleportQuery({ cluster_name: 'prod-eu' }), { ...ctx, tenant: 'default' });
    expect(e.tenant).toBe('default');
    expect(e.attributes['teleport.cluster']).toBe('prod-eu');
  });
});

describe('Teleport application access to vector stores', () => {
  it.each([
    ['qdrant', 'POST', '/collections/docs/points/search', '', undefined, 'qdrant', 'search', 'docs'],
    ['qdrant', 'PUT', '/collections/docs/points', '', undefined, 'qdrant', 'upsert', 'docs'],
    ['qdrant', 'DELETE', '/collections/docs', '', undefined, 'qdrant', 'drop_collection', 'docs'],
    ['weaviate', 'POST', '/v1/graphql', '', undefined, 'weaviate', 'search', ''],
    [
      'weaviate',
      'DELETE',
      '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303',
      '',
      undefined,
      'weaviate',
      'delete',
      'Article',
    ],
    [
      'milvus',
      'POST',
      '/v2/vectordb/entities/query',
      '',
      { collectionName: 'faq' },
      'milvus',
      'fetch',
      'faq',
    ],
    ['milvus', 'POST', '/v2/vectordb/entities/search', '', undefined, 'milvus', 'search', ''],
  ])('%s %s %s → %s', (app_name, method, path, raw_query, body, system, operation, collection) => {
    const e = event(makeTeleportAppRequest({ app_name, method, path, raw_query, body }));
    expect(e).toMatchObject({ system, operation, collection, status_code: 200, outcome: 'allowed' });
  });

  it('maps the status code to the outcome', () => {
    expect(event(makeTeleportAppRequest({ status_code: 403 }))).toMatchObject({
      outcome: 'denied',
      error_type: 'http_403',
    });
    expect(event(makeTeleportAppRequest({ status_code: 500 }))).toMatchObject({ outcome: 'error' });
  });

  it('a recognised store with an unknown path is operation other; other apps are ignored', () => {
    expect(
      event(makeTeleportAppRequest({ app_name: 'qdrant-eu', path: '/telemetry', method: 'GET' })),
    ).toMatchObject({
      system: 'qdrant',
      operation: 'other',
      operation_raw: 'GET /telemetry',
    });
    const r = normalizeTeleport(
      makeTeleportAppRequest({
        app_name: 'grafana',
        app_public_addr: 'grafana.example.net',
        app_uri: 'http://g:3000',
        path: '/api/dashboards',
      }),
      ctx,
    );
    expect(r.kind).toBe('ignored');
  });

  it('app.session.start to a vector-store app is an auth decision; to another app it is ignored', () => {
    const start = {
      'addr.remote': '198.51.100.20:56902',
      code: 'T2007I',
      ei: 0,
      event: 'app.session.start',
      namespace: 'default',
      public_addr: 'qdrant.teleport.example.com',
      server_id: 'a0518380-0d53-4188-ac8b-8ddd8103e45b',
      sid: '6593cf87-9839-4f18-abf8-c54873aaeb4e',
      time: new Date().toISOString(),
      uid: '80400ed9-644e-4a6e-ab99-b264b34d0f55',
      user: 'kim@example.com',
      app_name: 'vectors',
    };
    expect(event(start)).toMatchObject({ system: 'qdrant', operation: 'auth', outcome: 'allowed' });
    expect(
      normalizeTeleport({ ...start, public_addr: 'dumper.example.net', app_name: 'dumper' }, ctx).kind,
    ).toBe('ignored');
  });

  it('a request without user takes the identity of its session chunk', () => {
    const chunk = normalizeTeleport(
      {
        code: 'T2008I',
        ei: 0,
        event: 'app.session.chunk',
        namespace: 'default',
        server_id: 'a0518380-0d53-4188-ac8b-8ddd8103e45b',
        session_chunk_id: '3a54f32d-210f-4338-abf5-133bfe19ccc0',
        sid: '6593cf87-9839-4f18-abf8-c54873aaeb4e',
        time: new Date().toISOString(),
        uid: '8ea5be3d-07b1-4308-8e0d-2d2ec57cbb20',
        user: 'dana@example.com',
        app_name: 'qdrant',
      },
      ctx,
    ) as Extract<TeleportResult, { kind: 'ignored' }>;
    expect(chunk.kind).toBe('ignored');
    const remembered = new Map(chunk.appSession!.keys.map((k) => [k, chunk.appSession!.session]));
    // Upstream's request names no chunk: the recording it arrives in does (session stream route).
    const request = makeTeleportAppRequest();
    const e = event(request, {
      ...ctx,
      appSession: (k) => remembered.get(k),
      streamSession: '3a54f32d-210f-4338-abf5-133bfe19ccc0',
    });
    expect(e.actor).toBe(tokenizer.token('actor', 'acme', 'dana@example.com', 'user'));
    const orphan = event(request);
    expect(orphan.actor_type).toBe('unknown');
  });
});

describe('Teleport events that are not vector-store access', () => {
  it('ignores other event types without validating them', () => {
    expect(normalizeTeleport({ event: 'session.print', code: 'T2005I', uid: 'u', user: 'x' }, ctx)).toEqual({
      kind: 'ignored',
      type: 'session.print',
    });
    // Statement events that carry no text (bind, execute, close, fetch): acknowledged, counted.
    for (const raw of [makeTeleportPgBind(), makeTeleportPgExecute()])
      expect(normalizeTeleport(raw, ctx).kind).toBe('ignored');
  });

  it('rejects malformed access events, naming the field', () => {
    expect(normalizeTeleport({ code: 'TDB02I' }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'event: is required',
    });
    expect(normalizeTeleport({ ...makeTeleportQuery(), uid: '' }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'uid: must not be empty',
    });
    expect(normalizeTeleport({ ...makeTeleportQuery(), user: undefined }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'user: is required',
    });
    const r = normalizeTeleport({ ...makeTeleportQuery(), time: 'alice@example.com' }, ctx);
    expect(r.kind).toBe('rejected');
    expect(JSON.stringify(r)).not.toContain('alice');
  });
});

// One test per event kind, over fixtures derived from upstream (test/helpers/gateway-fixtures.ts).
describe('Teleport events as upstream sends them', () => {
  it('Postgres extended protocol: the parse carries the query (pgvector search); bind/execute do not', () => {
    const e = event(makeTeleportPgParse());
    expect(e).toMatchObject({ system: 'pgvector', operation: 'search', collection: 'docs', top_k: 8 });
    expect(e.attributes['teleport.event']).toBe('db.session.postgres.statements.parse');
  });

  it('MySQL prepare (no uid, no sid upstream) maps its statement; its id is stable across deliveries', () => {
    const raw = makeTeleportMysqlPrepare();
    const e = event(raw);
    expect(e).toMatchObject({ system: 'mysql', operation: 'upsert' });
    expect(event(structuredClone(raw)).event_id).toBe(e.event_id);
    expect(JSON.stringify(e)).not.toContain('alice');
  });

  it('Elasticsearch k-NN search: index, top_k from knn.k; OpenSearch failure code is an error', () => {
    expect(event(makeTeleportEsRequest())).toMatchObject({
      system: 'elasticsearch',
      operation: 'search',
      operation_raw: 'knn_search',
      collection: 'docs',
      top_k: 12,
      outcome: 'allowed',
      status_code: 200,
    });
    expect(event(makeTeleportOsRequest({ code: 'TOS00E', status_code: 0 }))).toMatchObject({
      system: 'opensearch',
      outcome: 'error',
    });
    expect(
      event(makeTeleportEsRequest({ method: 'DELETE', path: '/docs', target: '', body: null })),
    ).toMatchObject({
      operation: 'drop_collection',
      collection: 'docs',
    });
  });

  it('DynamoDB request: the target names the operation, the body the table', () => {
    expect(event(makeTeleportDynamoRequest())).toMatchObject({
      system: 'dynamodb',
      operation: 'scroll',
      operation_raw: 'Scan',
      collection: 'test-table',
    });
    expect(event(makeTeleportDynamoRequest({ target: 'DynamoDB_20120810.DeleteItem' })).operation).toBe(
      'delete',
    );
    expect(event(makeTeleportDynamoRequest({ code: 'TDY01E', status_code: 0 })).outcome).toBe('error');
  });

  it('access to database denied (TDB02W) is denied; db.session.end keeps its duration', () => {
    expect(event(makeTeleportQueryFailed())).toMatchObject({
      outcome: 'denied',
      error_type: 'permission_denied',
    });
    expect(event(makeTeleportQueryFailed({ error: 'ERROR: relation "x" does not exist' })).outcome).toBe(
      'error',
    );
    expect(event(makeTeleportEnd()).latency_ms).toBe(90_000);
  });

  it('database user provisioning and permission updates are admin; their failure codes are errors', () => {
    expect(event(makeTeleportDbAdmin('db.session.user.create', 'TDB08I'))).toMatchObject({
      operation: 'admin',
      outcome: 'allowed',
    });
    expect(
      event(
        makeTeleportDbAdmin('db.session.user.create', 'TDB08W', { success: false, error: 'dummy error' }),
      ),
    ).toMatchObject({ operation: 'admin', outcome: 'error' });
    expect(event(makeTeleportDbAdmin('db.session.user.deactivate', 'TDB09I')).operation).toBe('admin');
    expect(event(makeTeleportDbAdmin('db.session.permissions.update', 'TDB07I')).operation).toBe('admin');
  });

  it('user_kind 3 (a Teleport component) is not a human user', () => {
    const e = event(makeTeleportQuery({ user: 'system', user_kind: 3 }));
    expect(e.actor_type).toBe('service');
    expect(e.attributes['teleport.user_kind']).toBe('system');
  });

  it('login failures, auth failures and rejected sessions are denied auth decisions, by code', () => {
    expect(event(makeTeleportLogin())).toMatchObject({
      system: 'teleport',
      operation: 'auth',
      outcome: 'denied',
      error_type: 'login_failed',
    });
    expect(event(makeTeleportLogin({ code: 'T1001W', method: 'oidc' })).error_type).toBe('login_failed');
    expect(event(makeTeleportLogin({ code: 'T1000I', success: true, error: undefined })).outcome).toBe(
      'allowed',
    );
    expect(event(makeTeleportAuthFailure())).toMatchObject({
      operation: 'auth',
      outcome: 'denied',
      error_type: 'auth_failed',
    });
    expect(event(makeTeleportSessionRejected())).toMatchObject({
      outcome: 'denied',
      error_type: 'session_rejected',
    });
    const unnamed = event(makeTeleportLogin({ code: 'T1011W', user: undefined }));
    expect(unnamed.actor_type).toBe('unknown');
  });

  it('app.session.request names no user: attributed through the recording it arrives in, else unattributed', () => {
    const chunk = normalizeTeleport(makeTeleportAppChunk(), ctx) as Extract<
      TeleportResult,
      { kind: 'ignored' }
    >;
    const remembered = new Map(chunk.appSession!.keys.map((k) => [k, chunk.appSession!.session]));
    const request = makeTeleportAppRequest();
    const inStream = event(request, {
      ...ctx,
      appSession: (k) => remembered.get(k),
      streamSession: '3a54f32d-210f-4338-abf5-133bfe19ccc0',
    });
    expect(inStream).toMatchObject({
      actor: tokenizer.token('actor', 'acme', 'dana@example.com', 'user'),
      operation: 'search',
      collection: 'docs',
    });
    const a = event(makeTeleportAppRequest());
    const b = event(makeTeleportAppRequest());
    // One unattributed actor per application, not a new actor per request.
    expect(a).toMatchObject({
      actor_type: 'unknown',
      attributes: expect.objectContaining({ 'teleport.actor': 'unattributed' }),
    });
    expect(b.actor).toBe(a.actor);
  });
});
