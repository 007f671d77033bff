// Splitting a request body into JSON items: NDJSON (one value per line; the default) or, for
// `application/json`, one document that is an array of items or a single item.
//
// In two passes, so that a hostile body costs little. Framing finds where each item is and counts
// the items, parsing nothing: a body of more items than the limit is refused whole (413) before
// any item is parsed. Then each item is parsed on its own when asked for (`itemAt`): JSON.parse
// is the authority on every item, the framing only says where items start and end. An item nested
// deeper than MAX_JSON_DEPTH is rejected (a long one before it is parsed): nothing downstream
// (JSON.stringify, a normalizer walking a value) ever meets a value deep enough to overflow the
// stack.
//
// Lines that are no JSON become numbered rejections; nothing else in the body is lost because of
// them. In a JSON array an item that is no JSON makes the whole body invalid (400), as for
// JSON.parse of the document: the array framing accepts exactly the documents
// `[ item (, item)* ]` whose items JSON.parse accepts (test/unit/collectors/ndjson-framing.test.ts).
import { isUtf8 } from 'node:buffer';
import { HttpError } from './http/body.js';
import { isJsonSpace, stringEnd } from './json-frames.js';
import type { Rejection } from './reasons.js';
import { runToEnd, type Steps } from './slices.js';

export interface JsonItem {
  /** 1-based line (NDJSON) or item (JSON array) number. */
  readonly line: number;
  readonly value: unknown;
  /** The item's text: the line as sent, or the array item re-serialized. */
  readonly raw: string;
}

export interface SplitBody {
  readonly items: JsonItem[];
  readonly rejected: Rejection[];
}

/**
 * Deepest nesting of arrays and objects in one item. Far beyond any event a gateway sends (a
 * generic event nests 2 deep, an OTLP/JSON request ~12 plus its AnyValues), far below what the
 * stack of a recursive walk (JSON.stringify, a validator) survives.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Items one request may hold when the configuration says nothing (VIGIL_MAX_ITEMS_PER_REQUEST):
 * about as many real events (~330 bytes each) as fit in the default 16 MiB body.
 */
export const DEFAULT_MAX_ITEMS = 50_000;

export interface ItemLimits {
  /** Most items (NDJSON lines that are not blank, array items, OTLP spans) in one request. */
  readonly maxItems: number;
}

/** Where the items of a body are; nothing parsed yet. */
export interface FramedBody {
  readonly text: string;
  /** `lines`: NDJSON; `array`: the items of one JSON array; `document`: one JSON value. */
  readonly kind: 'lines' | 'array' | 'document';
  readonly count: number;
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Line (NDJSON) or item number of each item. */
  readonly lines: readonly number[];
}

export const tooManyItems = (maxItems: number) =>
  new HttpError(
    413,
    `body holds more than ${maxItems} items, the limit of one request: send them in smaller batches`,
  );

/** How many lines / array items are framed between two pauses. */
const FRAME_STEP = 4096;

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** What String.prototype.trim removes (an NDJSON line is trimmed before it is parsed). */
const TRIMMED = /\s/;
const isTrimmed = (text: string, i: number, c: number) =>
  c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && TRIMMED.test(text[i]!));

const invalidJson = () => new HttpError(400, 'body is not valid JSON');

/**
 * Frames a body: checks it is UTF-8, finds its items, counts them against the limit.
 * @throws HttpError 400 when the body is not UTF-8, or is an `application/json` array whose
 * framing is broken; 413 when it holds more than `limits.maxItems` items.
 */
export function* frameJsonBody(body: Buffer, contentType: string, limits: ItemLimits): Steps<FramedBody> {
  const text = decodeUtf8(body);
  const starts: number[] = [];
  const ends: number[] = [];
  const lines: number[] = [];
  const add = (start: number, end: number, line: number) => {
    if (starts.length === limits.maxItems) throw tooManyItems(limits.maxItems);
    starts.push(start);
    ends.push(end);
    lines.push(line);
  };
  const framed = (kind: FramedBody['kind']): FramedBody => ({
    text,
    kind,
    count: starts.length,
    starts,
    ends,
    lines,
  });

  if (!/^application\/json\b/i.test(contentType)) {
    let line = 0;
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl;
      line++;
      for (let i = start; i < end; i++) {
        if (!isTrimmed(text, i, text.charCodeAt(i))) {
          add(start, end, line);
          break;
        }
      }
      start = end + 1;
      if (line % FRAME_STEP === 0) yield;
    }
    return framed('lines');
  }

  const n = text.length;
  let i = 0;
  while (i < n && isJsonSpace(text.charCodeAt(i))) i++;
  if (i >= n || text.charCodeAt(i) !== OPEN_ARRAY) {
    add(0, n, 1);
    return framed('document');
  }
  i++;
  while (i < n && isJsonSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === CLOSE_ARRAY) return closeArray(text, i, framed('array'));
  for (let item = 1; ; item++) {
    // One item: up to the comma or bracket that closes it at depth 0, strings skipped whole.
    const start = i;
    let depth = 0;
    let c = 0;
    for (; i < n; i++) {
      c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i, n);
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
      else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (depth === 0) break;
        depth--;
      } else if (c === COMMA && depth === 0) break;
    }
    // Unterminated, or an object's brace closing the array.
    if (i >= n || c === CLOSE_OBJECT) throw invalidJson();
    add(start, i, item);
    if (c === CLOSE_ARRAY) return closeArray(text, i, framed('array'));
    i++; // the comma
    if (item % FRAME_STEP === 0) yield;
  }
}

