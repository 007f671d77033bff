export * from './detector.js';
export * from './runtime.js';
export * from './stage.js';
export * from './state-codec.js';
export * from './backtest.js';
export * from './series.js';
export * from './suppression.js';
export * from './risk.js';
