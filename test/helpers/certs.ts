// A throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for
// 127.0.0.1, and client certificates with the given common names.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  client(cn: string): { cert: Buffer; key: Buffer };
  readonly ca: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ext: string): void {
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ],
    dir,
  );
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

export function makePki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pki-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=vigil-test-ca',
    ],
    dir,
  );
  issue(
    dir,
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  const made = new Map<string, { cert: Buffer; key: Buffer }>();
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
    ca: readFileSync(path.join(dir, 'ca.crt')),
    client(cn) {
      if (!made.has(cn)) {
        issue(dir, `client-${cn}`, `/CN=${cn}`, 'extendedKeyUsage=clientAuth\n');
        made.set(cn, {
          cert: readFileSync(path.join(dir, `client-${cn}.crt`)),
          key: readFileSync(path.join(dir, `client-${cn}.key`)),
        });
      }
      return made.get(cn)!;
    },
  };
}
