// A JSON document parsed piece by piece, so that a large one never costs one long JSON.parse:
// the containers along a given path (e.g. OTLP/JSON's resourceSpans → scopeSpans → spans) are
// walked member by member and item by item, and every other value is found (strings skipped
// whole) and handed to JSON.parse on its own. JSON.parse stays the authority on every piece; the
// walk checks only the punctuation between them, in one pass over the text. The value built is
// the one JSON.parse of the whole document returns (same members, same order, the last of
// duplicate keys, `__proto__` an own member), and a document is refused exactly when JSON.parse
// refuses it (test/unit/collectors/json-frames.test.ts). Items of an array along the path are announced
// (`onItem`) before each is parsed, so a limit stops the walk at the first item too many; work
// pauses between items.
import type { Steps } from './slices.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** JSON's own whitespace (RFC 8259). */
export const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Index of the quote closing the string opened at `open`, or `end` when there is none. */
export function stringEnd(text: string, open: number, end: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0 || q >= end) return end;
    let backslashes = 0;
    for (let b = q - 1; b > open && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

/** The document is no JSON (what JSON.parse would throw). */
export class JsonFramingError extends SyntaxError {
  override readonly name = 'JsonFramingError';
}

const broken = () => new JsonFramingError('not valid JSON');

/**
 * Where the value starting at `i` ends: the comma, bracket or brace after it at depth 0 (or `end`).
 * Brackets of either kind count alike; JSON.parse of the piece says whether they match.
 */
function valueEnd(text: string, i: number, end: number): number {
  let depth = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i, end);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === 0) return i;
      depth--;
    } else if (c === COMMA && depth === 0) return i;
  }
  return end;
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Which containers to walk rather than hand to JSON.parse whole: the named members of an object
 * (each with its own descent), or every item of an array (`onItem` is called before each item is
 * parsed: it may throw to stop). Anything else, and a value of another type than expected, is
 * parsed whole.
 */
export type Descent =
  | { readonly members: Readonly<Record<string, Descent>> }
  | { readonly items: Descent; readonly onItem?: () => void }
  | 'whole';

/** How many items are parsed between two pauses. */
const STEP = 32;

/**
 * JSON.parse of `text`, built piece by piece along `descent`, pausing between items.
 * @throws SyntaxError when the text is not JSON (as JSON.parse would)
 */
export function* parseFramed(text: string, descent: Descent): Steps<unknown> {
  const { value, next } = yield* parseAt(text, 0, descent);
  if (skipSpace(text, next, text.length) !== text.length) throw broken();
  return value;
}

interface Parsed {
  readonly value: unknown;
  /** Where the text after the value starts. */
  readonly next: number;
}

function* parseAt(text: string, i: number, descent: Descent): Steps<Parsed> {
  const end = text.length;
  i = skipSpace(text, i, end);
  const c = text.charCodeAt(i);
  if (descent !== 'whole' && 'members' in descent && c === OPEN_OBJECT) {
    const out: Record<string, unknown> = {};
    i = skipSpace(text, i + 1, end);
    if (text.charCodeAt(i) === CLOSE_OBJECT) return { value: out, next: i + 1 };
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) throw broken();
      const keyEnd = stringEnd(text, i, end) + 1;
      if (keyEnd > end) throw broken();
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      i = skipSpace(text, keyEnd, end);
      if (text.charCodeAt(i) !== COLON) throw broken();
      const inner = Object.hasOwn(descent.members, key) ? descent.members[key]! : 'whole';
      const member = yield* parseAt(text, i + 1, inner);
      // As JSON.parse does: an own member even for `__proto__`, the last of duplicates kept.
      Object.defineProperty(out, key, {
        value: member.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      i = skipSpace(text, member.next, end);
      const after = text.charCodeAt(i);
      if (after === CLOSE_OBJECT) return { value: out, next: i + 1 };
      if (after !== COMMA) throw broken();
      i = skipSpace(text, i + 1, end);
    }
  }
  if (descent !== 'whole' && 'items' in descent && c === OPEN_ARRAY) {
    const out: unknown[] = [];
    i = skipSpace(text, i + 1, end);
    if (text.charCodeAt(i) === CLOSE_ARRAY) return { value: out, next: i + 1 };
    for (let n = 1; ; n++) {
      descent.onItem?.();
      const item = yield* parseAt(text, i, descent.items);
      out.push(item.value);
      i = skipSpace(text, item.next, end);
      const after = text.charCodeAt(i);
      if (after === CLOSE_ARRAY) return { value: out, next: i + 1 };
      if (after !== COMMA) throw broken();
      i++;
      if (n % STEP === 0) yield;
    }
  }
  const stop = valueEnd(text, i, end);
  return { value: JSON.parse(text.slice(i, stop)), next: stop };
}
