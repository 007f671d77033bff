// Weaviate containment (≥ 1.30, weaviate/weaviate openapi-specs/schema.json): deactivate the
// database user and revoke its API key in one call (`POST /v1/users/db/{user_id}/deactivate
// {"revoke_key": true}`; 409 means it already is, which is the outcome we want), then read the user
// back (`GET /v1/users/db/{user_id}` → DBUserInfo) and confirm `active: false`. Undo activates the
// user and rotates its key: the old key was revoked, so the person undoing receives the new one.
// Env-defined and OIDC users cannot be deactivated (404/422).
import type { TargetConfigOf } from '../../config/index.js';
import { PermanentError } from '../../model/index.js';
import { notYetConfirmed } from './confirm.js';
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
  const t = ctx.target;
  const r = await call(t, ctx.subject, 'deactivate', { revoke_key: true }, 'deactivate');
  const back = await expectStatus({
    method: 'GET',
    url: joinUrl(t.url, `/v1/users/db/${seg(ctx.subject)}`),
    headers: { authorization: `Bearer ${t.apiKey}` },
    timeoutMs: t.timeout,
    what: 'weaviate read back user',
  });
  const active = (back.json as { active?: unknown } | undefined)?.active;
  if (typeof active !== 'boolean')
    throw new PermanentError('weaviate read back user: the answer has no `active` flag');
  if (active) throw notYetConfirmed('weaviate deactivate', 'shows the user active', ctx.subjectRef);
  return {
    outcome: 'succeeded',
    confirmation: 'confirmed',
    detail:
      r.status === 409
        ? 'user was already deactivated; read back inactive'
        : 'user deactivated, API key revoked; read back inactive',
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
