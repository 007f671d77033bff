// Reading a session's script: SQL (pgvector), HTTP requests written as curl commands or request
// lines, and vector-store client calls. Names and numbers come out; literals never do.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseClientScript,
  parseHttpScript,
  parseSql,
  parseVectorHttp,
  systemHint,
} from '../../../src/collectors/vector-query/index.js';

describe('parseSql', () => {
  it.each([
    ["SELECT id FROM docs ORDER BY embedding <-> '[1,2,3]' LIMIT 5", 'search', 'docs', 5],
    ["select * from public.items order by emb <=> '[3,4]' limit 20", 'search', 'public.items', 20],
    [
      `SELECT id, 1 - (emb <#> '[1,2]') AS score FROM "RagChunks" ORDER BY 2 LIMIT 3`,
      'search',
      'RagChunks',
      3,
    ],
    ["SELECT cosine_distance(emb, '[1,2]') FROM docs FETCH FIRST 7 ROWS ONLY", 'search', 'docs', 7],
  ])('%s → search', (sql, op, collection, k) => {
    expect(parseSql(sql)).toMatchObject({ system: 'pgvector', operation: op, collection, top_k: k });
  });

  it('tells reads by their bounds: filtered or limited is a fetch, unbounded is a scroll', () => {
    expect(parseSql('SELECT * FROM docs WHERE id = 7')).toMatchObject({
      operation: 'fetch',
      collection: 'docs',
    });
    expect(parseSql('SELECT * FROM Docs LIMIT 10')).toMatchObject({
      operation: 'fetch',
      collection: 'docs',
      top_k: 10,
    });
    expect(parseSql('SELECT * FROM docs')).toMatchObject({
      operation: 'scroll',
      collection: 'docs',
      system: undefined,
    });
    expect(parseSql('SELECT now()')).toMatchObject({ operation: 'other' });
  });

  it.each([
    ["INSERT INTO docs (id, embedding) VALUES (1, '[1,2]')", 'upsert', 'insert', 'docs'],
    ["UPDATE ONLY docs SET embedding = '[1]' WHERE id = 1", 'upsert', 'update', 'docs'],
    ['DELETE FROM rag.docs WHERE id = 1', 'delete', 'delete', 'rag.docs'],
    ['TRUNCATE TABLE docs', 'delete', 'truncate', 'docs'],
    [
      'CREATE TABLE IF NOT EXISTS docs (id int, embedding vector(3))',
      'create_collection',
      'create table',
      'docs',
    ],
    [
      'CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops)',
      'create_collection',
      'create index',
      'docs',
    ],
    ['DROP TABLE IF EXISTS docs', 'drop_collection', 'drop table', 'docs'],
    ['GRANT SELECT ON docs TO app', 'admin', 'grant', 'docs'],
    ['GRANT reader TO app', 'admin', 'grant', ''],
    ['VACUUM (VERBOSE) docs', 'admin', 'vacuum', 'docs'],
    ["COPY docs TO '/tmp/out.csv'", 'scroll', 'copy to', 'docs'],
    ['WITH x AS (SELECT 1) DELETE FROM docs WHERE id IN (SELECT * FROM x)', 'delete', 'delete', 'docs'],
  ])('%s → %s', (sql, operation, raw, collection) => {
    expect(parseSql(sql)).toMatchObject({ operation, operation_raw: raw, collection });
  });

  it('picks the telling statement of a script and ignores comments and strings', () => {
    const script = `-- SELECT * FROM decoy <-> x
      SET ivfflat.probes = 10;
      BEGIN;
      SELECT id FROM docs WHERE note = 'a <-> b; DROP TABLE x' ORDER BY embedding <-> '[1]' LIMIT 4;
      COMMIT;`;
    expect(parseSql(script)).toMatchObject({
      operation: 'search',
      collection: 'docs',
      top_k: 4,
      system: 'pgvector',
    });
    // Vector operators inside a string literal are data, not a search.
    expect(parseSql("SELECT * FROM notes WHERE body = 'x <-> y' LIMIT 1")).toMatchObject({
      operation: 'fetch',
      system: undefined,
    });
  });

  it('returns undefined for text that is no SQL', () => {
    expect(parseSql('echo hello')).toBeUndefined();
    expect(parseSql('import os\nprint(1)')).toBeUndefined();
    expect(parseSql('')).toBeUndefined();
  });
});

