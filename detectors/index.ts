// The detector registry: builds the detectors the pipeline enables. Cross-entity knowledge (which
// collections an identity's peers use) lives in a per-tenant peer book created here, bounded, and
// handed to the detectors that need it.
import type { PipelineConfig } from '../src/config/index.js';
import type { AnyDetector } from '../src/detect/index.js';
import { createAccessBreadthDetector } from './access-breadth/access-breadth.detector.js';
import { createAuthFailuresDetectors } from './auth-failures/auth-failures.detector.js';
import { createBulkExtractionDetector } from './bulk-extraction/bulk-extraction.detector.js';
import {
  createCredentialSharingDetector,
  createNewNetworkDetector,
} from './credential-sharing/credential-sharing.detector.js';
import { createDestructiveOpsDetector } from './destructive-ops/destructive-ops.detector.js';
import { createNewCollectionDetector } from './new-collection/new-collection.detector.js';
import { createPeerBook } from './new-collection/peer-book.js';
import { createOffHoursDetector } from './off-hours/off-hours.detector.js';
import { createVolumeSpikeDetector } from './volume-spike/volume-spike.detector.js';

export function createDetectors(pipeline: PipelineConfig): AnyDetector[] {
  const out: AnyDetector[] = [];
  const d = pipeline.detectors;
  if (d['volume-spike'].enabled) out.push(createVolumeSpikeDetector(d['volume-spike']));
  const nc = d['new-collection'];
  if (nc.enabled) {
    const book = createPeerBook({
      maxCollections: nc.max_tenant_collections,
      maxGroups: nc.max_peer_groups,
      maxTenants: nc.max_tenants,
    });
    out.push(createNewCollectionDetector(nc, book));
  }
  if (d['access-breadth'].enabled) out.push(createAccessBreadthDetector(d['access-breadth']));
  if (d['bulk-extraction'].enabled) out.push(createBulkExtractionDetector(d['bulk-extraction']));
  if (d['destructive-ops'].enabled) out.push(createDestructiveOpsDetector(d['destructive-ops']));
  if (d['auth-failures'].enabled) out.push(...createAuthFailuresDetectors(d['auth-failures']));
  const cs = d['credential-sharing'];
  if (cs.enabled) {
    out.push(createCredentialSharingDetector(cs));
    if (cs.new_network) out.push(createNewNetworkDetector(cs));
  }
  if (d['off-hours'].enabled) out.push(createOffHoursDetector(d['off-hours']));
  return out;
}
