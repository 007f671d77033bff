// The peer book: per tenant, which collections identities use together, so new-collection can ask
// "how many of this identity's peers ever used the collection it just opened?".
//
// Peers are learned from co-access by default, without an identity × identity table: for every
// pair of collections the book counts the identities that used both (co[k][c]) and, per
// collection, the identities that used it (users[k]). The peer share of a collection c for an
// identity that uses collections K is the mean over k ∈ K of
//
//     P(c | k) = co[k][c] / (users[k] − 1)
//
// — of the other identities that use k, the fraction that also used c. An identity sharing many of
// my collections appears in many of the terms, one sharing none in none: these are "the identities
// sharing most collections" with me. A mean of per-collection fractions (rather than one pooled
// fraction) keeps a collection everyone uses (a wiki) from drowning the ones that define a team —
// the same concern as Sentinel's TF-IDF peer ranking. With `peer_groups: attribute` an identity's
// peers are instead those whose events carry the same value of an attribute (team, role), counted
// per group; events without the attribute fall back to co-access.
//
// Memory is bounded: per tenant a table of `max_tenant_collections` collections (least recently
// used evicted, its row and column cleared) with a Uint16 co-access matrix (32 KB at 128), at most
// `max_peer_groups` groups, and at most `max_tenants` tenants (least recently active evicted).
// Counts are approximate where an identity forgets a collection and finds it again (counted twice);
// they saturate at 65,535.
import { fold16, hash32 } from '../shared/index.js';

export interface PeerBookOptions {
  readonly maxCollections: number;
  readonly maxGroups: number;
  readonly maxTenants: number;
}

export interface PeerShare {
  /** Fraction (0–1) of peer observations that include the collection. */
  readonly share: number;
  /** Peer observations behind the share (co-access pairs, or group members other than the identity). */
  readonly peers: number;
  readonly mode: 'co-access' | 'attribute';
}

export interface PeerBook {
  /** Marks the collection as used now, keeping the collections in use in the table. */
  touch(tenant: string, collection: string): void;
  /**
   * The share of the identity's peers that used `collection`. `known` are the identity's own
   * collections (16-bit hashes, as its state keeps them); `group` the hash of its attribute group
   * (0: none).
   */
  share(tenant: string, collection: string, known: readonly number[], group: number): PeerShare;
  /** Records that the identity used `collection` for the first time. */
  recordFirstUse(tenant: string, collection: string, known: readonly number[], group: number): void;
  /** Moves an identity into `group` (out of `previous`; 0 = none). */
  join(tenant: string, group: number, previous: number): void;
  /** Sizes, for tests and metrics. */
  stats(): { tenants: number; maxCollections: number; maxGroups: number };
}

interface Group {
  members: number;
  users: Uint16Array;
}

interface TenantTable {
  /** Collection hash → slot; Map order is least recently used first. */
  slots: Map<number, number>;
  /** Per slot: the 16-bit fold of its collection hash (how identities' states name it), 0 = free. */
  keys16: Uint16Array;
  users: Uint16Array;
  co: Uint16Array;
  groups: Map<number, Group>;
}

const U16_MAX = 0xffff;

