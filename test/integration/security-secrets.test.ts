// Secrets come from the environment or from files under keys/ (0600, in a 0700 directory), and
// never reach a log line: not on refused credentials, not on forged webhook signatures, not when
// a SIEM or an upstream API answers with an error page that echoes the credential back.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGenericEvent } from '../helpers/factories.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const SECRETS = {
  VIGIL_ADMIN_TOKEN: secret('admin'),
  VIGIL_ANALYST_TOKEN: secret('analyst'),
  VIGIL_SOURCE_TOKEN_GENERIC: secret('generic'),
  VIGIL_SOURCE_TOKEN_OTLP: secret('otlp'),
  VIGIL_SOURCE_TOKEN_TELEPORT: secret('teleport'),
  VIGIL_HOOP_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  VIGIL_HOOP_API_TOKEN: secret('hoopapi'),
  VIGIL_TOKEN_KEY: randomBytes(32).toString('base64'),
  VIGIL_VAULT_KEY: randomBytes(32).toString('base64'),
  VIGIL_EXPORT_SPLUNK_TOKEN: secret('splunk'),
};

/** A careless upstream: every answer is a 401 whose body echoes the credential it was sent. */
async function startEchoingServer(): Promise<{
  server: Server;
  url: string;
  seen: (prefix: string) => number;
}> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end(
      `denied: authorization=${req.headers.authorization ?? ''} x-api-key=${req.headers['api-key'] ?? ''}`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: (prefix) => seen.filter((u) => u.startsWith(prefix)).length,
  };
}

describe('secrets never logged', () => {
  let v: TestVigil;
  let echo: Awaited<ReturnType<typeof startEchoingServer>>;
  const logFile = process.env.VIGIL_LOG_FILE!;

  beforeAll(async () => {
    echo = await startEchoingServer();
    v = await startTestVigil({
      env: {
        ...SECRETS,
        VIGIL_VAULT_ENABLED: 'true',
        VIGIL_HOOP_API_URL: `${echo.url}/api`,
        VIGIL_EXPORT_SPLUNK_URL: `${echo.url}/services/collector`,
        VIGIL_EXPORT_KINDS: 'event',
        VIGIL_EXPORT_INTERVAL: '200ms',
      },
    });
  });
  afterAll(async () => {
    await v?.stop();
    await new Promise((r) => echo?.server.close(r));
  });

  it('exercises the paths where a credential could leak into a log line', async () => {
    const post = (url: string, token: string, body = '{}') =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    // Credentials refused everywhere, and used where they are not valid.
    await post(`${v.app.collectorUrl}/v1/events`, SECRETS.VIGIL_ADMIN_TOKEN);
    await post(`${v.app.collectorUrl}/v1/events`, `${SECRETS.VIGIL_SOURCE_TOKEN_GENERIC}x`);
    await post(`${v.app.otlpHttpUrl}/v1/traces`, SECRETS.VIGIL_SOURCE_TOKEN_GENERIC);
    await post(`${v.app.adminUrl}/v1/reidentify`, SECRETS.VIGIL_ANALYST_TOKEN);
    await post(`${v.app.adminUrl}/v1/nope`, SECRETS.VIGIL_ADMIN_TOKEN);
    // A forged hoop.dev webhook signature.
    await fetch(`${v.app.collectorUrl}/v1/hoop/webhooks`, {
      method: 'POST',
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
      },
      body: '{}',
    });
    // Events, so the export sink has something to send to the echoing SIEM.
    expect(
      (await v.post([makeGenericEvent(), makeGenericEvent()], { token: SECRETS.VIGIL_SOURCE_TOKEN_GENERIC }))
        .status,
    ).toBe(200);
    const reid = await post(
      `${v.app.adminUrl}/v1/reidentify`,
      SECRETS.VIGIL_ADMIN_TOKEN,
      JSON.stringify({ token: 'usr_k1_AAAAAAAAAAAAAAAAAAAAAA', reason: 'security test' }),
    );
    expect(reid.status).toBe(404);
    // The export sink and the hoop poller got the echoing 401s (the sink retries them: they carry
    // the credential back, and must not be logged with it).
    await waitFor(
      () => echo.seen('/services/collector'),
      (n) => n >= 2,
      { timeoutMs: 30_000, what: 'SIEM called' },
    );
    await waitFor(
      () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      (text) => text.includes('hoop sessions poll failed'),
      { timeoutMs: 30_000, intervalMs: 250, what: 'poller failure logged' },
    );
    expect(echo.seen('/api')).toBeGreaterThan(0);
  }, 60_000);

  it('finds none of the secrets in the captured log', () => {
    const logs = readFileSync(logFile, 'utf8');
    const keys = readdirSync(path.join(v.dataDir, 'keys')).map((f) =>
      readFileSync(path.join(v.dataDir, 'keys', f), 'utf8').trim(),
    );
    const leaked = [...Object.entries(SECRETS), ...keys.map((k, i) => [`keys/${i}`, k] as const)]
      .filter(([, value]) => value.length >= 8 && logs.includes(value))
      .map(([name]) => name);
    expect(leaked).toEqual([]);
    // The whsec_ secret's key material, decoded, is not there either.
    expect(logs).not.toContain(SECRETS.VIGIL_HOOP_WEBHOOK_SECRET.slice(6));
  });

  it('keeps generated secrets in owner-only files', () => {
    const dir = path.join(v.dataDir, 'keys');
    expect(statSync(dir).mode & 0o077).toBe(0);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['chain.key', 'chain.id']));
    for (const f of files) expect(statSync(path.join(dir, f)).mode & 0o077, f).toBe(0);
    const chain = path.join(v.dataDir, 'chain');
    if (existsSync(chain)) expect(statSync(chain).mode & 0o077).toBe(0);
  });
});
