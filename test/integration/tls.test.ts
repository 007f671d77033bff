// TLS and mutual TLS on the listeners: TLS 1.2+, a client certificate from the configured CA,
// and the subject allow-list, checked before the bearer token.
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGenericEvent } from '../helpers/factories.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

describe('mTLS on the collector and admin listeners', () => {
  let pki: TestPki;
  let v: TestVigil;
  beforeAll(async () => {
    pki = makePki();
    v = await startTestVigil({
      env: {
        VIGIL_TLS_CERT_FILE: pki.serverCert,
        VIGIL_TLS_KEY_FILE: pki.serverKey,
        VIGIL_TLS_CA_FILE: pki.caFile,
        VIGIL_TLS_CLIENT_ALLOWLIST: 'gateway-1',
        VIGIL_ADMIN_TOKEN: 'tls-admin-token',
      },
    });
  });
  afterAll(async () => v?.stop());

  const post = async (client?: { cert: Buffer; key: Buffer }) => {
    const dispatcher = new Agent({ connect: { ca: pki.ca, ...(client ?? {}) } });
    try {
      const res = await request(`${v.app.collectorUrl}/v1/events`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${v.app.sourceToken}`, 'content-type': 'application/x-ndjson' },
        body: JSON.stringify(makeGenericEvent()),
      });
      await res.body.text();
      return res.statusCode;
    } finally {
      await dispatcher.close();
    }
  };

  it('serves HTTPS and accepts an allowed client certificate', async () => {
    expect(v.app.collectorUrl).toMatch(/^https:/);
    expect(v.app.adminUrl).toMatch(/^https:/);
    expect(await post(pki.client('gateway-1'))).toBe(200);
  });

  it('refuses a client without a certificate at the handshake, and counts the refusal', async () => {
    const refused = () => v.app.metrics.counter('auth_refused_listener_client_certificate');
    const before = refused();
    await expect(post()).rejects.toThrow();
    await expect.poll(refused).toBe(before + 1);
  });

  it('answers 403 to a certificate the CA signed but the allow-list does not name, and counts it', async () => {
    const before = v.app.metrics.counter('auth_refused_listener_client_certificate');
    expect(await post(pki.client('intruder'))).toBe(403);
    expect(v.app.metrics.counter('auth_refused_listener_client_certificate')).toBe(before + 1);
  });

  it('refuses TLS below 1.2', async () => {
    const port = Number(new URL(v.app.collectorUrl!).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = connect({
        host: '127.0.0.1',
        port,
        ca: pki.ca,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
        ...pki.client('gateway-1'),
      });
      s.once('secureConnect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err) => resolve(err.message));
    });
    expect(outcome).not.toBe('connected');
  });
});
