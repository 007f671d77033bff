// Every inbound credential of a vigil, read once at start: the sources' bearer tokens, hoop.dev's
// signing secrets, the analyst tokens, each with the tenants it is bound to (pipeline `tenancy`,
// src/config/tenancy.ts). Secrets come from the environment (or, unbound, generated under
// $VIGIL_DATA_DIR/keys); an inconsistency refuses the start with a ConfigError naming the variable.
import { createHash, randomBytes } from 'node:crypto';
import { type BoundToken, splitTokens } from '../collectors/auth.js';
import type { BoundSecret } from '../collectors/hoop/server.js';
import { type Config, ConfigError, tenantSetOf } from '../config/index.js';
import { ALL_TENANTS } from '../model/index.js';
import { loadOrCreateSecret } from '../privacy/index.js';

/** Sources that authenticate with bearer tokens (hoop.dev's webhooks carry Svix signatures instead). */
export const BEARER_SOURCES = ['generic', 'otlp', 'teleport'] as const;
export type BearerSource = (typeof BEARER_SOURCES)[number];

export interface Credentials {
  readonly sources: Record<BearerSource, BoundToken[]>;
  /** hoop.dev's `whsec_…` secrets; empty: the webhook route is off. */
  readonly hoopSecrets: BoundSecret[];
  readonly analysts: BoundToken[];
}

const newToken = () => randomBytes(24).toString('base64url');

/** Bearer token of a source: its env var(s), else a generated one kept under $VIGIL_DATA_DIR/keys. */
export function sourceTokens(config: Config, env: NodeJS.ProcessEnv, source: BearerSource): string[] {
  const envName = config.pipeline.sources[source].token_env;
  const fromEnv = splitTokens(envName ? env[envName] : undefined);
  return fromEnv.length
    ? fromEnv
    : [loadOrCreateSecret(config.dataDir, `source-${source}.token`, newToken).value];
}

/** Signing secrets from an env var: `whsec_…` values separated by commas or white space. */
export function splitSecrets(value: string | undefined): string[] {
  return splitTokens(value).flatMap((s) => s.split(/\s+/).filter(Boolean));
}

/**
 * The credentials the configuration names. Without `tenancy`, as ever: every credential covers
 * every tenant. With `tenancy.sources` (or `.analysts`), only the bound variables count, and a
 * source's own variable (or VIGIL_ANALYST_TOKEN) still set but bound by nothing refuses the start:
 * it would otherwise be silently ignored, or silently cover every tenant.
 */
export function credentialsFromConfig(
  config: Config,
  env: NodeJS.ProcessEnv,
  adminTokens: readonly string[],
): Credentials {
  const tenancy = config.pipeline.tenancy;
  const where = `pipeline ${config.env.VIGIL_PIPELINE}`;
  /** Every credential by the name it was configured under, for the distinctness check. */
  const named: Record<string, string[]> = { VIGIL_ADMIN_TOKEN: [...adminTokens] };
  const bound = (name: string, path: string, split = splitTokens) => {
    const values = split(env[name]);
    if (values.length === 0)
      throw new ConfigError(
        `${where}: ${path} names ${name}, which is not set (a bound credential must exist)`,
      );
    named[name] = values;
    return values;
  };
  const unboundButSet = (name: string | undefined, list: string) => {
    if (name && splitTokens(env[name]).length)
      throw new ConfigError(
        `${name} is set, but ${where} binds credentials in ${list} and not this one: bind it there (tenants: ["*"] for every tenant) or unset it`,
      );
  };

  const sources = Object.fromEntries(BEARER_SOURCES.map((s) => [s, [] as BoundToken[]])) as Record<
    BearerSource,
    BoundToken[]
  >;
  const hoopSecrets: BoundSecret[] = [];
  const hoopEnv = config.pipeline.sources.hoop.webhook_secret_env;
  if (tenancy?.sources === undefined) {
    for (const s of BEARER_SOURCES) {
      const tokens = sourceTokens(config, env, s);
      named[config.pipeline.sources[s].token_env ?? `source ${s}`] = tokens;
      sources[s] = tokens.map((token) => ({ token, tenants: ALL_TENANTS }));
    }
    named[hoopEnv] = splitSecrets(env[hoopEnv]);
    for (const secret of named[hoopEnv]) hoopSecrets.push({ secret, tenants: ALL_TENANTS });
  } else {
    tenancy.sources.forEach((b, i) => {
      const tenants = tenantSetOf(b.tenants);
      if (b.source === 'hoop') {
        for (const secret of bound(b.webhook_secret_env, `tenancy.sources.${i}`, splitSecrets))
          hoopSecrets.push({ secret, tenants });
      } else {
        for (const token of bound(b.token_env, `tenancy.sources.${i}`))
          sources[b.source].push({ token, tenants });
      }
    });
    for (const s of BEARER_SOURCES) {
      const own = config.pipeline.sources[s].token_env;
      if (!tenancy.sources.some((b) => b.source === s && b.token_env === own))
        unboundButSet(own, 'tenancy.sources');
    }
    if (!tenancy.sources.some((b) => b.source === 'hoop' && b.webhook_secret_env === hoopEnv))
      unboundButSet(hoopEnv, 'tenancy.sources');
  }

  let analysts: BoundToken[];
  if (tenancy?.analysts === undefined) {
    named.VIGIL_ANALYST_TOKEN = splitTokens(config.env.VIGIL_ANALYST_TOKEN);
    analysts = named.VIGIL_ANALYST_TOKEN.map((token) => ({ token, tenants: ALL_TENANTS }));
  } else {
    analysts = tenancy.analysts.flatMap((b, i) =>
      bound(b.token_env, `tenancy.analysts.${i}`).map((token) => ({
        token,
        tenants: tenantSetOf(b.tenants),
      })),
    );
    if (!tenancy.analysts.some((b) => b.token_env === 'VIGIL_ANALYST_TOKEN'))
      unboundButSet('VIGIL_ANALYST_TOKEN', 'tenancy.analysts');
  }
  assertDistinctTokens(named);
  return { sources, hoopSecrets, analysts };
}

/**
 * Refuses a token that two credentials share (by digest: which variables, never the value): the
 * first would win, with its role and tenants, and the second would never be what it says.
 */
function assertDistinctTokens(credentials: Record<string, readonly string[]>): void {
  const owner = new Map<string, string>();
  for (const [name, tokens] of Object.entries(credentials)) {
    for (const token of tokens) {
      const d = createHash('sha256').update(token).digest('hex');
      const first = owner.get(d);
      if (first !== undefined && first !== name)
        throw new ConfigError(`the same token is configured for ${first} and for ${name}: give each its own`);
      owner.set(d, name);
    }
  }
}
