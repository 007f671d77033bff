// HTTP requests to vector stores (as Teleport app access records them) → operation and collection.
import { describe, expect, it } from 'vitest';
import { parseVectorHttp } from '../../../src/collectors/vector-query/index.js';

const req = (method: string, path: string, extra: { query?: string; body?: unknown; hint?: string } = {}) =>
  parseVectorHttp({ method, path, ...extra });

describe('Qdrant REST', () => {
  it.each([
    ['POST', '/collections/docs/points/search', 'search', 'search_points'],
    ['POST', '/collections/docs/points/search/batch', 'search', 'search_batch'],
    ['POST', '/collections/docs/points/query', 'search', 'query_points'],
    ['POST', '/collections/docs/points/recommend', 'search', 'recommend_points'],
    ['POST', '/collections/docs/points/scroll', 'scroll', 'scroll_points'],
    ['POST', '/collections/docs/points/delete', 'delete', 'delete_points'],
    ['PUT', '/collections/docs/points', 'upsert', 'upsert_points'],
    ['POST', '/collections/docs/points', 'fetch', 'retrieve_points'],
    ['GET', '/collections/docs/points/42', 'fetch', 'get_point'],
    ['PUT', '/collections/docs', 'create_collection', 'create_collection'],
    ['DELETE', '/collections/docs', 'drop_collection', 'delete_collection'],
    ['GET', '/collections/docs/snapshots/docs-1.snapshot', 'scroll', 'download_snapshot'],
    ['PUT', '/collections/docs/index', 'admin', 'index'],
  ])('%s %s → %s', (method, path, operation, raw) => {
    expect(req(method, path)).toMatchObject({
      system: 'qdrant',
      operation,
      operation_raw: raw,
      collection: 'docs',
    });
  });

  it('takes the limit from the body and tolerates a prefix, a full URL and escapes', () => {
    expect(
      req('POST', '/qdrant/collections/my%20docs/points/search', { body: '{"limit": 12}' }),
    ).toMatchObject({
      collection: 'my docs',
      top_k: 12,
    });
    expect(
      req('POST', 'https://q.example.net:6333/collections/docs/points/scroll?wait=true', {
        body: { limit: 3 },
      }),
    ).toMatchObject({ operation: 'scroll', top_k: 3 });
  });
});

describe('Weaviate REST and GraphQL', () => {
  it('GraphQL is a search; the class comes from the query when the event carries it', () => {
    expect(req('POST', '/v1/graphql')).toMatchObject({
      system: 'weaviate',
      operation: 'search',
      collection: '',
    });
    const query = new URLSearchParams({
      query: '{ Get { Article(nearVector: {vector: [0.1]}, limit: 7) { title } } }',
    }).toString();
    expect(req('GET', '/v1/graphql', { query })).toMatchObject({
      operation: 'search',
      collection: 'Article',
      top_k: 7,
    });
    expect(
      req('POST', '/v1/graphql', { body: { query: '{ Aggregate { Article { meta { count } } } }' } }),
    ).toMatchObject({
      operation: 'other',
      collection: 'Article',
    });
  });

  it.each([
    ['GET', '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303', 'fetch', 'Article'],
    ['GET', '/v1/objects', 'fetch', ''],
    ['POST', '/v1/objects', 'upsert', ''],
    ['PUT', '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303', 'upsert', 'Article'],
    ['PATCH', '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303', 'upsert', 'Article'],
    ['DELETE', '/v1/objects/Article/36ddd591-2dee-4e7e-a3cc-eb86d30a4303', 'delete', 'Article'],
    ['DELETE', '/v1/schema/Article', 'drop_collection', 'Article'],
  ])('%s %s → %s', (method, path, operation, collection) => {
    expect(req(method, path)).toMatchObject({ system: 'weaviate', operation, collection });
  });

  it('takes the class of a listing from the query string', () => {
    expect(req('GET', '/v1/objects', { query: 'class=Article&limit=100' })).toMatchObject({
      collection: 'Article',
      top_k: 100,
    });
  });
});

describe('Milvus REST v2', () => {
  it.each([
    ['search', 'search'],
    ['hybrid_search', 'search'],
    ['query', 'fetch'],
    ['get', 'fetch'],
    ['delete', 'delete'],
    ['insert', 'upsert'],
    ['upsert', 'upsert'],
  ])('entities/%s → %s, collection from the body', (action, operation) => {
    expect(
      req('POST', `/v2/vectordb/entities/${action}`, { body: { collectionName: 'faq', limit: 9 } }),
    ).toMatchObject({ system: 'milvus', operation, operation_raw: action, collection: 'faq' });
  });

  it('leaves the collection unknown without a body', () => {
    expect(req('POST', '/v2/vectordb/entities/search')).toMatchObject({
      operation: 'search',
      collection: '',
    });
    expect(req('POST', '/v2/vectordb/collections/drop', { body: { collectionName: 'faq' } })).toMatchObject({
      operation: 'drop_collection',
    });
    expect(req('POST', '/v2/vectordb/users/drop', { body: { userName: 'x' } })).toMatchObject({
      operation: 'admin',
    });
  });
});

describe('other stores and non-matches', () => {
  it('Chroma and Pinecone', () => {
    expect(
      req('POST', '/api/v2/tenants/t/databases/d/collections/abc/query', { body: { n_results: 4 } }),
    ).toMatchObject({
      system: 'chroma',
      operation: 'search',
      collection: 'abc',
      top_k: 4,
    });
    expect(req('POST', '/vectors/fetch', { body: { namespace: 'ns1' } })).toMatchObject({
      system: 'pinecone',
      operation: 'fetch',
      namespace: 'ns1',
    });
    expect(req('POST', '/query', { hint: 'pinecone', body: { topK: 30 } })).toMatchObject({
      operation: 'search',
      top_k: 30,
    });
  });

  it('returns undefined for paths that are no vector-store API', () => {
    expect(req('GET', '/')).toBeUndefined();
    expect(req('POST', '/query')).toBeUndefined();
    expect(req('GET', '/api/dashboards/home')).toBeUndefined();
  });
});
