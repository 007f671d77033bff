// Property tests of query text redaction: queries in every language vigil reads, with secrets
// (emails, API keys, random words, long numbers) placed in every position that holds a value —
// literals, comments, dollar-quoted bodies, arguments, header values, URL parts, JSON values and
// payload keys. No secret may survive, the shape may hold only allow-listed words, and the shape
// must not depend on the secrets at all.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryShape } from '../../../src/privacy/query-text.js';
import {
  CLICKHOUSE_FORMATS,
  CODE_WORDS,
  HTTP_METHODS,
  JSON_KEYS,
  MONGO_OPERATORS,
  REST_WORDS,
  SHELL_COMMANDS,
  SHELL_LONG_OPTIONS,
  SQL_KEYWORDS,
} from '../../../src/privacy/query-shape/vocabulary.js';

/** Table, column and function names the SQL templates use (kept in data statements, by design). */
const SQL_NAMES = [
  'docs',
  'chunks',
  'customer_pii',
  'embedding',
  'owner',
  'email',
  'note',
  'id',
  'body',
  'tenant',
];
const SQL_FUNCTIONS = ['lower', 'upper', 'concat', 'set_config', 'cosine_distance', 's3', 'max_threads'];

const VOCABULARY = [
  ...CLICKHOUSE_FORMATS,
  ...SQL_KEYWORDS,
  ...CODE_WORDS,
  ...HTTP_METHODS,
  ...JSON_KEYS,
  ...MONGO_OPERATORS,
  ...REST_WORDS,
  ...SHELL_COMMANDS,
  ...SHELL_LONG_OPTIONS,
];
const ALLOWED = new Set([...VOCABULARY, ...SQL_NAMES, ...SQL_FUNCTIONS, 'http', 'https']);
const VOCABULARY_TEXT = [...ALLOWED].join(' ');

// ---------------------------------------------------------------------------------- secrets

const word = fc.stringMatching(/^[a-z]{10,14}$/).filter((w) => !VOCABULARY_TEXT.includes(w));
const apiKey = fc.stringMatching(/^[A-Za-z0-9]{16,28}$/).map((s) => `sk_live_${s}`);
const email = fc.emailAddress().filter((e) => e.length >= 6);
const secret = fc.oneof(word, apiKey, email);
/** A number long enough that its digits could not come from anywhere else. */
const secretNumber = fc.bigInt({ min: 10n ** 9n, max: 10n ** 15n }).map(String);

