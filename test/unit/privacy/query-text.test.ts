// Query text redaction: the shape keeps keywords, operators and known names; every literal, comment
// and argument value goes; a text no reader recognises keeps nothing but a hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  QUERY_TEXT_ATTRIBUTE,
  queryHash,
  queryShape,
  setQueryFields,
} from '../../../src/privacy/query-text.js';

const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

describe('issue 13 §6: what the redacted text used to keep', () => {
  it('drops SQL comments', () => {
    const shape = queryShape('SELECT * FROM docs WHERE id = 7 -- ticket for alice@example.com');
    expect(shape).toBe('select * from docs where id = ?');
    expect(queryShape('SELECT /* for alice@example.com */ id FROM docs')).toBe('select id from docs');
  });

  it('drops dollar-quoted strings, tagged or not', () => {
    expect(queryShape('SELECT $$bob-secret$$')).toBe('select ?');
    expect(queryShape('SELECT $tag$bob-secret $$ still$tag$ FROM docs')).toBe('select ? from docs');
    expect(queryShape("DO $$BEGIN PERFORM set_config('x', 'bob-secret', false); END$$")).toBe('do ?');
  });

  it('drops the arguments of a curl command, header values included', () => {
    const shape = queryShape(
      'curl -X POST http://qdrant:6333/collections/docs/points/search -H api-key:sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    );
    expect(shape).toBe('curl -x post http://?/collections/?/points/search -h ?');
  });
});

describe('literals of every kind', () => {
  it.each([
    [`SELECT E'it\\'s alice@example.com' FROM t`, 'select ? from t'],
    [`SELECT U&'d\\0061t\\+000061', U&'d!0061t' UESCAPE '!' FROM t`, 'select ?, ? uescape ? from t'],
    [`SELECT X'DEADBEEF', B'0101', N'bob' FROM t`, 'select ?, ?, ? from t'],
    ['SELECT 0xCAFEBABE, 1.5e-3, .5, 1_000_000 FROM t', 'select ?, ?, ?, ? from t'],
    ['SELECT "alice@example.com", `bob@example.com` FROM t', 'select ?, ? from t'],
    ["SELECT * FROM t WHERE a = 'it''s bob'", 'select * from t where a = ?'],
    ['SELECT * FROM t WHERE v <-> [0.1, -2.5e3, 3] < 1', 'select * from t where v <-> ? < ?'],
    ['SELECT * FROM t WHERE a = $1 AND b = ?', 'select * from t where a = $? and b = ?'],
  ])('%s', (sql, shape) => {
    expect(queryShape(sql)).toBe(shape);
  });

  it('drops MySQL / ClickHouse # comments, keeps the pgvector <#> operator', () => {
    expect(queryShape('SELECT id FROM t # for alice@example.com\nWHERE a = 1')).toBe(
      'select id from t where a = ?',
    );
    expect(queryShape("SELECT id FROM t ORDER BY e <#> '[1,2]' LIMIT 3")).toBe(
      'select id from t order by e <#> ? limit ?',
    );
  });

  it('drops ClickHouse inline rows after INSERT … FORMAT and keeps {name:Type} parameters', () => {
    expect(queryShape('INSERT INTO t FORMAT CSV alice,bob@example.com,1')).toBe('insert into t format csv ?');
    expect(queryShape('SELECT * FROM t WHERE x = {p:String} SETTINGS max_threads = 4')).toBe(
      'select * from t where x = {p:string} settings max_threads = ?',
    );
  });

  it('keeps no name in statements that can name users and roles', () => {
    expect(queryShape('GRANT SELECT ON docs TO alice')).toBe('grant select on ? to ?');
    expect(queryShape("CREATE USER bob WITH PASSWORD 'hunter2'")).toBe('create user ? with password ?');
    expect(queryShape('SET ROLE alice')).toBe('set role ?');
    expect(queryShape('ALTER TABLE docs OWNER TO alice')).toBe('alter table ? owner to ?');
    expect(queryShape("GRANT ALL ON db.* TO 'alice'@'%'")).toBe('grant all on ?.* to ?@?');
  });
});

describe('failing closed', () => {
  it.each([
    ['an unterminated string', "SELECT * FROM t WHERE a = 'alice@example.com"],
    ['an unterminated block comment', 'SELECT 1 /* alice@example.com'],
    ['an unterminated dollar quote', 'SELECT $x$ bob-secret'],
    ['a comment nested in PostgreSQL but not in MySQL', 'SELECT 1 /* a /* b */ bobsecret */'],
    ['a backslash MySQL reads as an escape', "SELECT 'x\\' bobsecret '"],
    ['a string PostgreSQL ends early and MySQL does not', "SELECT 'a\\' secretword '' ', 'b''"],
    ['a UESCAPE character MySQL reads as an escape', "SELECT U&'d\\0061t' UESCAPE '\\' FROM t"],
    ['a string in Unicode quotes', 'SELECT * FROM t WHERE a = ‘alice’'],
    ['an email typed without quotes', 'SELECT * FROM t WHERE a = alice@example.com'],
    ['an email ending in an operator character', 'SELECT * FROM t WHERE a = alice-@example.com'],
    ['an email typed into a script', 'client.search(collection_name=alice@example.com)'],
    ['a psql meta-command', '\\connect prod alice'],
    ['prose', 'search "secret project" top 10'],
    ['an unterminated shell quote', "curl -H 'api-key: sk_live_x"],
    ['an unterminated here-document', 'psql <<EOF\nselect 1\n'],
    ['an unterminated Python string', 'client.search(collection_name="docs)'],
  ])('%s keeps nothing', (_, text) => {
    expect(queryShape(text)).toBeUndefined();
    const e = { query_hash: '', attributes: {} as Record<string, string> };
    setQueryFields(e, text, 'redacted');
    expect(e.attributes[QUERY_TEXT_ATTRIBUTE]).toBeUndefined();
    expect(e.query_hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('hashes a text without shape by its punctuation only', () => {
    expect(queryHash('search "alice" top 10')).toBe(queryHash('search "bob" top 99'));
    expect(queryHash('search "alice" top 10')).not.toBe(queryHash('search alice top 10'));
  });
});

describe('HTTP, JSON, shell and client scripts', () => {
  it('keeps only the API vocabulary of a URL', () => {
    expect(
      queryShape(
        "curl 'https://alice:pw@qdrant.example.com:6333/collections/hr-docs/points/search?api_key=sk_live_x&limit=5#frag'",
      ),
    ).toBe('curl https://?/collections/?/points/search??=?&limit=?');
  });

  it('keeps the keys of a REST body that are API vocabulary, never a value', () => {
    expect(
      queryShape(
        `curl http://q:6333/collections/docs/points/search --data '{"vector":[0.1,0.2],"limit":25,"filter":{"must":[{"key":"owner","match":{"value":"alice@example.com"}}]},"payload":{"alice@example.com":1}}'`,
      ),
    ).toBe(
      'curl http://?/collections/?/points/search --data {vector:?,limit:?,filter:{must:[{key:?,match:{value:?}}]},payload:{?:?}}',
    );
  });

  it('reads request lines with headers and JSON bodies', () => {
    expect(
      queryShape(
        'POST /collections/support/points/scroll HTTP/1.1\nAuthorization: Bearer sk_live_x\n\n{"limit": 500, "with_vectors": true}\nGET /collections/alice/points/7',
      ),
    ).toBe('post /collections/?/points/scroll ? {limit:?,with_vectors:true} get /collections/?/points/?');
  });

  it('reads MongoDB commands as JSON', () => {
    expect(
      queryShape('{"find": "users", "filter": {"email": "alice@example.com", "age": {"$gt": 30}}}'),
    ).toBe('{find:?,filter:{?:?,?:{$gt:?}}}');
  });

  it('drops shell values: assignments, attached option values, here-documents, comments', () => {
    expect(
      queryShape(
        "PGPASSWORD=hunter2 psql -h db.internal -U alice -c 'select 1' # for alice\nmysql -psecretpw --password=hunter2 <<EOF\nselect 'bob'\nEOF",
      ),
    ).toBe('?=? psql -h ? -u ? -c ? ; mysql ? --password=? << ; ?');
    expect(queryShape('curl -u alice:pw --data-raw "a=1&email=alice@example.com" https://h/v1/objects')).toBe(
      'curl -u ? --data-raw ? https://?/v1/objects',
    );
  });

  it('keeps SDK names of a client script, not its strings, numbers, comments or variables', () => {
    expect(
      queryShape(`from qdrant_client import QdrantClient
client = QdrantClient(url="http://qdrant:6333", api_key="sk_live_x")  # alice's key
secret_hits = client.search(
    collection_name="docs",
    query_vector=[0.1, 0.2],
    limit=50,
)`),
    ).toBe(
      'from qdrant_client import qdrantclient ; client = qdrantclient(url=?, api_key=?) ; ? = client.search( collection_name=?, query_vector=?, limit=?, )',
    );
  });
});

describe('queryHash', () => {
  it('hashes two queries of the same shape with different literals the same', () => {
    const a = queryHash(`SELECT * FROM docs WHERE owner = 'alice' LIMIT 10`);
    const b = queryHash(`select *   from DOCS where owner = 'bob' limit 500 -- for bob`);
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the hash of plain SQL what it was before the redaction was rewritten', () => {
    // The earlier hash was SHA-256 over the lower-cased text with literals as `?`: stored hashes
    // of plain SQL must still match new ones.
    expect(queryHash("SELECT * FROM docs WHERE owner = 'alice' AND n > 42")).toBe(
      sha16('select * from docs where owner = ? and n > ?'),
    );
    expect(queryHash("SELECT id FROM docs ORDER BY embedding <-> '[0.1,0.2,0.3]' LIMIT 5")).toBe(
      sha16('select id from docs order by embedding <-> ? limit ?'),
    );
    expect(queryHash('select name from items where id = $1 and tenant = $2')).toBe(
      sha16('select name from items where id = $? and tenant = $?'),
    );
  });

  it('hashes queries of different shapes differently', () => {
    expect(queryHash(`SELECT * FROM docs WHERE owner = 'alice'`)).not.toBe(
      queryHash(`SELECT * FROM mail WHERE owner = 'alice'`),
    );
  });

  it('returns the empty string for an empty or absent query', () => {
    expect(queryHash('')).toBe('');
    expect(queryHash(undefined)).toBe('');
  });
});

describe('setQueryFields', () => {
  const event = () => ({ query_hash: '', attributes: {} as Record<string, string> });

  it('off keeps the hash and nothing else', () => {
    const e = event();
    setQueryFields(e, "SELECT * FROM docs WHERE owner = 'alice'", 'off');
    expect(e).toEqual({ query_hash: queryHash("SELECT * FROM docs WHERE owner = 'alice'"), attributes: {} });
  });

  it('redacted keeps the shape next to the same hash', () => {
    const e = event();
    setQueryFields(e, "SELECT * FROM docs WHERE owner = 'alice'", 'redacted');
    expect(e).toEqual({
      query_hash: queryHash("SELECT * FROM docs WHERE owner = 'alice'"),
      attributes: { [QUERY_TEXT_ATTRIBUTE]: 'select * from docs where owner = ?' },
    });
  });
});
