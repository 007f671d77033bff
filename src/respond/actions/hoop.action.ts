// hoop.dev containment through its API, as a list of operations on the subject:
//   deactivate_user  GET /api/users/{id}, then PUT it back with status "inactive" — the PUT replaces
//                    the user's groups, so the groups read are sent back unchanged
//   kill_sessions    POST /api/sessions/{sid}/kill for each of the user's open sessions
//   revoke_reviews   PUT /api/reviews/{id} {status: "REVOKED"} for each pending or approved review
//   revoke_api_key   DELETE /api/api-keys/{name} (the subject is the key's name or id)
// Undo reactivates the user (groups kept the same way) and the API key; killed sessions and revoked
// reviews stay as they are.
import type { HoopOperation, TargetConfigOf } from '../../config/index.js';
import { PermanentError } from '../../model/index.js';
import { expectStatus, type HttpCall, joinUrl, seg } from './http.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export type HoopTarget = TargetConfigOf<'hoop'> & {
  readonly url: string;
  readonly token: string;
};

export const containment = true;

const PLAN: Record<HoopOperation, (s: string) => string> = {
  deactivate_user: (s) => `PUT /api/users/<${s}> status inactive (groups kept)`,
  kill_sessions: (s) => `POST /api/sessions/{sid}/kill for each open session of <${s}>`,
  revoke_reviews: (s) => `PUT /api/reviews/{id} REVOKED for each pending or approved review of <${s}>`,
  revoke_api_key: (s) => `DELETE /api/api-keys/<${s}>`,
};

export function plan(t: HoopTarget, subjectToken: string): string {
  return t.operations.map((op) => PLAN[op](subjectToken)).join('; ');
}

function api(t: HoopTarget, path: string): string {
  const base = t.url.replace(/\/+$/, '');
  return joinUrl(base.endsWith('/api') ? base : `${base}/api`, path);
}

function call(
  t: HoopTarget,
  c: Omit<HttpCall, 'timeoutMs' | 'headers' | 'url'> & { path: string },
  accept?: (s: number) => boolean,
) {
  const auth: Record<string, string> =
    t.auth === 'api-key' ? { 'api-key': t.token } : { authorization: `Bearer ${t.token}` };
  return expectStatus({ ...c, url: api(t, c.path), headers: auth, timeoutMs: t.timeout }, accept);
}

interface HoopUser {
  status?: string;
  groups?: unknown;
  [k: string]: unknown;
}

async function setUserStatus(t: HoopTarget, user: string, status: 'active' | 'inactive') {
  const got = await call(t, { method: 'GET', path: `/users/${seg(user)}`, what: 'hoop get user' });
  const current = got.json as HoopUser | undefined;
  if (!current || typeof current !== 'object') throw new PermanentError('hoop get user: not a user object');
  const before = typeof current.status === 'string' ? current.status : 'unknown';
  if (before === status) return { before, changed: false };
  // The PUT replaces the whole user: send what was read, groups included, with the new status.
  const groups = Array.isArray(current.groups) ? current.groups : [];
  await call(t, {
    method: 'PUT',
    path: `/users/${seg(user)}`,
    body: { ...current, groups, status },
    what: 'hoop update user',
  });
  return { before, changed: true };
}

interface HoopSession {
  id?: unknown;
  status?: unknown;
  review?: { id?: unknown; status?: unknown } | null;
}

async function sessionsOf(t: HoopTarget, user: string): Promise<HoopSession[]> {
  const r = await call(t, {
    method: 'GET',
    path: `/sessions?user=${seg(user)}&limit=100`,
    what: 'hoop list sessions',
  });
  const doc = r.json as unknown;
  const items = Array.isArray(doc) ? doc : (doc as { data?: unknown } | undefined)?.data;
  return Array.isArray(items) ? (items as HoopSession[]) : [];
}

export async function execute(ctx: ActionContext<HoopTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const done: string[] = [];
  const state: Record<string, unknown> = {};
  const needsSessions = t.operations.includes('kill_sessions') || t.operations.includes('revoke_reviews');
  // Deactivate first: a killed session of an active user could simply be reopened.
  if (t.operations.includes('deactivate_user')) {
    const r = await setUserStatus(t, ctx.subject, 'inactive');
    state.user_status_before = r.before;
    done.push(r.changed ? 'user deactivated' : 'user was already inactive');
  }
  if (t.operations.includes('revoke_api_key')) {
    const r = await call(
      t,
      { method: 'DELETE', path: `/api-keys/${seg(ctx.subject)}`, what: 'hoop revoke api key' },
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    state.api_key_revoked = r.status !== 404;
    done.push(r.status === 404 ? 'API key not found (already revoked?)' : 'API key revoked');
  }
  if (needsSessions) {
    const sessions = await sessionsOf(t, ctx.subject);
    if (t.operations.includes('kill_sessions')) {
      let killed = 0;
      for (const s of sessions) {
        if (typeof s.id !== 'string' || s.status === 'done') continue;
        // 404/409: the session ended meanwhile; nothing left to kill.
        await call(
          t,
          { method: 'POST', path: `/sessions/${seg(s.id)}/kill`, what: 'hoop kill session' },
          (st) => (st >= 200 && st < 300) || st === 404 || st === 409,
        );
        killed++;
      }
      done.push(`${killed} session(s) killed`);
    }
    if (t.operations.includes('revoke_reviews')) {
      let revoked = 0;
      for (const s of sessions) {
        const review = s.review;
        if (!review || typeof review.id !== 'string') continue;
        if (review.status !== 'PENDING' && review.status !== 'APPROVED') continue;
        await call(t, {
          method: 'PUT',
          path: `/reviews/${seg(review.id)}`,
          body: { status: 'REVOKED' },
          what: 'hoop revoke review',
        });
        revoked++;
      }
      done.push(`${revoked} review(s) revoked`);
    }
  }
  return { outcome: 'succeeded', detail: done.join('; '), state };
}

export async function undo(ctx: UndoContext<HoopTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const done: string[] = [];
  if (t.operations.includes('deactivate_user')) {
    if (ctx.state?.user_status_before === 'inactive')
      done.push('user left inactive (it was before containment)');
    else {
      const r = await setUserStatus(t, ctx.subject, 'active');
      done.push(r.changed ? 'user reactivated' : 'user was already active');
    }
  }
  if (t.operations.includes('revoke_api_key') && ctx.state?.api_key_revoked !== false) {
    await call(t, {
      method: 'POST',
      path: `/api-keys/${seg(ctx.subject)}/reactivate`,
      what: 'hoop reactivate api key',
    });
    done.push('API key reactivated');
  }
  if (done.length === 0) throw new PermanentError('hoop: nothing of this containment can be undone');
  return { outcome: 'succeeded', detail: done.join('; ') };
}
