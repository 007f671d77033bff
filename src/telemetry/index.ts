export * from './health.js';
export * from './instrument.js';
export * from './logger.js';
export * from './metrics.js';
export * from './otel.js';
export * from './prometheus.js';
export * from './redis-probe.js';
