// The read-only guard of the ClickHouse HTTP interface: a small tokenizer (comments, strings,
// quoted identifiers and heredocs are skipped, never interpreted) and the rules that admit a
// statement — one read statement, no table function that reaches files or the network, no
// INTO OUTFILE, only settings from an allowlist. What passes is rewritten to carry its FORMAT as
// an option and `readonly = 1` in a query-level SETTINGS clause: the embedded engine applies
// per-request settings as session-wide SET statements (src/store/client.ts), so nothing may be
// sent that way; a query's own SETTINGS clause ends with the query.

export interface SqlToken {
  readonly kind: 'word' | 'quoted' | 'string' | 'number' | 'punct';
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Parenthesis depth the token sits at (0 = top level of the statement). */
  readonly depth: number;
}

export class SqlSyntaxError extends Error {
  override readonly name = 'SqlSyntaxError';
}

const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Tokens of `sql` without whitespace and comments. Throws SqlSyntaxError on unterminated text. */
export function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let depth = 0;
  let i = 0;
  const push = (kind: SqlToken['kind'], start: number, end: number, d = depth) =>
    tokens.push({ kind, text: sql.slice(start, end), start, end, depth: d });
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if ((c === '-' && next === '-') || c === '#') {
      // `--`, `#` and `#!` comments run to the end of the line.
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      // Block comments nest in ClickHouse.
      let level = 0;
      let j = i;
      for (; j < sql.length; j++) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          level++;
          j++;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          level--;
          j++;
          if (level === 0) break;
        }
      }
      if (level !== 0) throw new SqlSyntaxError('unterminated comment');
      i = j + 1;
    } else if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(sql, i);
      push(c === "'" ? 'string' : 'quoted', i, end);
      i = end;
    } else if (c === '$' && /^\$[A-Za-z0-9_]*\$/.test(sql.slice(i))) {
      // Heredoc string: $tag$ … $tag$
      const tag = /^\$[A-Za-z0-9_]*\$/.exec(sql.slice(i))![0];
      const close = sql.indexOf(tag, i + tag.length);
      if (close < 0) throw new SqlSyntaxError('unterminated heredoc string');
      push('string', i, close + tag.length);
      i = close + tag.length;
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < sql.length && /[0-9A-Za-z_.]/.test(sql[j]!)) {
        // Exponent signs: 1e-5
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '-' || sql[j + 1] === '+')) j++;
        j++;
      }
      push('number', i, j);
      i = j;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < sql.length && isWordPart(sql[j]!)) j++;
      push('word', i, j);
      i = j;
    } else if (c === '(' || c === '[') {
      push('punct', i, i + 1);
      depth++;
      i++;
    } else if (c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      push('punct', i, i + 1);
      i++;
    } else {
      push('punct', i, i + 1);
      i++;
    }
  }
  return tokens;
}

/** End (exclusive) of the quoted text starting at `start`: backslash escapes and doubled quotes. */
function quotedEnd(sql: string, start: number): number {
  const q = sql[start]!;
  for (let j = start + 1; j < sql.length; j++) {
    if (sql[j] === '\\') j++;
    else if (sql[j] === q) {
      if (sql[j + 1] === q) j++;
      else return j + 1;
    }
  }
  throw new SqlSyntaxError(`unterminated ${q === "'" ? 'string literal' : 'quoted identifier'}`);
}

/**
 * Functions and table functions that read or write outside the store: files, URLs, object
 * stores, other databases and servers, programs. Compared case-insensitively (table functions
 * are case-insensitive; `URL` is `url`).
 */
