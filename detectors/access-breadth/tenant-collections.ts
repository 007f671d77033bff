// How many collections a tenant has, as its traffic shows them: per tenant a 4,096-bit
// linear-counting bitmap of the collections any identity touched (exact enough up to a few
// thousand collections, 512 bytes whatever their number) and the hour it was first seen, for at
// most `maxTenants` tenants (least recently active forgotten first). access-breadth relates an
// hour's breadth to it: on a tenant of 12 collections, an identity touching all 12 is enumerating
// even if its own history's band reaches 12. A dropped collection stays counted (the count is
// what the tenant ever had since vigil saw it).
import { bitmap, stateLayout } from '../shared/index.js';

const LAYOUT = stateLayout({ collections: bitmap(512) });
const { collections: COLLECTIONS } = LAYOUT.sections;

export interface TenantCollections {
  /** Notes that `collection` (its 32-bit hash) exists in the tenant, at event hour `hour`. */
  add(tenant: string, collectionHash: number, hour: number): void;
  /** Estimated collections of the tenant, and the hour it was first seen (undefined: never). */
  of(tenant: string): { readonly collections: number; readonly sinceHour: number } | undefined;
  /** Tenants kept. */
  size(): number;
}

interface Entry {
  readonly bits: Uint8Array;
  sinceHour: number;
  collections: number;
}

export function createTenantCollections(options: { readonly maxTenants: number }): TenantCollections {
  const tenants = new Map<string, Entry>();
  return {
    add(tenant, h, hour) {
      let t = tenants.get(tenant);
      if (!t) {
        t = { bits: LAYOUT.alloc(), sinceHour: hour, collections: 0 };
        tenants.set(tenant, t);
        if (tenants.size > options.maxTenants) tenants.delete(tenants.keys().next().value!);
      } else if (tenants.size > 1 && tenants.keys().next().value === tenant) {
        // Keep recency order cheaply: only the oldest entry moves, when it is touched.
        tenants.delete(tenant);
        tenants.set(tenant, t);
      }
      if (hour < t.sinceHour) t.sinceHour = hour;
      if (COLLECTIONS.add(t.bits, h)) t.collections = Math.round(COLLECTIONS.estimate(t.bits));
    },
    of(tenant) {
      const t = tenants.get(tenant);
      return t && { collections: t.collections, sinceHour: t.sinceHour };
    },
    size: () => tenants.size,
  };
}
