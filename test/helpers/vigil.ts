// Starts a whole vigil in the test process (embedded or against the real services) with its own
// data directory, loopback ports chosen by the OS, and a webhook receiver.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type RunningVigil, type Role, startVigil } from '../../src/cli/app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/cli/demo/webhook-receiver.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { tempDataDir } from './services.js';

export interface TestVigil {
  readonly app: RunningVigil;
  readonly receiver: WebhookReceiver;
  readonly dataDir: string;
  post(events: object[], opts?: { gzip?: boolean; token?: string }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startTestVigil(
  opts: { env?: Record<string, string>; roles?: Role[]; dataDir?: string } = {},
): Promise<TestVigil> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = await startWebhookReceiver(secret);
  const env: Record<string, string> = {
    VIGIL_DATA_DIR: dataDir,
    VIGIL_COLLECTOR_PORT: '0',
    VIGIL_ADMIN_PORT: '0',
    VIGIL_OTLP_HTTP_PORT: '0',
    VIGIL_OTLP_GRPC_PORT: '0',
    VIGIL_HOST: '127.0.0.1',
    VIGIL_LOG_LEVEL: 'warn',
    VIGIL_WEBHOOK_URL: receiver.url,
    VIGIL_WEBHOOK_SECRET: secret,
    VIGIL_SOURCE_TOKEN_GENERIC: `test-token-${randomBytes(8).toString('hex')}`,
    // Every test talks from 127.0.0.1, and some refuse credentials by the hundred on purpose: the
    // throttle of refused credentials is tested where a test asks for it.
    VIGIL_AUTH_FAILURE_LIMIT: '1000000',
    ...opts.env,
  };
  const base = { ...process.env, KAFKA_BROKERS: '', REDIS_URL: '', CLICKHOUSE_URL: '' };
  const config = loadConfig({ ...base, ...env });
  const app = await startVigil(
    config,
    // Info level, into the run's log file: the suite's privacy scan reads what vigil logged.
    { roles: opts.roles, logger: createLogger('info', 'vigil-test', process.env.VIGIL_LOG_FILE) },
    { ...base, ...env },
  );
  return {
    app,
    receiver,
    dataDir,
    async post(events, o = {}) {
      const text = events.map((e) => JSON.stringify(e)).join('\n');
      return fetch(`${app.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${o.token ?? app.sourceToken}`,
          'content-type': 'application/x-ndjson',
          ...(o.gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        body: o.gzip ? gzipSync(text) : text,
      });
    },
    async stop() {
      await app.stop();
      await receiver.close();
    },
  };
}
