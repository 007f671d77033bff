// The redacted shape of a client script in Python or JavaScript (a vector-store SDK called through
// hoop.dev): keywords and the SDKs' names (classes, methods, keyword arguments), operators and
// punctuation. Strings of every kind, numbers, comments and every other name (variables, the
// user's own functions) are `?`. Text that is not well-formed enough to be code is undefined:
// two names or values side by side on a line, with no keyword between, is prose, not code.
import { CODE_KEYWORDS, CODE_WORDS } from './vocabulary.js';

interface CodeToken {
  readonly kind: 'word' | 'string' | 'number' | 'op' | 'newline';
  readonly start: number;
  readonly end: number;
  readonly gap: boolean;
}

const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const NUMBER = /\.?\d(?:[eE][+-]?\d|[A-Za-z0-9_.])*/y;
const STRING_PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/;
const OPERATOR_CHARS = '+-*/%=<>!&|^~?:.,;()[]{}@';

export function codeShape(text: string): string | undefined {
  const tokens = lexCode(text);
  if (!tokens) return undefined;
  let calls = 0;
  let depth = 0;
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    if (t.kind === 'newline') {
      // Inside brackets a line break is only white space (a call's arguments on several lines).
      if (depth === 0 && out && !out.endsWith(';')) out += ' ;';
      continue;
    }
    if (operand(t) && prev && operand(prev) && !keyword(text, t) && !keyword(text, prev)) return undefined;
    let piece: string;
    if (t.kind === 'word') {
      const w = text.slice(t.start, t.end).toLowerCase();
      piece = CODE_WORDS.has(w) ? w : '?';
      if (text[tokens[i + 1]?.start ?? -1] === '(') calls++;
    } else if (t.kind === 'op') {
      piece = text.slice(t.start, t.end);
      // `alice@example.com` typed bare: a name glued to `@` is data, not a decorator or operator.
      if (piece.includes('@') && prev && operand(prev) && !t.gap && tokens[i + 1] && operand(tokens[i + 1]!))
        return undefined;
      const vectorEnd = piece === '[' ? numericList(text, tokens, i) : -1;
      if (vectorEnd > 0) {
        piece = '?';
        i = vectorEnd;
      } else if (piece === '(' || piece === '[' || piece === '{') depth++;
      else if (piece === ')' || piece === ']' || piece === '}') depth = Math.max(0, depth - 1);
    } else piece = '?';
    out += (t.gap && out && !out.endsWith(' ') ? ' ' : '') + piece;
  }
  if (out.endsWith(' ;')) out = out.slice(0, -2);
  // A script that calls nothing is not a client script.
  return calls > 0 && out ? out : undefined;
}

function operand(t: CodeToken): boolean {
  return t.kind === 'word' || t.kind === 'string' || t.kind === 'number';
}

function keyword(text: string, t: CodeToken): boolean {
  return t.kind === 'word' && CODE_KEYWORDS.has(text.slice(t.start, t.end));
}

function numericList(text: string, tokens: CodeToken[], open: number): number {
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    const s = text.slice(t.start, t.end);
    if (t.kind === 'number' || t.kind === 'newline' || (t.kind === 'op' && /^[,+-]$/.test(s))) continue;
    return t.kind === 'op' && s === ']' ? i : -1;
  }
  return -1;
}

/** Tokens of a Python or JavaScript text; undefined when a string or comment is left open or a
 * character no such script has outside a string stands there. */
function lexCode(text: string): CodeToken[] | undefined {
  const tokens: CodeToken[] = [];
  const n = text.length;
  let gap = false;
  let i = 0;
  /** Adds a token; returns its end, where the scan goes on. */
  const push = (kind: CodeToken['kind'], start: number, end: number): number => {
    tokens.push({ kind, start, end, gap });
    gap = false;
    return end;
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      gap = true;
      i++;
    } else if (c === '\n') {
      push('newline', i, ++i);
      gap = true;
    } else if (c === '\\' && next === '\n') {
      gap = true;
      i += 2;
    } else if (c === '#' || (c === '/' && next === '/')) {
      // Python comments, JavaScript comments (a Python `//` division is cut short: less is kept).
      const end = text.indexOf('\n', i);
      gap = true;
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return undefined;
      gap = true;
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      i = push('string', i, end);
    } else if (/[A-Za-z_$]/.test(c)) {
      WORD.lastIndex = i;
      const word = WORD.exec(text)![0];
      const after = i + word.length;
      if (STRING_PREFIX.test(word) && (text[after] === "'" || text[after] === '"')) {
        const end = stringEnd(text, after);
        if (end < 0) return undefined;
        i = push('string', i, end);
      } else i = push('word', i, after);
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(next ?? ''))) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      i = push('number', i, NUMBER.lastIndex);
    } else if (OPERATOR_CHARS.includes(c)) {
      const start = i;
      // Brackets and separators stand alone; other operator characters run together (`**=`, `=>`).
      if ('()[]{},;.'.includes(c)) i++;
      else while (i < n && OPERATOR_CHARS.includes(text[i]!) && !'()[]{},;.'.includes(text[i]!)) i++;
      push('op', start, i);
    } else return undefined;
  }
  return tokens;
}

/**
 * Index past the string opened at `open`: '…' and "…" end on their line, '''…''' and """…""" may
 * span lines, `…` template literals may too and may hold ${…} expressions (without backquotes).
 */
function stringEnd(text: string, open: number): number {
  const q = text[open]!;
  const n = text.length;
  if (q !== '`' && text[open + 1] === q && text[open + 2] === q) {
    const close = q.repeat(3);
    for (let j = open + 3; j < n; j++) {
      if (text[j] === '\\') j++;
      else if (text.startsWith(close, j)) return j + 3;
    }
    return -1;
  }
  let depth = 0;
  for (let j = open + 1; j < n; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (q === '`' && c === '$' && text[j + 1] === '{') {
      depth++;
      j++;
    } else if (depth > 0 && c === '{') depth++;
    else if (depth > 0 && c === '}') depth--;
    else if (depth > 0 && c === '`') return -1;
    else if (depth === 0 && c === q) return j + 1;
    else if (c === '\n' && q !== '`') return -1;
  }
  return -1;
}
