// Query text is never stored by default: only a hash of its normalized shape, so the same query
// with other literals hashes the same and nothing typed into it (names, ids) survives.
import { createHash } from 'node:crypto';

/** Strips literals (strings, numbers, vectors) and folds case and white space. */
export function normalizeQueryText(text: string): string {
  return text
    .replace(/'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/"(?:[^"\\]|\\.)*"/g, '?')
    .replace(/\[[\d\s.,eE+-]*\]/g, '?')
    .replace(/\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

export function queryHash(text: string | undefined): string {
  if (!text) return '';
  return createHash('sha256').update(normalizeQueryText(text)).digest('hex').slice(0, 16);
}

export type QueryTextMode = 'off' | 'redacted';

/** Attribute holding the query text with literals stripped, when VIGIL_QUERY_TEXT=redacted. */
export const QUERY_TEXT_ATTRIBUTE = 'db.query.text';

/**
 * Sets an event's query fields: always the hash of the query's shape; with `redacted`, also the
 * shape itself (literals stripped, so no names, ids or vectors typed into the query survive).
 */
export function setQueryFields(
  e: { query_hash: string; attributes: Record<string, string> },
  text: string | undefined,
  mode: QueryTextMode,
): void {
  e.query_hash = queryHash(text);
  if (mode === 'redacted' && text)
    e.attributes[QUERY_TEXT_ATTRIBUTE] = normalizeQueryText(text).slice(0, 4096);
}
