// Recognising vector-store operations in what gateways record: SQL text (pgvector), HTTP requests
// to the vector stores' REST APIs (Qdrant, Weaviate, Milvus, Chroma, Pinecone), and client-library
// calls in scripts. Shared by the hoop.dev and Teleport collectors. Pure and best effort: a shape
// that is not recognised yields `undefined` (the caller records operation `other`); nothing here
// throws on odd input, and the texts parsed are never returned, only names and numbers.
import type { Operation } from '../model/index.js';
import { lexSql } from '../privacy/index.js';

export interface VectorOp {
  /** Canonical system when the shape tells it (`pgvector`, `qdrant`, …); undefined when it does not. */
  readonly system?: string;
  readonly operation: Operation;
  /** The source's own name for the operation (SQL verb, REST endpoint, client method). */
  readonly operation_raw: string;
  readonly collection: string;
  readonly namespace?: string;
  readonly top_k: number;
}

const MAX_NAME = 256;
const MAX_TOP_K = 4_294_967_295;
/** Texts longer than this are analysed on their first part only (regexes stay linear and cheap). */
const MAX_TEXT = 64 * 1024;
/** Request lines or calls examined per script before giving up. */
const MAX_CANDIDATES = 64;

/** A known vector store named in a connection, app or service name (`qdrant-prod`, `pgvector-rag`). */
export function systemHint(...names: Array<string | undefined>): string | undefined {
  for (const name of names) {
    const m = /(pgvector|qdrant|weaviate|milvus|zilliz|chroma|pinecone)/i.exec(name ?? '');
    if (m) return m[1]!.toLowerCase() === 'zilliz' ? 'milvus' : m[1]!.toLowerCase();
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------- SQL

/** pgvector's distance operators (L2, negative inner product, cosine, L1, Hamming, Jaccard). */
const VECTOR_OPERATOR = /<->|<#>|<=>|<\+>|<~>|<%>/;
const VECTOR_FUNCTION =
  /\b(?:l2_distance|cosine_distance|inner_product|l1_distance|hamming_distance|jaccard_distance)\s*\(|::\s*(?:vector|halfvec|sparsevec)\b/i;
const IDENT = String.raw`((?:"[^"]{1,256}"|[A-Za-z_][\w$]{0,127})(?:\s*\.\s*(?:"[^"]{1,256}"|[A-Za-z_][\w$]{0,127})){0,2})`;
const SQL_VERBS = new Set([
  'select',
  'with',
  'insert',
  'update',
  'delete',
  'merge',
  'truncate',
  'copy',
  'create',
  'drop',
  'alter',
  'grant',
  'revoke',
  'vacuum',
  'reindex',
  'analyze',
  'cluster',
  'explain',
  'table',
  'set',
  'show',
  'begin',
  'start',
  'commit',
  'rollback',
  'reset',
  'discard',
  'values',
]);
/** Statements that carry no data access: skipped when a script holds a more telling one. */
const SQL_CONTROL = new Set(['set', 'show', 'begin', 'start', 'commit', 'rollback', 'reset', 'discard']);

/**
 * Removes comments and the contents of string literals (vectors are literals too), keeps quoted
 * identifiers. The tokenizer is the one the redaction of query text uses (privacy/query-shape), so
 * what is a literal here is a literal there; read as PostgreSQL (`#` is an operator, as in `<#>`).
 */
function stripSql(input: string): string {
  const text = input.slice(0, MAX_TEXT);
  let out = '';
  for (const t of lexSql(text).tokens) {
    if (t.gap) out += ' ';
    out += t.kind === 'string' ? "''" : text.slice(t.start, t.end);
  }
  return out;
}

function identifier(raw: string | undefined): string {
  if (!raw) return '';
  return raw
    .split(/\s*\.\s*/)
    .map((part) => (part.startsWith('"') ? part.slice(1, -1) : part.toLowerCase()))
    .join('.')
    .slice(0, MAX_NAME);
}

function firstMatch(text: string, pattern: string): string {
  const m = new RegExp(pattern, 'i').exec(text);
  return identifier(m?.[m.length - 1]);
}

function sqlTopK(stmt: string): number {
  let k = 0;
  for (const m of stmt.matchAll(/\blimit\s+(\d{1,10})\b/gi)) k = Number(m[1]);
  if (k === 0) {
    const f = /\bfetch\s+(?:first|next)\s+(\d{1,10})\s+rows?\b/i.exec(stmt);
    if (f) k = Number(f[1]);
  }
  return Math.min(k, MAX_TOP_K);
}

interface SqlStatement {
  readonly verb: string;
  readonly text: string;
  readonly vector: boolean;
}

function statements(text: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  for (const part of stripSql(text).split(';')) {
    const stmt = part
      .trim()
      .replace(/^\(+\s*/, '')
      .replace(/^explain\s+(?:\([^)]*\)\s*)?(?:analyze\s+)?(?:verbose\s+)?/i, '');
    const verb = /^([A-Za-z]+)/.exec(stmt)?.[1]?.toLowerCase();
    if (!verb || !SQL_VERBS.has(verb)) continue;
    out.push({ verb, text: stmt, vector: VECTOR_OPERATOR.test(stmt) || VECTOR_FUNCTION.test(stmt) });
  }
  return out;
}

/**
 * The data operation of a SQL text (a statement or a script of several): the first statement using
 * a vector operator, else the first that is not transaction or session control. Undefined when the
 * text holds no SQL statement.
 */
export function parseSql(text: string): VectorOp | undefined {
  const all = statements(text);
  const stmt = all.find((s) => s.vector) ?? all.find((s) => !SQL_CONTROL.has(s.verb)) ?? all[0];
  if (!stmt) return undefined;
  const vector = all.some((s) => s.vector);
  const op = classifySql(stmt);
  return { ...op, system: vector ? 'pgvector' : undefined, top_k: sqlTopK(stmt.text) };
}

function classifySql({ verb, text, vector }: SqlStatement): Omit<VectorOp, 'top_k' | 'system'> {
  const lower = text.toLowerCase();
  const result = (operation: Operation, operation_raw: string, collection = '') => ({
    operation,
    operation_raw,
    collection,
  });
  switch (verb) {
    case 'with': {
      // The data-modifying verb after the CTEs decides; otherwise it is a read.
      const m = /\)\s*(insert|update|delete|merge)\b/i.exec(text);
      if (m) {
        const dml = m[1]!.toLowerCase();
        return classifySql({ verb: dml, text: text.slice(m.index + m[0].length - dml.length), vector });
      }
      return classifySql({ verb: 'select', text, vector });
    }
    case 'select':
    case 'table':
    case 'values': {
      const collection =
        verb === 'table' ? firstMatch(text, String.raw`^table\s+(?:only\s+)?${IDENT}`) : selectTable(text);
      if (vector) return result('search', 'select', collection);
      if (!collection) return result('other', verb);
      // A read with no filter and no bound walks the table: that is a scroll (an export).
      const bounded =
        /\bwhere\b/.test(lower) || /\blimit\s+\d/.test(lower) || /\bfetch\s+(first|next)\b/.test(lower);
      return result(bounded ? 'fetch' : 'scroll', 'select', collection);
    }
    case 'insert':
      return result('upsert', 'insert', firstMatch(text, String.raw`\binto\s+${IDENT}`));
    case 'update':
      return result('upsert', 'update', firstMatch(text, String.raw`^update\s+(?:only\s+)?${IDENT}`));
    case 'merge':
      return result('upsert', 'merge', firstMatch(text, String.raw`^merge\s+into\s+(?:only\s+)?${IDENT}`));
    case 'delete':
      return result('delete', 'delete', firstMatch(text, String.raw`^delete\s+from\s+(?:only\s+)?${IDENT}`));
    case 'truncate':
      return result(
        'delete',
        'truncate',
        firstMatch(text, String.raw`^truncate\s+(?:table\s+)?(?:only\s+)?${IDENT}`),
      );
    case 'copy': {
      const table = firstMatch(text, String.raw`^copy\s+${IDENT}`) || selectTable(text);
      return /\bfrom\s+(stdin|'|program)/i.test(text) && !/^copy\s*\(/i.test(text)
        ? result('upsert', 'copy from', table)
        : result('scroll', 'copy to', table);
    }
    case 'create': {
      if (
        /^create\s+(?:or\s+replace\s+)?(?:(?:global|local)\s+)?(?:temp(?:orary)?\s+|unlogged\s+)?table\b/i.test(
          text,
        )
      )
        return result(
          'create_collection',
          'create table',
          firstMatch(text, String.raw`\btable\s+(?:if\s+not\s+exists\s+)?${IDENT}`),
        );
      if (/^create\s+(?:unique\s+)?index\b/i.test(text))
        return result(
          'create_collection',
          'create index',
          firstMatch(text, String.raw`\bon\s+(?:only\s+)?${IDENT}`),
        );
      return result(
        'admin',
        `create ${/^create\s+(?:or\s+replace\s+)?(\w+)/i.exec(text)?.[1]?.toLowerCase() ?? ''}`.trim(),
      );
    }
    case 'drop':
      if (/^drop\s+table\b/i.test(text))
        return result(
          'drop_collection',
          'drop table',
          firstMatch(text, String.raw`^drop\s+table\s+(?:if\s+exists\s+)?${IDENT}`),
        );
      return result('admin', `drop ${/^drop\s+(\w+)/i.exec(text)?.[1]?.toLowerCase() ?? ''}`.trim());
    case 'alter':
      return result(
        'admin',
        verb,
        firstMatch(text, String.raw`^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?${IDENT}`),
      );
    case 'grant':
    case 'revoke': {
      // `GRANT … ON [TABLE] t`; role grants and `ON ALL TABLES IN SCHEMA` name no one table.
      const table = firstMatch(text, String.raw`\bon\s+(?:table\s+)?${IDENT}`);
      return result('admin', verb, table === 'all' ? '' : table);
    }
    case 'vacuum':
    case 'analyze':
    case 'cluster':
    case 'reindex':
      return result(
        'admin',
        verb,
        firstMatch(
          text,
          String.raw`^\w+\s+(?:\([^)]*\)\s*)?(?:(?:full|freeze|verbose|analyze|table|index)\s+)*${IDENT}`,
        ),
      );
    default:
      return result('other', verb);
  }
}

/** The first table read by a SELECT (skipping sub-selects in parentheses and LATERAL). */
function selectTable(text: string): string {
  for (const m of text.matchAll(new RegExp(String.raw`\bfrom\s+(?:only\s+)?${IDENT}`, 'gi'))) {
    const name = identifier(m[1]);
    if (name && name !== 'lateral' && name !== 'unnest') return name;
  }
  return '';
}

// ------------------------------------------------------------------------------- HTTP requests

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

// ------------------------------------------------------------------------------------ scripts

/**
 * The first HTTP request written in a script: a curl command, an HTTP request line
 * (`POST /collections/docs/points/search` followed by a JSON body) or a `requests.<verb>(url)` call.
 */
export function parseHttpScript(text: string, hint?: string): VectorOp | undefined {
  const script = text.slice(0, MAX_TEXT).replace(/\\\r?\n/g, ' ');
  for (const line of script.split('\n')) {
    if (!/\bcurl\b/.test(line)) continue;
    const req = curlRequest(line.slice(line.search(/\bcurl\b/)));
    if (req) {
      const parsed = parseVectorHttp({ ...req, hint });
      if (parsed) return parsed;
    }
  }
  const requestLine = /^(GET|POST|PUT|PATCH|DELETE|HEAD)[ \t]+(\S+)(?:[ \t]+HTTP\/[\d.]+)?[ \t]*$/gm;
  let tried = 0;
  for (const m of script.matchAll(requestLine)) {
    // Bounded: each candidate looks ahead for its body.
    if (++tried > MAX_CANDIDATES) break;
    const after = script.slice(m.index + m[0].length);
    const next = after.search(/^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S+/m);
    const body = (next >= 0 ? after.slice(0, next) : after).trim();
    const jsonStart = body.indexOf('{');
    const parsed = parseVectorHttp({
      method: m[1]!,
      path: m[2]!,
      body: jsonStart >= 0 ? body.slice(jsonStart) : undefined,
      hint,
    });
    if (parsed) return parsed;
  }
  for (const m of script.matchAll(
    /\b(?:requests|httpx|session|client)\.(get|post|put|patch|delete)\(\s*f?["']([^"']+)["']/gi,
  )) {
    const parsed = parseVectorHttp({ method: m[1]!, path: m[2]!.replace(/\{[^}]*\}/g, ''), hint });
    if (parsed) return parsed;
  }
  return undefined;
}

/** Words of a shell command line, honouring single and double quotes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    words.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  }
  return words;
}

function curlRequest(line: string): { method: string; path: string; body?: string } | undefined {
  const words = shellWords(line).slice(1);
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-X' || w === '--request') method = words[++i];
    else if (/^-X[A-Z]+$/.test(w)) method = w.slice(2);
    else if (/^(-d|--data|--data-raw|--data-binary|--json)$/.test(w)) body = words[++i];
    else if (/^(-H|--header|-u|--user|-o|--output|-m|--max-time|--connect-timeout|-A|--user-agent)$/.test(w))
      i++;
    else if (!w.startsWith('-') && url === undefined) url = w;
  }
  if (!url) return undefined;
  return { method: method ?? (body ? 'POST' : 'GET'), path: url, body };
}

const CLIENT_SYSTEMS: Array<[RegExp, string]> = [
  [/qdrant_client|QdrantClient|@qdrant\/js-client/, 'qdrant'],
  [/pymilvus|MilvusClient|@zilliz\/milvus2-sdk-node/, 'milvus'],
  [/\bimport\s+weaviate\b|weaviate-client|weaviate\.connect_to|weaviate\.Client/, 'weaviate'],
  [/\bchromadb\b|ChromaClient/, 'chroma'],
  [/\bpinecone\b|Pinecone\(/i, 'pinecone'],
];

/** Client-library method → canonical operation (methods whose meaning depends on the library are resolved below). */
const CLIENT_METHODS: Record<string, Operation> = {
  search: 'search',
  search_batch: 'search',
  search_groups: 'search',
  query_points: 'search',
  query_batch_points: 'search',
  query_points_groups: 'search',
  recommend: 'search',
  discover: 'search',
  hybrid_search: 'search',
  near_vector: 'search',
  near_text: 'search',
  near_object: 'search',
  near_image: 'search',
  hybrid: 'search',
  bm25: 'search',
  similarity_search: 'search',
  retrieve: 'fetch',
  fetch_object_by_id: 'fetch',
  fetch_objects_by_ids: 'fetch',
  fetch_objects: 'scroll',
  scroll: 'scroll',
  query_iterator: 'scroll',
  search_iterator: 'scroll',
  iterator: 'scroll',
  upsert: 'upsert',
  insert: 'upsert',
  insert_many: 'upsert',
  upload_points: 'upsert',
  upload_collection: 'upsert',
  upload_records: 'upsert',
  set_payload: 'upsert',
  overwrite_payload: 'upsert',
  update_vectors: 'upsert',
  delete: 'delete',
  delete_by_id: 'delete',
  delete_many: 'delete',
  delete_vectors: 'delete',
  delete_payload: 'delete',
  clear_payload: 'delete',
  create_collection: 'create_collection',
  recreate_collection: 'create_collection',
  delete_collection: 'drop_collection',
  drop_collection: 'drop_collection',
  create_index: 'admin',
  create_payload_index: 'admin',
  drop_index: 'admin',
  load_collection: 'admin',
  release_collection: 'admin',
  create_user: 'admin',
  drop_user: 'admin',
  create_role: 'admin',
  grant_role: 'admin',
  revoke_role: 'admin',
  grant_privilege: 'admin',
  revoke_privilege: 'admin',
};

function clientMethod(system: string | undefined, receiver: string, method: string): Operation | undefined {
  // Weaviate v4: client.collections.create("X") / .delete("X") act on collections.
  if (receiver === 'collections' && (method === 'create' || method === 'delete'))
    return method === 'create' ? 'create_collection' : 'drop_collection';
  if (method === 'query')
    return system === 'milvus'
      ? 'fetch'
      : system === 'chroma' || system === 'pinecone'
        ? 'search'
        : undefined;
  if (method === 'get') return system === 'chroma' || system === 'milvus' ? 'fetch' : undefined;
  if (method === 'fetch') return system === 'pinecone' ? 'fetch' : undefined;
  if (method === 'add' || method === 'update')
    return system === 'chroma' || system === 'pinecone' ? 'upsert' : undefined;
  return Object.hasOwn(CLIENT_METHODS, method) ? CLIENT_METHODS[method] : undefined;
}

/** The text between a call's opening parenthesis (at `open`) and its match, bounded. */
function callArgs(text: string, open: number): string {
  let depth = 0;
  const end = Math.min(text.length, open + 8192);
  for (let i = open; i < end; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  return text.slice(open + 1, end);
}

const QUOTED = String.raw`["'\x60]([^"'\x60\n]{1,256})["'\x60]`;

/**
 * The first vector-store client call in a script (Python or JavaScript SDKs of Qdrant, Milvus,
 * Weaviate, Chroma, Pinecone): `client.search(collection_name="docs", limit=10)` and the like.
 */
export function parseClientScript(text: string, hint?: string): VectorOp | undefined {
  const script = text.slice(0, MAX_TEXT);
  const system = CLIENT_SYSTEMS.find(([re]) => re.test(script))?.[1] ?? hint;
  let tried = 0;
  // Calls start at a word boundary and names are bounded, so the scan stays linear on any text.
  for (const m of script.matchAll(/(?<![\w$])([A-Za-z_$][\w$]{0,63})\s*\.\s*([A-Za-z_$][\w$]{0,63})\s*\(/g)) {
    const [, receiver, method] = m;
    const operation = clientMethod(system, receiver!, method!);
    if (!operation) continue;
    if (++tried > MAX_CANDIDATES) break;
    const args = callArgs(script, m.index + m[0].length - 1);
    const named = new RegExp(
      String.raw`\b(?:collection_name|collectionName|collection|index_name|name)\s*[=:]\s*${QUOTED}`,
    ).exec(args);
    const positional = new RegExp(String.raw`^\s*${QUOTED}`).exec(args);
    const collection =
      named?.[1] ?? positional?.[1] ?? handleCollection(script.slice(0, m.index + m[0].length)) ?? '';
    // Without a known library, only a call that names a collection is taken for a vector-store call.
    if (!system && !named) continue;
    const k = /\b(?:limit|top_k|topK|n_results|k)\s*[=:]\s*(\d{1,10})\b/.exec(args);
    return {
      system,
      operation,
      operation_raw: method!,
      collection: collection.slice(0, MAX_NAME),
      top_k: Math.min(Number(k?.[1] ?? 0), MAX_TOP_K),
    };
  }
  return undefined;
}

/** A collection handle opened earlier in the script: `collections.get("X")`, `get_collection("X")`, `Index("X")`. */
function handleCollection(before: string): string | undefined {
  const re = new RegExp(
    String.raw`(?:collections\s*\.\s*get|get_collection|get_or_create_collection|Collection|Index)\s*\(\s*(?:name\s*=\s*)?${QUOTED}`,
    'g',
  );
  let last: string | undefined;
  for (const m of before.matchAll(re)) last = m[1];
  return last;
}
