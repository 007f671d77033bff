// What a detector folder exports: one definition that the pipeline schema (src/config/pipeline.ts),
// the registry (detectors/index.ts) and the store's history reads (src/store/history.ts) are all
// built from. Adding a detector is adding its folder and its definition to the list in
// detectors/index.ts; nothing else names it.
import type { z } from 'zod';
import type { AnyDetector } from './detector.js';

/** What every detector's parameter block has: the switch the registry reads. */
export interface EnabledParams {
  readonly enabled: boolean;
}

/**
 * How much of an identity's stored history the detectors read at most (src/store/history.ts and
 * bench/detect/history-of.ts answer by these). A definition states what it needs; the registry
 * keeps, per field, the largest need of all the definitions it knows.
 */
export interface HistoryNeeds {
  /** Source networks per identity (the most recently seen). */
  readonly networksPerIdentity: number;
  /** Credentials per identity whose hours are read (those it used most recently). */
  readonly credentialsPerIdentity: number;
  /** Active hours read per credential (the most recent). */
  readonly hoursPerCredential: number;
  /**
   * How far back before an identity's `before` a credential's hours are read, from the start of
   * that hour: a credential's other users are outside the identity's range of the events' sort
   * key, so this part reads all of the tenant's events in the range.
   */
  readonly credentialLookbackMs: number;
}

export interface DetectorDefinition<
  Name extends string = string,
  Params extends EnabledParams = EnabledParams,
> {
  /** Its key under `detectors:` in the pipeline YAML. */
  readonly name: Name;
  /**
   * Its parameter block: a strict zod object whose defaults are the detector's defaults (`{}`
   * parses to them) and whose messages are what a wrong pipeline YAML is told.
   */
  readonly params: z.ZodType<Params, z.ZodTypeDef, unknown>;
  /**
   * Builds its detectors from its parsed parameters (only when `enabled`). Detectors whose state
   * keeps tokens name those fields in `tokenFields` (src/detect/detector.ts), so a key rotation
   * carries them over.
   */
  create(params: Params): AnyDetector[];
  /** What it reads of an identity's stored history beyond the rollup (absent: nothing more). */
  readonly history?: Partial<HistoryNeeds>;
}

/** Types a definition with its literal name, so the pipeline's type knows its block. */
export function defineDetector<const Name extends string, Params extends EnabledParams>(
  definition: DetectorDefinition<Name, Params>,
): DetectorDefinition<Name, Params> {
  return definition;
}

/** The largest need per field over the definitions (0 where none needs it). */
export function historyNeedsOf(definitions: readonly DetectorDefinition[]): HistoryNeeds {
  const max = (field: keyof HistoryNeeds) => Math.max(0, ...definitions.map((d) => d.history?.[field] ?? 0));
  return Object.freeze({
    networksPerIdentity: max('networksPerIdentity'),
    credentialsPerIdentity: max('credentialsPerIdentity'),
    hoursPerCredential: max('hoursPerCredential'),
    credentialLookbackMs: max('credentialLookbackMs'),
  });
}

/** Where an identity's credential hours start: the hour `credentialLookbackMs` before `before`. */
export function credentialHistorySince(before: number, needs: HistoryNeeds): number {
  return Math.floor((before - needs.credentialLookbackMs) / 3_600_000) * 3_600_000;
}
