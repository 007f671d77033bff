// Refused credentials on every listener (collectors, OTLP/HTTP and gRPC, admin): counted per route
// and reason, logged, and held against the source address. vigil watches access for a living; a
// scan of its own listeners or a brute force of its tokens is an attack it must notice and slow
// down. After `limit` refusals from one address within `windowMs`, every request from that
// address is answered 429 + Retry-After for `windowMs`, before its credential is even looked at
// (so a throttled guesser learns nothing from further tries).
//
// Privacy: logs name the address by its token (the tokenizer's src_ip token of the `default`
// tenant), never the raw address; metrics carry only the route and the reason, both fixed words.
// Memory is bounded: at most `maxAddresses` addresses are remembered, the least recently refused
// forgotten first.
//
// Addresses are those of the TCP peer: behind a proxy every caller shares the proxy's address, and
// one caller's failures throttle all (set VIGIL_AUTH_FAILURE_LIMIT accordingly there).
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { Logger, Metrics } from '../telemetry/index.js';
import type { AuthRefusal } from './auth.js';

/** Why a caller was refused: a bearer credential's refusal, a webhook signature's, a certificate's. */
export type RefusalReason =
  | AuthRefusal
  | 'missing_signature'
  | 'invalid_signature'
  | 'stale_signature'
  | 'client_certificate';

export interface AuthFailures {
  /** Seconds `address` must wait before it may try again; 0 when it may try now. */
  retryAfter(address: string | undefined): number;
  /** A refused credential: counted (route, reason), logged, and held against `address`. */
  refused(route: string, reason: RefusalReason, address: string | undefined): void;
  /** A request refused unread because its address is throttled: counted. */
  throttled(route: string): void;
}

export interface AuthFailureOptions {
  /** Refusals from one address within `windowMs` after which it is throttled. */
  readonly limit: number;
  /** The window refusals are counted in, and how long a throttled address waits. */
  readonly windowMs: number;
  /** Addresses remembered at once. @defaultValue 100000 */
  readonly maxAddresses?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The token naming an address in logs. */
  readonly tokenizeAddress: (address: string) => string;
  readonly now?: () => number;
}

interface Record {
  windowStart: number;
  refusals: number;
  blockedUntil: number;
}

/** One throttle per host: an IPv4 address, or the /64 of an IPv6 one (what one host is given). */
export function throttleKey(address: string | undefined): string {
  let a = (address ?? '').trim();
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return 'unknown';
  const [head = '', tail = ''] = a.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::')
    ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
    : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function createAuthFailures(opts: AuthFailureOptions): AuthFailures {
  const now = opts.now ?? Date.now;
  const records = new LRUCache<string, Record>({ max: opts.maxAddresses ?? 100_000 });
  const sourceOf = (key: string) =>
    key === 'unknown' ? 'unknown' : opts.tokenizeAddress(key.replace(/::\/64$/, '::'));
  return {
    retryAfter(address) {
      const r = records.get(throttleKey(address));
      const t = now();
      return r && r.blockedUntil > t ? Math.max(1, Math.ceil((r.blockedUntil - t) / 1000)) : 0;
    },
    refused(route, reason, address) {
      opts.metrics.inc('auth_refused');
      opts.metrics.inc(`auth_refused_${route}_${reason}`);
      const key = throttleKey(address);
      const t = now();
      let r = records.get(key);
      if (!r || t - r.windowStart >= opts.windowMs) {
        r = { windowStart: t, refusals: 0, blockedUntil: r?.blockedUntil ?? 0 };
        records.set(key, r);
      }
      r.refusals++;
      const source = sourceOf(key);
      opts.logger.warn({ route, reason, source, refusals: r.refusals }, 'credential refused');
      if (r.refusals >= opts.limit && r.blockedUntil <= t) {
        r.blockedUntil = t + opts.windowMs;
        opts.metrics.inc('auth_throttled_sources');
        opts.logger.warn(
          { route, source, refusals: r.refusals, seconds: Math.ceil(opts.windowMs / 1000) },
          'source throttled after repeated refused credentials',
        );
      }
    },
    throttled(route) {
      opts.metrics.inc(`auth_throttled_${route}`);
    },
  };
}
