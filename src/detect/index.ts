export * from './detector.js';
export * from './runtime.js';
export * from './stage.js';
