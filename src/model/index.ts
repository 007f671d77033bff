export * from './access-event.js';
export * from './finding.js';
export * from './ids.js';
export * from './errors.js';
export * from './tenant.js';
export * from './backoff.js';
