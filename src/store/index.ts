export * from './client.js';
export * from './migrate.js';
export * from './queries.js';
export * from './rows.js';
export * from './writer.js';
export * from './stage.js';
export * from './privacy.js';