const OUTSIDE_WORLD = new Set(
  [
    'file',
    'fileCluster',
    'url',
    'urlCluster',
    's3',
    's3Cluster',
    'gcs',
    'oss',
    'cosn',
    'azureBlobStorage',
    'azureBlobStorageCluster',
    'hdfs',
    'hdfsCluster',
    'remote',
    'remoteSecure',
    'cluster',
    'clusterAllReplicas',
    'mysql',
    'postgresql',
    'mongodb',
    'redis',
    'sqlite',
    'odbc',
    'jdbc',
    'executable',
    'input',
    'deltaLake',
    'deltaLakeCluster',
    'deltaLakeS3',
    'deltaLakeAzure',
    'deltaLakeLocal',
    'hudi',
    'hudiCluster',
    'iceberg',
    'icebergS3',
    'icebergAzure',
    'icebergHDFS',
    'icebergLocal',
    'icebergCluster',
    'icebergS3Cluster',
    'icebergAzureCluster',
    'icebergHDFSCluster',
    'paimon',
    'paimonS3',
    'paimonAzure',
    'paimonHDFS',
    'paimonLocal',
    'arrowFlight',
    'arrowflight',
    'ytsaurus',
    'hive',
    'prometheusQuery',
    'prometheusQueryRange',
  ].map((n) => n.toLowerCase()),
);

/** Formats that read schema or template files named by settings. */
const FILE_BACKED_FORMATS = new Set(
  [
    'Template',
    'TemplateIgnoreSpaces',
    'Protobuf',
    'ProtobufSingle',
    'ProtobufList',
    'CapnProto',
    'Regexp',
  ].map((f) => f.toLowerCase()),
);

/** Settings a read may carry (URL or SQL): limits, formatting, planning. Everything else is refused. */
const ALLOWED_SETTINGS = new Set([
  'max_execution_time',
  'timeout_overflow_mode',
  'max_result_rows',
  'max_result_bytes',
  'result_overflow_mode',
  'max_rows_to_read',
  'max_bytes_to_read',
  'read_overflow_mode',
  'max_rows_to_group_by',
  'group_by_overflow_mode',
  'max_rows_to_sort',
  'sort_overflow_mode',
  'max_memory_usage',
  'max_threads',
  'max_block_size',
  'limit',
  'offset',
  'join_use_nulls',
  'join_algorithm',
  'transform_null_in',
  'aggregate_functions_null_for_empty',
  'prefer_column_name_to_alias',
  'joined_subquery_requires_alias',
  'enable_analyzer',
  'allow_experimental_analyzer',
  'session_timezone',
  'date_time_output_format',
  'format_csv_delimiter',
  'format_tsv_null_representation',
  'format_csv_null_representation',
  'output_format_decimal_trailing_zeros',
  'output_format_write_statistics',
  'log_comment',
]);
const ALLOWED_SETTING_PREFIXES = [
  'output_format_json_',
  'output_format_pretty_',
  'output_format_csv_',
  'output_format_tsv_',
  'optimize_',
];

/** HTTP-layer settings clients send in the URL; they mean nothing to the engine and are dropped. */
const HTTP_LAYER_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'http_response_buffer_size',
  'buffer_size',
  'enable_http_compression',
  'http_zlib_compression_level',
  'cancel_http_readonly_queries_on_client_close',
  'http_write_exception_in_output_format',
  'output_format_parallel_formatting',
  'readonly',
]);

export function settingAllowed(name: string): boolean {
  return ALLOWED_SETTINGS.has(name) || ALLOWED_SETTING_PREFIXES.some((p) => name.startsWith(p));
}

export function isHttpLayerSetting(name: string): boolean {
  return HTTP_LAYER_SETTINGS.has(name);
}

export type StatementKind = 'select' | 'show' | 'describe' | 'exists' | 'explain';

/** A refusal, shaped like a ClickHouse exception (code and name) with the HTTP status to answer. */
export interface Refusal {
  readonly status: 400 | 403;
  readonly code: number;
  readonly type: string;
  readonly message: string;
}

export interface ReadStatement {
  readonly kind: StatementKind;
  /** The statement without its FORMAT clause, trailing semicolon and trailing comments. */
  readonly body: string;
  /** Format named by a FORMAT clause, if any. */
  readonly format?: string;
  /** Whether `body` ends with a top-level SETTINGS clause (more settings join it with a comma). */
  readonly endsWithSettings: boolean;
}