// -------------------------------------------------------------------------- how to embed them

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const sqlEscapeString = (s: string) => `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const dollarQuoted = (s: string) => {
  let tag = '$$';
  for (let k = 0; s.includes(tag); k++) tag = `$q${k}$`;
  return `${tag}${s}${tag}`;
};
const hex = (s: string) => Buffer.from(s).toString('hex');
/** A shell word that is the secret itself, whatever characters it holds. */
const shellWord = (s: string) => s.replace(/[^A-Za-z0-9_@.:-]/g, (c) => `\\${c}`);
const shellSingle = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const pyString = (s: string) => JSON.stringify(s);

/** The secrets of a case and the text that embeds them. */
interface Case {
  readonly text: string;
  readonly secrets: readonly string[];
}

/**
 * A template: the same text around different secrets must redact to the same shape. `k` picks
 * the literal forms (the same for both texts compared).
 */
type Template = (s: readonly string[], n: readonly string[], k: readonly number[]) => string;

const SQL_VALUE: Array<(s: string, n: string) => string> = [
  (s) => sqlString(s),
  (s) => sqlEscapeString(s),
  (s) => dollarQuoted(s),
  (s) => `U&${sqlString(s)}`,
  (s) => `N${sqlString(s)}`,
  (s) => `X'${hex(s)}'`,
  (_, n) => n,
  (_, n) => `${n}.5e-3`,
  (_, n) => `0x${BigInt(n).toString(16)}`,
  (_, n) => `'[${n}, 0.${n}]'::vector`,
  (s) => `lower(${sqlString(s)})`,
  (s, n) => `concat(${sqlString(s)}, ${n})`,
];

const SQL_TEMPLATES: Template[] = [
  ([a, b, c], [x, y], k) =>
    `SELECT id, body FROM docs WHERE owner = ${pick(a!, x!, k[0]!)} AND note <> ${pick(b!, y!, k[1]!)} LIMIT ${x} -- ${c}`,
  ([a, b], [x], k) => `SELECT * FROM customer_pii -- ticket for ${a}\nWHERE email = ${pick(b!, x!, k[2]!)}`,
  ([a, b], [x], k) =>
    `/* requested by ${a!.replaceAll('*', '')} */ UPDATE docs SET note = ${pick(b!, x!, k[3]!)} WHERE id = ${x}`,
  ([a, b, c], [x], k) =>
    `INSERT INTO chunks (id, body, tenant) VALUES (${x}, ${dollarQuoted(a!)}, ${pick(b!, x!, k[0]!)}) RETURNING id; -- ${c}`,
  ([a, b], [x]) =>
    `SELECT id FROM docs ORDER BY embedding <-> '[${x}, 0.1]' LIMIT 5 # ${a}\n; DELETE FROM docs WHERE owner = ${sqlEscapeString(b!)}`,
  ([a, b, c], [x], k) =>
    `WITH t AS (SELECT id FROM docs WHERE note = ${pick(a!, x!, k[1]!)}) SELECT "${b!.replaceAll('"', '""')}", \`${c!.replaceAll('`', '``')}\` FROM t`,
  ([a, b]) =>
    `DO $body$BEGIN PERFORM set_config('app.user', ${sqlString(a!)}, false); END$body$; SELECT ${sqlString(b!)}`,
  ([a], [x]) =>
    `SELECT * FROM docs WHERE tenant = {tenant:String} AND id = ${x} SETTINGS max_threads = ${x} -- ${a}`,
  ([a, b], [x]) =>
    `INSERT INTO docs FORMAT JSONEachRow {"owner": ${JSON.stringify(a)}, "id": ${x}, "note": ${JSON.stringify(b)}}`,
  ([a, b]) => `SELECT * FROM s3(${sqlString(`https://${a}:${b}@bucket.example.com/x.csv`)}, 'CSV')`,
  ([a, b]) =>
    `GRANT SELECT ON docs TO ${a!.replace(/[^a-z]/g, '')}x; CREATE USER ${b!.replace(/[^a-z]/g, '')}y WITH PASSWORD ${sqlString(a!)}`,
  ([a]) => `SET ROLE ${a!.replace(/[^a-z]/g, '')}z`,
  ([a, b], [x]) =>
    `EXPLAIN (ANALYZE) SELECT * FROM docs WHERE email = ${sqlString(a!)} /* ${b!.replaceAll('*', '')} */ AND id = ${x}`,
];

/** A value in one of the SQL literal forms. */
function pick(s: string, n: string, form: number): string {
  return SQL_VALUE[form % SQL_VALUE.length]!(s, n);
}

const JSON_VALUE = (s: string, n: string, form: number): unknown =>
  [s, Number(n), [Number(n), 0.5], { value: s }, [s, s], { [s]: n }, null][form % 7];

function restBody(
  [a, b, c]: readonly string[],
  [x, y]: readonly string[],
  k: readonly number[],
): Record<string, unknown> {
  return {
    vector: [Number(x) / 1e9, 0.25],
    limit: Number(y),
    filter: { must: [{ key: a, match: { value: b } }], should: [{ key: 'owner', match: { any: [c, a] } }] },
    payload: { [a!]: JSON_VALUE(b!, x!, k[0]!), note: JSON_VALUE(c!, y!, k[1]!) },
    namespace: b,
    collectionName: c,
    query_texts: [a, b],
    where: { [b!]: { $eq: c } },
  };
}

const JSON_TEMPLATES: Template[] = [
  (s, n, k) => JSON.stringify(restBody(s, n, k)),
  ([a, b, c], [x]) =>
    JSON.stringify({
      find: a,
      filter: { email: b, age: { $gt: Number(x) }, $or: [{ [c!]: a }] },
      limit: Number(x),
    }),
  ([a, b], [x]) =>
    JSON.stringify({ points: [{ id: Number(x), vector: [0.1, 0.2], payload: { owner: a, text: b } }] }),
  ([a, b], [x]) =>
    JSON.stringify({
      query: { bool: { must: [{ match: { [a!]: b } }], filter: [{ range: { age: { gte: Number(x) } } }] } },
    }),
];

const url = ([a, b, c]: readonly string[]) =>
  `https://${encodeURIComponent(a!)}:${encodeURIComponent(b!)}@${c!.replace(/[^a-z]/gi, '') || 'h'}.example.com:6333/collections/${encodeURIComponent(c!)}/points/search?api_key=${encodeURIComponent(a!)}&${encodeURIComponent(b!)}=1&limit=5#${encodeURIComponent(c!)}`;

