// The adapter registry: one module per target type, each fulfilling ActionAdapter.
import type { TargetType } from '../../config/index.js';
import * as hoop from './hoop.action.js';
import type { HoopTarget } from './hoop.action.js';
import * as milvus from './milvus.action.js';
import type { MilvusTarget } from './milvus.action.js';
import * as pagerduty from './pagerduty.action.js';
import type { PagerdutyTarget } from './pagerduty.action.js';
import * as pinecone from './pinecone.action.js';
import type { PineconeTarget } from './pinecone.action.js';
import * as postgres from './postgres.action.js';
import type { PostgresTarget } from './postgres.action.js';
import * as qdrantCloud from './qdrant-cloud.action.js';
import type { QdrantCloudTarget } from './qdrant-cloud.action.js';
import * as slack from './slack.action.js';
import type { SlackTarget } from './slack.action.js';
import type { ActionAdapter } from './types.js';
import * as weaviate from './weaviate.action.js';
import type { WeaviateTarget } from './weaviate.action.js';
import * as webhook from './webhook.action.js';
import type { WebhookTarget } from './webhook.action.js';

export interface TargetSettings {
  postgres: PostgresTarget;
  weaviate: WeaviateTarget;
  milvus: MilvusTarget;
  pinecone: PineconeTarget;
  'qdrant-cloud': QdrantCloudTarget;
  hoop: HoopTarget;
  webhook: WebhookTarget;
  slack: SlackTarget;
  pagerduty: PagerdutyTarget;
}

/** A target of response.targets, ready to act on (secrets resolved). */
export type ResolvedTarget = {
  [K in TargetType]: { readonly name: string; readonly type: K; readonly settings: TargetSettings[K] };
}[TargetType];

export const ADAPTERS: { readonly [K in TargetType]: ActionAdapter<TargetSettings[K]> } = {
  postgres,
  weaviate,
  milvus,
  pinecone,
  'qdrant-cloud': qdrantCloud,
  hoop,
  webhook,
  slack,
  pagerduty,
};

/** The adapter of a resolved target, typed for its settings. */
export function adapterOf(t: ResolvedTarget): ActionAdapter<unknown> {
  return ADAPTERS[t.type] as ActionAdapter<unknown>;
}

export type { ActionAdapter, ActionContext, ActionResult } from './types.js';
export { statusOf } from './http.js';
