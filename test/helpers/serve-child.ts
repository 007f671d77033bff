// `vigil serve` as a child process with its own data directory, loopback ports and tokens: for
// tests that kill it, restart it, or measure its memory apart from the test process's own.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Child, freePort, spawnVigil } from './child.js';
import { tempDataDir } from './services.js';
import { waitFor } from './wait.js';

export interface ServeChild {
  readonly child: Child;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  /** The roles it serves (undefined: all); a restart `like` it serves the same. */
  readonly roles?: string;
  readonly collectorUrl: string;
  readonly otlpHttpUrl: string;
  readonly adminUrl: string;
  readonly sourceToken: string;
  readonly otlpToken: string;
  readonly adminToken: string;
  /** Resident set size of the child (Linux /proc), in bytes. */
  rss(): number;
  /** GET on the admin API; undefined while it does not answer. */
  admin<T>(path: string): Promise<T | undefined>;
  /** GET on the admin API, the body as text (e.g. the Prometheus exposition); undefined as above. */
  adminText(path: string): Promise<string | undefined>;
}

export interface ServeChildOptions {
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  readonly roles?: string;
  /** Reuse the ports, tokens and roles of a previous run (a restart). */
  readonly like?: ServeChild;
  readonly readyTimeoutMs?: number;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

export async function startServeChild(opts: ServeChildOptions = {}): Promise<ServeChild> {
  const prev = opts.like;
  const dataDir = opts.dataDir ?? prev?.dataDir ?? tempDataDir();
  const env: Record<string, string> = prev
    ? { ...prev.env, ...opts.env }
    : {
        VIGIL_DATA_DIR: dataDir,
        VIGIL_HOST: '127.0.0.1',
        VIGIL_COLLECTOR_PORT: String(await freePort()),
        VIGIL_OTLP_HTTP_PORT: String(await freePort()),
        VIGIL_OTLP_GRPC_PORT: String(await freePort()),
        VIGIL_ADMIN_PORT: String(await freePort()),
        VIGIL_SOURCE_TOKEN_GENERIC: `gen-${randomBytes(12).toString('hex')}`,
        VIGIL_SOURCE_TOKEN_OTLP: `otlp-${randomBytes(12).toString('hex')}`,
        VIGIL_ADMIN_TOKEN: `adm-${randomBytes(12).toString('hex')}`,
        VIGIL_LOG_LEVEL: 'warn',
        KAFKA_BROKERS: '',
        REDIS_URL: '',
        CLICKHOUSE_URL: '',
        ...opts.env,
      };
  const roles = opts.roles ?? prev?.roles;
  const child = spawnVigil(['serve', ...(roles ? ['--roles', roles] : [])], env);
  const adminUrl = `http://127.0.0.1:${env.VIGIL_ADMIN_PORT}`;
  const adminGet = async <T>(path: string, read: (res: Response) => Promise<T>): Promise<T | undefined> => {
    try {
      const res = await fetch(`${adminUrl}${path}`, {
        headers: { authorization: `Bearer ${env.VIGIL_ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(30_000),
      });
      return res.ok ? await read(res) : undefined;
    } catch {
      return undefined;
    }
  };
  const admin = <T>(path: string) => adminGet(path, (res) => res.json() as Promise<T>);
  const adminText = (path: string) => adminGet(path, (res) => res.text());
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null)
        throw new Error(`vigil serve exited ${child.proc.exitCode}: ${child.output().slice(-2000)}`);
      return admin<{ status: string }>('/healthz');
    },
    (h) => h?.status === 'ok',
    { timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 100, what: 'vigil serve ready' },
  );
  return {
    child,
    dataDir,
    env,
    roles,
    collectorUrl: `http://127.0.0.1:${env.VIGIL_COLLECTOR_PORT}`,
    otlpHttpUrl: `http://127.0.0.1:${env.VIGIL_OTLP_HTTP_PORT}`,
    adminUrl,
    sourceToken: env.VIGIL_SOURCE_TOKEN_GENERIC!,
    otlpToken: env.VIGIL_SOURCE_TOKEN_OTLP!,
    adminToken: env.VIGIL_ADMIN_TOKEN!,
    rss: () => rssOf(child.proc.pid!),
    admin,
    adminText,
  };
}
