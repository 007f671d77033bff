// hoop.dev containment through its gateway API (hoophq/hoop, gateway/api/server.go routes; shapes in
// gateway/api/openapi/types.go), as a list of operations. The subject of the user operations is the
// user's email (what hoop's session events carry); sessions are filed under the user's subject id,
// so the user is looked up first (`GET /api/users/{emailOrID}` → openapi.User, `id` = subject).
//   deactivate_user  PUT /api/users/{emailOrID} with status "inactive" — the PUT replaces the user's
//                    groups, so the groups read are sent back unchanged; read back: status inactive
//   revoke_reviews   for the reviews of the user's sessions: PENDING → REJECTED, APPROVED just-in-time
//                    → REVOKED (`PUT /api/reviews/{id}`; hoop revokes nothing else: review.go
//                    validateReviewStatusTransition), any other → left, with the reason; read back:
//                    `GET /api/reviews/{id}` shows the new status
//   kill_sessions    `POST /api/sessions/{id}/kill` for each session not done, listed by
//                    `GET /api/sessions?user=<subject id>` (that filter matches user_id:
//                    gateway/models/session.go); read back: `GET /api/sessions/{id}` status done
//   revoke_api_key   `DELETE /api/api-keys/{nameOrID}` (a soft revoke); read back: status revoked.
//                    hoop's API keys belong to the organisation, not to a user, so this operation's
//                    subject is a key's name or id and it has a target of its own (config check).
// A user or key that hoop does not know is a failure naming the subject, never "already done".
// Undo reactivates the user (groups kept the same way) and the API key; killed sessions and
// rejected or revoked reviews stay as they are.
import type { HoopOperation, TargetConfigOf } from '../../config/index.js';
import { errorMessage, isRetriable, PermanentError, RetriableError } from '../../model/index.js';
import { noSuchSubject, notYetConfirmed } from './confirm.js';
import { expectStatus, type HttpCall, joinUrl, seg } from './http.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export type HoopTarget = TargetConfigOf<'hoop'> & {
  readonly url: string;
  readonly token: string;
};

export const containment = true;

const PLAN: Record<HoopOperation, (s: string) => string> = {
  deactivate_user: (s) => `PUT /api/users/<${s}> status inactive (groups kept)`,
  revoke_reviews: (s) =>
    `PUT /api/reviews/{id} REJECTED (pending) or REVOKED (approved just-in-time) for the reviews of <${s}>`,
  kill_sessions: (s) => `POST /api/sessions/{id}/kill for each session of <${s}> not done`,
  revoke_api_key: (s) => `DELETE /api/api-keys/<${s}>`,
};

