// credential-sharing's contract: what the pipeline schema, the registry and the store's history
// reads know of it. Its block also switches new-network, the per-identity watch for a source
// network never used.
import { defineDetector } from '../../src/detect/contract.js';
import { credentialSharingParamsSchema } from './credential-sharing.params.js';
import { createCredentialSharingDetector, createNewNetworkDetector } from './credential-sharing.detector.js';

export const credentialSharing = defineDetector({
  name: 'credential-sharing',
  params: credentialSharingParamsSchema,
  create: (params) => [
    createCredentialSharingDetector(params),
    ...(params.new_network ? [createNewNetworkDetector(params)] : []),
  ],
  history: {
    /** Its known networks hold at most 64 (`max_known_networks`). */
    networksPerIdentity: 64,
    /** Credentials whose hours an identity's history covers (those it used most recently). */
    credentialsPerIdentity: 8,
    /** The most recent active hours per credential: `history_hours` is at most 64. */
    hoursPerCredential: 64,
    /**
     * Four days hold the longest history (64 active hours) with the default warm-up (24 h) and no
     * more: the read covers all of the tenant's events in the range.
     */
    credentialLookbackMs: 4 * 24 * 3_600_000,
  },
});
