// Per-source bearer tokens. Tokens are held only as SHA-256 digests and compared in constant time.
// A request with no credential gets 401; a valid credential of another source gets 403.
// A credential may be bound to tenants (pipeline `tenancy`): the principal carries its set.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ALL_TENANTS, mayUseTenant, type TenantSet } from '../model/index.js';

export type AuthResult =
  | {
      ok: true;
      source: string;
      caller: string;
      /** The tenants this credential may write or read; `*` only when no binding restricts it. */
      tenants: TenantSet;
    }
  | { ok: false; status: 401 | 403; reason: string; refusal: AuthRefusal };

/** Why a credential was refused, as a fixed word (metrics and logs carry this, never the token). */
export type AuthRefusal = 'missing_credential' | 'invalid_credential' | 'wrong_source';

/** A token bound to tenants; a plain string is a token of every tenant. */
export interface BoundToken {
  readonly token: string;
  readonly tenants: TenantSet;
}

export interface SourceAuth {
  /** The credential must belong to `source` (or to one of several, e.g. admin roles). */
  check(authorization: string | undefined, source: string | readonly string[]): AuthResult;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** @param tokens source name → accepted tokens (several during rotation), each maybe bound to tenants */
export function createSourceAuth(tokens: Record<string, ReadonlyArray<string | BoundToken>>): SourceAuth {
  const hashed = Object.entries(tokens).flatMap(([source, list]) =>
    list
      .map((t): BoundToken => (typeof t === 'string' ? { token: t, tenants: ALL_TENANTS } : t))
      .filter((t) => t.token !== '')
      .map((t) => ({ source, digest: digest(t.token), tenants: t.tenants })),
  );
  return {
    check(authorization, source) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!m)
        return { ok: false, status: 401, reason: 'missing bearer token', refusal: 'missing_credential' };
      const presented = digest(m[1]!);
      let match: (typeof hashed)[number] | undefined;
      // Compare against every digest (no early exit) so timing does not tell which source matched.
      for (const h of hashed) if (timingSafeEqual(h.digest, presented) && match === undefined) match = h;
      if (match === undefined)
        return { ok: false, status: 401, reason: 'invalid bearer token', refusal: 'invalid_credential' };
      const owner = match.source;
      const allowed = typeof source === 'string' ? [source] : source;
      if (!allowed.includes(owner))
        return {
          ok: false,
          status: 403,
          reason: `token is not valid for ${allowed.join(' or ')}`,
          refusal: 'wrong_source',
        };
      // The caller is named by a digest prefix of its credential, never by the credential.
      return {
        ok: true,
        source: owner,
        caller: `${owner}:${presented.toString('hex').slice(0, 12)}`,
        tenants: match.tenants,
      };
    },
  };
}

/**
 * Why an item of this tenant is refused for this credential, or undefined when it may be written.
 * Names the field, never the value (the tenant named may be another customer's).
 */
export function tenantRefusal(tenants: TenantSet, tenant: string): string | undefined {
  return mayUseTenant(tenants, tenant) ? undefined : TENANT_REFUSED;
}

export const TENANT_REFUSED = 'tenant: not one of the tenants this credential may write';

/** Why a read of `?tenant=` is refused (403) for this caller; undefined when allowed or none asked. */
export function tenantReadRefusal(tenants: TenantSet, requested: string | undefined): string | undefined {
  if (!requested || mayUseTenant(tenants, requested)) return undefined;
  return 'tenant: not one of the tenants this token may read';
}

export function splitTokens(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
