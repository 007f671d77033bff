export * from './key-ring.js';
export {
  lexSql,
  type SqlLexOptions,
  type SqlLexResult,
  type SqlToken,
  type SqlTokenKind,
} from './query-shape/index.js';
export * from './query-text.js';
export * from './tokenizer.js';
export * from './vault.js';
