// new-collection's contract: what the pipeline schema and the registry know of it. Cross-entity
// knowledge (which collections an identity's peers use) lives in a per-tenant peer book, bounded,
// created with the detector.
import { defineDetector } from '../../src/detect/contract.js';
import { newCollectionParamsSchema } from './new-collection.params.js';
import { createNewCollectionDetector } from './new-collection.detector.js';
import { createPeerBook } from './peer-book.js';

export const newCollection = defineDetector({
  name: 'new-collection',
  params: newCollectionParamsSchema,
  create: (params) => {
    const book = createPeerBook({
      maxCollections: params.max_tenant_collections,
      maxGroups: params.max_peer_groups,
      maxTenants: params.max_tenants,
    });
    return [createNewCollectionDetector(params, book)];
  },
});
