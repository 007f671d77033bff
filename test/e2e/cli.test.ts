// The `vigil` command as a user runs it (the built CLI in child processes): migrate, replay,
// findings/incidents as JSON with and without a running `vigil serve`, and the demo.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import type { Finding, Incident } from '../../src/model/index.js';
import { freePort, spawnVigil, VIGIL_BIN } from '../helpers/child.js';
import { tempDataDir } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';
import { makeGenericEvent } from '../helpers/factories.js';

const run = promisify(execFile);

async function vigil(args: string[], env: Record<string, string>) {
  const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], {
    env: { ...process.env, KAFKA_BROKERS: '', REDIS_URL: '', CLICKHOUSE_URL: '', ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
  });
  return { stdout, stderr };
}

function workloadFile(dir: string, tenant: string): { file: string; attackStart: number } {
  const w = generateWorkload({ tenant, days: 3, people: 5, services: 1, seed: 3 });
  const file = path.join(dir, 'events.ndjson');
  writeFileSync(file, `${w.events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return { file, attackStart: w.attackStart };
}

describe('vigil CLI', () => {
  it('migrates, replays a file and lists findings and incidents as JSON (no server running)', async () => {
    const dir = tempDataDir();
    const env = { VIGIL_DATA_DIR: dir, VIGIL_ADMIN_PORT: String(await freePort()), VIGIL_LOG_LEVEL: 'warn' };
    expect((await vigil(['migrate'], env)).stdout).toContain('001_core_tables');
    expect((await vigil(['migrate'], env)).stdout).toContain('up to date');
    const { file, attackStart } = workloadFile(dir, 'cli');
    const replay = await vigil(['replay', '--input', file], env);
    expect(replay.stdout).toMatch(/replayed \d+ events \(0 rejected\)/);
    const findings = JSON.parse((await vigil(['findings', '--format', 'json'], env)).stdout) as Finding[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.event_time >= attackStart)).toBe(true);
    const incidents = JSON.parse((await vigil(['incidents', '--format', 'json'], env)).stdout) as Incident[];
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.finding_ids).toContain(findings[0]!.finding_id);
  }, 180_000);

  it('reaches the store through the admin API while `vigil serve` holds it', async () => {
    const dir = tempDataDir();
    const adminPort = await freePort();
    const env = {
      VIGIL_DATA_DIR: dir,
      VIGIL_ADMIN_PORT: String(adminPort),
      VIGIL_COLLECTOR_PORT: String(await freePort()),
      VIGIL_OTLP_HTTP_PORT: String(await freePort()),
      VIGIL_OTLP_GRPC_PORT: String(await freePort()),
      VIGIL_ADMIN_TOKEN: randomBytes(12).toString('hex'),
      VIGIL_LOG_LEVEL: 'warn',
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      CLICKHOUSE_URL: '',
    };
    const server = spawnVigil(['serve'], env);
    try {
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${adminPort}/healthz`, {
            headers: { authorization: `Bearer ${env.VIGIL_ADMIN_TOKEN}` },
          }).then(
            (r) => r.status,
            () => 0,
          ),
        (s) => s === 200,
        { what: 'vigil serve up', timeoutMs: 60_000 },
      );
      const { file } = workloadFile(dir, 'cli-served');
      const replay = await vigil(['replay', '--input', file], env);
      expect(replay.stdout).toContain(`replayed through http://127.0.0.1:${adminPort}`);
      const findings = await waitFor(
        async () => JSON.parse((await vigil(['findings', '--format', 'json'], env)).stdout) as Finding[],
        (f) => f.length > 0,
        { what: 'findings through the admin API', timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(findings[0]!.tenant).toBe('cli-served');
      const table = await vigil(['incidents'], env);
      expect(table.stdout).toContain('incident_id');
      expect(table.stderr).not.toMatch(/Cannot lock file/);
    } finally {
      await server.kill('SIGTERM');
    }
    expect(server.proc.exitCode).toBe(0);
  }, 180_000);

  it('backtests a file and a timestamp,value series without touching the store', async () => {
    const dir = tempDataDir();
    const env = { VIGIL_DATA_DIR: dir, VIGIL_ADMIN_PORT: String(await freePort()), VIGIL_LOG_LEVEL: 'warn' };
    const { file, attackStart } = workloadFile(dir, 'cli-backtest');
    const findings = JSON.parse(
      (await vigil(['backtest', '--input', file, '--format', 'json'], env)).stdout,
    ) as Finding[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.event_time >= attackStart && f.detector.length > 0)).toBe(true);
    const csv = path.join(dir, 'series.csv');
    const out = path.join(dir, 'scored.csv');
    const rows = Array.from(
      { length: 500 },
      (_, i) => `${new Date(testTime(-35) + i * 300_000).toISOString()},${i === 450 ? 900 : 10 + (i % 3)}`,
    );
    writeFileSync(csv, `timestamp,value\n${rows.join('\n')}\n`);
    await vigil(['backtest', 'series', '--input', csv, '--output', out], env);
    const scored = readFileSync(out, 'utf8').trim().split('\n');
    expect(scored[0]).toBe('timestamp,value,anomaly_score');
    expect(scored).toHaveLength(501);
    const scores = scored.slice(1).map((l) => Number(l.split(',')[2]));
    expect(scores[450]).toBeGreaterThan(0.9);
    expect(Math.max(...scores.filter((_, i) => i !== 450))).toBeLessThan(0.5);
    // Nothing was stored: the data directory has no store.
    expect(existsSync(path.join(dir, 'clickhouse'))).toBe(false);
  }, 180_000);

  it('says how many events are past the retention before a replay, and replays only what the user chose', async () => {
    const dir = tempDataDir();
    const env = {
      VIGIL_DATA_DIR: dir,
      VIGIL_ADMIN_PORT: String(await freePort()),
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_EVENTS_TTL_DAYS: '30',
    };
    const DAY = 86_400_000;
    const now = Date.now();
    const event = (i: number, age: number) =>
      JSON.stringify(
        makeGenericEvent({
          tenant: 'cli-retention',
          user: `u${i}@retention.example`,
          time: new Date(now - age).toISOString(),
        }),
      );
    const file = path.join(dir, 'old.ndjson');
    const lines = [
      ...Array.from({ length: 4 }, (_, i) => event(i, 45 * DAY + i * DAY)),
      ...Array.from({ length: 6 }, (_, i) => event(10 + i, 2 * DAY)),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    // No choice and no terminal: nothing is replayed, and the user is told why.
    const refused = await vigil(['replay', '--input', file], env).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toMatch(/4 of 10 events are older than the events retention of 30 days/);
    expect(refused?.stderr).toContain('(48 days old)');
    expect(existsSync(path.join(dir, 'clickhouse'))).toBe(false);
    const skipped = await vigil(['replay', '--input', file, '--expired', 'skip'], env);
    expect(skipped.stdout).toMatch(/replayed 6 events \(0 rejected\)/);
    expect(skipped.stderr).toContain('skipping the 4 events past retention');
    const wrong = await vigil(['replay', '--input', file, '--expired', 'keep'], env).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(wrong?.stderr).toMatch(/--expired.*keep.*abort, skip, include/s);
  }, 180_000);

  it('runs the demo end to end and reports the injected exfiltration found', async () => {
    const dir = tempDataDir();
    const { stdout } = await vigil(['demo', '--no-progress'], { VIGIL_DATA_DIR: dir });
    expect(stdout).toMatch(/injected attacker\s+usr_k1_\S+ → FOUND/);
    expect(stdout).toMatch(/webhooks\s+[1-9]\d* delivered with a verified Standard Webhooks signature/);
    expect(stdout).toMatch(/its usual for a \w+day \d\d:00 is/);
    expect(stdout).toContain('— OK');
    expect(stdout).not.toContain('@acme.example');
  }, 180_000);
});
