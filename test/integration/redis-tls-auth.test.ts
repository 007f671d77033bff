// vigil's Redis clients (the BullMQ queue and worker, the guardrail state, the readiness probe)
// against a Redis that wants a password, in the clear (redis://) and over TLS (rediss://, the
// server checked against REDIS_TLS_CA_FILE, a client certificate from REDIS_TLS_CERT_FILE/KEY_FILE).
// The Redis is the machine's redis-server (Debian's build has TLS), started here on free loopback
// ports with a throwaway CA and stopped after; the shared one of scripts/services.sh has no password.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, redisConnection } from '../../src/config/index.js';
import type { ActionJob } from '../../src/respond/index.js';
import { createBullmqQueue, createRedisGuardrails } from '../../src/respond/index.js';
import { createRedisProbe } from '../../src/telemetry/index.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { freePort } from '../helpers/child.js';
import { makeFinding } from '../helpers/factories.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
let pki: TestPki;
let redis: ChildProcess;
let plainPort: number;
let tlsPort: number;
let clientCert: string;
let clientKey: string;

beforeAll(async () => {
  pki = makePki();
  const client = pki.client('vigil-redis-client');
  clientCert = path.join(pki.dir, 'redis-client.crt');
  clientKey = path.join(pki.dir, 'redis-client.key');
  writeFileSync(clientCert, client.cert);
  writeFileSync(clientKey, client.key, { mode: 0o600 });
  plainPort = await freePort();
  tlsPort = await freePort();
  const settings: Record<string, string> = {
    bind: '127.0.0.1',
    port: String(plainPort),
    'tls-port': String(tlsPort),
    'tls-cert-file': pki.serverCert,
    'tls-key-file': pki.serverKey,
    'tls-ca-cert-file': pki.caFile,
    // Clients over TLS must present a certificate from the CA.
    'tls-auth-clients': 'yes',
    requirepass: PASSWORD,
    save: '',
    appendonly: 'no',
    dir: tempDataDir(),
  };
  redis = spawn(
    'redis-server',
    Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]),
    { stdio: 'ignore' },
  );
  const probe = createRedisProbe(`redis://:${PASSWORD}@127.0.0.1:${plainPort}`);
  await waitFor(
    () => probe.ping(),
    (ok) => ok,
    { what: 'the test redis-server', timeoutMs: 20_000 },
  );
  await probe.close();
}, 60_000);

afterAll(async () => {
  if (redis && redis.exitCode === null) {
    const gone = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await gone;
  }
});

/** The connection as `vigil serve` derives it from these variables. */
const connectionOf = (env: Record<string, string>) => redisConnection(loadConfig(env).env)!;

const plainUrl = () => `redis://:${PASSWORD}@127.0.0.1:${plainPort}`;
const tlsEnv = (): Record<string, string> => ({
  REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`,
  REDIS_TLS_CA_FILE: pki.caFile,
  REDIS_TLS_CERT_FILE: clientCert,
  REDIS_TLS_KEY_FILE: clientKey,
});

/** A queue, its worker and the guardrail state on this connection: a job runs, the kill switch holds. */
async function exercise(env: Record<string, string>): Promise<void> {
  const c = connectionOf(env);
  const prefix = uniqueName('redis-auth');
  const queue = createBullmqQueue({ redisUrl: c.url, redisTls: c.tls, prefix, maxAttempts: 1 });
  const ran: string[] = [];
  const guardrails = createRedisGuardrails({
    redisUrl: c.url,
    redisTls: c.tls,
    prefix,
    limits: { max_containments: 1, window: 60_000 },
    killSwitchForced: false,
  });
  try {
    await queue.start(async (job) => void ran.push(job.job_id));
    const job = {
      job_id: uniqueName('job'),
      kind: 'webhook',
      mode: 'dry-run',
      action: 'notify',
      finding: makeFinding(),
      incident: {},
      enqueued_time: Date.now(),
    } as unknown as ActionJob;
    await queue.enqueue(job);
    await waitFor(
      () => ran.length,
      (n) => n === 1,
      { what: 'the job run by the worker', timeoutMs: 20_000 },
    );
    expect(ran).toEqual([job.job_id]);
    expect(await guardrails.killSwitch.set(true)).toBe(true);
    expect(await guardrails.killSwitch.isOn()).toBe(true);
    const probe = createRedisProbe(c.url, c.tls);
    expect(await probe.ping()).toBe(true);
    await probe.close();
  } finally {
    await queue.close();
    await guardrails.close();
  }
}

describe('Redis with a password', () => {
  it('runs the queue, the worker and the guardrails with the password from redis://', async () => {
    await exercise({ REDIS_URL: plainUrl() });
  });

  it('is refused with a wrong password, and the error holds no password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const c = connectionOf({ REDIS_URL: `redis://:${wrong}@127.0.0.1:${plainPort}` });
    const probe = createRedisProbe(c.url);
    expect(await probe.ping()).toBe(false);
    await probe.close();
    const g = createRedisGuardrails({
      redisUrl: c.url,
      prefix: uniqueName('redis-wrong'),
      limits: { max_containments: 1, window: 60_000 },
      killSwitchForced: false,
    });
    try {
      const err = await g.killSwitch.isOn().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/WRONGPASS|NOAUTH/);
      expect(err?.message).not.toContain(wrong);
      expect(err?.message).not.toContain(PASSWORD);
    } finally {
      await g.close();
    }
  });
});

describe('Redis over TLS (rediss://)', () => {
  it('runs the queue, the worker and the guardrails with the CA and a client certificate', async () => {
    await exercise(tlsEnv());
  });

  it('refuses a server its CA did not sign, and is refused without a client certificate', async () => {
    const { REDIS_TLS_CA_FILE: _ca, ...noCa } = tlsEnv();
    const { REDIS_TLS_CERT_FILE: _c, REDIS_TLS_KEY_FILE: _k, ...noCert } = tlsEnv();
    for (const env of [noCa, noCert]) {
      const c = connectionOf(env);
      const probe = createRedisProbe(c.url, c.tls);
      expect(await probe.ping()).toBe(false);
      await probe.close();
    }
  });

  it('is what vigil serve uses: readiness reports Redis up over TLS', async () => {
    const v = await startTestVigil({
      env: { ...tlsEnv(), VIGIL_QUEUE_PREFIX: uniqueName('redis-tls-app') },
      roles: ['respond'],
    });
    try {
      expect(v.app.queue?.kind).toBe('bullmq');
      const res = await fetch(`${v.app.adminUrl}/readyz`, {
        headers: { authorization: `Bearer ${v.app.adminToken}` },
      });
      const body = (await res.json()) as { ready: boolean; checks: Record<string, boolean> };
      expect(body.checks.redis).toBe(true);
      expect(res.status).toBe(200);
    } finally {
      await v.stop();
    }
  }, 120_000);
});
