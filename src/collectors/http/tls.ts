// TLS for every listener (collectors, OTLP, admin): TLS 1.2 or later; with a CA, clients must
// present a certificate it signed (mTLS), optionally from an allow-list of subjects.
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Env } from '../../config/index.js';

export interface TlsSettings {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly minVersion: 'TLSv1.2';
  /** Allowed client subjects (CN, DNS or URI SAN); empty = any certificate the CA signed. */
  readonly allow: readonly string[];
}

export function tlsFromEnv(env: Env): TlsSettings | undefined {
  if (!env.VIGIL_TLS_CERT_FILE || !env.VIGIL_TLS_KEY_FILE) return undefined;
  const ca = env.VIGIL_TLS_CA_FILE ? readFileSync(env.VIGIL_TLS_CA_FILE) : undefined;
  return {
    cert: readFileSync(env.VIGIL_TLS_CERT_FILE),
    key: readFileSync(env.VIGIL_TLS_KEY_FILE),
    ca,
    requestCert: Boolean(ca),
    rejectUnauthorized: Boolean(ca),
    minVersion: 'TLSv1.2',
    allow: (env.VIGIL_TLS_CLIENT_ALLOWLIST ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** The subjects a client certificate speaks for: its CN and DNS / URI subject alternative names. */
export function certificateSubjects(cert: {
  subject?: { CN?: string | string[] };
  subjectaltname?: string;
}): string[] {
  const cn = cert.subject?.CN;
  const names = Array.isArray(cn) ? cn : cn ? [cn] : [];
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|URI):(.+)$/.exec(part);
    if (m) names.push(m[2]!.trim());
  }
  return names;
}

/** True when the connection's client certificate is on the allow-list (or none is configured). */
export function clientAllowed(socket: TLSSocket | undefined, allow: readonly string[]): boolean {
  if (allow.length === 0) return true;
  const cert = socket?.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return false;
  return certificateSubjects(cert).some((name) => allow.includes(name));
}
