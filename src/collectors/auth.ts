// Per-source bearer tokens. Tokens are held only as SHA-256 digests and compared in constant time.
// A request with no credential gets 401; a valid credential of another source gets 403.
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult =
  | { ok: true; source: string; caller: string }
  | { ok: false; status: 401 | 403; reason: string; refusal: AuthRefusal };

/** Why a credential was refused, as a fixed word (metrics and logs carry this, never the token). */
export type AuthRefusal = 'missing_credential' | 'invalid_credential' | 'wrong_source';

export interface SourceAuth {
  /** The credential must belong to `source` (or to one of several, e.g. admin roles). */
  check(authorization: string | undefined, source: string | readonly string[]): AuthResult;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** @param tokens source name → accepted tokens (several during rotation) */
export function createSourceAuth(tokens: Record<string, readonly string[]>): SourceAuth {
  const hashed = Object.entries(tokens).map(([source, list]) => ({
    source,
    digests: list.filter(Boolean).map(digest),
  }));
  return {
    check(authorization, source) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!m)
        return { ok: false, status: 401, reason: 'missing bearer token', refusal: 'missing_credential' };
      const presented = digest(m[1]!);
      let owner: string | undefined;
      // Compare against every digest (no early exit) so timing does not tell which source matched.
      for (const { source: s, digests } of hashed) {
        for (const d of digests) if (timingSafeEqual(d, presented) && owner === undefined) owner = s;
      }
      if (owner === undefined)
        return { ok: false, status: 401, reason: 'invalid bearer token', refusal: 'invalid_credential' };
      const allowed = typeof source === 'string' ? [source] : source;
      if (!allowed.includes(owner))
        return {
          ok: false,
          status: 403,
          reason: `token is not valid for ${allowed.join(' or ')}`,
          refusal: 'wrong_source',
        };
      // The caller is named by a digest prefix of its credential, never by the credential.
      return { ok: true, source: owner, caller: `${owner}:${presented.toString('hex').slice(0, 12)}` };
    },
  };
}

export function splitTokens(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
