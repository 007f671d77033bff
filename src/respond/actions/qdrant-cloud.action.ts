// Qdrant Cloud containment: delete the database API key through the management API, then read the
// cluster's key list back to confirm it is gone. The API (qdrant/qdrant-cloud-public-api,
// proto/qdrant/cloud/cluster/auth/v2/database_api_key.proto, DatabaseApiKeyService):
//   DELETE /api/cluster/auth/v2/accounts/{account_id}/database-api-keys/{database_api_key_id}?clusterId=…
//   GET    /api/cluster/auth/v2/accounts/{account_id}/database-api-keys?clusterId=…  → {items: [{id, …}]}
// with `Authorization: apikey <management key>`; account, cluster and key ids are UUIDs. There is no
// read of one key, hence the list. Self-hosted Qdrant has no per-key revocation (no adapter); a
// deleted key cannot be restored (no undo).
import type { TargetConfigOf } from '../../config/index.js';
import { PermanentError } from '../../model/index.js';
import { noSuchSubject, notYetConfirmed } from './confirm.js';
import { expectStatus, joinUrl, seg } from './http.js';
import type { ActionContext, ActionResult } from './types.js';

export type QdrantCloudTarget = TargetConfigOf<'qdrant-cloud'> & {
  readonly apiUrl: string;
  readonly apiKey: string;
};

export const containment = true;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function keysPath(t: QdrantCloudTarget): string {
  return `/api/cluster/auth/v2/accounts/${seg(t.account_id)}/database-api-keys`;
}

export function plan(t: QdrantCloudTarget, subjectToken: string): string {
  return `DELETE ${keysPath(t)}/<${subjectToken}>?clusterId=${t.cluster_id}, then list the cluster's keys to confirm`;
}

export async function execute(ctx: ActionContext<QdrantCloudTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const auth = { authorization: `apikey ${t.apiKey}` };
  const cluster = `clusterId=${seg(t.cluster_id)}`;
  // The API validates ids as UUIDs (400); a subject that is not one cannot be a database key.
  if (!UUID.test(ctx.subject))
    throw new PermanentError(
      `qdrant cloud delete api key: subject <${ctx.subjectRef}> is not a database API key id (a UUID)`,
    );
  const del = await expectStatus(
    {
      method: 'DELETE',
      url: joinUrl(t.apiUrl, `${keysPath(t)}/${seg(ctx.subject)}?${cluster}`),
      headers: auth,
      timeoutMs: t.timeout,
      what: 'qdrant cloud delete api key',
    },
    (s) => (s >= 200 && s < 300) || s === 404,
  );
  if (del.status === 404 && ctx.attempt === 1)
    throw noSuchSubject('qdrant cloud delete api key', 'database API key', ctx.subjectRef);
  const list = await expectStatus({
    method: 'GET',
    url: joinUrl(t.apiUrl, `${keysPath(t)}?${cluster}`),
    headers: auth,
    timeoutMs: t.timeout,
    what: 'qdrant cloud list api keys',
  });
  const items = (list.json as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items))
    throw new PermanentError('qdrant cloud list api keys: the answer has no items list');
  const still = items.some((k) => (k as { id?: unknown } | null)?.id === ctx.subject);
  if (still) throw notYetConfirmed('qdrant cloud delete api key', 'still lists the key', ctx.subjectRef);
  return {
    outcome: 'succeeded',
    confirmation: 'confirmed',
    detail:
      del.status === 404
        ? 'database API key not found on a retry (an earlier attempt deleted it); absent from the cluster key list'
        : 'database API key deleted; absent from the cluster key list',
  };
}
