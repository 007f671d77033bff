export * from './config.js';
export * from './duration.js';
export * from './pipeline.js';
export * from './package-root.js';
export * from './tenancy.js';
export * from './private-files.js';
export * from './connections.js';
