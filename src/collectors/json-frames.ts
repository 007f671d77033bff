// A JSON document parsed piece by piece, so that a large one never costs one long JSON.parse:
// the containers along a given path (e.g. OTLP/JSON's resourceSpans → scopeSpans → spans) are
// framed (where each member or item starts and ends, strings skipped whole, nothing parsed), and
// every other value is handed to JSON.parse on its own. JSON.parse stays the authority on every
// piece; the framing checks only the punctuation between them. The value built is the one
// JSON.parse of the whole document returns (same members, same order, the last of duplicate keys,
// `__proto__` an own member), and a document is refused exactly when JSON.parse refuses it
// (test/unit/json-frames.test.ts). Arrays along the path are counted before their items are
// parsed, so an over-limit request is refused before it is built; work pauses between items.
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

/** The first character of the value in text[start, end) that is not whitespace (-1: none). */
function firstChar(text: string, start: number, end: number): number {
  const i = skipSpace(text, start, end);
  return i < end ? text.charCodeAt(i) : -1;
}

interface Piece {
  readonly start: number;
  readonly end: number;
}

/** The items of the array in text[start, end) (whitespace around it allowed). */
function arrayItems(text: string, start: number, end: number): Piece[] {
  let i = skipSpace(text, start, end);
  if (text.charCodeAt(i) !== OPEN_ARRAY) throw broken();
  const items: Piece[] = [];
  i = skipSpace(text, i + 1, end);
  if (text.charCodeAt(i) === CLOSE_ARRAY) return closed(text, i, end, items);
  for (;;) {
    const from = i;
    i = valueEnd(text, i, end);
    if (i >= end) throw broken();
    items.push({ start: from, end: i });
    const c = text.charCodeAt(i);
    if (c === CLOSE_ARRAY) return closed(text, i, end, items);
    if (c !== COMMA) throw broken();
    i++;
  }
}

/** The members of the object in text[start, end): key and value pieces. */
function objectMembers(text: string, start: number, end: number): Array<{ key: Piece; value: Piece }> {
  let i = skipSpace(text, start, end);
  if (text.charCodeAt(i) !== OPEN_OBJECT) throw broken();
  const members: Array<{ key: Piece; value: Piece }> = [];
  i = skipSpace(text, i + 1, end);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return closed(text, i, end, members);
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw broken();
    const keyEnd = stringEnd(text, i, end) + 1;
    if (keyEnd > end) throw broken();
    const key = { start: i, end: keyEnd };
    i = skipSpace(text, keyEnd, end);
    if (text.charCodeAt(i) !== COLON) throw broken();
    const from = i + 1;
    i = valueEnd(text, from, end);
    if (i >= end) throw broken();
    members.push({ key, value: { start: from, end: i } });
    const c = text.charCodeAt(i);
    if (c === CLOSE_OBJECT) return closed(text, i, end, members);
    if (c !== COMMA) throw broken();
    i = skipSpace(text, i + 1, end);
  }
}

/** After the closing bracket or brace at `i`, only whitespace may follow within the piece. */
function closed<T>(text: string, i: number, end: number, out: T): T {
  if (skipSpace(text, i + 1, end) !== end) throw broken();
  return out;
}

/**
 * Which containers to frame rather than hand to JSON.parse whole: the named members of an object
 * (each with its own descent), or every item of an array (counted with `onCount` before any is
 * parsed). Anything else, and anything of another type than expected, is parsed whole.
 */
export type Descent =
  | { readonly members: Readonly<Record<string, Descent>> }
  | { readonly items: Descent; readonly onCount?: (n: number) => void }
  | 'whole';

/** How many items are parsed between two pauses. */
const STEP = 32;

/**
 * JSON.parse of text[start, end), built piece by piece along `descent`, pausing between items.
 * @throws SyntaxError when the text is not JSON (as JSON.parse would)
 */
export function* parseFramed(text: string, descent: Descent, start = 0, end = text.length): Steps<unknown> {
  const c = firstChar(text, start, end);
  if (descent !== 'whole' && 'members' in descent && c === OPEN_OBJECT) {
    const out: Record<string, unknown> = {};
    for (const m of objectMembers(text, start, end)) {
      const key: unknown = JSON.parse(text.slice(m.key.start, m.key.end));
      if (typeof key !== 'string') throw broken();
      const inner = Object.hasOwn(descent.members, key) ? descent.members[key]! : 'whole';
      const value =
        inner === 'whole'
          ? JSON.parse(text.slice(m.value.start, m.value.end))
          : yield* parseFramed(text, inner, m.value.start, m.value.end);
      // As JSON.parse does: an own member even for `__proto__`, the last of duplicates kept.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (descent !== 'whole' && 'items' in descent && c === OPEN_ARRAY) {
    const pieces = arrayItems(text, start, end);
    descent.onCount?.(pieces.length);
    const out: unknown[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const { start: from, end: to } = pieces[i]!;
      out.push(
        descent.items === 'whole'
          ? JSON.parse(text.slice(from, to))
          : yield* parseFramed(text, descent.items, from, to),
      );
      if (i % STEP === STEP - 1) yield;
    }
    return out;
  }
  return JSON.parse(text.slice(start, end));
}
