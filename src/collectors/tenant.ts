// The tenant of a request to a collector whose events carry none of their own (hoop.dev, Teleport):
// the `X-Vigil-Tenant` header, else the `tenant` query parameter, else `default`. Same rule as the
// generic event's `tenant` field. A gateway's own names (a Teleport cluster, a hoop.dev org) are
// not tenants: one organisation may run several.
import type { FastifyRequest } from 'fastify';

export const DEFAULT_TENANT = 'default';
const TENANT = /^[A-Za-z0-9_.:-]{1,128}$/;

export type TenantResult = { ok: true; tenant: string } | { ok: false; reason: string };

export function requestTenant(req: FastifyRequest): TenantResult {
  const header = req.headers['x-vigil-tenant'];
  const query = (req.query as Record<string, unknown> | undefined)?.tenant;
  const value =
    (Array.isArray(header) ? header[0] : header) ?? (typeof query === 'string' ? query : undefined);
  if (value === undefined || value === '') return { ok: true, tenant: DEFAULT_TENANT };
  if (!TENANT.test(value))
    return {
      ok: false,
      reason: 'tenant: must be 1 to 128 characters, only letters, digits and _ . : -',
    };
  return { ok: true, tenant: value };
}
