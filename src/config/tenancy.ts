// Tenancy (pipeline key `tenancy`): the tenants each credential may write (sources) or read
// (analysts). A binding names the environment variable that holds the credential (secrets stay in
// the environment, comma-separated during rotation, like every other token) and its tenants.
// Absent, every credential covers every tenant: a single-tenant deployment needs nothing here.
//
// Fail closed: once `tenancy.sources` is given, a source credential that no binding names does not
// exist (no token is generated, and a source's own variable left set refuses the start); likewise
// `tenancy.analysts` for VIGIL_ANALYST_TOKEN. `tenants: ["*"]` binds a credential to every tenant,
// explicitly. Admin tokens are never bound: the admin role is the operator's, across tenants.
import { z } from 'zod';
import { ALL_TENANTS, TENANT_NAME } from '../model/index.js';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be the name of an environment variable');

/** A non-empty list of tenant names, or exactly ["*"] for every tenant. */
export const tenantListSchema = z
  .array(z.string(), { invalid_type_error: 'must be a list of tenant names, or ["*"]' })
  .min(1, 'must name at least one tenant (or "*" for every tenant)')
  .superRefine((list, ctx) => {
    if (list.includes(ALL_TENANTS) && list.length > 1)
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: '"*" (every tenant) stands alone' });
    list.forEach((t, i) => {
      if (t !== ALL_TENANTS && !TENANT_NAME.test(t))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i],
          message: 'must be 1 to 128 characters, only letters, digits and _ . : -, or "*"',
        });
    });
    if (new Set(list).size !== list.length)
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'names a tenant twice' });
  });

const bearerBinding = z
  .object({
    source: z.enum(['generic', 'otlp', 'teleport']),
    /** Variable holding the source's bearer token(s). */
    token_env: envName,
    tenants: tenantListSchema,
  })
  .strict();

const hoopBinding = z
  .object({
    source: z.literal('hoop'),
    /** Variable holding hoop.dev's Svix signing secret(s) `whsec_…` (webhooks carry no bearer token). */
    webhook_secret_env: envName,
    tenants: tenantListSchema,
  })
  .strict();

const analystBinding = z
  .object({
    /** Variable holding analyst token(s) of the admin API. */
    token_env: envName,
    tenants: tenantListSchema,
  })
  .strict();

export type SourceBinding = z.infer<typeof bearerBinding> | z.infer<typeof hoopBinding>;
export type AnalystBinding = z.infer<typeof analystBinding>;

export const tenancySchema = z
  .object({
    /** Every source credential (all of them, once given), each with the tenants it may write. */
    sources: z.array(z.discriminatedUnion('source', [bearerBinding, hoopBinding])).optional(),
    /** Every analyst credential (all of them, once given), each with the tenants it may read. */
    analysts: z.array(analystBinding).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    // One variable, one binding: two would leave its tenants to the order of the list.
    const seen = new Map<string, string>();
    const check = (name: string, path: Array<string | number>) => {
      const first = seen.get(name);
      if (first)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path,
          message: `${name} is already bound by ${first}`,
        });
      else seen.set(name, ['tenancy', ...path].join('.'));
    };
    for (const [i, b] of (t.sources ?? []).entries()) {
      if ('token_env' in b) check(b.token_env, ['sources', i, 'token_env']);
      else check(b.webhook_secret_env, ['sources', i, 'webhook_secret_env']);
    }
    for (const [i, b] of (t.analysts ?? []).entries()) check(b.token_env, ['analysts', i, 'token_env']);
  });

export type TenancyConfig = z.infer<typeof tenancySchema>;

/** A binding's tenants as a set (`*`: every tenant). */
export function tenantSetOf(tenants: readonly string[]): typeof ALL_TENANTS | ReadonlySet<string> {
  return tenants.includes(ALL_TENANTS) ? ALL_TENANTS : new Set(tenants);
}
