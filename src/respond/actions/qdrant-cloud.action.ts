// Qdrant Cloud containment: delete the database API key through the management API
// (`DELETE /api/cluster/auth/v3/accounts/{account}/database-api-keys/{key}`, `Authorization:
// apikey …`). Self-hosted Qdrant has no per-key revocation, so there is no adapter for it; a
// deleted key cannot be restored, so there is no undo.
import type { TargetConfigOf } from '../../config/index.js';
import { expectStatus, joinUrl, seg } from './http.js';
import type { ActionContext, ActionResult } from './types.js';

export type QdrantCloudTarget = TargetConfigOf<'qdrant-cloud'> & {
  readonly apiUrl: string;
  readonly apiKey: string;
};

export const containment = true;

export function plan(t: QdrantCloudTarget, subjectToken: string): string {
  return `DELETE /api/cluster/auth/v3/accounts/${t.account_id}/database-api-keys/<${subjectToken}>`;
}

export async function execute(ctx: ActionContext<QdrantCloudTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const query = t.cluster_id ? `?cluster_id=${seg(t.cluster_id)}` : '';
  const r = await expectStatus(
    {
      method: 'DELETE',
      url: joinUrl(
        t.apiUrl,
        `/api/cluster/auth/v3/accounts/${seg(t.account_id)}/database-api-keys/${seg(ctx.subject)}${query}`,
      ),
      headers: { authorization: `apikey ${t.apiKey}` },
      timeoutMs: t.timeout,
      what: 'qdrant cloud delete api key',
    },
    // 404 after a retry means an earlier attempt deleted it.
    (s) => (s >= 200 && s < 300) || s === 404,
  );
  return {
    outcome: 'succeeded',
    detail: r.status === 404 ? 'database API key not found (already deleted)' : 'database API key deleted',
  };
}
