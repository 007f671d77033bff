// What a PostgreSQL statement does, read from the query text of a database span: its verb, the
// canonical operation, the table it touches, its LIMIT, and whether it is pgvector work (distance
// operators, vector casts, vector columns or indexes). A shallow reading, not a parser: enough to
// tell a similarity search on `items` with LIMIT 5 from a plain SELECT, and never worse than
// "operation other, no table". The text itself is not kept anywhere (only its hash, elsewhere).
import type { Operation } from '../../model/index.js';

export interface SqlShape {
  /** Upper-case statement verb: `SELECT`, `INSERT`, `CREATE TABLE`, …; '' when none was found. */
  readonly verb: string;
  readonly operation: Operation;
  /** Target table (`schema.table`, `public.` dropped; unquoted names folded to lower case). */
  readonly table: string;
  /** `LIMIT n` / `FETCH FIRST n ROWS` of the statement; 0 when absent or a parameter. */
  readonly limit: number;
  /** pgvector syntax seen. */
  readonly vector: boolean;
}

/** Distance operators: L2, cosine, negative inner product, L1, Hamming, Jaccard. */
const VECTOR_OPERATOR = /<->|<=>|<#>|<\+>|<~>|<%>/;
const VECTOR_CAST = /::\s*(?:vector|halfvec|sparsevec)\b/i;
const VECTOR_COLUMN = /\b(?:vector|halfvec|sparsevec)\s*\(\s*\d+\s*\)/i;
const VECTOR_INDEX = /\busing\s+(?:hnsw|ivfflat)\b/i;
const VECTOR_EXTENSION = /^create\s+extension\b.*\bvector\b/i;
/** Placeholder the scanner leaves for a string literal in pgvector's text format ('[1,2,3]'). */
const VECTOR_LITERAL = /'v'(?!\s*::\s*(?:jsonb?|text|numeric|int\w*|float\w*)\b)/i;

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const QUALIFIED = String.raw`(${IDENT}(?:\s*\.\s*${IDENT}){0,2})`;

const TABLE_PATTERNS: Record<string, RegExp> = {
  SELECT: new RegExp(String.raw`\bfrom\s+(?:only\s+)?${QUALIFIED}`, 'i'),
  INSERT: new RegExp(String.raw`\binsert\s+into\s+${QUALIFIED}`, 'i'),
  UPDATE: new RegExp(String.raw`\bupdate\s+(?:only\s+)?${QUALIFIED}`, 'i'),
  DELETE: new RegExp(String.raw`\bdelete\s+from\s+(?:only\s+)?${QUALIFIED}`, 'i'),
  MERGE: new RegExp(String.raw`\bmerge\s+into\s+(?:only\s+)?${QUALIFIED}`, 'i'),
  TRUNCATE: new RegExp(String.raw`\btruncate\s+(?:table\s+)?(?:only\s+)?${QUALIFIED}`, 'i'),
  COPY: new RegExp(String.raw`\bcopy\s+${QUALIFIED}`, 'i'),
  'CREATE TABLE': new RegExp(
    String.raw`\btable\s+(?:if\s+not\s+exists\s+)?${QUALIFIED}`,
    'i',
  ),
  'DROP TABLE': new RegExp(String.raw`\btable\s+(?:if\s+exists\s+)?${QUALIFIED}`, 'i'),
  'ALTER TABLE': new RegExp(String.raw`\btable\s+(?:if\s+exists\s+)?(?:only\s+)?${QUALIFIED}`, 'i'),
  'CREATE INDEX': new RegExp(String.raw`\bon\s+(?:only\s+)?${QUALIFIED}`, 'i'),
};

const KEYWORDS_NOT_TABLES = new Set(['select', 'lateral', 'unnest', 'values', 'generate_series']);

/** Words between CREATE / DROP and the object kind. */
const DDL_MODIFIERS = new Set([
  'or',
  'replace',
  'unique',
  'temp',
  'temporary',
  'unlogged',
  'global',
  'local',
  'materialized',
  'concurrently',
  'recursive',
]);

const NO_DATA = new Set([
  'BEGIN',
  'START',
  'COMMIT',
  'END',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SET',
  'RESET',
  'SHOW',
  'DISCARD',
  'DEALLOCATE',
  'PREPARE',
  'EXECUTE',
  'LISTEN',
  'NOTIFY',
  'UNLISTEN',
  'EXPLAIN',
]);

export function analyzeSql(text: string): SqlShape {
  const skeleton = scan(text);
  const verb = statementVerb(skeleton);
  const vector =
    VECTOR_OPERATOR.test(skeleton) ||
    VECTOR_CAST.test(skeleton) ||
    VECTOR_LITERAL.test(skeleton) ||
    VECTOR_INDEX.test(skeleton) ||
    VECTOR_EXTENSION.test(skeleton.trim()) ||
    (verb.endsWith('TABLE') && VECTOR_COLUMN.test(skeleton));
  const isCopyOut = verb === 'COPY' && /\bto\b/i.test(skeleton) && !/\bfrom\b/i.test(skeleton);
  return {
    verb,
    operation: operationOf(verb, vector, isCopyOut),
    table: tableOf(verb, skeleton),
    limit: limitOf(skeleton),
    vector,
  };
}

