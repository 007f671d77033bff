// The one redaction of query text, for every collector and every query language vigil reads:
// JSON bodies, HTTP requests, SQL, shell scripts, Python / JavaScript client scripts. Accepted by
// allow-list: the shape keeps keywords, operators, punctuation and known API names (and, in SQL
// data statements, table and column names); every literal, comment, argument value and anything
// else becomes `?` or is dropped. A text no reader recognises, or one left open (an unterminated
// string, comment or here-document), has no shape at all.
import { codeShape } from './code-shape.js';
import { httpShape } from './http-shape.js';
import { jsonShape } from './json-shape.js';
import { shellShape } from './shell-shape.js';
import { sqlShape } from './sql-shape.js';

export {
  lexSql,
  type SqlLexOptions,
  type SqlLexResult,
  type SqlToken,
  type SqlTokenKind,
} from './sql-lexer.js';

/** Longer texts are not read (every reader is linear; this bounds the time one event can take). */
export const MAX_QUERY_TEXT = 256 * 1024;

/**
 * The redacted shape of a query text, lower case and with white space folded; undefined when the
 * text is empty, too long, or not recognised as any of the languages above.
 */
export function queryShape(text: string): string | undefined {
  if (text.length > MAX_QUERY_TEXT) return undefined;
  const t = text.trim();
  if (t === '') return undefined;
  // Each reader refuses text that is not its language, so the first to accept it decides; the
  // order only puts the strictest readers first.
  const shape = jsonShape(t) ?? httpShape(t) ?? sqlShape(t) ?? shellShape(t) ?? codeShape(t);
  return shape?.toLowerCase();
}

/**
 * A shape for texts that have none, to hash: the order of punctuation, with every run of letters
 * and digits one `w` and any other character one `u`. Two texts that differ only in their words
 * hash the same, and no word, literal or not, reaches the hash.
 */
export function textSkeleton(text: string): string {
  return text
    .slice(0, 64 * 1024)
    .replace(/[A-Za-z0-9_]+/g, 'w')
    .replace(/[^\x21-\x7e]+/g, (run) => (/^\s+$/.test(run) ? '' : 'u'))
    .slice(0, 4096);
}
