// A SQL tokenizer for the dialects vigil sees (PostgreSQL, MySQL, ClickHouse): it tells code from
// literals and comments, and nothing more. One left-to-right scan, linear whatever the text.
// Shared by the redaction of query text (query-shape/sql-shape.ts) and by the collectors' reading of
// SQL (collectors/vector-query/sql.parser.ts), so both agree on where a literal starts and ends.

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
const NUMBER = /\.?\d(?:[eE][+-]?\d|[A-Za-z0-9_.])*/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

// Character classes of ASCII (anything else is OTHER). White space is ASCII only, so a look-alike
// character (a no-break space, a typographic quote) is never taken for syntax.
const OTHER = 0;
const SPACE = 1;
const LETTER = 2;
const DIGIT = 3;
const OPERATOR = 4;
const PUNCT = 5;
const CLASS = new Uint8Array(128);
for (const c of ' \t\n\r\f\v') CLASS[c.charCodeAt(0)] = SPACE;
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) CLASS[c] = LETTER;
  else if (/\d/.test(ch)) CLASS[c] = DIGIT;
  else if (OPERATOR_CHARS.includes(ch)) CLASS[c] = OPERATOR;
  else if ('()[]{},;.:'.includes(ch)) CLASS[c] = PUNCT;
}
const classOf = (code: number): number => (code < 128 ? CLASS[code]! : OTHER);
const isWordChar = (code: number): boolean => {
  const k = classOf(code);
  return k === LETTER || k === DIGIT || code === 36; // `$`
};

export function lexSql(text: string, options: SqlLexOptions = {}): SqlLexResult {
  const backslash = options.backslashEscapes === true;
  const hashComments = options.hashComments === true;
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
    // Jumps from quote to quote (and backslash to backslash) with indexOf; each search starts
    // past the last, so the scan stays linear.
    let j = open + 1;
    let q = -2;
    let b = escapes ? -2 : -1;
    for (;;) {
      if (q !== -1 && q < j) q = text.indexOf(quote, j);
      if (b !== -1 && b < j) b = text.indexOf('\\', j);
      if (b !== -1 && (q === -1 || b < q)) j = b + 2;
      else if (q === -1) break;
      else if (text[q + 1] === quote) j = q + 2;
      else return q + 1;
    }
    error ??= 'unterminated';
    return n;
  };
  /** `#` starts a comment where `hashComments`, except as the middle of pgvector's `<#>`. */
  const hashComment = (at: number) => hashComments && !(text[at - 1] === '<' && text[at + 1] === '>');
  while (i < n) {
    const code = text.charCodeAt(i);
    const k = classOf(code);
    const c = text[i]!;
    const next = text[i + 1];
    if (k === SPACE) {
      gap = true;
      i++;
    } else if ((c === '-' && next === '-') || (c === '#' && hashComment(i))) {
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
    } else if (k === LETTER) {
      const start = i;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      const single = i === start + 1 ? c.toUpperCase() : '';
      // A literal's prefix: E'…' (escapes), N'…', B'…', X'…', U&'…' (Unicode escapes).
      if (text[i] === "'" && (single === 'E' || single === 'N' || single === 'B' || single === 'X')) {
        i = push('string', start, quoted(i, "'", backslash || single === 'E'));
      } else if (single === 'U' && text[i] === '&' && (text[i + 1] === "'" || text[i + 1] === '"')) {
        const quote = text[i + 1]!;
        i = push(quote === "'" ? 'string' : 'quoted', start, quoted(i + 1, quote, backslash));
      } else push('word', start, i);
    } else if (
      k === DIGIT ||
      (c === '.' && classOf(text.charCodeAt(i + 1)) === DIGIT && !afterOperand(tokens, text, i))
    ) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      i = push('number', i, NUMBER.lastIndex);
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const tag = i > 0 && isWordChar(text.charCodeAt(i - 1)) ? null : DOLLAR_TAG.exec(text);
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        if (end < 0) error ??= 'unterminated';
        i = push('string', i, end < 0 ? n : end + tag[0].length);
      } else if (classOf(text.charCodeAt(i + 1)) === DIGIT) {
        const start = i++;
        while (i < n && classOf(text.charCodeAt(i)) === DIGIT) i++;
        push('param', start, i);
      } else {
        error ??= 'unexpected_character';
        push('op', i, ++i);
      }
    } else if (k === OPERATOR) {
      const start = i;
      // A comment start ends an operator (`=--x` is `=` then a comment), as in PostgreSQL.
      while (
        i < n &&
        classOf(text.charCodeAt(i)) === OPERATOR &&
        !(text[i] === '-' && text[i + 1] === '-') &&
        !(text[i] === '/' && text[i + 1] === '*') &&
        !(text[i] === '#' && hashComment(i))
      )
        i++;
      push('op', start, i);
    } else if (k === PUNCT) {
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
