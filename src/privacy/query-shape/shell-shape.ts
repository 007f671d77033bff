// The redacted shape of a shell script (curl and the like, as run through hoop.dev): command names
// that are known, options that are known (their values become `?`), the shapes of URLs and JSON
// bodies given as arguments, operators and redirections. Every other word is `?`, here-document
// bodies and comments included. A text whose first command is not a known one is not taken for a
// script, and a quote, substitution or here-document left open makes the whole text unreadable.
import { jsonShape } from './json-shape.js';
import { isAbsoluteUrl, urlShape } from './url-shape.js';
import { HTTP_METHODS, SHELL_COMMANDS, SHELL_LONG_OPTIONS, SHELL_WRAPPERS } from './vocabulary.js';

type ShellToken = ({ readonly kind: 'word' } & Word) | { readonly kind: 'op'; readonly text: string };

interface Word {
  /** The word as the command receives it (quotes and escapes removed). */
  readonly value: string;
  /** How much of `value` was written literally, before any quote, escape or expansion. */
  readonly literal: number;
}

const OPERATOR = /\|\||&&|;;|\|&|&>>|&>|[|;&()]|\d*(?:<<<|<<-|<<|>>|>&|<&|<>|>\||>|<)/y;
const META = ' \t\r\n|&;()<>';
/** Characters a word takes as they are (no quote, escape or expansion). */
const PLAIN_RUN = /[^ \t\r\n|&;()<>\\'"$`]+/y;

/** The shape of `text` when it is a shell script starting with a known command, else undefined. */
export function shellShape(text: string): string | undefined {
  const tokens = lexShell(text);
  if (!tokens) return undefined;
  const out: string[] = [];
  let commandPosition = true;
  let known = false;
  let wrapper = false;
  let methodNext = false;
  let first = true;
  for (const t of tokens) {
    if (t.kind === 'op') {
      if (t.text === '\n') {
        if (out.length > 0 && out[out.length - 1] !== ';') out.push(';');
      } else out.push(t.text.replace(/^\d+/, ''));
      commandPosition = /^(?:\n|\|\||&&|;;|\|&|[|;&(])$/.test(t.text);
      methodNext = false;
      continue;
    }
    if (t.kind === 'word' && commandPosition) {
      const assignment = /^[A-Za-z_][A-Za-z0-9_]*=/.exec(t.value);
      if (assignment && t.literal >= assignment[0].length) {
        out.push('?=?');
        continue;
      }
      const name = commandName(t.value);
      if (first && !name) return undefined;
      first = false;
      out.push(name ?? '?');
      commandPosition = false;
      known = name !== undefined;
      wrapper = name !== undefined && SHELL_WRAPPERS.has(name);
      continue;
    }
    const piece = argument(t, methodNext);
    methodNext = known && plain(t) && /^(?:-X|--request)$/.test(t.value);
    if (wrapper && !t.value.startsWith('-')) {
      const name = commandName(t.value);
      if (name) {
        out.push(name);
        wrapper = SHELL_WRAPPERS.has(name);
        continue;
      }
    }
    out.push(piece);
  }
  if (out[out.length - 1] === ';') out.pop();
  return out.length > 0 ? out.join(' ') : undefined;
}

function commandName(word: string): string | undefined {
  const base = word.slice(word.lastIndexOf('/') + 1).toLowerCase();
  return /^[a-z0-9_.-]+$/.test(base) && SHELL_COMMANDS.has(base) ? base : undefined;
}

const plain = (w: Word) => w.literal === w.value.length;

function argument(word: Word, method: boolean): string {
  const { value } = word;
  if (method && HTTP_METHODS.has(value.toLowerCase())) return value.toLowerCase();
  if (plain(word) && /^-[A-Za-z]$/.test(value)) return value;
  if (plain(word) && /^-X[A-Za-z]+$/.test(value) && HTTP_METHODS.has(value.slice(2).toLowerCase()))
    return `-X ${value.slice(2).toLowerCase()}`;
  // `--name` or `--name=value`, the name written literally (the value may be quoted).
  const long = /^--([a-z0-9][a-z0-9.-]*)(=|$)/.exec(value);
  if (long && word.literal >= long[0].length)
    return SHELL_LONG_OPTIONS.has(long[1]!) ? `--${long[1]}${long[2] ? '=?' : ''}` : '?';
  if (isAbsoluteUrl(value)) return urlShape(value);
  if (/^\s*[[{]/.test(value)) return jsonShape(value) ?? '?';
  return '?';
}

/**
 * Words (quotes and escapes removed, with how much of each was written literally) and
 * operators; a newline is the operator `\n`. Undefined when a quote, a substitution or a
 * here-document is left open.
 */
function lexShell(text: string): ShellToken[] | undefined {
  const tokens: ShellToken[] = [];
  const heredocs: Array<{ delimiter: string; tabs: boolean }> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
    } else if (c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '\n') {
      tokens.push({ kind: 'op', text: '\n' });
      i++;
      // Here-document bodies start on the line after their operator and are never shown.
      for (const doc of heredocs.splice(0)) {
        const end = heredocEnd(text, i, doc.delimiter, doc.tabs);
        if (end < 0) return undefined;
        tokens.push({ kind: 'word', value: '', literal: 0 });
        i = end;
      }
    } else if (OPERATOR_AT(text, i)) {
      OPERATOR.lastIndex = i;
      const op = OPERATOR.exec(text)![0];
      i += op.length;
      tokens.push({ kind: 'op', text: op });
      if (op.endsWith('<<') || op.endsWith('<<-')) {
        while (text[i] === ' ' || text[i] === '\t') i++;
        const word = readWord(text, i);
        if (!word || word.value === '') return undefined;
        heredocs.push({ delimiter: word.value, tabs: op.endsWith('-') });
        i = word.end;
      }
    } else {
      const word = readWord(text, i);
      if (!word) return undefined;
      tokens.push({ kind: 'word', value: word.value, literal: word.literal });
      i = word.end;
    }
  }
  return heredocs.length > 0 ? undefined : tokens;
}

function OPERATOR_AT(text: string, i: number): boolean {
  const c = text[i]!;
  if ('|&;()<>'.includes(c)) return true;
  return /\d/.test(c) && /^\d+[<>]/.test(text.slice(i, i + 8));
}

/** One shell word from `start`; undefined when a quote or substitution in it is left open. */
function readWord(text: string, start: number): (Word & { end: number }) | undefined {
  const n = text.length;
  let value = '';
  let literal = -1;
  let i = start;
  while (i < n && !META.includes(text[i]!)) {
    PLAIN_RUN.lastIndex = i;
    const run = PLAIN_RUN.exec(text);
    if (run) {
      value += run[0];
      i += run[0].length;
      continue;
    }
    const c = text[i]!;
    if (literal < 0 && '\\\'"$`'.includes(c)) literal = value.length;
    if (c === '\\') {
      if (text[i + 1] !== '\n') value += text[i + 1] ?? '';
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return undefined;
      value += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"' || (c === '$' && text[i + 1] === "'")) {
      // "…" (with \ escapes and expansions inside) or ANSI-C $'…' (with \ escapes).
      const open = c === '"' ? i : i + 1;
      const quote = text[open]!;
      let j = open + 1;
      while (j < n && text[j] !== quote) j += text[j] === '\\' ? 2 : 1;
      if (j >= n) return undefined;
      value += text.slice(open + 1, j).replace(/\\(.)/gs, '$1');
      i = j + 1;
    } else if (c === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
      const end = closing(text, i + 1);
      if (end < 0) return undefined;
      value += text.slice(i, end);
      i = end;
    } else if (c === '`') {
      let j = i + 1;
      while (j < n && text[j] !== '`') j += text[j] === '\\' ? 2 : 1;
      if (j >= n) return undefined;
      value += text.slice(i, j + 1);
      i = j + 1;
    } else {
      value += c;
      i++;
    }
  }
  return { value, literal: literal < 0 ? value.length : literal, end: i };
}

/** Index past the bracket matching the one at `open` (`(` or `{`), skipping quotes; -1 if none. */
function closing(text: string, open: number): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}' };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') i++;
    else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += c === '"' && text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return -1;
      i = j;
    } else if (pairs[c]) stack.push(pairs[c]!);
    else if (c === ')' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** Index past the line closing a here-document whose body starts at `from`, or -1. */
function heredocEnd(text: string, from: number, delimiter: string, tabs: boolean): number {
  let i = from;
  while (i <= text.length) {
    const nl = text.indexOf('\n', i);
    const lineEnd = nl < 0 ? text.length : nl;
    let line = text.slice(i, lineEnd).replace(/\r$/, '');
    if (tabs) line = line.replace(/^\t+/, '');
    if (line === delimiter) return lineEnd;
    if (nl < 0) return -1;
    i = nl + 1;
  }
  return -1;
}
