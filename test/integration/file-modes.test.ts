// Everything vigil creates is its owner's only (directories 0700, files 0600): the built CLI runs
// `vigil serve` on a data directory that does not exist yet (events stored by the embedded engine,
// keys generated, the chain written, a log file in a new directory), then `vigil verify` (its
// spill directory) and `vigil export --output`; every path under them is checked with lstat.
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort, VIGIL_BIN } from '../helpers/child.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { startServeChild } from '../helpers/serve-child.js';
import { tempDataDir } from '../helpers/services.js';

const run = promisify(execFile);

function vigil(args: string[], env: Record<string, string>) {
  return run(process.execPath, [VIGIL_BIN, ...args], {
    env: { ...process.env, KAFKA_BROKERS: '', REDIS_URL: '', CLICKHOUSE_URL: '', ...env },
    timeout: 120_000,
  });
}

/** Every directory and regular file under `root` (itself included) whose mode is not owner-only. */
function notPrivate(root: string): string[] {
  const bad: string[] = [];
  const visit = (p: string) => {
    const st = lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${path.relative(path.dirname(root), p)}/ ${mode.toString(8)}`);
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else if (st.isFile() && mode !== 0o600) {
      bad.push(`${path.relative(path.dirname(root), p)} ${mode.toString(8)}`);
    }
    // Symbolic links (the engine's database directories) have no mode of their own.
  };
  visit(root);
  return bad;
}

function count(root: string): { dirs: number; files: number } {
  let dirs = 0;
  let files = 0;
  const visit = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) {
      dirs++;
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else if (st.isFile()) files++;
  };
  visit(root);
  return { dirs, files };
}

describe('file modes', () => {
  it('serve, verify and export create only 0700 directories and 0600 files', async () => {
    const root = tempDataDir();
    const dataDir = path.join(root, 'data');
    const logDir = path.join(root, 'logs');
    const logFile = path.join(logDir, 'vigil.log');
    const serve = await startServeChild({
      dataDir,
      env: { VIGIL_DATA_DIR: dataDir, VIGIL_LOG_FILE: logFile, VIGIL_LOG_LEVEL: 'info' },
    });
    try {
      const now = Date.now();
      const events = Array.from({ length: 40 }, (_, i) =>
        makeGenericEvent({
          time: new Date(now - i * 1_000).toISOString(),
          user: `user-${i % 4}@example.com`,
        }),
      );
      const res = await fetch(`${serve.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serve.sourceToken}`, 'content-type': 'application/x-ndjson' },
        body: events.map((e) => JSON.stringify(e)).join('\n'),
      });
      expect(res.status).toBe(200);
    } finally {
      await serve.child.kill('SIGTERM');
    }
    expect(serve.child.proc.exitCode).toBe(0);

    const env = {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PORT: String(await freePort()),
      VIGIL_LOG_LEVEL: 'warn',
    };
    const verify = await vigil(['verify'], env);
    expect(verify.stdout).toMatch(/intact|ok/i);
    const exportFile = path.join(root, 'out', 'events.ndjson');
    mkdirSync(path.dirname(exportFile), { mode: 0o700 });
    await vigil(
      ['export', '--kinds', 'event', '--since', '1h', '--output', exportFile, '--no-progress'],
      env,
    );
    expect(statSync(exportFile).size).toBeGreaterThan(0);

    // What was made: the engine's tree, keys/, chain/, tmp/ (verify's spill root), the log.
    for (const sub of ['clickhouse', 'keys', 'chain', 'tmp'])
      expect(statSync(path.join(dataDir, sub)).isDirectory(), sub).toBe(true);
    expect(count(dataDir).files).toBeGreaterThan(20);
    expect(statSync(logFile).size).toBeGreaterThan(0);

    expect(notPrivate(dataDir)).toEqual([]);
    expect(notPrivate(logDir)).toEqual([]);
    expect(lstatSync(exportFile).mode & 0o777).toBe(0o600);
  }, 240_000);

  it('tightens a data directory an older version left open (0755) before using it', async () => {
    const dataDir = path.join(tempDataDir(), 'data');
    mkdirSync(path.join(dataDir, 'clickhouse'), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'clickhouse'), 0o755);
    const { stdout } = await vigil(['migrate'], {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PORT: String(await freePort()),
      VIGIL_LOG_LEVEL: 'warn',
    });
    expect(stdout).toContain('001_core_tables');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'clickhouse')).mode & 0o777).toBe(0o700);
    expect(notPrivate(dataDir)).toEqual([]);
  }, 120_000);
});
