// Authentication of an HTTP route in its `onRequest` hook: before a byte of the body is read. A
// caller without a valid credential (or from a throttled address) is answered at once, with
// `Connection: close`, so the rest of its upload is never read: 30 unauthenticated 16 MiB uploads
// cost the headers, not 480 MiB. Refusals are counted, logged and held against the address
// (auth-failures.ts).
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { TenantSet } from '../../model/index.js';
import type { SourceAuth } from '../auth.js';
import type { AuthFailures, RefusalReason } from '../auth-failures.js';
import { HttpError } from './body.js';

/** Who a request's credential belongs to. */
export interface VigilAuth {
  readonly source: string;
  readonly caller: string;
  /** The tenants the credential may write or read. */
  readonly tenants: TenantSet;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential's owner, set by the route's authentication hook. */
    vigilAuth?: VigilAuth;
  }
}

/**
 * The credential's owner in a route handler. Fails closed: a handler reached without its
 * authentication hook having run answers 401, never as a caller of every tenant.
 */
export function authenticated(req: FastifyRequest): VigilAuth {
  if (!req.vigilAuth) throw new HttpError(401, 'not authenticated');
  return req.vigilAuth;
}

export interface Refusal {
  readonly status: 401 | 403 | 429;
  readonly message: string;
  /** Seconds, for 429. */
  readonly retryAfter?: number;
}

/** Answers a refusal in the route's own format (JSON `{error}` unless the protocol says else). */
export type RefusalWriter = (reply: FastifyReply, refusal: Refusal) => FastifyReply;

export const refuseAsJson: RefusalWriter = (reply, r) => reply.send({ error: r.message });

/** Sets the status and headers every refusal carries, then lets `write` answer. */
export function refuse(reply: FastifyReply, r: Refusal, write: RefusalWriter = refuseAsJson): FastifyReply {
  reply.code(r.status).header('connection', 'close');
  if (r.retryAfter !== undefined) reply.header('retry-after', String(r.retryAfter));
  return write(reply, r);
}

export const throttledRefusal = (retryAfter: number): Refusal => ({
  status: 429,
  message: `too many refused credentials from this address: retry in ${retryAfter} s`,
  retryAfter,
});

/**
 * Refuses a request from a throttled address (true: answered). For routes that authenticate
 * callers by other means (webhook signatures, the ClickHouse interface).
 */
export function refuseThrottled(
  failures: AuthFailures | undefined,
  route: string,
  req: FastifyRequest,
  reply: FastifyReply,
  write?: RefusalWriter,
): boolean {
  const wait = failures?.retryAfter(req.socket.remoteAddress) ?? 0;
  if (wait === 0) return false;
  failures!.throttled(route);
  refuse(reply, throttledRefusal(wait), write);
  return true;
}

export interface AuthenticateDeps {
  readonly auth: SourceAuth;
  readonly authFailures?: AuthFailures;
}

/**
 * The `onRequest` hook of a route taking bearer tokens of `source` (or of one of several).
 * @param route the route's name in metrics and logs (a fixed word)
 */
export function bearerAuthentication(
  deps: AuthenticateDeps,
  source: string | readonly string[],
  route: string,
  write: RefusalWriter = refuseAsJson,
): onRequestAsyncHookHandler {
  return async (req, reply) => {
    if (refuseThrottled(deps.authFailures, route, req, reply, write)) return reply;
    const r = deps.auth.check(req.headers.authorization, source);
    if (!r.ok) {
      recordRefusal(deps.authFailures, route, r.refusal, req);
      return refuse(reply, { status: r.status, message: r.reason }, write);
    }
    req.vigilAuth = { source: r.source, caller: r.caller, tenants: r.tenants };
  };
}

export function recordRefusal(
  failures: AuthFailures | undefined,
  route: string,
  reason: RefusalReason,
  req: FastifyRequest,
): void {
  failures?.refused(route, reason, req.socket.remoteAddress);
}