export function createPeerBook(options: PeerBookOptions): PeerBook {
  const n = options.maxCollections;
  const tenants = new Map<string, TenantTable>();

  function table(tenant: string): TenantTable {
    let t = tenants.get(tenant);
    if (t) {
      tenants.delete(tenant);
      tenants.set(tenant, t);
      return t;
    }
    t = {
      slots: new Map(),
      keys16: new Uint16Array(n),
      users: new Uint16Array(n),
      co: new Uint16Array(n * n),
      groups: new Map(),
    };
    tenants.set(tenant, t);
    if (tenants.size > options.maxTenants) tenants.delete(tenants.keys().next().value!);
    return t;
  }

  /** The collection's slot, touched as most recently used; allocated (evicting) when `create`. */
  function slotOf(t: TenantTable, collection: string, create: boolean): number {
    const h = hash32(collection);
    const slot = t.slots.get(h);
    if (slot !== undefined) {
      t.slots.delete(h);
      t.slots.set(h, slot);
      return slot;
    }
    if (!create) return -1;
    let free: number;
    if (t.slots.size < n) free = t.slots.size;
    else {
      const [oldest, victim] = t.slots.entries().next().value!;
      t.slots.delete(oldest);
      free = victim;
      clearSlot(t, victim);
    }
    t.slots.set(h, free);
    t.keys16[free] = fold16(h);
    return free;
  }

  function clearSlot(t: TenantTable, slot: number): void {
    t.users[slot] = 0;
    t.keys16[slot] = 0;
    t.co.fill(0, slot * n, slot * n + n);
    for (let k = 0; k < n; k++) t.co[k * n + slot] = 0;
    for (const g of t.groups.values()) g.users[slot] = 0;
  }

  /** Slots of the identity's known collections (matched by their 16-bit hashes). */
  function knownSlots(t: TenantTable, known: readonly number[], except: number): number[] {
    const wanted = new Set(known);
    const out: number[] = [];
    for (let k = 0; k < n; k++)
      if (k !== except && t.keys16[k] !== 0 && wanted.has(t.keys16[k]!)) out.push(k);
    return out;
  }

  function group(t: TenantTable, h: number, create: boolean): Group | undefined {
    let g = t.groups.get(h);
    if (g) {
      t.groups.delete(h);
      t.groups.set(h, g);
      return g;
    }
    if (!create) return undefined;
    g = { members: 0, users: new Uint16Array(n) };
    t.groups.set(h, g);
    if (t.groups.size > options.maxGroups) t.groups.delete(t.groups.keys().next().value!);
    return g;
  }

  const inc = (a: Uint16Array, i: number) => {
    if (a[i]! < U16_MAX) a[i] = a[i]! + 1;
  };

  return {
    touch(tenant, collection) {
      slotOf(table(tenant), collection, true);
    },
    share(tenant, collection, known, groupName) {
      const t = table(tenant);
      const c = slotOf(t, collection, false);
      if (groupName !== 0) {
        const g = group(t, groupName, false);
        if (g && g.members > 1) {
          const peers = g.members - 1;
          return { share: c < 0 ? 0 : Math.min(1, g.users[c]! / peers), peers, mode: 'attribute' };
        }
      }
      let sum = 0;
      let terms = 0;
      let pairs = 0;
      for (const k of knownSlots(t, known, c)) {
        const others = t.users[k]! - 1;
        if (others <= 0) continue;
        pairs += others;
        terms++;
        if (c >= 0) sum += Math.min(1, t.co[k * n + c]! / others);
      }
      return { share: terms === 0 ? 0 : sum / terms, peers: pairs, mode: 'co-access' };
    },
    recordFirstUse(tenant, collection, known, groupName) {
      const t = table(tenant);
      const c = slotOf(t, collection, true);
      inc(t.users, c);
      for (const k of knownSlots(t, known, c)) {
        inc(t.co, k * n + c);
        inc(t.co, c * n + k);
      }
      if (groupName !== 0) inc(group(t, groupName, true)!.users, c);
    },
    join(tenant, groupName, previous) {
      const t = table(tenant);
      if (previous !== 0) {
        const p = group(t, previous, false);
        if (p && p.members > 0) p.members--;
      }
      const g = group(t, groupName, true)!;
      if (g.members < U16_MAX) g.members++;
    },
    stats() {
      let maxCollections = 0;
      let maxGroups = 0;
      for (const t of tenants.values()) {
        maxCollections = Math.max(maxCollections, t.slots.size);
        maxGroups = Math.max(maxGroups, t.groups.size);
      }
      return { tenants: tenants.size, maxCollections, maxGroups };
    },
  };
}
