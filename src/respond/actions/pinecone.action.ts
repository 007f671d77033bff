// Pinecone containment through the Admin API (pinecone-io/pinecone-api, 2025-04/admin_2025-04.oas.yaml):
// a service account's client credentials buy a bearer token (cached until shortly before it
// expires); then the API key is deleted (`DELETE /admin/api-keys/{api_key_id}`, 202 "deletion request
// accepted") or restricted (`PATCH /admin/api-keys/{api_key_id}` {roles}, the previous roles recorded
// so undo can put them back). Either is confirmed by reading the key back
// (`GET /admin/api-keys/{api_key_id}`: 404 once deleted; its `roles` once restricted). Every call
// carries X-Pinecone-Api-Version.
import type { TargetConfigOf } from '../../config/index.js';
import { PermanentError } from '../../model/index.js';
import { noSuchSubject, notYetConfirmed } from './confirm.js';
import { expectStatus, type HttpCall, http, joinUrl, seg, statusError } from './http.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export interface TokenCache {
  token?: string;
  expiresAt: number;
}

export type PineconeTarget = TargetConfigOf<'pinecone'> & {
  readonly apiUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Per target, per process. */
  readonly tokenCache: TokenCache;
};

export const containment = true;

export function plan(t: PineconeTarget, subjectToken: string): string {
  return t.operation === 'restrict'
    ? `PATCH /admin/api-keys/<${subjectToken}> {roles: [${t.restricted_roles.join(', ')}]}`
    : `DELETE /admin/api-keys/<${subjectToken}>`;
}

/** Re-fetch a token this long before it expires, so a call never starts with a dying one. */
const EXPIRY_MARGIN_MS = 60_000;

async function accessToken(t: PineconeTarget, now = Date.now()): Promise<string> {
  if (t.tokenCache.token && t.tokenCache.expiresAt - EXPIRY_MARGIN_MS > now) return t.tokenCache.token;
  const r = await expectStatus({
    method: 'POST',
    url: t.tokenUrl,
    body: {
      grant_type: 'client_credentials',
      client_id: t.clientId,
      client_secret: t.clientSecret,
      audience: t.audience,
    },
    timeoutMs: t.timeout,
    what: 'pinecone token',
  });
  const body = r.json as { access_token?: unknown; expires_in?: unknown } | undefined;
  if (typeof body?.access_token !== 'string')
    throw new PermanentError('pinecone token: no access_token in the answer');
  t.tokenCache.token = body.access_token;
  t.tokenCache.expiresAt = now + (typeof body.expires_in === 'number' ? body.expires_in : 1800) * 1000;
  return body.access_token;
}

async function admin(
  t: PineconeTarget,
  call: Omit<HttpCall, 'url' | 'timeoutMs' | 'headers'> & { path: string },
  accept: (s: number) => boolean,
) {
  const token = await accessToken(t);
  const reply = await http({
    ...call,
    url: joinUrl(t.apiUrl, call.path),
    headers: { authorization: `Bearer ${token}`, 'x-pinecone-api-version': t.api_version },
    timeoutMs: t.timeout,
  });
  // A token revoked or expired early: forget it, the retry fetches a new one.
  if (reply.status === 401) t.tokenCache.token = undefined;
  if (!accept(reply.status)) throw statusError(call.what, reply);
  return reply;
}

const ok2xx = (s: number) => s >= 200 && s < 300;

export async function execute(ctx: ActionContext<PineconeTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const path = `/admin/api-keys/${seg(ctx.subject)}`;
  const what = t.operation === 'delete' ? 'pinecone delete api key' : 'pinecone restrict api key';
  if (t.operation === 'delete') {
    const r = await admin(t, { method: 'DELETE', path, what }, (s) => ok2xx(s) || s === 404);
    if (r.status === 404 && ctx.attempt === 1) throw noSuchSubject(what, 'API key', ctx.subjectRef);
    // 202 only accepts the deletion: the key is gone when reading it answers 404.
    const back = await admin(
      t,
      { method: 'GET', path, what: 'pinecone read back api key' },
      (s) => ok2xx(s) || s === 404,
    );
    if (back.status !== 404) throw notYetConfirmed(what, 'still finds the key', ctx.subjectRef);
    return {
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail:
        r.status === 404
          ? 'API key not found on a retry (an earlier attempt deleted it); reading it back answers 404'
          : 'API key deleted; reading it back answers 404',
    };
  }
  const current = await admin(
    t,
    { method: 'GET', path, what: 'pinecone get api key' },
    (s) => ok2xx(s) || s === 404,
  );
  if (current.status === 404) throw noSuchSubject(what, 'API key', ctx.subjectRef);
  const previous = rolesOf(current.json);
  await admin(t, { method: 'PATCH', path, body: { roles: t.restricted_roles }, what }, ok2xx);
  const back = await admin(t, { method: 'GET', path, what: 'pinecone read back api key' }, ok2xx);
  const now = rolesOf(back.json);
  if (!sameSet(now, t.restricted_roles)) throw notYetConfirmed(what, 'shows other roles', ctx.subjectRef);
  return {
    outcome: 'succeeded',
    confirmation: 'confirmed',
    detail: `API key roles set to ${t.restricted_roles.join(', ')}; read back`,
    state: { previous_roles: previous },
  };
}

function rolesOf(json: unknown): string[] {
  const roles = (json as { roles?: unknown } | undefined)?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export async function undo(ctx: UndoContext<PineconeTarget>): Promise<ActionResult> {
  const t = ctx.target;
  if (t.operation === 'delete') throw new PermanentError('pinecone: a deleted API key cannot be restored');
  const previous = Array.isArray(ctx.state?.previous_roles)
    ? (ctx.state.previous_roles as unknown[]).filter((r): r is string => typeof r === 'string')
    : [];
  if (previous.length === 0) throw new PermanentError('pinecone: the roles before containment are not known');
  await admin(
    t,
    {
      method: 'PATCH',
      path: `/admin/api-keys/${seg(ctx.subject)}`,
      body: { roles: previous },
      what: 'pinecone restore roles',
    },
    ok2xx,
  );
  return { outcome: 'succeeded', detail: `API key roles restored (${previous.join(', ')})` };
}
