// Scripts: the first HTTP request written in one (curl, request lines, `requests.post(...)`), or the
// first vector-store client-library call.
import type { Operation } from '../../model/index.js';
import { parseVectorHttp } from './http.parser.js';
import { MAX_CANDIDATES, MAX_NAME, MAX_TEXT, MAX_TOP_K, type VectorOp } from './shared.js';

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
