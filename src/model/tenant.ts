// Tenants: the names events are partitioned by, and the sets of them a credential is bound to.

/** A tenant name: 1 to 128 of letters, digits and `_ . : -` (the collectors' rule for every source). */
export const TENANT_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Every tenant: a credential that no binding restricts (an admin, or a single-tenant deployment). */
export const ALL_TENANTS = '*';

/** The tenants a credential may write (a source) or read (an analyst). */
export type TenantSet = typeof ALL_TENANTS | ReadonlySet<string>;

export function mayUseTenant(tenants: TenantSet, tenant: string): boolean {
  return tenants === ALL_TENANTS || tenants.has(tenant);
}

/**
 * The tenants a read is restricted to: undefined for an unbound credential (every tenant), else
 * the bound names (never empty: a binding names at least one tenant).
 */
export function boundTenants(tenants: TenantSet): readonly string[] | undefined {
  return tenants === ALL_TENANTS ? undefined : [...tenants].sort();
}
