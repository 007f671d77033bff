// The responder's queue and guardrail state on Redis. A Redis of the test's own (not the shared
// one): killed with SIGKILL and restarted from its append-only file while a containment waits for
// its retry — the job survives, and the target, down and then back, gets it exactly once. The
// blast-radius counter holds across processes' worth of concurrent callers, and the kill switch is
// shared.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseSchema } from '../../src/config/index.js';
import type { Action, Incident } from '../../src/model/index.js';
import {
  createBullmqQueue,
  createIncidentBook,
  createRedisGuardrails,
  createResponder,
  type RedisGuardrails,
  resolveTargets,
} from '../../src/respond/index.js';
import { createLogger, createMetrics } from '../../src/telemetry/index.js';
import { type FakeTarget, startFakeWeaviate, type WeaviateState } from '../helpers/containment-targets.js';
import { freePort } from '../helpers/child.js';
import { makeFinding } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

interface OwnRedis {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-redis-'));
  let proc: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await waitFor(
        async () => {
          try {
            if (probe.status !== 'ready') await probe.connect();
            return (await probe.ping()) === 'PONG';
          } catch {
            probe.disconnect();
            return false;
          }
        },
        (ok) => ok,
        { what: 'redis-server up', timeoutMs: 10_000, intervalMs: 50 },
      );
    } finally {
      probe.disconnect();
    }
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  await start();
  return { url, start, kill };
}

const logger = createLogger('silent');
const actor = 'svc_k1_redisrestart0000000000';
const RAW = 'svc-restart';

describe('responder on a Redis that dies mid-run', () => {
  let redis: OwnRedis;
  let weaviate: FakeTarget<WeaviateState>;
  beforeAll(async () => {
    [redis, weaviate] = await Promise.all([ownRedis(), startFakeWeaviate()]);
  });
  afterAll(async () => {
    await redis?.kill();
    await weaviate?.close();
  });

  it('loses no pending action across kill -9 and restart, and the target gets it exactly once', async () => {
    const config = responseSchema.parse({
      targets: { wv: { type: 'weaviate', timeout: '1s' } },
      policies: [{ name: 'contain', actions: [{ target: 'wv' }] }],
    });
    const { targets } = resolveTargets(config, {
      VIGIL_WEAVIATE_URL: weaviate.url,
      VIGIL_WEAVIATE_API_KEY: 'wv-admin',
    });
    weaviate.state.users.set(RAW, { active: true, key: 'k' });
    const attempts: Action[] = [];
    const incidents: Incident[] = [];
    // Retries far enough apart that the job sits delayed in Redis when Redis dies.
    const queue = createBullmqQueue({
      redisUrl: redis.url,
      prefix: uniqueName('rr'),
      maxAttempts: 20,
      backoffBaseMs: 1_500,
    });
    const responder = createResponder({
      config,
      queue,
      book: createIncidentBook(3_600_000),
      saveIncident: async (i) => void incidents.push(i),
      recordAttempt: async (a) => void attempts.push(a),
      alreadySucceeded: async (id) => attempts.some((a) => a.job_id === id && a.outcome === 'succeeded'),
      webhookTargets: [],
      targets,
      reveal: async (t) => (t === actor ? RAW : undefined),
      logger,
      metrics: createMetrics(),
    });
    try {
      await queue.start(responder.process);
      weaviate.down(503);
      await responder.handleFindings([makeFinding({ actor, entity: actor })]);
      await waitFor(
        () => attempts.filter((a) => a.outcome === 'retrying').length,
        (n) => n >= 1,
        { what: 'a failed attempt, retry scheduled' },
      );
      expect(await queue.pending()).toBe(1);

      await redis.kill();
      await redis.start();
      weaviate.down(null);

      const deactivations = () => weaviate.requests.filter((r) => r.url.endsWith('/deactivate')).length;
      await waitFor(
        () => attempts.filter((a) => a.outcome === 'succeeded').length,
        (n) => n === 1,
        { what: 'the containment after the restart', timeoutMs: 30_000 },
      );
      expect(weaviate.state.users.get(RAW)!.active).toBe(false);
      expect(deactivations()).toBe(1);
      // Bounded absence check: no second delivery turns up.
      await waitFor(
        () => queue.pending(),
        (n) => n === 0,
        { what: 'queue idle' },
      );
      await new Promise((r) => setTimeout(r, 1_000));
      expect(deactivations()).toBe(1);
      const mine = attempts.filter((a) => a.kind === 'weaviate');
      expect(mine.at(-1)!.outcome).toBe('succeeded');
      expect(mine.slice(0, -1).every((a) => a.outcome === 'retrying' && a.error.includes('503'))).toBe(true);
      expect(mine.map((a) => a.attempt)).toEqual(mine.map((_, i) => i + 1));
    } finally {
      await queue.close();
    }
  });
});

describe('guardrail state on Redis', () => {
  let redis: OwnRedis;
  const guards: RedisGuardrails[] = [];
  beforeAll(async () => {
    redis = await ownRedis();
  });
  afterAll(async () => {
    for (const g of guards) await g.close();
    await redis?.kill();
  });
  const make = (prefix: string, forced = false) => {
    const g = createRedisGuardrails({
      redisUrl: redis.url,
      prefix,
      limits: { max_containments: 5, window: 3_600_000 },
      killSwitchForced: forced,
    });
    guards.push(g);
    return g;
  };

  it('lets exactly 5 of 50 concurrent containments through, across several responders', async () => {
    const prefix = uniqueName('br');
    const responders = [make(prefix), make(prefix), make(prefix)];
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => responders[i % 3]!.blastRadius.reserve('t1', `job-${i}`, now)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    // A retry of an admitted job is admitted again without counting twice.
    const admitted = results.findIndex((r) => r.allowed);
    expect(await responders[0]!.blastRadius.reserve('t1', `job-${admitted}`, now + 1)).toMatchObject({
      allowed: true,
      count: 5,
    });
    expect((await responders[1]!.blastRadius.reserve('t2', 'job-x', now)).allowed).toBe(true);
  });

  it('shares the kill switch between responders; the environment can force it on', async () => {
    const prefix = uniqueName('ks');
    const [a, b] = [make(prefix), make(prefix)];
    expect(await b.killSwitch.isOn()).toBe(false);
    expect(await a.killSwitch.set(true)).toBe(true);
    expect(await b.killSwitch.isOn()).toBe(true);
    await a.killSwitch.set(false);
    const forced = make(prefix, true);
    expect(await forced.killSwitch.isOn()).toBe(true);
    expect(await forced.killSwitch.set(false)).toBe(false);
  });
});
