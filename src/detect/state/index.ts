// Detector state: what a state may hold (values.ts), its checkpoint text (checkpoint.ts), its
// packed form while the entity is idle (cold.ts), and the byte layouts detectors keep it in.
export * from './checkpoint.js';
export * from './cold.js';
export * from './layout.js';
