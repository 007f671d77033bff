// Weaviate containment: deactivate the database user and revoke its API key in one call
// (`POST /v1/users/db/{id}/deactivate {"revoke_key": true}`); 409 means it already is, which is the
// outcome we want. Undo activates the user and rotates its key: the old key was revoked, so the
// person undoing receives the new one. Env-defined and OIDC users cannot be deactivated (404/422).
import type { TargetConfigOf } from '../../config/index.js';
import { expectStatus, joinUrl, seg } from './http.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export type WeaviateTarget = TargetConfigOf<'weaviate'> & {
  readonly url: string;
  readonly apiKey: string;
};

export const containment = true;

export function plan(_t: WeaviateTarget, subjectToken: string): string {
  return `POST /v1/users/db/<${subjectToken}>/deactivate {"revoke_key": true}`;
}

function call(t: WeaviateTarget, user: string, op: string, body: unknown, what: string) {
  return expectStatus(
    {
      method: 'POST',
      url: joinUrl(t.url, `/v1/users/db/${seg(user)}/${op}`),
      headers: { authorization: `Bearer ${t.apiKey}` },
      body,
      timeoutMs: t.timeout,
      what: `weaviate ${what}`,
    },
    (s) => (s >= 200 && s < 300) || s === 409,
  );
}

export async function execute(ctx: ActionContext<WeaviateTarget>): Promise<ActionResult> {
  const r = await call(ctx.target, ctx.subject, 'deactivate', { revoke_key: true }, 'deactivate');
  return {
    outcome: 'succeeded',
    detail: r.status === 409 ? 'user was already deactivated' : 'user deactivated, API key revoked',
  };
}

export async function undo(ctx: UndoContext<WeaviateTarget>): Promise<ActionResult> {
  const a = await call(ctx.target, ctx.subject, 'activate', undefined, 'activate');
  const k = await call(ctx.target, ctx.subject, 'rotate-key', undefined, 'rotate key');
  const apikey = (k.json as { apikey?: unknown } | undefined)?.apikey;
  return {
    outcome: 'succeeded',
    detail: `${a.status === 409 ? 'user was already active' : 'user activated'}; ${
      typeof apikey === 'string' ? 'new API key issued to the caller' : 'key rotated (no key in the answer)'
    }`,
    secret: typeof apikey === 'string' ? apikey : undefined,
  };
}
