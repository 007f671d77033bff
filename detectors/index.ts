// The detector registry: the list of detector definitions (each folder's contract, see
// src/detect/contract.ts) that the pipeline schema's `detectors` block, the detectors a pipeline
// enables and the store's history reads are built from. The order is the order detectors run in
// and the order of their blocks in the schema.
// Straight from the contract's module, not src/detect/index.ts: src/config/pipeline.ts imports this
// registry, and the stage modules behind that index import the config.
import { type DetectorDefinition, type EnabledParams, historyNeedsOf } from '../src/detect/contract.js';
import type { AnyDetector } from '../src/detect/detector.js';
import { accessBreadth } from './access-breadth/index.js';
import { authFailures } from './auth-failures/index.js';
import { bulkExtraction } from './bulk-extraction/index.js';
import { credentialSharing } from './credential-sharing/index.js';
import { destructiveOps } from './destructive-ops/index.js';
import { newCollection } from './new-collection/index.js';
import { offHours } from './off-hours/index.js';
import { volumeSpike } from './volume-spike/index.js';

export const DETECTORS = [
  volumeSpike,
  newCollection,
  accessBreadth,
  bulkExtraction,
  destructiveOps,
  authFailures,
  credentialSharing,
  offHours,
] as const;

/** What the detectors read of an identity's stored history at most (src/store/history.ts). */
export const HISTORY_NEEDS = historyNeedsOf(DETECTORS);

/**
 * The detectors the pipeline enables, in the definitions' order. `definitions` must be those the
 * pipeline's schema was built from (src/config/pipeline.ts `pipelineSchemaFor`).
 */
export function createDetectors(
  pipeline: { readonly detectors: Readonly<Record<string, EnabledParams>> },
  definitions: readonly DetectorDefinition[] = DETECTORS,
): AnyDetector[] {
  return definitions.flatMap((d) => {
    const params = pipeline.detectors[d.name];
    // A programming error (a definition the schema was not built from), never a user's: say so.
    if (!params) throw new Error(`detector ${d.name} has no parameter block in the pipeline`);
    return params.enabled ? d.create(params) : [];
  });
}
