export * from './key-ring.js';
export * from './query-text.js';
export * from './tokenizer.js';
export * from './vault.js';