/** After the array's closing bracket at `i` only whitespace may follow. */
function closeArray(text: string, i: number, framed: FramedBody): FramedBody {
  for (let j = i + 1; j < text.length; j++) if (!isJsonSpace(text.charCodeAt(j))) throw invalidJson();
  return framed;
}

/** True when arrays and objects in `text[start, end)` nest deeper than `max`. */
export function nestsDeeperThan(text: string, start: number, end: number, max: number): boolean {
  return runToEnd(nestingSteps(text, start, end, max));
}

/** Characters scanned between two pauses of `nestingSteps`. */
const SCAN_STEP = 256 * 1024;

/** `nestsDeeperThan` pausing every SCAN_STEP characters (a whole 16 MiB document). */
export function* nestingSteps(text: string, start: number, end: number, max: number): Steps<boolean> {
  let depth = 0;
  let pause = start + SCAN_STEP;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i, end);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    if (i >= pause) {
      pause = i + SCAN_STEP;
      yield;
    }
  }
  return false;
}

/** True when arrays and objects in a parsed value nest deeper than `max` (recursion ≤ max + 1). */
export function valueNestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (valueNestsDeeperThan(value[i], max - 1)) return true;
    return false;
  }
  for (const k in value)
    if (valueNestsDeeperThan((value as Record<string, unknown>)[k], max - 1)) return true;
  return false;
}

/**
 * Items longer than this are scanned for nesting before JSON.parse builds them (a 16 MiB line of
 * `[` would be millions of arrays); shorter ones are checked on the parsed value, which costs a
 * fraction of the scan for a flat event (its strings are not walked char by char).
 */
const SCAN_BEFORE_PARSE = 64 * 1024;

export const TOO_DEEP_REASON = `nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;

/**
 * Item `i` of a framed body, parsed; a rejection when it is too deep or (NDJSON) no JSON.
 * @throws HttpError 400 when an item of a JSON array or document is no JSON
 */
export function itemAt(framed: FramedBody, i: number): JsonItem | Rejection {
  const start = framed.starts[i]!;
  const end = framed.ends[i]!;
  const line = framed.lines[i]!;
  const tooDeep = { line, reason: TOO_DEEP_REASON };
  if (end - start > SCAN_BEFORE_PARSE && nestsDeeperThan(framed.text, start, end, MAX_JSON_DEPTH))
    return tooDeep;
  if (framed.kind === 'lines') {
    const raw = framed.text.slice(start, end).trim();
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // The parser's own message may quote the line: say only where it failed.
      return { line, reason: 'invalid JSON' };
    }
    return valueNestsDeeperThan(value, MAX_JSON_DEPTH) ? tooDeep : { line, value, raw };
  }
  let value: unknown;
  try {
    value = JSON.parse(framed.text.slice(start, end));
  } catch {
    throw invalidJson();
  }
  if (valueNestsDeeperThan(value, MAX_JSON_DEPTH)) return tooDeep;
  return { line, value, raw: JSON.stringify(value) };
}

export const isRejection = (item: JsonItem | Rejection): item is Rejection => 'reason' in item;

/**
 * Every item of a small body at once (a Kafka message); collectors of large bodies frame and walk
 * item by item instead (see the generic collector).
 * @throws HttpError 400 (not UTF-8; `application/json` that is not JSON) or 413 (too many items)
 */
export function* splitJsonBody(body: Buffer, contentType: string, limits: ItemLimits): Steps<SplitBody> {
  const framed = yield* frameJsonBody(body, contentType, limits);
  const items: JsonItem[] = [];
  const rejected: Rejection[] = [];
  for (let i = 0; i < framed.count; i++) {
    const item = itemAt(framed, i);
    if (isRejection(item)) rejected.push(item);
    else items.push(item);
    if (i % 32 === 31) yield;
  }
  return { items, rejected };
}

export function decodeUtf8(body: Buffer): string {
  // isUtf8 + toString is a few times faster than a fatal TextDecoder and accepts exactly the same
  // bytes; like TextDecoder, a leading byte order mark is dropped.
  if (!isUtf8(body)) throw new HttpError(400, 'body is not valid UTF-8');
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
