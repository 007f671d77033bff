// Firing within a window: a detector fires at the event that crosses its band (no waiting for the
// window to close), re-issues the finding under the same id when the count has grown by half
// again, and once more with the final numbers when the window closes; the store keeps the latest.
// Each issue carries the event time the window first fired and how many issues there were, so the
// moment of detection survives the re-issues.
import type { AccessEvent } from '../../src/model/index.js';

export const MAX_EVIDENCE = 5;
/** A window's finding is re-issued (same id, higher numbers) when its value grew by half again. */
export const ESCALATION_FACTOR = 1.5;

/**
 * The fields a detector's state keeps about the current window's finding. States spell them out in
 * their initState object literal (all zero, evidence undefined): building the state by spreading a
 * shared object costs V8 about four times the heap (measured: 488 vs 103 bytes for 11 fields).
 */
export interface Firing {
  /** Observed value at the window's last finding (0 = none yet). */
  firedObserved: number;
  firedScore: number;
  /** Event and accept time of the event that triggered the finding (they stay the finding's). */
  firedTime: number;
  firedObservedTime: number;
  /** Event time of the window's first firing (0 = none yet); re-issues leave it. */
  firstFiredTime: number;
  /** Issues of the window's finding so far. */
  issues: number;
  /** Sample evidence event ids; allocated only once the window looks unusual. */
  evidence: string[] | undefined;
}

/** A window's firing state before anything fired. */
export function blankFiring(): Firing {
  return {
    firedObserved: 0,
    firedScore: 0,
    firedTime: 0,
    firedObservedTime: 0,
    firstFiredTime: 0,
    issues: 0,
    evidence: undefined,
  };
}

/**
 * `fields` with a blank firing record in front (the state's first fields). Not `{ ...blankFiring(),
 * … }`: on this V8 (Node 20) an object literal opening with a spread of a fresh object and going on
 * with more fields takes a slow path — ~13 µs an object against ~0.5 µs here, and initState runs on
 * every unpacking of an idle entity (the detect stage's throughput fell to a third of it).
 */
export function withFiring<T extends object>(fields: T): Firing & T {
  return Object.assign(blankFiring(), fields);
}

export function resetFiring(s: Firing): void {
  s.firedObserved = 0;
  s.firedScore = 0;
  s.firedTime = 0;
  s.firedObservedTime = 0;
  s.firstFiredTime = 0;
  s.issues = 0;
  s.evidence = undefined;
}

export function noteEvidence(s: Firing, eventId: string): void {
  if (s.evidence === undefined) s.evidence = [eventId];
  else if (s.evidence.length < MAX_EVIDENCE && !s.evidence.includes(eventId)) s.evidence.push(eventId);
}

/** Whether a window over its band should (re-)issue its finding now. */
export function dueToFire(s: Firing, observed: number, score: number): boolean {
  if (s.firedObserved === 0) return true;
  return observed >= s.firedObserved * ESCALATION_FACTOR || score >= s.firedScore + 0.1;
}

export function markFired(s: Firing, observed: number, score: number, e: AccessEvent): void {
  if (s.firedObserved === 0) s.firstFiredTime = e.time;
  s.firedObserved = observed;
  s.firedScore = score;
  s.firedTime = e.time;
  s.firedObservedTime = e.observed_time;
}

/** Whether the closing window grew after its last finding (so the final numbers are worth a re-issue). */
export function grewSinceFired(s: Firing, observed: number): boolean {
  return s.firedObserved > 0 && observed > s.firedObserved;
}

/** The times of a finding being issued now, counted as one more issue of the window's finding. */
export interface Issue {
  readonly eventTime: number;
  readonly firstObservedTime: number;
  readonly firstFiredTime: number;
  readonly updateCount: number;
}

export function issue(s: Firing): Issue {
  // A state checkpointed before these fields existed has them undefined: its firing counts as the first.
  s.issues = (s.issues || 0) + 1;
  if (!s.firstFiredTime) s.firstFiredTime = s.firedTime;
  return {
    eventTime: s.firedTime,
    firstObservedTime: s.firedObservedTime,
    firstFiredTime: s.firstFiredTime,
    updateCount: s.issues,
  };
}