/**
 * The statement without comments, with each string literal replaced by `'?'` (or `'v'` when it
 * reads like a pgvector value, `[1,2,3]`), quoted identifiers kept.
 */
function scan(text: string): string {
  let out = '';
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "'") {
      let j = i + 1;
      let lit = '';
      while (j < n) {
        if (text[j] === "'" && text[j + 1] === "'") {
          lit += "'";
          j += 2;
        } else if (text[j] === "'") break;
        else lit += text[j++];
      }
      out += /^\s*\[\s*[-+]?[\d.]+(?:[eE][-+]?\d+)?(?:\s*,\s*[-+]?[\d.]+(?:[eE][-+]?\d+)?)*\s*\]\s*$/.test(lit)
        ? "'v'"
        : "'?'";
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && !(text[j] === '"' && text[j + 1] !== '"')) j += text[j] === '"' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      out += ' ';
    } else if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      out += ' ';
    } else if (c === '$' && /^\$(?:[A-Za-z_]\w*)?\$/.test(text.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_]\w*)?\$/.exec(text.slice(i, i + 64))![0];
      const close = text.indexOf(tag, i + tag.length);
      i = close < 0 ? n : close + tag.length;
      out += "'?'";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function words(s: string): string[] {
  return s.match(/[A-Za-z_]+/g) ?? [];
}

function statementVerb(skeleton: string): string {
  const body = skeleton.replace(/^[\s(;]+/, '');
  const first = (words(body.slice(0, 64))[0] ?? '').toUpperCase();
  if (first === 'WITH') return mainVerbAfterCtes(body);
  if (first === 'CREATE' || first === 'DROP' || first === 'ALTER') {
    const rest = words(body.slice(0, 200)).slice(1);
    const kind = rest.find((w) => !DDL_MODIFIERS.has(w.toLowerCase()));
    return kind ? `${first} ${kind.toUpperCase()}` : first;
  }
  return first;
}

/** In `WITH a AS (…) SELECT …`, the verb at parenthesis depth 0 after the CTEs. */
function mainVerbAfterCtes(body: string): string {
  let depth = 0;
  const re = /[()]|\b(select|insert|update|delete|merge)\b/gi;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    else if (depth === 0) return m[0].toUpperCase();
  }
  return 'SELECT';
}

function operationOf(verb: string, vector: boolean, copyOut: boolean): Operation {
  switch (verb) {
    case 'SELECT':
    case 'TABLE':
      return vector ? 'search' : 'fetch';
    case 'INSERT':
    case 'UPDATE':
    case 'MERGE':
    case 'UPSERT':
      return 'upsert';
    case 'COPY':
      return copyOut ? 'scroll' : 'upsert';
    case 'DELETE':
    case 'TRUNCATE':
      return 'delete';
    case 'CREATE TABLE':
    case 'CREATE INDEX':
      return 'create_collection';
    case 'DROP TABLE':
    case 'DROP INDEX':
      return 'drop_collection';
    case '':
      return 'other';
    default:
      return NO_DATA.has(verb) ? 'other' : 'admin';
  }
}

function tableOf(verb: string, skeleton: string): string {
  const pattern = TABLE_PATTERNS[verb];
  if (!pattern) return '';
  // SELECT: the first FROM that names a table (skipping `FROM (subquery)` and set-returning calls).
  if (verb === 'SELECT') {
    const global = new RegExp(pattern.source, 'gi');
    for (let m = global.exec(skeleton); m; m = global.exec(skeleton)) {
      const name = normalizeIdentifier(m[1]!);
      if (!KEYWORDS_NOT_TABLES.has(name) && !/^\s*\(/.test(skeleton.slice(m.index + m[0].length)))
        return name;
    }
    return '';
  }
  const m = pattern.exec(skeleton);
  return m ? normalizeIdentifier(m[1]!) : '';
}

/** `Public."My Table"` → `My Table`; `s.Items` → `s.items` (PostgreSQL folds unquoted names). */
function normalizeIdentifier(raw: string): string {
  const parts = raw.match(/"(?:[^"]|"")+"|[^\s."]+/g) ?? [];
  const names = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()));
  if (names.length > 1 && names[0] === 'public') names.shift();
  return names.join('.');
}

function limitOf(skeleton: string): number {
  // The last LIMIT is the outer statement's in `… (SELECT … LIMIT 1) … LIMIT 10`.
  const limits = [...skeleton.matchAll(/\blimit\s+(\d{1,9})\b|\bfetch\s+(?:first|next)\s+(\d{1,9})\s+rows?\b/gi)];
  const last = limits.at(-1);
  return last ? Number(last[1] ?? last[2]) : 0;
}
