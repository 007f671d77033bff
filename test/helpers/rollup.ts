// What the store would teach a bootstrapping detector about one identity: the IdentityHistory that
// identityHistory() reads from events_1m and the events, computed from the events (the definition
// lives in src/detect/history-of.ts, which the quality benchmark's restart uses too).
export { historyOf } from '../../src/detect/history-of.js';
