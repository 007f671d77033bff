// Keyed deterministic tokens for identifiers (HMAC-SHA256, versioned key, a prefix per kind).
// The same raw value in the same tenant always maps to the same token, so baselines can key on it,
// while the raw value never leaves the edge.
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { ActorType } from '../model/index.js';
import type { TokenKey } from './key-ring.js';
import type { QueryTextMode } from './query-text.js';

export type IdentifierKind = 'actor' | 'credential' | 'src_ip' | 'src_net' | 'session';

const ACTOR_PREFIX: Record<ActorType, string> = { user: 'usr', service: 'svc', agent: 'agt', unknown: 'unk' };
const KIND_PREFIX: Record<Exclude<IdentifierKind, 'actor'>, string> = {
  credential: 'key',
  src_ip: 'ip',
  src_net: 'net',
  session: 'ses',
};

/** Called once per (process, raw value) when a token is first computed: the vault's hook. */
export type NewTokenHook = (entry: {
  kind: IdentifierKind;
  tenant: string;
  token: string;
  raw: string;
}) => void;

export interface Tokenizer {
  /** Token for an identifier; the empty string stays empty (absent). */
  token(kind: IdentifierKind, tenant: string, raw: string, actorType?: ActorType): string;
  /** Tokens for a client address and its network (/24 for IPv4, /48 for IPv6). */
  address(tenant: string, raw: string): { src_ip: string; src_net: string };
  /**
   * After a key rotation: the token the same raw value had under the previous key, for tokens
   * this process computed (the ingest edge stamps it on events as `vigil.prev.<kind>`).
   */
  previousOf(token: string): string | undefined;
  /** Switches to a new key in place; the current one becomes the previous (`vigil keys rotate`). */
  rotate(next: TokenKey): void;
  readonly keyVersion: () => number;
  /** What the edge keeps of query text (the tokenizer carries the edge's privacy settings). */
  readonly queryText: QueryTextMode;
  readonly stats: { hits: number; misses: number };
}

export interface TokenizerOptions {
  readonly cacheSize?: number;
  readonly previous?: TokenKey;
  readonly onNewToken?: NewTokenHook;
  /** @defaultValue 'off' */
  readonly queryText?: QueryTextMode;
}

export function createTokenizer(initial: TokenKey, opts: TokenizerOptions = {}): Tokenizer {
  const cache = new LRUCache<string, string>({ max: opts.cacheSize ?? 100_000 });
  let key = initial;
  let previous = opts.previous;
  let aliases = previous ? new LRUCache<string, string>({ max: opts.cacheSize ?? 100_000 }) : undefined;
  const stats = { hits: 0, misses: 0 };

  function make(k: TokenKey, prefix: string, kind: string, tenant: string, raw: string): string {
    // The tenant is part of the input: one person in two tenants gets two unrelated tokens.
    const digest = createHmac('sha256', k.secret)
      .update(`${kind}\u0000${tenant}\u0000${raw}`)
      .digest('base64url')
      .slice(0, 22);
    return `${prefix}_k${k.version}_${digest}`;
  }

  function token(
    kind: IdentifierKind,
    tenant: string,
    raw: string,
    actorType: ActorType = 'unknown',
  ): string {
    if (raw === '') return '';
    const prefix = kind === 'actor' ? ACTOR_PREFIX[actorType] : KIND_PREFIX[kind];
    const cacheKey = `${prefix}\u0000${tenant}\u0000${raw}`;
    const hit = cache.get(cacheKey);
    if (hit !== undefined) {
      stats.hits++;
      return hit;
    }
    stats.misses++;
    // Actor tokens hash the identity without its type, so the hash part is stable if a source
    // labels the same principal differently; the prefix only informs the analyst.
    const t = make(key, prefix, kind, tenant, raw);
    cache.set(cacheKey, t);
    if (aliases && previous) aliases.set(t, make(previous, prefix, kind, tenant, raw));
    opts.onNewToken?.({ kind, tenant, token: t, raw });
    return t;
  }

  function address(tenant: string, raw: string): { src_ip: string; src_net: string } {
    const ip = normalizeIp(raw);
    if (ip === '') return { src_ip: '', src_net: '' };
    return { src_ip: token('src_ip', tenant, ip), src_net: token('src_net', tenant, networkOf(ip)) };
  }

  return {
    token,
    address,
    stats,
    previousOf: (t) => aliases?.get(t),
    rotate(next) {
      previous = key;
      key = next;
      cache.clear();
      aliases = new LRUCache<string, string>({ max: opts.cacheSize ?? 100_000 });
    },
    keyVersion: () => key.version,
    queryText: opts.queryText ?? 'off',
  };
}

/** Strips brackets, ports and IPv4-mapped prefixes; returns '' when the value is no address. */
export function normalizeIp(raw: string): string {
  let v = raw.trim();
  if (v.startsWith('[')) v = v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined);
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  if (v.toLowerCase().startsWith('::ffff:') && isIPv4(v.slice(7))) v = v.slice(7);
  if (isIPv4(v)) return v;
  if (isIPv6(v)) return v.toLowerCase();
  return '';
}

/** The /24 (IPv4) or /48 (IPv6) network of an address, as text. */
export function networkOf(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = expandIPv6(ip);
  return `${groups.slice(0, 3).join(':')}::/48`;
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}
