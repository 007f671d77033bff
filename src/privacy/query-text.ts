// Query text is never stored by default: only a hash of its redacted shape, so the same query with
// other literals hashes the same and nothing typed into it (names, ids, keys) survives. With
// VIGIL_QUERY_TEXT=redacted the shape itself is kept too. The shape is made in query-shape/: one
// allow-list redaction for every collector and query language.
import { createHash } from 'node:crypto';
import { queryShape, textSkeleton } from './query-shape/index.js';

export { queryShape } from './query-shape/index.js';

/** Longest shape kept in the attribute. */
const MAX_SHAPE = 4096;

export type QueryTextMode = 'off' | 'redacted';

/** Attribute holding the redacted shape of the query text, when VIGIL_QUERY_TEXT=redacted. */
export const QUERY_TEXT_ATTRIBUTE = 'db.query.text';

/**
 * 16 hex digits of SHA-256 over the query's shape (over its punctuation skeleton when it has no
 * shape); the empty string for an empty or absent query.
 */
export function queryHash(text: string | undefined): string {
  return hashOf(text, text ? queryShape(text) : undefined);
}

function hashOf(text: string | undefined, shape: string | undefined): string {
  if (!text) return '';
  // The NUL keeps a skeleton from ever hashing like a shape.
  const input = shape ?? `\u0000${textSkeleton(text)}`;
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/**
 * Sets an event's query fields: always the hash of the query's shape; with `redacted`, also the
 * shape itself when the text has one (a text that no reader recognises keeps only its hash).
 */
export function setQueryFields(
  e: { query_hash: string; attributes: Record<string, string> },
  text: string | undefined,
  mode: QueryTextMode,
): void {
  const shape = text ? queryShape(text) : undefined;
  e.query_hash = hashOf(text, shape);
  if (mode === 'redacted' && shape !== undefined)
    e.attributes[QUERY_TEXT_ATTRIBUTE] = shape.slice(0, MAX_SHAPE);
}
