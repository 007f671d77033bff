// The detector contract. A detector is pure: it keeps per-entity state that the runtime owns,
// looks at one event at a time (in event-time order per entity) and returns findings.
import type { AccessEvent, Finding } from '../model/index.js';

export interface Detector<S> {
  readonly name: string;
  /** The entity whose state an event updates (e.g. tenant + actor). */
  entityKey(event: AccessEvent): string;
  initState(event: AccessEvent): S;
  /** Updates the state with the event; returns findings (usually none). */
  observe(state: S, event: AccessEvent, now: number): Finding[];
  /**
   * Optional: fills a fresh identity state from stored history (the per-minute rollup), so an
   * identity first seen by this detector but known to the store starts warm. `history` holds the
   * identity's request counts per detection window and its use per hour and collection, oldest
   * first, all before `before`; `first` is the identity's first event in the batch.
   */
  bootstrap?(state: S, history: IdentityHistory, before: number, first: AccessEvent): void;
  /**
   * Optional: checks (and, where it can, converts) a state read back from a checkpoint, which may
   * have been written by an older version with another layout. Undefined drops it: the entity
   * starts afresh (bootstrapped from the store when the detector bootstraps). Without it, states
   * are restored as decoded.
   */
  restoreState?(decoded: unknown): S | undefined;
  /**
   * Optional: the fields of a state that hold a token (an actor, credential or network token). When
   * an entity is first seen under a new token and the edge names its previous one (a key
   * rotation), its state carries over and these fields are renamed to the new token, so findings
   * speak of it. Without it, no field of the state is renamed.
   */
  readonly tokenFields?: readonly string[];
}

/** Requests of one identity per window (from the events_1m rollup), oldest first. */
export interface WindowCounts {
  readonly windowMs: number;
  readonly rows: ReadonlyArray<{ readonly start: number; readonly requests: number }>;
}

/** One identity's use of one collection with one operation in one hour (from the events_1m rollup). */
export interface HourlyUse {
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  readonly collection: string;
  readonly operation: string;
  readonly requests: number;
  readonly returned: number;
  readonly vectorsReturned: number;
  readonly bytesOut: number;
  readonly denied: number;
  readonly errors: number;
  /**
   * Which of returned / vectorsReturned / bytesOut some request of the row reported (bits
   * HOURLY_RETURNED, HOURLY_VECTORS, HOURLY_BYTES): a figure no request reported is unknown, not
   * 0. Absent (histories of older callers): all reported.
   */
  readonly reported?: number;
}

export const HOURLY_RETURNED = 1;
export const HOURLY_VECTORS = 2;
export const HOURLY_BYTES = 4;

/** What one identity's events in one hour show that the rollup does not keep (from the events table). */
export interface HourlyEvents {
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  /** The largest top_k of an allowed request (0: none asked for one). */
  readonly maxTopK: number;
  /**
   * Authentication failures (as auth-failures counts them) in the hour's busiest window of the
   * history's `windowMs`, windows aligned to the epoch.
   */
  readonly failurePeak: number;
}

/** A source network an identity used (network token), first and last seen within the lookback (epoch ms). */
export interface NetworkUse {
  readonly network: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/**
 * One active hour of a credential the identity used: how many distinct identities (all of them, not
 * only this one) and source networks used that credential in the hour (from the events table).
 */
export interface CredentialHour {
  readonly credential: string;
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  readonly actors: number;
  readonly networks: number;
}

/**
 * What the store knows of an identity: window counts (volume-spike) and hourly use per collection
 * (the other detectors), oldest first. `hourly` keeps the most recent rows only, so a busy
 * identity's history may start later than its window counts. `events` (per hour, oldest first) and
 * `networks` (most recently seen last) and `credentials` (oldest hour first) come from the stored events; absent where the source of the
 * history does not have them, in which case detectors leave those parts of their state cold.
 */
export interface IdentityHistory extends WindowCounts {
  readonly hourly: readonly HourlyUse[];
  readonly events?: readonly HourlyEvents[];
  readonly networks?: readonly NetworkUse[];
  readonly credentials?: readonly CredentialHour[];
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds detectors of different state types
export type AnyDetector = Detector<any>;
