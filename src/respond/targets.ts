// Turns response.targets into adapters' settings: URLs and secrets are read from the environment
// variables the configuration names. A target whose variables are unset is unavailable (its
// actions are recorded as skipped, with the variable to set), never a start-up failure.
import type { ResponseConfig, TargetConfig } from '../config/index.js';
import type { ResolvedTarget } from './actions/index.js';

export interface ResolvedTargets {
  readonly targets: ReadonlyMap<string, ResolvedTarget>;
  /** Target name → what is missing. */
  readonly unavailable: ReadonlyMap<string, string>;
}

export interface ResolveOptions {
  /** Signing secret(s) for webhook targets whose secret variable is unset. */
  readonly defaultWebhookSecrets?: () => string[];
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function resolveOne(
  name: string,
  c: TargetConfig,
  env: NodeJS.ProcessEnv,
  opts: ResolveOptions,
): ResolvedTarget | string {
  const v = (key: string) => env[key]?.trim() || undefined;
  const need = (...keys: string[]) => {
    const missing = keys.filter((k) => !v(k));
    return missing.length ? `${missing.join(', ')} not set` : undefined;
  };
  switch (c.type) {
    case 'postgres':
      return need(c.url_env) ?? { name, type: c.type, settings: { ...c, url: v(c.url_env)! } };
    case 'weaviate':
      return (
        need(c.url_env, c.api_key_env) ?? {
          name,
          type: c.type,
          settings: { ...c, url: v(c.url_env)!, apiKey: v(c.api_key_env)! },
        }
      );
    case 'milvus':
      return (
        need(c.url_env, c.token_env) ?? {
          name,
          type: c.type,
          settings: { ...c, url: v(c.url_env)!, token: v(c.token_env)! },
        }
      );
    case 'pinecone':
      return (
        need(c.client_id_env, c.client_secret_env) ?? {
          name,
          type: c.type,
          settings: {
            ...c,
            apiUrl: v(c.url_env) ?? c.url,
            tokenUrl: v(c.token_url_env) ?? c.token_url,
            clientId: v(c.client_id_env)!,
            clientSecret: v(c.client_secret_env)!,
            tokenCache: { expiresAt: 0 },
          },
        }
      );
    case 'qdrant-cloud':
      return (
        need(c.api_key_env) ?? {
          name,
          type: c.type,
          settings: { ...c, apiUrl: v(c.url_env) ?? c.url, apiKey: v(c.api_key_env)! },
        }
      );
    case 'hoop':
      return (
        need(c.url_env, c.api_token_env) ?? {
          name,
          type: c.type,
          settings: { ...c, url: v(c.url_env)!, token: v(c.api_token_env)! },
        }
      );
    case 'webhook': {
      const missing = need(c.url_env);
      if (missing) return missing;
      const secrets = splitList(env[c.secret_env]);
      const chosen = secrets.length ? secrets : (opts.defaultWebhookSecrets?.() ?? []);
      if (!chosen.length) return `${c.secret_env} not set`;
      return { name, type: c.type, settings: { url: v(c.url_env)!, secrets: chosen, timeoutMs: c.timeout } };
    }
    case 'slack':
      return need(c.url_env) ?? { name, type: c.type, settings: { ...c, url: v(c.url_env)! } };
    case 'pagerduty':
      return (
        need(c.routing_key_env) ?? {
          name,
          type: c.type,
          settings: { ...c, apiUrl: v(c.url_env) ?? c.url, routingKey: v(c.routing_key_env)! },
        }
      );
  }
}

export function resolveTargets(
  config: Pick<ResponseConfig, 'targets'>,
  env: NodeJS.ProcessEnv,
  opts: ResolveOptions = {},
): ResolvedTargets {
  const targets = new Map<string, ResolvedTarget>();
  const unavailable = new Map<string, string>();
  for (const [name, c] of Object.entries(config.targets)) {
    const r = resolveOne(name, c, env, opts);
    if (typeof r === 'string') unavailable.set(name, r);
    else targets.set(name, r);
  }
  return { targets, unavailable };
}