export function plan(t: HoopTarget, subjectToken: string): string {
  return `${t.operations.map((op) => PLAN[op](subjectToken)).join('; ')}; each read back`;
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

const ok2xx = (s: number) => s >= 200 && s < 300;

/** openapi.User, as GET /api/users/{emailOrID} answers it. */
interface HoopUser {
  id?: unknown;
  status?: unknown;
  groups?: unknown;
  [k: string]: unknown;
}

async function getUser(t: HoopTarget, emailOrId: string, subjectRef: string): Promise<HoopUser> {
  const got = await call(
    t,
    { method: 'GET', path: `/users/${seg(emailOrId)}`, what: 'hoop get user' },
    (s) => ok2xx(s) || s === 404,
  );
  // vigil never deletes hoop users: not found is a wrong subject on any attempt.
  if (got.status === 404) throw noSuchSubject('hoop get user', 'user', subjectRef);
  const user = got.json as HoopUser | undefined;
  if (!user || typeof user !== 'object' || typeof user.id !== 'string' || !user.id)
    throw new PermanentError('hoop get user: the answer is not a user with an id');
  return user;
}

async function setUserStatus(
  t: HoopTarget,
  user: string,
  subjectRef: string,
  status: 'active' | 'inactive',
): Promise<{ before: string; changed: boolean }> {
  const current = await getUser(t, user, subjectRef);
  const before = typeof current.status === 'string' ? current.status : 'unknown';
  if (before !== status) {
    // The PUT replaces the whole user: send what was read, groups included, with the new status.
    const groups = Array.isArray(current.groups) ? current.groups : [];
    await call(t, {
      method: 'PUT',
      path: `/users/${seg(user)}`,
      body: { ...current, groups, status },
      what: 'hoop update user',
    });
  }
  const back = await getUser(t, user, subjectRef);
  if (back.status !== status)
    throw notYetConfirmed('hoop update user', `shows status ${String(back.status)}`, subjectRef);
  return { before, changed: before !== status };
}

/** openapi.Session (the fields used): `review` is an openapi.SessionReview or null. */
interface HoopSession {
  id?: unknown;
  status?: unknown;
  review?: { id?: unknown; type?: unknown; status?: unknown } | null;
}

/** hoop caps a page at 100 sessions and an offset at 10000 (gateway/models/session.go). */
const PAGE = 100;
const MAX_PAGES = 100;

async function sessionsOf(t: HoopTarget, subjectId: string): Promise<HoopSession[]> {
  const all: HoopSession[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await call(t, {
      method: 'GET',
      path: `/sessions?user=${seg(subjectId)}&limit=${PAGE}&offset=${page * PAGE}&count=none`,
      what: 'hoop list sessions',
    });
    const doc = r.json as { data?: unknown; has_next_page?: unknown } | undefined;
    if (!Array.isArray(doc?.data))
      throw new PermanentError('hoop list sessions: the answer has no data list');
    all.push(...(doc.data as HoopSession[]));
    if (doc.has_next_page !== true) return all;
  }
  throw new PermanentError(
    `hoop list sessions: more than ${MAX_PAGES * PAGE} sessions, beyond hoop's offset limit; kill the rest by hand`,
  );
}

async function reviseReviews(t: HoopTarget, sessions: HoopSession[], ctx: ActionContext<HoopTarget>) {
  let rejected = 0;
  let revoked = 0;
  const left: string[] = [];
  const seen = new Set<string>();
  for (const s of sessions) {
    const review = s.review;
    if (!review || typeof review.id !== 'string' || seen.has(review.id)) continue;
    seen.add(review.id);
    let to: 'REJECTED' | 'REVOKED';
    if (review.status === 'PENDING') to = 'REJECTED';
    else if (review.status === 'APPROVED' && review.type === 'jit') to = 'REVOKED';
    else {
      // hoop answers REVOKED on a one-time review with a 500 and on anything not approved with a
      // 400: such a review is left, and said so. A one-time approval runs once, by a user who is
      // deactivated above when deactivate_user is configured.
      if (review.status === 'APPROVED')
        left.push('approved one-time review (hoop revokes just-in-time reviews only)');
      continue;
    }
    const body =
      to === 'REJECTED'
        ? { status: to, rejection_reason: `rejected by vigil containment ${ctx.job.job_id}` }
        : { status: to };
    await call(t, {
      method: 'PUT',
      path: `/reviews/${seg(review.id)}`,
      body,
      what: `hoop ${to.toLowerCase()} review`,
    });
    const back = await call(t, {
      method: 'GET',
      path: `/reviews/${seg(review.id)}`,
      what: 'hoop read back review',
    });
    const status = (back.json as { status?: unknown } | undefined)?.status;
    if (status !== to)
      throw notYetConfirmed(
        `hoop ${to.toLowerCase()} review`,
        `shows a review ${String(status)}`,
        ctx.subjectRef,
      );
    if (to === 'REJECTED') rejected++;
    else revoked++;
  }
  const parts = [`${rejected} pending review(s) rejected`, `${revoked} just-in-time review(s) revoked`];
  if (left.length) parts.push(`${left.length} left: ${[...new Set(left)].join(', ')}`);
  return parts.join(', ');
}

async function killSessions(t: HoopTarget, sessions: HoopSession[], subjectRef: string): Promise<string> {
  let killed = 0;
  for (const s of sessions) {
    if (typeof s.id !== 'string' || s.status === 'done') continue;
    // 400: the transport had nothing to kill (the session ended meanwhile); 404: gone. The read-back
    // below decides either way.
    await call(
      t,
      { method: 'POST', path: `/sessions/${seg(s.id)}/kill`, what: 'hoop kill session' },
      (st) => ok2xx(st) || st === 400 || st === 404,
    );
    const back = await call(
      t,
      { method: 'GET', path: `/sessions/${seg(s.id)}`, what: 'hoop read back session' },
      (st) => ok2xx(st) || st === 404,
    );
    const status = (back.json as { status?: unknown } | undefined)?.status;
    if (back.status !== 404 && status !== 'done')
      throw notYetConfirmed('hoop kill session', `shows a session ${String(status)}`, subjectRef);
    killed++;
  }
  return `${killed} session(s) killed`;
}

/** Errors quote what they were sent: the user's subject id is as identifying as the email. */
async function scrubbingId<T>(id: string, subjectRef: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const message = errorMessage(err);
    if (!message.includes(id) && !message.includes(seg(id))) throw err;
    const clean = message.split(id).join(`<${subjectRef} id>`).split(seg(id)).join(`<${subjectRef} id>`);
    const typed = isRetriable(err) ? new RetriableError(clean) : new PermanentError(clean);
    throw Object.assign(typed, { status: (err as { status?: unknown }).status });
  }
}

