// How CLI commands reach the store: through a running `vigil serve` (its admin API) when one is
// up, else by opening the store themselves. The embedded engine admits one process per data
// directory, so this is what keeps users from ever seeing a lock error.
// The CLI presents VIGIL_CLI_TOKEN when set (e.g. a tenant-bound analyst's token: the admin API then
// answers with that caller's tenants only), else the admin token. With VIGIL_CLI_TOKEN set the CLI
// never opens the store itself: that would read past the token's tenants.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { adminTokens } from './wiring/secrets.js';
import type { Config } from '../config/index.js';
import { readServeAddress, SERVE_ADDRESS_FILE } from './serve-address.js';
import {
  migrate,
  NEXT_CURSOR_HEADER,
  openStore,
  type StoreClient,
  StoreLockedError,
} from '../store/index.js';

export interface AdminTarget {
  readonly url: string;
  readonly token: string;
}

/**
 * The admin API of the running vigil that owns this data directory (it records its address there,
 * src/cli/serve-address.ts), if it answers. A vigil of another data directory listening on the
 * configured port is never used. With VIGIL_CLI_TOKEN set (an operator without the data directory)
 * the configured host and port are asked instead, and none answering is an error: the caller must
 * not fall back to the store itself.
 */
export async function findRunningAdmin(config: Config): Promise<AdminTarget | undefined> {
  const recorded = readServeAddress(config.dataDir);
  if (recorded) return probeAdmin(config, recorded.url);
  if (!config.env.VIGIL_CLI_TOKEN) return undefined;
  const host = config.env.VIGIL_HOST === '0.0.0.0' ? '127.0.0.1' : config.env.VIGIL_HOST;
  const found = await probeAdmin(config, `http://${host}:${config.env.VIGIL_ADMIN_PORT}`);
  if (!found)
    throw new Error(
      `VIGIL_CLI_TOKEN is set, so the CLI works only through a running vigil's admin API, and none answers on port ${config.env.VIGIL_ADMIN_PORT}`,
    );
  return found;
}

async function probeAdmin(config: Config, url: string): Promise<AdminTarget | undefined> {
  const tokenFile = path.join(config.dataDir, 'keys', 'admin.token');
  const token =
    config.env.VIGIL_CLI_TOKEN ??
    config.env.VIGIL_ADMIN_TOKEN?.split(',')[0] ??
    (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  try {
    const res = await fetch(`${url}/healthz`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(1_500),
    });
    if (res.status === 401 || res.status === 403) {
      throw new Error(
        config.env.VIGIL_CLI_TOKEN
          ? `a vigil is running at ${url} but refused VIGIL_CLI_TOKEN`
          : `a vigil is running at ${url} but refused the admin token (set VIGIL_ADMIN_TOKEN)`,
      );
    }
    return res.ok ? { url, token } : undefined;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('a vigil is running')) throw err;
    return undefined;
  }
}

export async function adminGet<T>(target: AdminTarget, route: string): Promise<T> {
  const res = await fetch(`${target.url}${route}`, { headers: { authorization: `Bearer ${target.token}` } });
  if (!res.ok) throw new Error(`admin API ${route} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** A GET answering one page: its body and the cursor of the next page, if the API gave one. */
export async function adminGetPage<T>(
  target: AdminTarget,
  route: string,
): Promise<{ body: T; next: string | undefined }> {
  const res = await fetch(`${target.url}${route}`, { headers: { authorization: `Bearer ${target.token}` } });
  if (!res.ok) throw new Error(`admin API ${route} answered ${res.status}: ${await res.text()}`);
  return { body: (await res.json()) as T, next: res.headers.get(NEXT_CURSOR_HEADER) ?? undefined };
}

export async function adminPost<T>(
  target: AdminTarget,
  route: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${target.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  if (res.status >= 500 || res.status === 401 || res.status === 403)
    throw new Error(`admin API ${route} answered ${res.status}: ${text}`);
  return { status: res.status, body: JSON.parse(text) as T };
}

/** Runs `fn` against the store: through the admin API of a running vigil, or directly. */
export async function withStore<T>(
  config: Config,
  viaAdmin: (t: AdminTarget) => Promise<T>,
  direct: (client: StoreClient) => Promise<T>,
): Promise<T> {
  const running = await findRunningAdmin(config);
  if (running) return viaAdmin(running);
  // Only the admin API needs the token file; reading it here creates it for a later serve too.
  adminTokens(config);
  let handle: Awaited<ReturnType<typeof openStore>>;
  try {
    handle = await openStore(config.env, config.dataDir);
  } catch (err) {
    if (err instanceof StoreLockedError) {
      throw new Error(
        `${err.message}, and its admin API does not answer at the address it recorded in ${SERVE_ADDRESS_FILE} (is it still starting or stopping?)`,
      );
    }
    throw err;
  }
  try {
    await migrate(handle.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
    return await direct(handle.client);
  } finally {
    await handle.close();
  }
}
