// A SQL tokenizer for the dialects vigil sees (PostgreSQL, MySQL, ClickHouse): it tells code from
// literals and comments, and nothing more. One left-to-right scan, linear whatever the text.
// Shared by the redaction of query text (query-shape/sql-shape.ts) and by the collectors' reading of
// SQL (collectors/vector-query.ts), so both agree on where a literal starts and ends.

export type SqlTokenKind =
  /** Unquoted identifier or keyword: ASCII letters, digits, `_`, `$`. */
  | 'word'
  /** `"…"` or a backquoted identifier (a string in MySQL, and redacted either way). */
  | 'quoted'
  /** `'…'`, with its prefix when it has one (E, N, B, X, U&), or a dollar-quoted string. */
  | 'string'
  | 'number'
  /** A positional parameter: `$1`. */
  | 'param'
  /** A run of operator characters: `<->`, `::`, `>=`, `@`. */
  | 'op'
  /** One of `( ) [ ] { } , ; .` */
  | 'punct';

export interface SqlToken {
  readonly kind: SqlTokenKind;
  readonly start: number;
  readonly end: number;
  /** White space or a comment came before it. */
  readonly gap: boolean;
}

export interface SqlLexOptions {
  /**
   * MySQL's reading: backslash escapes in every quoted string and block comments that do not nest.
   * Otherwise PostgreSQL's: backslashes escape only in E'…' strings, and block comments nest.
   */
  readonly backslashEscapes?: boolean;
  /** `#` starts a comment to the end of the line (MySQL, ClickHouse), except inside `<#>`. */
  readonly hashComments?: boolean;
}

export interface SqlLexResult {
  readonly tokens: SqlToken[];
  /**
   * Why the text is not well-formed SQL: an unterminated literal or comment, or a character that no
   * dialect allows outside a literal. The tokens are still given up to the end, a literal left
   * open running to the end of the text.
   */
  readonly error?: 'unterminated' | 'unexpected_character';
}

const OPERATOR_CHARS = '+-*/<>=~!@#%^&|?';
const PUNCT_CHARS = '()[]{},;.:';
const WORD_START = /[A-Za-z_]/;
const WORD_REST = /[A-Za-z0-9_$]/;
const NUMBER = /\.?\d(?:[eE][+-]?\d|[A-Za-z0-9_.])*/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;
/** White space SQL allows between tokens: ASCII only, so a look-alike character is not taken for one. */
const SPACE = /[ \t\n\r\f\v]/;

export function lexSql(text: string, options: SqlLexOptions = {}): SqlLexResult {
  const backslash = options.backslashEscapes === true;
  const n = text.length;
  const tokens: SqlToken[] = [];
  let error: SqlLexResult['error'];
  let gap = false;
  let i = 0;
  /** Adds a token; returns its end, where the scan goes on. */
  const push = (kind: SqlTokenKind, start: number, end: number): number => {
    tokens.push({ kind, start, end, gap });
    gap = false;
    return end;
  };
  /** End of a quoted run opened at `open` (the index of its quote), past the closing quote. */
  const quoted = (open: number, quote: string, escapes: boolean): number => {
    let j = open + 1;
    while (j < n) {
      const c = text[j];
      if (escapes && c === '\\') j += 2;
      else if (c === quote && text[j + 1] === quote) j += 2;
      else if (c === quote) return j + 1;
      else j++;
    }
    error ??= 'unterminated';
    return n;
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (SPACE.test(c)) {
      gap = true;
      i++;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      gap = true;
      i = end < 0 ? n : end + 1;
    } else if (c === '#' && options.hashComments && !(text[i - 1] === '<' && next === '>')) {
      const end = text.indexOf('\n', i);
      gap = true;
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      i = blockCommentEnd(text, i, !backslash);
      if (i < 0) {
        error ??= 'unterminated';
        i = n;
      }
      gap = true;
    } else if (c === "'") {
      i = push('string', i, quoted(i, "'", backslash));
    } else if (c === '"') {
      i = push('quoted', i, quoted(i, '"', backslash));
    } else if (c === '`') {
      i = push('quoted', i, quoted(i, '`', false));
    } else if (WORD_START.test(c)) {
      const start = i;
      while (i < n && WORD_REST.test(text[i]!)) i++;
      const word = text.slice(start, i);
      // A literal's prefix: E'…' (escapes), N'…', B'…', X'…', U&'…' (Unicode escapes).
      if (text[i] === "'" && /^[EeNnBbXx]$/.test(word)) {
        const escapes = backslash || word === 'E' || word === 'e';
        i = push('string', start, quoted(i, "'", escapes));
      } else if (/^[Uu]$/.test(word) && text[i] === '&' && (text[i + 1] === "'" || text[i + 1] === '"')) {
        const quote = text[i + 1]!;
        i = push(quote === "'" ? 'string' : 'quoted', start, quoted(i + 1, quote, backslash));
      } else push('word', start, i);
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(next ?? '') && !afterOperand(tokens, text, i))) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      i = push('number', i, NUMBER.lastIndex);
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const tag = /[A-Za-z0-9_$]/.test(text[i - 1] ?? '') ? null : DOLLAR_TAG.exec(text);
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        if (end < 0) error ??= 'unterminated';
        i = push('string', i, end < 0 ? n : end + tag[0].length);
      } else if (/\d/.test(next ?? '')) {
        const start = i++;
        while (i < n && /\d/.test(text[i]!)) i++;
        push('param', start, i);
      } else {
        error ??= 'unexpected_character';
        push('op', i, ++i);
      }
    } else if (OPERATOR_CHARS.includes(c)) {
      const start = i;
      // A comment start ends an operator (`=--x` is `=` then a comment), as in PostgreSQL.
      while (
        i < n &&
        OPERATOR_CHARS.includes(text[i]!) &&
        !(text[i] === '-' && text[i + 1] === '-') &&
        !(text[i] === '/' && text[i + 1] === '*') &&
        !(text[i] === '#' && options.hashComments && !(text[i - 1] === '<' && text[i + 1] === '>'))
      )
        i++;
      push('op', start, i);
    } else if (PUNCT_CHARS.includes(c)) {
      push(c === ':' ? 'op' : 'punct', i, ++i);
    } else {
      // Backslash (psql meta-commands), non-ASCII letters, look-alike quotes and spaces, control
      // characters: no dialect vigil reads takes them outside a literal.
      error ??= 'unexpected_character';
      push('op', i, ++i);
    }
  }
  return error ? { tokens, error } : { tokens };
}

/** Index past the end of the block comment opened at `open`, or -1 when it never closes. */
function blockCommentEnd(text: string, open: number, nested: boolean): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*' && (nested || depth === 0)) {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}

/** Whether the token before `at` ends an operand, so that `.5` there is a `.` and a number (`t.5`). */
function afterOperand(tokens: SqlToken[], text: string, at: number): boolean {
  const last = tokens[tokens.length - 1];
  if (!last || last.end !== at) return false;
  return last.kind === 'word' || last.kind === 'quoted' || text[last.end - 1] === ')';
}
