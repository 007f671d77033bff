// Milvus containment over REST v2 (`POST /v2/vectordb/users/…`): take the user's roles away
// (undoable: the roles taken are recorded and granted back) or drop the user. Either is read back:
// users/describe must show no role left; users/list must no longer name a dropped user. Milvus
// reports many errors as HTTP 200 with a non-zero `code`: those are failures, never successes. root
// is never dropped (Milvus refuses, and losing it locks the operators out).
import type { TargetConfigOf } from '../../config/index.js';
import { PermanentError, RetriableError } from '../../model/index.js';
import { noSuchSubject, notYetConfirmed } from './confirm.js';
import { expectStatus, joinUrl } from './http.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export type MilvusTarget = TargetConfigOf<'milvus'> & {
  readonly url: string;
  readonly token: string;
};

export const containment = true;

export function plan(t: MilvusTarget, subjectToken: string): string {
  return t.operation === 'drop'
    ? `POST /v2/vectordb/users/drop {userName: <${subjectToken}>}`
    : `POST /v2/vectordb/users/describe, then users/revoke_role for each role of <${subjectToken}>`;
}

interface MilvusReply {
  code?: number;
  message?: string;
  data?: unknown;
}

// Codes of transient server states (rate limited, not ready, timeout) in Milvus's error catalogue,
// and the same in words for versions that answer with other numbers.
const TRANSIENT = /rate limit|too many|not ready|unavailable|timeout|deadline/i;

async function call(t: MilvusTarget, path: string, body: unknown, what: string): Promise<MilvusReply> {
  const r = await expectStatus({
    method: 'POST',
    url: joinUrl(t.url, `/v2/vectordb/${path}`),
    headers: { authorization: `Bearer ${t.token}` },
    body,
    timeoutMs: t.timeout,
    what: `milvus ${what}`,
  });
  const reply = (r.json ?? {}) as MilvusReply;
  if (typeof reply.code === 'number' && reply.code !== 0) {
    const message = `milvus ${what}: code ${reply.code}: ${String(reply.message ?? '').slice(0, 200)}`;
    throw TRANSIENT.test(reply.message ?? '') ? new RetriableError(message) : new PermanentError(message);
  }
  return reply;
}

/** Role names from users/describe (a list of names, or of objects naming them, by version). */
function roleNames(data: unknown): string[] {
  const list = Array.isArray(data) ? data : ((data as { roles?: unknown })?.roles ?? []);
  if (!Array.isArray(list)) return [];
  return list
    .map((r) =>
      typeof r === 'string'
        ? r
        : ((r as { roleName?: unknown; role?: unknown }).roleName ?? (r as { role?: unknown }).role),
    )
    .filter((r): r is string => typeof r === 'string' && r.length > 0);
}

/** User names from users/list (`data` is a list of names). */
async function userNames(t: MilvusTarget): Promise<string[]> {
  const listed = await call(t, 'users/list', {}, 'list users');
  if (!Array.isArray(listed.data)) throw new PermanentError('milvus list users: the answer has no user list');
  return listed.data.filter((u): u is string => typeof u === 'string');
}

export async function execute(ctx: ActionContext<MilvusTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const userName = ctx.subject;
  if (userName === 'root') return { outcome: 'escalated', detail: 'root is never contained automatically' };
  if (t.operation === 'drop') {
    const before = await userNames(t);
    const present = before.includes(userName);
    if (!present && ctx.attempt === 1) throw noSuchSubject('milvus drop user', 'user', ctx.subjectRef);
    if (present) await call(t, 'users/drop', { userName }, 'drop user');
    if ((await userNames(t)).includes(userName))
      throw notYetConfirmed('milvus drop user', 'still lists the user', ctx.subjectRef);
    return {
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: present
        ? 'user dropped; absent from users/list'
        : 'user absent on a retry (an earlier attempt dropped it); absent from users/list',
    };
  }
  const described = await call(t, 'users/describe', { userName }, 'describe user');
  const roles = roleNames(described.data);
  for (const roleName of roles) await call(t, 'users/revoke_role', { userName, roleName }, 'revoke role');
  const left = roleNames((await call(t, 'users/describe', { userName }, 'read back user')).data);
  if (left.length > 0)
    throw notYetConfirmed('milvus revoke roles', `still shows ${left.length} role(s)`, ctx.subjectRef);
  return {
    outcome: 'succeeded',
    confirmation: 'confirmed',
    detail: `${roles.length ? `${roles.length} role(s) revoked` : 'user had no roles'}; read back with none`,
    state: { revoked_roles: roles },
  };
}

export async function undo(ctx: UndoContext<MilvusTarget>): Promise<ActionResult> {
  if (ctx.target.operation === 'drop') throw new PermanentError('milvus: a dropped user cannot be restored');
  const roles = Array.isArray(ctx.state?.revoked_roles)
    ? (ctx.state.revoked_roles as unknown[]).filter((r): r is string => typeof r === 'string')
    : [];
  for (const roleName of roles)
    await call(ctx.target, 'users/grant_role', { userName: ctx.subject, roleName }, 'grant role');
  return { outcome: 'succeeded', detail: `${roles.length} role(s) granted back` };
}