async function revokeApiKey(t: HoopTarget, ctx: ActionContext<HoopTarget>): Promise<ActionResult> {
  if (ctx.subject.includes('@'))
    throw new PermanentError(
      `hoop revoke api key: subject <${ctx.subjectRef}> is a user's email, not an API key name or id (hoop's keys belong to the organisation)`,
    );
  const path = `/api-keys/${seg(ctx.subject)}`;
  const del = await call(
    t,
    { method: 'DELETE', path, what: 'hoop revoke api key' },
    (s) => ok2xx(s) || s === 404,
  );
  // Revoking is a soft delete: the key stays readable, so even a retry's 404 is a wrong subject.
  if (del.status === 404) throw noSuchSubject('hoop revoke api key', 'API key', ctx.subjectRef);
  const back = await call(t, { method: 'GET', path, what: 'hoop read back api key' });
  const status = (back.json as { status?: unknown } | undefined)?.status;
  if (status !== 'revoked')
    throw notYetConfirmed('hoop revoke api key', `shows status ${String(status)}`, ctx.subjectRef);
  return {
    outcome: 'succeeded',
    confirmation: 'confirmed',
    detail: 'API key revoked; read back revoked',
    state: { api_key_revoked: true },
  };
}

export async function execute(ctx: ActionContext<HoopTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const ops = t.operations;
  if (ops.includes('revoke_api_key')) return revokeApiKey(t, ctx);
  const done: string[] = [];
  const state: Record<string, unknown> = {};
  // Deactivate first: a killed session of an active user could simply be reopened.
  if (ops.includes('deactivate_user')) {
    const r = await setUserStatus(t, ctx.subject, ctx.subjectRef, 'inactive');
    state.user_status_before = r.before;
    done.push(`${r.changed ? 'user deactivated' : 'user was already inactive'}; read back inactive`);
  }
  if (ops.includes('kill_sessions') || ops.includes('revoke_reviews')) {
    const user = await getUser(t, ctx.subject, ctx.subjectRef);
    const id = user.id as string;
    await scrubbingId(id, ctx.subjectRef, async () => {
      const sessions = await sessionsOf(t, id);
      // Reviews before sessions: rejecting a pending review releases the connection waiting on it.
      if (ops.includes('revoke_reviews')) done.push(`${await reviseReviews(t, sessions, ctx)}; read back`);
      if (ops.includes('kill_sessions'))
        done.push(`${await killSessions(t, sessions, ctx.subjectRef)}; read back done`);
    });
  }
  return { outcome: 'succeeded', confirmation: 'confirmed', detail: done.join('; '), state };
}

export async function undo(ctx: UndoContext<HoopTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const done: string[] = [];
  const ref = 'subject';
  if (t.operations.includes('deactivate_user')) {
    if (ctx.state?.user_status_before === 'inactive')
      done.push('user left inactive (it was before containment)');
    else {
      const r = await setUserStatus(t, ctx.subject, ref, 'active');
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
