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

const ACTOR_PREFIX: Record<ActorType, Prefix> = { user: 'usr', service: 'svc', agent: 'agt', unknown: 'unk' };
const KIND_PREFIX: Record<Exclude<IdentifierKind, 'actor'>, Prefix> = {
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
  /**
   * Most cached entries (tokens and address pairs). The default keeps about what the earlier
   * 100,000-entry LRU kept (hit ratio on the benchmark's caller stream: 0.757 vs 0.767 at 100,000
   * identities, 0.985 for both at 10,000) in a little more memory when full (~37 vs ~32 MB).
   * @defaultValue 160000
   */
  readonly cacheSize?: number;
  readonly previous?: TokenKey;
  readonly onNewToken?: NewTokenHook;
  /** @defaultValue 'off' */
  readonly queryText?: QueryTextMode;
}

/** The token prefixes, each with its own cache map (see `TokenCache`). */
type Prefix = 'usr' | 'svc' | 'agt' | 'unk' | 'key' | 'ip' | 'net' | 'ses';

/** Raw value → token for one prefix, per tenant. */
type PrefixCache = Map<string, Map<string, string>>;

/** One generation of the cache: tokens by prefix and tenant, and address pairs by tenant. */
interface Generation {
  readonly tokens: Record<Prefix, PrefixCache>;
  readonly addresses: Map<string, Map<string, AddressTokens>>;
  size: number;
}

interface AddressTokens {
  readonly src_ip: string;
  readonly src_net: string;
}

function newGeneration(): Generation {
  return {
    tokens: {
      usr: new Map(),
      svc: new Map(),
      agt: new Map(),
      unk: new Map(),
      key: new Map(),
      ip: new Map(),
      net: new Map(),
      ses: new Map(),
    },
    addresses: new Map(),
    size: 0,
  };
}

/**
 * The token cache, keyed on the raw value itself in a map per prefix and tenant: a lookup hashes
 * the raw value only, where a single LRU keyed on `prefix\0tenant\0raw` built and hashed a new
 * string per lookup (~17 % of the NDJSON collector's time). Recency is kept by two generations
 * instead of a linked list: entries go into the young one; when it holds half of `max`, it
 * becomes the old one and the previous old one is dropped; a hit in the old generation is copied
 * into the young one. So at most `max` entries are held, and whatever was used within the last
 * `max / 2` insertions is still there (an LRU of `max / 2` … `max` entries).
 */
class TokenCache {
  private young = newGeneration();
  private old: Generation | undefined;
  private readonly half: number;

  constructor(private readonly max: number) {
    // With room for one entry there is no old generation (it would be a second entry).
    this.half = Math.max(1, max >> 1);
  }

  get(prefix: Prefix, tenant: string, raw: string): string | undefined {
    const hit = this.young.tokens[prefix].get(tenant)?.get(raw);
    if (hit !== undefined || this.old === undefined) return hit;
    const aged = this.old.tokens[prefix].get(tenant)?.get(raw);
    if (aged !== undefined) this.set(prefix, tenant, raw, aged);
    return aged;
  }

  set(prefix: Prefix, tenant: string, raw: string, token: string): void {
    this.makeRoom();
    const byTenant = this.young.tokens[prefix];
    let values = byTenant.get(tenant);
    if (values === undefined) {
      values = new Map();
      byTenant.set(tenant, values);
    }
    values.set(raw, token);
    this.young.size++;
  }

  getAddress(tenant: string, raw: string): AddressTokens | undefined {
    const hit = this.young.addresses.get(tenant)?.get(raw);
    if (hit !== undefined || this.old === undefined) return hit;
    const aged = this.old.addresses.get(tenant)?.get(raw);
    if (aged !== undefined) this.setAddress(tenant, raw, aged);
    return aged;
  }

  setAddress(tenant: string, raw: string, tokens: AddressTokens): void {
    this.makeRoom();
    let values = this.young.addresses.get(tenant);
    if (values === undefined) {
      values = new Map();
      this.young.addresses.set(tenant, values);
    }
    values.set(raw, tokens);
    this.young.size++;
  }

  clear(): void {
    this.young = newGeneration();
    this.old = undefined;
  }

  private makeRoom(): void {
    if (this.young.size < this.half) return;
    this.old = this.max >= 2 ? this.young : undefined;
    this.young = newGeneration();
  }
}

export function createTokenizer(initial: TokenKey, opts: TokenizerOptions = {}): Tokenizer {
  const cache = new TokenCache(opts.cacheSize ?? 160_000);
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
    const hit = cache.get(prefix, tenant, raw);
    if (hit !== undefined) {
      stats.hits++;
      return hit;
    }
    stats.misses++;
    // Actor tokens hash the identity without its type, so the hash part is stable if a source
    // labels the same principal differently; the prefix only informs the analyst.
    const t = make(key, prefix, kind, tenant, raw);
    cache.set(prefix, tenant, raw, t);
    if (aliases && previous) aliases.set(t, make(previous, prefix, kind, tenant, raw));
    opts.onNewToken?.({ kind, tenant, token: t, raw });
    return t;
  }

  function address(tenant: string, raw: string): { src_ip: string; src_net: string } {
    if (raw === '') return { src_ip: '', src_net: '' };
    // The pair is cached by the address as sent, which skips parsing it again (normalizeIp and
    // networkOf cost as much as the two lookups). It counts as the two token lookups it stands for.
    const known = cache.getAddress(tenant, raw);
    if (known !== undefined) {
      stats.hits += 2;
      return { src_ip: known.src_ip, src_net: known.src_net };
    }
    const ip = normalizeIp(raw);
    if (ip === '') return { src_ip: '', src_net: '' };
    const tokens = { src_ip: token('src_ip', tenant, ip), src_net: token('src_net', tenant, networkOf(ip)) };
    cache.setAddress(tenant, raw, tokens);
    return { src_ip: tokens.src_ip, src_net: tokens.src_net };
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
