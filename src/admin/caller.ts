// Who calls an admin route, as its onRequest hook found them (./server.ts), and what routes declare.
import type { FastifyRequest } from 'fastify';
import { boundTenants } from '../model/index.js';
import type { AdminRole } from './server.js';

/** Route options of the admin API, read by its onRequest hook. */
export interface AdminRouteConfig {
  /** The roles allowed (default: every admin role). */
  readonly roles?: AdminRole[];
  /** The route authenticates its callers itself (the ClickHouse HTTP interface: basic auth). */
  readonly ownAuth?: boolean;
  /** The route reads across tenants (process metrics): a tenant-bound caller is refused. */
  readonly allTenants?: boolean;
}

/** The tenants a caller's read is limited to (undefined: every tenant), from its credential. */
export function callerTenants(req: FastifyRequest): readonly string[] | undefined {
  return boundTenants(req.vigilCaller!.tenants);
}