const READONLY = (message: string): Refusal => ({ status: 403, code: 164, type: 'READONLY', message });
const DENIED = (message: string): Refusal => ({ status: 403, code: 497, type: 'ACCESS_DENIED', message });
const SYNTAX = (message: string, status: 400 | 403 = 400): Refusal => ({
  status,
  code: 62,
  type: 'SYNTAX_ERROR',
  message,
});

const upper = (t: SqlToken | undefined) => (t?.kind === 'word' ? t.text.toUpperCase() : '');
const EXPLAIN_WORDS = new Set([
  'AST',
  'SYNTAX',
  'QUERY',
  'TREE',
  'PLAN',
  'PIPELINE',
  'ESTIMATE',
  'TABLE',
  'OVERRIDE',
  'CURRENT',
  'TRANSACTION',
]);

/** The kind of the statement starting at token `i`, or a refusal naming the kind found. */
function statementKind(tokens: SqlToken[], i: number): StatementKind | Refusal {
  while (tokens[i]?.text === '(') i++;
  const word = upper(tokens[i]);
  switch (word) {
    case 'SELECT':
    case 'WITH':
      return 'select';
    case 'SHOW':
      return 'show';
    case 'DESCRIBE':
    case 'DESC':
      return 'describe';
    case 'EXISTS':
      return 'exists';
    case 'EXPLAIN': {
      // EXPLAIN [kind] [name = value, …] <select>: the explained statement must be a read too.
      let j = i + 1;
      while (j < tokens.length) {
        if (EXPLAIN_WORDS.has(upper(tokens[j]))) j++;
        else if (tokens[j]?.kind === 'word' && tokens[j + 1]?.text === '=') {
          j += 3;
          if (tokens[j]?.text === ',') j++;
        } else break;
      }
      const inner = statementKind(tokens, j);
      if (typeof inner !== 'string') return inner;
      return inner === 'select' ? 'explain' : READONLY(`EXPLAIN of ${inner.toUpperCase()} is not allowed`);
    }
    case '':
      return SYNTAX('Empty query');
    default:
      return READONLY(
        `Cannot execute query in readonly mode: ${word} statements are not allowed (only SELECT, WITH, SHOW, DESCRIBE, EXISTS, EXPLAIN)`,
      );
  }
}

/** Name = value pairs of a SETTINGS clause starting at token `i`; `end` is one past the last token. */
function settingsClause(
  tokens: SqlToken[],
  i: number,
): { pairs: Array<[string, string]>; end: number } | 'malformed' | undefined {
  const pairs: Array<[string, string]> = [];
  let j = i;
  for (;;) {
    const name = tokens[j];
    if (name?.kind !== 'word' || tokens[j + 1]?.text !== '=') return pairs.length ? 'malformed' : undefined;
    j += 2;
    // The value: one literal, possibly signed. Anything else (a tuple, an expression) is not
    // read as settings: the caller refuses the clause rather than guess what the engine sees.
    let value = '';
    if (tokens[j]?.text === '-' || tokens[j]?.text === '+') value = tokens[j++]!.text;
    const literal = tokens[j];
    if (!literal || literal.kind === 'punct' || literal.kind === 'quoted') return 'malformed';
    value += literal.text;
    j++;
    pairs.push([name.text, value]);
    if (tokens[j]?.text !== ',') return { pairs, end: j };
    j++;
  }
}

const endOf = (clause: ReturnType<typeof settingsClause>) => (typeof clause === 'object' ? clause.end : -1);

/** A function name as called: a word or a quoted identifier right before `(`. */
function calledName(t: SqlToken, next: SqlToken | undefined): string | undefined {
  if (next?.text !== '(') return undefined;
  if (t.kind === 'word') return t.text;
  if (t.kind === 'quoted') return t.text.slice(1, -1);
  return undefined;
}