const HTTP_TEMPLATES: Template[] = [
  (s, n, k) =>
    `POST ${url(s).replace(/^https:\/\/[^/]+/, '')} HTTP/1.1\nAuthorization: Bearer ${s[0]}\nX-User: ${s[1]}\n\n${JSON.stringify(restBody(s, n, k), null, 2)}`,
  ([a, b, c], [x]) =>
    `PUT /collections/${encodeURIComponent(a!)}/points\n{"points":[{"id":${x},"vector":[0.1],"payload":{"email":${JSON.stringify(b)}}}]}\nGET /v1/objects/${encodeURIComponent(c!)}`,
  ([a, b]) =>
    `POST /v2/vectordb/entities/query\n\nfilter=${encodeURIComponent(a!)}&user=${encodeURIComponent(b!)}`,
];

const SHELL_TEMPLATES: Template[] = [
  (s, n, k) =>
    `curl -sS -X POST ${shellSingle(url(s))} \\\n  -H api-key:${shellWord(s[0]!)} -H ${shellSingle(`Authorization: Bearer ${s[1]}`)} \\\n  --data ${shellSingle(JSON.stringify(restBody(s, n, k)))}`,
  ([a, b, c]) =>
    `API_KEY=${shellWord(a!)} curl -u ${shellWord(`${b}:${c}`)} --user=${shellWord(c!)} ${shellSingle(url([a!, b!, c!]))}`,
  ([a, b, c]) =>
    `# run by ${a}\nPGPASSWORD=${shellSingle(b!)} psql -h db -U ${shellWord(c!)} -c ${shellSingle(`select * from t where x = '${a}'`)}`,
  ([a, b]) =>
    `mysql -p${shellWord(a!)} -e "select 1" <<EOF\nselect * from t where email = '${b}';\nEOF\necho ${shellWord(a!)}`,
  ([a, b]) =>
    `curl --data-urlencode ${shellSingle(`q=${a}`)} -d @${shellWord(b!)} "http://h:8080/v1/graphql"`,
  ([a, b, c]) =>
    `export TOKEN=${shellSingle(a!)} && curl -H "x-api-key: $TOKEN ${b!.replace(/["\\$`]/g, '')}" ${shellWord(c!)} | jq .`,
];

const CODE_TEMPLATES: Template[] = [
  ([a, b, c], [x]) => `from qdrant_client import QdrantClient, models
client = QdrantClient(url=${pyString(`http://${encodeURIComponent(a!)}@q:6333`)}, api_key=${pyString(b!)})  # key of ${c}
hits = client.search(
    collection_name=${pyString(c!)},
    query_vector=[0.${x}, -1.5e3],
    query_filter=models.Filter(must=[models.FieldCondition(key=${pyString(a!)}, match=models.MatchValue(value=${pyString(b!)}))]),
    limit=${x},
)`,
  ([a, b], [x]) => `import chromadb
col = chromadb.HttpClient().get_collection(name=${pyString(a!)})
res = col.query(query_texts=[f${pyString(b!)}], n_results=${x}, where={${pyString(a!)}: ${pyString(b!)}})
print(f'''${b!.replaceAll("'", '')}''')`,
  ([a, b, c], [x]) => `const { QdrantClient } = require("@qdrant/js-client-rest");
const client = new QdrantClient({ url: ${pyString(a!)}, apiKey: '${b!.replace(/['\\]/g, '')}' }); // ${c}
/* owner: ${b!.replaceAll('*', '')} */
await client.search(\`${c!.replace(/[`\\$]/g, '')}\`, { vector: [${x}, 0.2], limit: ${x} });`,
];

// ------------------------------------------------------------------------------ the properties

const secrets = fc.array(secret, { minLength: 3, maxLength: 3 });
const numbers = fc.array(secretNumber, { minLength: 2, maxLength: 2 });
const forms4 = fc.array(fc.nat(99), { minLength: 4, maxLength: 4 });

/** Everything the shape could show of a secret: itself, lower-cased, URL- and hex-encoded. */
function forms(s: string): string[] {
  return [s, encodeURIComponent(s), hex(s)].map((f) => f.toLowerCase()).filter((f) => f.length >= 6);
}

