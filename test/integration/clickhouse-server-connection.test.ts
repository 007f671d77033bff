// The ClickHouse server settings reach @clickhouse/client (there is no ClickHouse server on this
// machine, only the embedded engine): openStore is pointed at an HTTPS endpoint of this test that
// records what arrives on the wire and answers as ClickHouse's HTTP interface does. It is not a
// ClickHouse: what is checked is the client side, i.e. the server certificate checked against
// CLICKHOUSE_TLS_CA_FILE, the client certificate of CLICKHOUSE_TLS_CERT_FILE/KEY_FILE presented,
// and CLICKHOUSE_USER / CLICKHOUSE_PASSWORD sent.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/store/index.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { tempDataDir } from '../helpers/services.js';

interface Seen {
  readonly user?: string;
  readonly key?: string;
  readonly certificateAuth?: string;
  readonly clientCn?: string;
  readonly query: string;
}

let pki: TestPki;
let other: TestPki;
let server: Server;
let url: string;
const seen: Seen[] = [];
let clientCert: string;
let clientKey: string;

beforeAll(async () => {
  pki = makePki();
  other = makePki();
  const c = pki.client('vigil-store');
  clientCert = path.join(pki.dir, 'ch-client.crt');
  clientKey = path.join(pki.dir, 'ch-client.key');
  writeFileSync(clientCert, c.cert);
  writeFileSync(clientKey, c.key, { mode: 0o600 });
  server = createServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: false, // recorded instead, so a test can see a client without one
    },
    (req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const socket = req.socket as TLSSocket;
        const cn = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
        const u = new URL(req.url ?? '/', 'https://x');
        seen.push({
          user: req.headers['x-clickhouse-user'] as string | undefined,
          key: req.headers['x-clickhouse-key'] as string | undefined,
          certificateAuth: req.headers['x-clickhouse-ssl-certificate-auth'] as string | undefined,
          clientCn: Array.isArray(cn) ? cn[0] : cn,
          query: u.searchParams.get('query') ?? (body || u.pathname),
        });
        if (u.pathname === '/ping') res.end('Ok.\n');
        else res.end('');
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

const envFor = (over: Record<string, string> = {}) => ({
  VIGIL_DATA_DIR: tempDataDir(),
  CLICKHOUSE_URL: url,
  CLICKHOUSE_USER: 'vigil_writer',
  CLICKHOUSE_PASSWORD: 'ch-secret-1',
  CLICKHOUSE_DATABASE: 'vigil_test',
  CLICKHOUSE_TLS_CA_FILE: pki.caFile,
  CLICKHOUSE_TLS_CERT_FILE: clientCert,
  CLICKHOUSE_TLS_KEY_FILE: clientKey,
  ...over,
});

describe('ClickHouse server connection', () => {
  it('checks the server against the CA, presents the client certificate and sends the user and password', async () => {
    seen.length = 0;
    const config = loadConfig(envFor());
    const store = await openStore(config.env, config.dataDir);
    try {
      expect(store.kind).toBe('server');
      expect(await store.client.ping()).toBe(true);
    } finally {
      await store.close();
    }
    const create = seen.find((s) => s.query.includes('CREATE DATABASE IF NOT EXISTS vigil_test'));
    expect(create).toBeDefined();
    expect(create!.clientCn).toBe('vigil-store');
    // Over TLS the client sends the user and password as ClickHouse's own headers; with a client
    // certificate it also asks the server to authenticate the user by it (README, ClickHouse).
    expect(create).toMatchObject({ user: 'vigil_writer', key: 'ch-secret-1', certificateAuth: 'on' });
    expect(seen.every((s) => s.clientCn === 'vigil-store' && s.user === 'vigil_writer')).toBe(true);
  });

  it('sends the user and password without a client certificate (server TLS only)', async () => {
    seen.length = 0;
    const config = loadConfig(envFor({ CLICKHOUSE_TLS_CERT_FILE: '', CLICKHOUSE_TLS_KEY_FILE: '' }));
    const store = await openStore(config.env, config.dataDir);
    await store.close();
    expect(seen[0]).toMatchObject({ user: 'vigil_writer', key: 'ch-secret-1', clientCn: undefined });
    expect(seen[0]!.certificateAuth).toBeUndefined();
  });

  it('refuses a server the CA did not sign', async () => {
    const config = loadConfig(envFor({ CLICKHOUSE_TLS_CA_FILE: other.caFile }));
    const err = await openStore(config.env, config.dataDir).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/certificate/);
    expect(err?.message).not.toContain('ch-secret-1');
  });

  it('names the variable of a file it cannot read', async () => {
    const config = loadConfig(envFor({ CLICKHOUSE_TLS_CA_FILE: path.join(pki.dir, 'missing.crt') }));
    await expect(openStore(config.env, config.dataDir)).rejects.toThrow(
      /^CLICKHOUSE_TLS_CA_FILE: cannot read .*missing\.crt \(ENOENT\)$/,
    );
  });
});