/** Admits one read statement, or says why not. */
export function checkReadStatement(sql: string): ReadStatement | Refusal {
  let tokens: SqlToken[];
  try {
    tokens = tokenize(sql);
  } catch (err) {
    return SYNTAX(`Syntax error: ${(err as Error).message}`);
  }
  // One statement: a top-level `;` may only end the text.
  const semi = tokens.findIndex((t) => t.kind === 'punct' && t.text === ';');
  if (semi >= 0) {
    if (tokens.slice(semi + 1).some((t) => t.text !== ';'))
      return SYNTAX('Multi-statements are not allowed', 403);
    tokens = tokens.slice(0, semi);
  }
  const kind = statementKind(tokens, 0);
  if (typeof kind !== 'string') return kind;

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const called = calledName(t, tokens[k + 1]);
    if (called !== undefined && OUTSIDE_WORLD.has(called.toLowerCase()))
      return DENIED(`${called}() reads outside the store and is not allowed through this interface`);
    const word = upper(t);
    if (word === 'INTO' && upper(tokens[k + 1]) === 'OUTFILE') return DENIED('INTO OUTFILE is not allowed');
    if (word === 'SETTINGS') {
      const clause = settingsClause(tokens, k + 1);
      if (clause === 'malformed') return READONLY('SETTINGS clause: only name = literal pairs are allowed');
      for (const [name, value] of clause?.pairs ?? []) {
        if (name.toLowerCase() === 'readonly' ? value === '1' || value === '2' : settingAllowed(name))
          continue;
        return READONLY(`Cannot modify '${name}' setting in readonly mode`);
      }
    }
  }

  // FORMAT <name> at the top level, followed by nothing or by a SETTINGS clause only.
  let format: string | undefined;
  let cut: number | undefined;
  for (let k = tokens.length - 2; k >= 0; k--) {
    if (tokens[k]!.depth !== 0 || upper(tokens[k]) !== 'FORMAT' || tokens[k + 1]?.kind !== 'word') continue;
    const rest = k + 2;
    const tailOk =
      rest === tokens.length ||
      (upper(tokens[rest]) === 'SETTINGS' && endOf(settingsClause(tokens, rest + 1)) === tokens.length);
    if (!tailOk) continue;
    format = tokens[k + 1]!.text;
    cut = k;
    break;
  }
  if (format && FILE_BACKED_FORMATS.has(format.toLowerCase()))
    return DENIED(`format ${format} reads schema files and is not allowed through this interface`);
  const kept = cut === undefined ? tokens : [...tokens.slice(0, cut), ...tokens.slice(cut + 2)];
  if (kept.length === 0) return SYNTAX('Empty query');

  // The original text, from the first to the last kept token, with the FORMAT clause cut out.
  const first = tokens[0]!.start;
  const last = tokens[tokens.length - 1]!.end;
  const body =
    cut === undefined
      ? sql.slice(first, last)
      : `${sql.slice(first, tokens[cut]!.start).trimEnd()}${
          cut + 2 < tokens.length ? ` ${sql.slice(tokens[cut + 2]!.start, last)}` : ''
        }`;
  // Whether the kept statement ends with a top-level SETTINGS clause.
  let endsWithSettings = false;
  for (let k = kept.length - 1; k >= 0; k--) {
    if (kept[k]!.depth === 0 && upper(kept[k]) === 'SETTINGS') {
      endsWithSettings = endOf(settingsClause(kept, k + 1)) === kept.length;
      break;
    }
  }
  return { kind, body, format, endsWithSettings };
}

/** A setting value as SQL: numbers as they are, anything else as a quoted string. */
export function settingLiteral(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The statement to run: the body with the caller's allowed settings and `readonly = 1` last. */
export function withReadOnlySettings(stmt: ReadStatement, settings: ReadonlyArray<[string, string]>): string {
  const pairs = [...settings.map(([k, v]) => `${k} = ${settingLiteral(v)}`), 'readonly = 1'];
  return `${stmt.body}${stmt.endsWithSettings ? ', ' : '\nSETTINGS '}${pairs.join(', ')}`;
}

export function isRefusal(x: ReadStatement | Refusal): x is Refusal {
  return 'status' in x;
}
