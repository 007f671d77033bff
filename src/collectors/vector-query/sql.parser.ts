// SQL text (pgvector): the data operation of a statement or a script of several.
import type { Operation } from '../../model/index.js';
import { lexSql } from '../../privacy/index.js';
import { MAX_NAME, MAX_TEXT, MAX_TOP_K, type VectorOp } from './shared.js';

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
