// The redacted shape of a JSON document (a REST body, a MongoDB command, a search DSL): JSON.parse
// is the authority on the syntax; every value becomes `?`, a key stays only when it is API
// vocabulary, and a list of numbers (a vector) is one `?`.
import { JSON_KEYS, MONGO_OPERATORS } from './vocabulary.js';

/** Deeper structure is one `?`: enough for any API body, and a bound on the work. */
const MAX_DEPTH = 32;

/** The shape of `text` when it is one JSON object or array, else undefined. */
export function jsonShape(text: string): string | undefined {
  const t = text.trim();
  if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  return valueShape(value, 0);
}

export function valueShape(value: unknown, depth: number): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value !== 'object' || depth >= MAX_DEPTH) return '?';
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'number')) return '?';
    // A batch of alike items has the shape of one: the shape does not grow with the batch.
    const items: string[] = [];
    for (const v of value) {
      const s = valueShape(v, depth + 1);
      if (items[items.length - 1] !== s) items.push(s);
    }
    return `[${items.join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${jsonKey(k)}:${valueShape(v, depth + 1)}`,
  );
  return `{${entries.join(',')}}`;
}

export function jsonKey(key: string): string {
  const k = key.toLowerCase();
  return JSON_KEYS.has(k) || MONGO_OPERATORS.has(k) ? k : '?';
}
