// HTTP requests to the vector stores' REST APIs: Qdrant, Weaviate, Milvus, Chroma and Pinecone, one
// function per dialect.
import type { Operation } from '../../model/index.js';
import { MAX_NAME, MAX_TEXT, MAX_TOP_K, type VectorOp } from './shared.js';

export interface HttpRequestShape {
  readonly method: string;
  /** URL path (a full URL or a path with a query string is accepted too). */
  readonly path: string;
  /** Raw query string, without `?`. */
  readonly query?: string;
  /** The request body when known (JSON text or an already parsed value). */
  readonly body?: unknown;
  /** A system named by the app or connection, used where a path alone is ambiguous. */
  readonly hint?: string;
}

/** The vector-store operation of an HTTP request, or undefined when the path is not one. */
export function parseVectorHttp(req: HttpRequestShape): VectorOp | undefined {
  const method = req.method.toUpperCase();
  let path = req.path.slice(0, 4096);
  let query = req.query ?? '';
  const url = /^[a-z]+:\/\/[^/]+(\/[^?#]*)?(?:\?([^#]*))?/i.exec(path);
  if (url) {
    path = url[1] ?? '/';
    query ||= url[2] ?? '';
  } else if (path.includes('?')) {
    query ||= path.slice(path.indexOf('?') + 1);
    path = path.slice(0, path.indexOf('?'));
  }
  const segs = path
    .split('/')
    .filter(Boolean)
    .map((s) => safeDecode(s));
  const body = parseBody(req.body);
  const params = new URLSearchParams(query);
  return (
    chroma(method, segs, body) ??
    milvus(segs, body) ??
    weaviate(method, segs, body, params) ??
    qdrant(method, segs, body) ??
    pinecone(segs, body, req.hint)
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value.slice(0, 1024 * 1024));
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, MAX_NAME) : '';
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? Math.min(v, MAX_TOP_K) : 0;
}

function op(
  system: string,
  operation: Operation,
  operation_raw: string,
  collection = '',
  top_k = 0,
  namespace?: string,
): VectorOp {
  return { system, operation, operation_raw, collection: collection.slice(0, MAX_NAME), top_k, namespace };
}

const QDRANT_SEARCH = new Set(['search', 'query', 'recommend', 'discover']);

function qdrant(
  method: string,
  segs: string[],
  body: Record<string, unknown> | undefined,
): VectorOp | undefined {
  const i = segs.indexOf('collections');
  if (i < 0) return undefined;
  const [c, sub, action, extra] = segs.slice(i + 1);
  if (c === undefined) return op('qdrant', method === 'GET' ? 'other' : 'admin', 'list_collections');
  if (c === 'aliases') return op('qdrant', 'admin', 'aliases');
  const k = count(body?.limit) || count(body?.top);
  if (sub === undefined) {
    if (method === 'PUT') return op('qdrant', 'create_collection', 'create_collection', c);
    if (method === 'DELETE') return op('qdrant', 'drop_collection', 'delete_collection', c);
    if (method === 'PATCH') return op('qdrant', 'admin', 'update_collection', c);
    return op('qdrant', 'other', 'get_collection', c);
  }
  if (sub === 'points') {
    if (action === undefined)
      return method === 'PUT'
        ? op('qdrant', 'upsert', 'upsert_points', c)
        : op('qdrant', 'fetch', 'retrieve_points', c);
    if (QDRANT_SEARCH.has(action))
      return op(
        'qdrant',
        'search',
        extra ? `${action}_${extra}` : `${action}_points`,
        c,
        extra === 'batch' ? 0 : k,
      );
    if (action === 'scroll') return op('qdrant', 'scroll', 'scroll_points', c, k);
    if (action === 'delete') return op('qdrant', 'delete', 'delete_points', c);
    if (action === 'batch') return op('qdrant', 'upsert', 'batch_update_points', c);
    if (action === 'payload' || action === 'vectors') {
      return extra === 'delete' || extra === 'clear'
        ? op('qdrant', 'delete', `${extra}_${action}`, c)
        : op('qdrant', 'upsert', `set_${action}`, c);
    }
    if (action === 'count' || action === 'facet') return op('qdrant', 'other', `${action}_points`, c);
    return op('qdrant', 'fetch', 'get_point', c);
  }
  // A snapshot download is a copy of the whole collection: an export.
  if (sub === 'snapshots')
    return method === 'GET' && action
      ? op('qdrant', 'scroll', 'download_snapshot', c)
      : op('qdrant', 'admin', 'snapshots', c);
  if (sub === 'exists') return op('qdrant', 'other', 'collection_exists', c);
  return op('qdrant', 'admin', sub, c);
}

const GRAPHQL_SEARCH = /\b(nearVector|nearText|nearObject|nearImage|nearMedia|hybrid|bm25|ask)\s*:?\s*[({]/;

function weaviate(
  method: string,
  segs: string[],
  body: Record<string, unknown> | undefined,
  params: URLSearchParams,
): VectorOp | undefined {
  const i = segs.indexOf('v1');
  if (i < 0) return undefined;
  const [area, a, b] = segs.slice(i + 1);
  switch (area) {
    case 'graphql': {
      const gql = str(body?.query) || params.get('query')?.slice(0, MAX_TEXT) || '';
      const cls = /\bGet\s*\{\s*([A-Za-z_]\w*)/.exec(gql)?.[1] ?? '';
      const limit = Number(/\blimit\s*:\s*(\d{1,10})/.exec(gql)?.[1] ?? 0);
      if (/^\s*\{?\s*Aggregate\b/.test(gql) || /\{\s*Aggregate\s*\{/.test(gql))
        return op(
          'weaviate',
          'other',
          'graphql_aggregate',
          /\bAggregate\s*\{\s*([A-Za-z_]\w*)/.exec(gql)?.[1] ?? '',
        );
      // Without the query text (an audit record of the request line only) a Get is most likely a search.
      const operation = gql && cls && !GRAPHQL_SEARCH.test(gql) ? 'fetch' : 'search';
      return op('weaviate', operation, 'graphql', cls, Math.min(limit, MAX_TOP_K));
    }
    case 'objects': {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
      const cls = a && !uuid.test(a) && a !== 'validate' ? a : str(body?.class) || params.get('class') || '';
      if (a === 'validate') return op('weaviate', 'other', 'validate_object', cls);
      if (method === 'GET' || method === 'HEAD')
        return op(
          'weaviate',
          'fetch',
          b || (a && uuid.test(a)) ? 'get_object' : 'list_objects',
          cls,
          count(Number(params.get('limit'))),
        );
      if (method === 'DELETE') return op('weaviate', 'delete', 'delete_object', cls);
      return op('weaviate', 'upsert', method === 'POST' ? 'create_object' : 'update_object', cls);
    }
    case 'batch': {
      const first = Array.isArray(body?.objects)
        ? (body.objects[0] as Record<string, unknown> | undefined)
        : undefined;
      const match = body?.match as Record<string, unknown> | undefined;
      if (method === 'DELETE') return op('weaviate', 'delete', 'batch_delete', str(match?.class));
      return op('weaviate', 'upsert', `batch_${a ?? 'objects'}`, str(first?.class));
    }
    case 'schema': {
      if (a === undefined)
        return method === 'POST'
          ? op('weaviate', 'create_collection', 'create_class', str(body?.class))
          : op('weaviate', 'other', 'get_schema');
      if (b === undefined) {
        if (method === 'DELETE') return op('weaviate', 'drop_collection', 'delete_class', a);
        if (method === 'GET') return op('weaviate', 'other', 'get_class', a);
        return op('weaviate', 'admin', 'update_class', a);
      }
      return op('weaviate', 'admin', `class_${b}`, a);
    }
    case 'users':
    case 'authz':
    case 'backups':
    case 'nodes':
    case 'cluster':
    case 'replication':
    case 'classifications':
      return op('weaviate', 'admin', area);
    default:
      return undefined;
  }
}

const MILVUS_ENTITY_OPS: Record<string, Operation> = {
  search: 'search',
  advanced_search: 'search',
  hybrid_search: 'search',
  query: 'fetch',
  get: 'fetch',
  delete: 'delete',
  insert: 'upsert',
  upsert: 'upsert',
};

function milvus(segs: string[], body: Record<string, unknown> | undefined): VectorOp | undefined {
  // REST v2: /v2/vectordb/<resource>/<action>; REST v1: /v1/vector/<action> and /v1/vector/collections/<action>.
  const v2 = segs.indexOf('vectordb');
  const v1 = segs.indexOf('vector');
  let resource: string | undefined;
  let action: string | undefined;
  if (v2 >= 0 && segs[v2 - 1] === 'v2') [resource, action] = segs.slice(v2 + 1);
  else if (v1 >= 0 && segs[v1 - 1] === 'v1') {
    const rest = segs.slice(v1 + 1);
    [resource, action] = rest[0] === 'collections' ? rest : ['entities', rest[0]];
  } else return undefined;
  const collection = str(body?.collectionName);
  if (resource === 'entities' && action && Object.hasOwn(MILVUS_ENTITY_OPS, action))
    return op(
      'milvus',
      MILVUS_ENTITY_OPS[action]!,
      action,
      collection,
      count(body?.limit) || count(body?.topK),
    );
  if (resource === 'collections') {
    if (action === 'create') return op('milvus', 'create_collection', 'create_collection', collection);
    if (action === 'drop') return op('milvus', 'drop_collection', 'drop_collection', collection);
    if (action === 'list' || action === 'describe' || action === 'has' || action?.startsWith('get_'))
      return op('milvus', 'other', `${action}_collection`, collection);
    return op('milvus', 'admin', `${action ?? ''}_collection`, collection);
  }
  return op('milvus', 'admin', `${resource ?? ''}/${action ?? ''}`, collection);
}

const CHROMA_OPS: Record<string, Operation> = {
  query: 'search',
  get: 'fetch',
  add: 'upsert',
  upsert: 'upsert',
  update: 'upsert',
  delete: 'delete',
  count: 'other',
};

function chroma(
  method: string,
  segs: string[],
  body: Record<string, unknown> | undefined,
): VectorOp | undefined {
  if (segs[0] !== 'api' || (segs[1] !== 'v1' && segs[1] !== 'v2')) return undefined;
  const i = segs.indexOf('collections');
  if (i < 0) return op('chroma', 'admin', segs.slice(2).join('/'));
  const [c, action] = segs.slice(i + 1);
  if (c === undefined)
    return method === 'POST'
      ? op('chroma', 'create_collection', 'create_collection', str(body?.name))
      : op('chroma', 'other', 'list_collections');
  if (action === undefined) {
    if (method === 'DELETE') return op('chroma', 'drop_collection', 'delete_collection', c);
    return op(
      'chroma',
      method === 'GET' ? 'other' : 'admin',
      method === 'GET' ? 'get_collection' : 'modify_collection',
      c,
    );
  }
  if (Object.hasOwn(CHROMA_OPS, action))
    return op('chroma', CHROMA_OPS[action]!, action, c, count(body?.n_results) || count(body?.limit));
  return op('chroma', 'other', action, c);
}

const PINECONE_OPS: Record<string, Operation> = {
  upsert: 'upsert',
  update: 'upsert',
  fetch: 'fetch',
  delete: 'delete',
  list: 'scroll',
};

function pinecone(
  segs: string[],
  body: Record<string, unknown> | undefined,
  hint?: string,
): VectorOp | undefined {
  const ns = str(body?.namespace);
  if (segs[0] === 'vectors' && segs[1] && Object.hasOwn(PINECONE_OPS, segs[1]))
    return op('pinecone', PINECONE_OPS[segs[1]]!, segs[1], '', 0, ns);
  // `/query` alone is too common a path to claim without a pinecone hint or a Pinecone-shaped body.
  if (segs.length === 1 && segs[0] === 'query' && (hint === 'pinecone' || body?.topK !== undefined))
    return op('pinecone', 'search', 'query', '', count(body?.topK), ns);
  if (segs[0] === 'records' && segs[1] === 'namespaces' && segs[2]) {
    const action = segs[3] ?? '';
    const operation: Operation = action === 'search' ? 'search' : action === 'upsert' ? 'upsert' : 'other';
    return op('pinecone', operation, `records_${action}`, '', 0, segs[2]);
  }
  if (segs[0] === 'describe_index_stats') return op('pinecone', 'other', 'describe_index_stats', '', 0, ns);
  return undefined;
}
