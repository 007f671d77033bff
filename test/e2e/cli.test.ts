// The `vigil` command as a user runs it (the built CLI in child processes): migrate, replay,
// findings/incidents as JSON with and without a running `vigil serve`, and the demo.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
    // An exporter's own field on some lines (here `sensitivity`) no longer rejects them.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), sensitivity: 'high' });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const replay = await vigil(['replay', '--input', file], env);
    expect(replay.stdout).toMatch(
      /replayed \d+ events \(0 rejected\) in [\d.]+ s, [\d,]+ events\/s; findings: \d+ \(\d+ updates?\)/,
    );
    expect(replay.stderr).toContain('replay: unknown field sensitivity');
    const findings = JSON.parse((await vigil(['findings', '--format', 'json'], env)).stdout) as Finding[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.event_time >= attackStart)).toBe(true);
    // The summary counts findings, not their issues: as many as the store holds.
    expect(replay.stdout).toContain(`findings: ${findings.length} (`);
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
      // Past the retention (180 days by default): the admin API refuses them unless the user chose
      // include, which the CLI passes on (expired=include).
      const old = path.join(dir, 'old.ndjson');
      const aged = (age: number) =>
        JSON.stringify(
          makeGenericEvent({ tenant: 'cli-served-old', time: new Date(Date.now() - age).toISOString() }),
        );
      writeFileSync(old, `${[aged(200 * 86_400_000), aged(201 * 86_400_000), aged(3_600_000)].join('\n')}\n`);
      const included = await vigil(['replay', '--input', old, '--expired', 'include'], env);
      expect(included.stdout).toMatch(/3 accepted, 0 rejected/);
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
    // In-process (no running serve), include stores them all: the collectors' retention cutoff is
    // not applied to a replay that chose to include them.
    const included = await vigil(['replay', '--input', file, '--expired', 'include'], env);
    expect(included.stdout).toMatch(/replayed 10 events \(0 rejected\)/);
    const wrong = await vigil(['replay', '--input', file, '--expired', 'keep'], env).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(wrong?.stderr).toContain('error: --expired: one of abort, skip, include');
    expect(wrong?.stderr).not.toContain('keep');
  }, 180_000);

  it('runs the demo end to end, reports the injected exfiltration found and ends with commands that show it', async () => {
    const dir = tempDataDir();
    const env = { VIGIL_DATA_DIR: dir, VIGIL_ADMIN_PORT: String(await freePort()) };
    const { stdout } = await vigil(['demo', '--no-progress'], env);
    const attacker = /injected attacker\s+(usr_k1_\S+) → FOUND/.exec(stdout)?.[1];
    expect(attacker).toBeDefined();
    expect(stdout).toMatch(/webhooks\s+[1-9]\d* delivered with a verified Standard Webhooks signature/);
    expect(stdout).toMatch(/its usual for a \w+day \d\d:00 is/);
    expect(stdout).toContain('— OK');
    expect(stdout).not.toContain('@acme.example');
    // The commands the demo prints, run as printed (from the user's own VIGIL_DATA_DIR): they show
    // the demo's findings and incidents, not the empty store of that directory.
    const commands = (stdout.split('see the results with\n')[1] ?? '')
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(commands).toEqual([
      `vigil --data-dir ${dir}/demo findings`,
      `vigil --data-dir ${dir}/demo incidents`,
    ]);
    const shown = [];
    for (const command of commands) {
      const [, ...args] = command.split(/\s+/);
      shown.push((await vigil([...args, '--format', 'json'], env)).stdout);
    }
    const findings = JSON.parse(shown[0]!) as Finding[];
    const incidents = JSON.parse(shown[1]!) as Incident[];
    expect(findings).toHaveLength(Number(/^findings\s+(\d+)$/m.exec(stdout)?.[1]));
    expect(findings.some((f) => f.actor === attacker)).toBe(true);
    expect(incidents).toHaveLength(Number(/^incidents\s+(\d+)$/m.exec(stdout)?.[1]));
    expect(incidents.some((i) => i.actor === attacker)).toBe(true);
    expect(existsSync(path.join(dir, 'clickhouse'))).toBe(false);
  }, 240_000);

  it('refuses a bad option value before running, on one line naming the option and the accepted form', async () => {
    const dir = tempDataDir();
    const env = { VIGIL_DATA_DIR: dir, VIGIL_ADMIN_PORT: String(await freePort()) };
    const refused = (args: string[]) =>
      vigil(args, env).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
    const cases: Array<[string[], string]> = [
      [
        ['findings', '--limit', 'abc'],
        'error: --limit: a whole number from 1 to 1000000 (see vigil findings --help)',
      ],
      [
        ['findings', '--limit', '-5'],
        'error: --limit: a whole number from 1 to 1000000 (see vigil findings --help)',
      ],
      [['findings', '--min-score', '2'], 'error: --min-score: a number from 0 to 1'],
      [['findings', '--severity', 'severe'], 'error: --severity: a comma-separated list of low, medium'],
      [['findings', '--since', 'user@example.com'], 'error: --since: now, a duration back from now'],
      [['incidents', '--status', 'opne'], 'error: --status: one of open, acknowledged, contained, resolved'],
      [['demo', '--days', 'zero'], 'error: --days: a whole number from 1 to 30'],
      [['backtest', '--since', 'yesterday'], 'error: --since: now, a duration back from now'],
      [['export', '--until', 'user@example.com'], 'error: --until: now, a duration back from now'],
      [['backtest', '--since', '1d', '--until', '2d'], 'vigil: --until: must be after --since'],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await refused(args);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr, args.join(' ')).toContain(message);
      expect(stderr, args.join(' ')).not.toContain(args[2]);
    }
    // Nothing ran: no store was opened.
    expect(existsSync(path.join(dir, 'clickhouse'))).toBe(false);
    // --since takes the same durations in every command: a day of stored history, backtested.
    expect((await vigil(['backtest', '--since', '24h'], env)).stdout).toMatch(/^0 events, 0 findings/);
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect((await vigil(['--version'], env)).stdout.trim()).toBe(pkg.version);
  }, 120_000);

  it('binds each CLI to the vigil of its own data directory, and pages findings through it', async () => {
    const serve = async () => {
      const dir = tempDataDir();
      const env = {
        VIGIL_DATA_DIR: dir,
        VIGIL_ADMIN_PORT: String(await freePort()),
        VIGIL_COLLECTOR_PORT: String(await freePort()),
        VIGIL_OTLP_HTTP_PORT: String(await freePort()),
        VIGIL_OTLP_GRPC_PORT: String(await freePort()),
        VIGIL_ADMIN_TOKEN: randomBytes(12).toString('hex'),
        VIGIL_LOG_LEVEL: 'warn',
        KAFKA_BROKERS: '',
        REDIS_URL: '',
        CLICKHOUSE_URL: '',
      };
      return { dir, env, url: `http://127.0.0.1:${env.VIGIL_ADMIN_PORT}`, child: spawnVigil(['serve'], env) };
    };
    const a = await serve();
    const b = await serve();
    const addressFile = (dir: string) => path.join(dir, 'admin.address.json');
    try {
      for (const s of [a, b])
        await waitFor(
          () => existsSync(addressFile(s.dir)),
          (up) => up,
          { what: 'vigil serve recorded its address', timeoutMs: 60_000 },
        );
      expect(statSync(addressFile(a.dir)).mode & 0o777).toBe(0o600);
      // Each CLI is told the OTHER vigil's port (as if it were the default): it still reaches its own.
      const { file } = workloadFile(a.dir, 'cli-own-a');
      const viaA = await vigil(['replay', '--input', file], {
        ...a.env,
        VIGIL_ADMIN_PORT: b.env.VIGIL_ADMIN_PORT,
      });
      expect(viaA.stdout).toContain(`replayed through ${a.url}`);
      const findingsA = await waitFor(
        async () =>
          JSON.parse(
            (
              await vigil(['findings', '--format', 'json'], {
                ...a.env,
                VIGIL_ADMIN_PORT: b.env.VIGIL_ADMIN_PORT,
              })
            ).stdout,
          ) as Finding[],
        (f) => f.length >= 2,
        { what: 'findings through vigil A', timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(new Set(findingsA.map((f) => f.tenant))).toEqual(new Set(['cli-own-a']));
      const listedB = await vigil(['findings', '--format', 'json'], {
        ...b.env,
        VIGIL_ADMIN_PORT: a.env.VIGIL_ADMIN_PORT,
      });
      expect(JSON.parse(listedB.stdout)).toEqual([]);

      // The admin API refuses a limit past its page size, naming the field, and pages by cursor.
      const get = (q: string) =>
        fetch(`${a.url}/v1/findings${q}`, {
          headers: { authorization: `Bearer ${a.env.VIGIL_ADMIN_TOKEN}` },
        });
      const tooMany = await get('?limit=10001');
      expect(tooMany.status).toBe(400);
      expect(((await tooMany.json()) as { error: string }).error).toMatch(/^limit: /);
      const first = await get('?limit=1');
      const cursor = first.headers.get('vigil-next-cursor');
      expect(cursor).toBeTruthy();
      const second = await get(`?limit=1&cursor=${cursor}`);
      expect(
        [...((await first.json()) as Finding[]), ...((await second.json()) as Finding[])].map(
          (f) => f.finding_id,
        ),
      ).toEqual(findingsA.slice(0, 2).map((f) => f.finding_id));

      // The CLI's ndjson, filters and show, through vigil A; piped output carries no escape sequence.
      const ndjson = await vigil(['findings', '--format', 'ndjson', '--limit', '1'], a.env);
      expect(
        ndjson.stdout
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as Finding).finding_id),
      ).toEqual([findingsA[0]!.finding_id]);
      const top = findingsA[0]!;
      const filtered = JSON.parse(
        (
          await vigil(
            [
              'findings',
              '--format',
              'json',
              '--detector',
              top.detector,
              '--severity',
              top.severity,
              '--min-score',
              '0',
            ],
            a.env,
          )
        ).stdout,
      ) as Finding[];
      expect(filtered.length).toBeGreaterThan(0);
      expect(filtered.every((f) => f.detector === top.detector && f.severity === top.severity)).toBe(true);
      const at = new Date(top.event_time).toISOString();
      const ids = async (args: string[]) =>
        (JSON.parse((await vigil(['findings', '--format', 'json', ...args], a.env)).stdout) as Finding[]).map(
          (f) => f.finding_id,
        );
      expect(await ids(['--since', at])).toContain(top.finding_id);
      expect(await ids(['--until', at])).not.toContain(top.finding_id);
      expect(await ids(['--entity', top.entity])).toContain(top.finding_id);
      const table = await vigil(['findings'], a.env);
      expect(table.stdout).toContain(top.finding_id);
      expect(table.stdout).not.toContain('\u001b');
      const shown = await vigil(['findings', 'show', top.finding_id], a.env);
      expect(shown.stdout).toMatch(new RegExp(`updates\\s+${top.update_count}\\n`));
      expect(shown.stdout).toContain('first fired');
      expect(shown.stdout).toContain('explanation');
    } finally {
      await Promise.all([a.child.kill('SIGTERM'), b.child.kill('SIGTERM')]);
    }
    expect(a.child.proc.exitCode).toBe(0);
    // A clean stop removes the record.
    expect(existsSync(addressFile(a.dir))).toBe(false);
    expect(existsSync(addressFile(b.dir))).toBe(false);
  }, 240_000);
});