function expectRedacted(c: Case): string {
  const shape = queryShape(c.text);
  expect(shape, c.text).toBeDefined();
  const lower = shape!.toLowerCase();
  for (const s of c.secrets) for (const f of forms(s)) expect(lower, `${f} in ${shape}`).not.toContain(f);
  // Only allow-listed words: split into runs of name characters, options without their dashes.
  for (const run of lower.split(/[^a-z0-9_$-]+/)) {
    const w = run.replace(/^-+/, '');
    if (w === '' || w === '$') continue;
    expect(ALLOWED.has(w) || /^[a-z]$/.test(w), `word ${w} in ${shape}`).toBe(true);
  }
  expect(shape).not.toMatch(/\d{4,}/);
  return shape!;
}

function languageProperty(name: string, templates: Template[]) {
  it(`${name}: no secret survives, only allow-listed words, the same shape for other secrets`, () => {
    fc.assert(
      fc.property(
        fc.nat(templates.length - 1),
        forms4,
        secrets,
        numbers,
        secrets,
        numbers,
        (t, k, s1, n1, s2, n2) => {
          const template = templates[t]!;
          const one = expectRedacted({ text: template(s1, n1, k), secrets: [...s1, ...n1] });
          const two = expectRedacted({ text: template(s2, n2, k), secrets: [...s2, ...n2] });
          expect(two).toBe(one);
        },
      ),
      { numRuns: 300 },
    );
  });
}

// Hundreds of runs each: time enough on a loaded machine (the work is bounded by numRuns, not by time).
describe('redacted query shapes', { timeout: 60_000 }, () => {
  languageProperty('SQL (PostgreSQL, MySQL, ClickHouse)', SQL_TEMPLATES);
  languageProperty('JSON bodies', JSON_TEMPLATES);
  languageProperty('HTTP request text', HTTP_TEMPLATES);
  languageProperty('shell and curl', SHELL_TEMPLATES);
  languageProperty('Python and JavaScript client scripts', CODE_TEMPLATES);

  it('SQL: a secret in any literal form, at any place of a statement, never survives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(SQL_VALUE.length - 1), secret, secretNumber), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.constantFrom(
          'SELECT * FROM docs WHERE',
          'DELETE FROM docs WHERE',
          'UPDATE docs SET note = 1 WHERE',
        ),
        (values, head) => {
          const conditions = values.map(
            ([k, s, n], i) => `${SQL_NAMES[i % SQL_NAMES.length]} = ${SQL_VALUE[k]!(s, n)}`,
          );
          const text = `${head} ${conditions.join(' AND ')}`;
          expectRedacted({ text, secrets: values.flatMap(([, s, n]) => [s, n]) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('SQL: strings escaped MySQL-style keep no secret under any reading (or keep no shape)', () => {
    const mysqlString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
    const quoteHeavy = fc
      .array(fc.oneof(secret, fc.constantFrom("'", "''", ' , ', "\\'", ' ')), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(quoteHeavy, secret, (a, b) => {
        const text = `SELECT * FROM docs WHERE note = ${mysqlString(a)} AND owner = ${mysqlString(b)}`;
        const shape = queryShape(text);
        if (shape === undefined) return;
        for (const s of [...a.split(/[\s,'\\]+/), b].filter((x) => x.length >= 6))
          expect(shape.toLowerCase(), text).not.toContain(s.toLowerCase());
      }),
      { numRuns: 500 },
    );
  });

  it('never throws, and whatever it keeps is allow-listed, on any text at all', () => {
    const pieces = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom(
        "'",
        '"',
        '`',
        '$$',
        '$a$',
        '--',
        '/*',
        '*/',
        '#',
        '\\',
        '\n',
        '<<EOF',
        'EOF',
        '{',
        '}',
        '[',
        ']',
      ),
      fc.constantFrom('select', 'curl', 'POST /collections/x', 'client.search(', ' -H ', 'https://u:p@h/'),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 24 }), (parts) => {
        const text = parts.join(' ');
        const shape = queryShape(text);
        if (shape === undefined) return;
        for (const run of shape.split(/[^a-z0-9_$-]+/)) {
          const w = run.replace(/^-+/, '');
          if (w === '' || w === '$' || /^[a-z]$/.test(w)) continue;
          // A name from the text survives only inside a SQL data statement (a table or a column).
          if (!ALLOWED.has(w))
            expect(shape, text).toMatch(
              /^\(*(select|with|insert|update|delete|merge|values|table|truncate|copy|vacuum|analyze|analyse|reindex|cluster|refresh|lock|describe|desc|optimize|exists|check|prepare|execute|declare|fetch|move|close|call|explain|create|drop)\b/,
            );
        }
      }),
      { numRuns: 500 },
    );
  });
});
