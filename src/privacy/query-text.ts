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