describe('parseHttpScript', () => {
  it('reads a curl command: method, URL, body limit', () => {
    const script = `curl -sS -X POST http://qdrant:6333/collections/docs/points/search \\
      -H 'api-key: k' -H 'content-type: application/json' \\
      -d '{"vector":[0.1,0.2],"limit":25}'`;
    expect(parseHttpScript(script)).toMatchObject({
      system: 'qdrant',
      operation: 'search',
      collection: 'docs',
      top_k: 25,
    });
  });

  it('defaults a curl with data to POST and without to GET', () => {
    expect(
      parseHttpScript(
        `curl http://milvus:19530/v2/vectordb/entities/query -d '{"collectionName":"faq","limit":1000}'`,
      ),
    ).toMatchObject({ system: 'milvus', operation: 'fetch', collection: 'faq', top_k: 1000 });
    expect(parseHttpScript('curl http://weaviate:8080/v1/objects/Article')).toMatchObject({
      system: 'weaviate',
      operation: 'fetch',
      collection: 'Article',
    });
  });

  it('reads an HTTP request line followed by a JSON body', () => {
    const script = 'POST /collections/support/points/scroll\n{"limit": 500, "with_vectors": true}\n';
    expect(parseHttpScript(script)).toMatchObject({
      system: 'qdrant',
      operation: 'scroll',
      collection: 'support',
      top_k: 500,
    });
  });

  it('returns undefined when no request is written', () => {
    expect(parseHttpScript('ls -la /tmp')).toBeUndefined();
  });
});

describe('parseClientScript', () => {
  it('reads a Qdrant client search with its collection and limit', () => {
    const script = `from qdrant_client import QdrantClient
client = QdrantClient(url="http://qdrant:6333")
hits = client.search(collection_name="docs", query_vector=[0.1, 0.2], limit=50)`;
    expect(parseClientScript(script)).toEqual({
      system: 'qdrant',
      operation: 'search',
      operation_raw: 'search',
      collection: 'docs',
      top_k: 50,
    });
  });

  it('reads Milvus query (a filtered fetch) and Chroma query (a search)', () => {
    expect(
      parseClientScript(`from pymilvus import MilvusClient
c = MilvusClient("http://milvus:19530")
rows = c.query(collection_name="faq", filter="id > 0", limit=16384)`),
    ).toMatchObject({ system: 'milvus', operation: 'fetch', collection: 'faq', top_k: 16384 });
    expect(
      parseClientScript(`import chromadb
col = chromadb.HttpClient().get_collection(name="notes")
col.query(query_texts=["x"], n_results=8)`),
    ).toMatchObject({ system: 'chroma', operation: 'search', collection: 'notes', top_k: 8 });
  });

  it('reads Weaviate v4 collection handles and collection management', () => {
    expect(
      parseClientScript(`import weaviate
client = weaviate.connect_to_local()
articles = client.collections.get("Article")
res = articles.query.near_vector(near_vector=[0.1], limit=3)`),
    ).toMatchObject({ system: 'weaviate', operation: 'search', collection: 'Article', top_k: 3 });
    expect(
      parseClientScript(`import weaviate
client = weaviate.connect_to_local()
client.collections.delete("Article")`),
    ).toMatchObject({ system: 'weaviate', operation: 'drop_collection', collection: 'Article' });
  });

  it('takes an unknown library call only when it names a collection', () => {
    expect(parseClientScript('x.search("needle")')).toBeUndefined();
    expect(parseClientScript('db.search(collection_name="docs", limit=3)')).toMatchObject({
      system: undefined,
      operation: 'search',
      collection: 'docs',
    });
  });
});

describe('systemHint', () => {
  it('finds a vector store in a name', () => {
    expect(systemHint('prod-Qdrant-eu')).toBe('qdrant');
    expect(systemHint(undefined, 'zilliz-cloud')).toBe('milvus');
    expect(systemHint('pg-main')).toBeUndefined();
  });
});

describe('parsers on hostile text', () => {
  const all = (text: string) => {
    parseSql(text);
    parseHttpScript(text);
    parseClientScript(text);
    parseVectorHttp({ method: 'POST', path: text, body: text });
  };

  it('never throw on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1000 }), (text) => {
        all(text);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['unterminated strings', "'".repeat(1) + "x'".repeat(0) + "a'b".repeat(20_000)],
    ['dollar tags never closed', Array.from({ length: 10_000 }, (_, i) => `$t${i}$`).join(' ')],
    ['one long identifier', 'a'.repeat(64 * 1024)],
    ['request lines without bodies', 'GET /x\n'.repeat(10_000)],
    ['many calls', 'x.search('.repeat(8_000)],
  ])('stay linear on %s', (_name, text) => {
    const t0 = performance.now();
    all(text.replace(/\\n/g, '\n'));
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
