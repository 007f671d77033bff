// Splitting a request body into JSON items: NDJSON (one value per line; the default) or, for
// `application/json`, one document that is an array of items or a single item. Lines that are no
// JSON become numbered rejections; nothing else in the body is lost because of them.
import { isUtf8 } from 'node:buffer';
import { HttpError } from './http/body.js';
import type { Rejection } from './reasons.js';

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

/** @throws HttpError 400 when the body is not UTF-8, or is `application/json` but not JSON */
export function splitJsonBody(body: Buffer, contentType: string): SplitBody {
  const text = decodeUtf8(body);
  const items: JsonItem[] = [];
  const rejected: Rejection[] = [];
  if (/^application\/json\b/i.test(contentType)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    const values = Array.isArray(doc) ? doc : [doc];
    for (const [i, value] of values.entries()) items.push({ line: i + 1, value, raw: JSON.stringify(value) });
    return { items, rejected };
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    try {
      items.push({ line: i + 1, value: JSON.parse(raw), raw });
    } catch {
      // The parser's own message may quote the line: say only where it failed.
      rejected.push({ line: i + 1, reason: 'invalid JSON' });
    }
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
