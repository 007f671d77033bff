// The redacted shape of a SQL text. Every literal (strings of every kind, dollar-quoted bodies,
// numbers, vectors), every quoted identifier and every comment is gone; what stays is keywords,
// operators, punctuation, and the names of tables, columns and functions in data statements.
// Text that is not SQL for certain gives undefined (the caller keeps nothing of it).
import { lexSql, type SqlLexOptions, type SqlToken } from './sql-lexer.js';
import {
  CLICKHOUSE_FORMATS,
  SQL_DATA_OBJECTS,
  SQL_DATA_VERBS,
  SQL_KEYWORDS,
  SQL_VERBS,
} from './vocabulary.js';

/** Longest name kept (PostgreSQL truncates at 63): a longer run of letters is more likely data. */
const MAX_NAME = 63;

export function sqlShape(text: string): string | undefined {
  // Most texts that are not SQL tell it by their first word: not worth a scan of the whole text.
  const first = leadingWord(text);
  if (first === undefined || !SQL_VERBS.has(first.toLowerCase())) return undefined;
  const standard = render(text, {});
  if (standard === undefined) return undefined;
  // Backslashes and nested comments are where MySQL and PostgreSQL split a text differently: a
  // shape is kept only when both readings agree on every token, so no reading can smuggle a
  // literal's content into what another reading takes for code.
  if (!text.includes('\\') && !text.includes('/*')) return standard;
  return render(text, { backslashEscapes: true }) === standard ? standard : undefined;
}

function render(text: string, options: SqlLexOptions): string | undefined {
  const { tokens, error } = lexSql(text, { ...options, hashComments: true });
  if (error) return undefined;
  let out = '';
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    const t = tokens[i];
    if (t && !(t.kind === 'punct' && text[t.start] === ';')) continue;
    if (i > start) {
      const stmt = statement(text, tokens, start, i);
      if (stmt === undefined) return undefined;
      out += (out && tokens[start]!.gap ? ' ' : '') + stmt;
    }
    if (t) out += t.gap && out ? ' ;' : ';';
    start = i + 1;
  }
  return out || undefined;
}

/** One statement (tokens `from` to `to`, no `;`), or undefined when it does not start with a verb. */
function statement(text: string, tokens: SqlToken[], from: number, to: number): string | undefined {
  const word = (i: number) => {
    const t = i < to ? tokens[i] : undefined;
    return t?.kind === 'word' ? text.slice(t.start, t.end).toLowerCase() : undefined;
  };
  let first = from;
  while (first < to && tokens[first]!.kind === 'punct' && text[tokens[first]!.start] === '(') first++;
  const verb = word(first);
  if (!verb || !SQL_VERBS.has(verb)) return undefined;
  const data = isDataStatement(verb, (k) => word(first + k));
  let out = '';
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    let piece: string;
    switch (t.kind) {
      case 'word': {
        const w = text.slice(t.start, t.end).toLowerCase();
        piece = (data && w.length <= MAX_NAME) || SQL_KEYWORDS.has(w) ? w : '?';
        // ClickHouse: `INSERT … FORMAT CSV` is followed by the rows themselves, to the end of the text.
        if (w === 'format' && verb === 'insert' && word(i + 1) !== undefined) {
          const name = word(i + 1)!;
          return `${out}${t.gap && out ? ' ' : ''}format ${CLICKHOUSE_FORMATS.has(name) ? name : '?'} ?`;
        }
        break;
      }
      case 'param':
        piece = '$?';
        break;
      case 'punct': {
        const end = text[t.start] === '[' ? numericList(text, tokens, i, to) : -1;
        if (end > 0) {
          piece = '?';
          i = end;
        } else piece = text[t.start]!;
        break;
      }
      case 'op': {
        piece = text.slice(t.start, t.end);
        // `alice@example.com`, `alice-@example.com`, `user:pw@host`: a name glued to an operator
        // holding `@` is data typed without quotes (`a@>b` and `doc@@query` give their shape up too).
        if (piece.includes('@') && gluedToName(tokens, i)) return undefined;
        break;
      }
      default:
        piece = '?';
    }
    out += (t.gap && out ? ' ' : '') + piece;
  }
  return out;
}

function isDataStatement(verb: string, wordAt: (k: number) => string | undefined): boolean {
  if (SQL_DATA_VERBS.has(verb)) return true;
  if (verb === 'explain') {
    // EXPLAIN [(options)] [ANALYZE] [VERBOSE] <statement>: the statement explained decides.
    for (let k = 1; k < 16; k++) {
      const w = wordAt(k);
      if (w !== undefined && SQL_VERBS.has(w) && w !== 'analyze' && w !== 'analyse')
        return SQL_DATA_VERBS.has(w);
    }
    return false;
  }
  if (verb !== 'create' && verb !== 'drop') return false;
  // CREATE [OR REPLACE] [TEMP|UNLOGGED|…] [UNIQUE|MATERIALIZED] TABLE|INDEX|VIEW|… ; DROP TABLE|…
  for (let k = 1; k < 6; k++) {
    const w = wordAt(k);
    if (w === undefined) return false;
    if (SQL_DATA_OBJECTS.has(w)) return true;
    if (!/^(?:or|replace|temp|temporary|unlogged|global|local|unique|materialized|recursive)$/.test(w))
      return false;
  }
  return false;
}

/** Index of the `]` closing a list of numbers opened at `open` (a vector), or -1. */
function numericList(text: string, tokens: SqlToken[], open: number, to: number): number {
  for (let i = open + 1; i < to; i++) {
    const t = tokens[i]!;
    const c = text[t.start];
    if (t.kind === 'number' || (t.kind === 'punct' && c === ',')) continue;
    if (t.kind === 'op' && (c === '-' || c === '+') && t.end - t.start === 1) continue;
    return t.kind === 'punct' && c === ']' ? i : -1;
  }
  return -1;
}

function gluedToName(tokens: SqlToken[], at: number): boolean {
  const before = tokens[at - 1];
  const after = tokens[at + 1];
  const gluedBefore = before !== undefined && before.end === tokens[at]!.start && before.kind !== 'punct';
  const gluedAfter = after !== undefined && !after.gap && after.kind !== 'punct' && after.kind !== 'op';
  if (!gluedBefore || !gluedAfter) return false;
  return before.kind === 'word' || after.kind === 'word';
}

/** The first word after white space, comments and opening parentheses (no more than a hint). */
function leadingWord(text: string): string | undefined {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(') i++;
    else if ((c === '-' && text[i + 1] === '-') || c === '#') {
      const end = text.indexOf('\n', i);
      if (end < 0) return undefined;
      i = end + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return undefined;
      i = end + 2;
    } else break;
  }
  return /^[A-Za-z]+/.exec(text.slice(i, i + 32))?.[0];
}
