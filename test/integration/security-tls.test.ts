// TLS below 1.2 is refused by every listener (collector, OTLP/HTTP, OTLP/gRPC, admin) with a
// protocol-version alert. The probe lowers its own OpenSSL security level so that it really offers
// TLS 1.0/1.1 — a control server proves it can — otherwise a refusal would prove nothing.
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type TestPki } from '../helpers/certs.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

type Version = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

function probe(port: number, ca: Buffer, min: Version, max: Version): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      ca,
      minVersion: min,
      maxVersion: max,
      // OpenSSL 3 refuses TLS < 1.2 on the client side at the default level: allow it here.
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    s.once('secureConnect', () => {
      resolve(`connected ${s.getProtocol()}`);
      s.destroy();
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('TLS protocol versions on every listener', () => {
  let pki: TestPki;
  let v: TestVigil;
  let ports: Record<string, number>;
  beforeAll(async () => {
    pki = makePki();
    v = await startTestVigil({
      env: {
        VIGIL_TLS_CERT_FILE: pki.serverCert,
        VIGIL_TLS_KEY_FILE: pki.serverKey,
        VIGIL_ADMIN_TOKEN: 'tls-admin',
      },
    });
    const port = (url: string) => Number(new URL(url).port);
    ports = {
      collector: port(v.app.collectorUrl!),
      otlpHttp: port(v.app.otlpHttpUrl!),
      admin: port(v.app.adminUrl),
      otlpGrpc: Number(v.app.otlpGrpcAddress!.split(':').pop()),
    };
  });
  afterAll(async () => v?.stop());

  it('the probe does speak TLS 1.1 to a server that allows it (control)', async () => {
    const server = createServer(
      {
        cert: readFileSync(pki.serverCert),
        key: readFileSync(pki.serverKey),
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
      (s) => s.end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      expect(await probe(port, pki.ca, 'TLSv1', 'TLSv1.1')).toBe('connected TLSv1.1');
    } finally {
      server.close();
    }
  });

  it.each(['collector', 'otlpHttp', 'admin', 'otlpGrpc'])('%s refuses TLS 1.0 and 1.1', async (listener) => {
    expect(await probe(ports[listener]!, pki.ca, 'TLSv1', 'TLSv1.1')).toBe(
      'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    );
    expect(await probe(ports[listener]!, pki.ca, 'TLSv1', 'TLSv1')).toBe(
      'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    );
  });

  it.each(['collector', 'otlpHttp', 'admin', 'otlpGrpc'])('%s accepts TLS 1.2 and 1.3', async (listener) => {
    expect(await probe(ports[listener]!, pki.ca, 'TLSv1.2', 'TLSv1.2')).toBe('connected TLSv1.2');
    expect(await probe(ports[listener]!, pki.ca, 'TLSv1.2', 'TLSv1.3')).toBe('connected TLSv1.3');
  });
});
