// Building blocks shared by the detectors: scoring, explanation text, hashing, packed state.
export * from './finding.js';
export * from './firing.js';
export * from './hash.js';
export * from './level-shift.js';
export * from './log-band.js';
export * from '../../src/detect/state/layout.js';
export * from './scoring.js';
export * from './size.js';
export * from './sensitivity.js';
