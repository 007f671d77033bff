// Legitimate writes to a chained table are recorded batches, whoever makes them: an incident's
// status changed through the admin API (with and without a responder in the process) and through
// the CLI (through a running vigil, and offline against its store) leaves `vigil verify` intact.
// A change made straight in ClickHouse afterwards (ALTER TABLE … UPDATE, an extra INSERT) is
// named, with the batch it changed, and verify exits non-zero.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { withChainedWriter } from '../../src/cli/chained-writer.js';
import { loadConfig } from '../../src/config/index.js';
import type { Incident } from '../../src/model/index.js';
import { readHeadFile, type VerifyReport } from '../../src/store/audit-chain/index.js';
import { findIncident, incidentRow, migrate, openStore } from '../../src/store/index.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const run = promisify(execFile);
const ADMIN = `chain-writes-${uniqueName('adm')}`;
const dataDir = tempDataDir();
const tenant = uniqueName('t-chain-writes');
/** Embedded everything, whatever the suite's services environment says. */
const embedded = { KAFKA_BROKERS: '', REDIS_URL: '', CLICKHOUSE_URL: '', VIGIL_DATA_DIR: dataDir };
const config = loadConfig({ ...process.env, ...embedded });

function incident(id: string): Incident {
  const t = Date.now() - 3_600_000;
  return {
    incident_id: id,
    tenant,
    actor: 'usr_k1_chainwrites0000000000',
    status: 'open',
    severity: 'high',
    risk: 40,
    title: 'Request volume spike',
    summary: 'usr_k1_chainwrites0000000000 made 500 requests',
    finding_ids: [`f-${id}`],
    opened_time: t,
    last_event_time: t,
    updated_time: t,
    updated_by: 'vigil',
  };
}

/** The built CLI against this data directory (admin port 1: no vigil, the store opened directly). */
async function vigil(args: string[], adminPort = '1') {
  try {
    const r = await run(process.execPath, [VIGIL_BIN, ...args], {
      env: {
        ...process.env,
        ...embedded,
        VIGIL_ADMIN_PORT: adminPort,
        VIGIL_ADMIN_TOKEN: ADMIN,
        VIGIL_HOST: '127.0.0.1',
        VIGIL_LOG_LEVEL: 'warn',
      },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The store opened by this process (no vigil running on the data directory). */
async function withOwnStore<T>(fn: (client: Awaited<ReturnType<typeof openStore>>['client']) => Promise<T>) {
  const store = await openStore(config.env, config.dataDir);
  try {
    await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
    return await fn(store.client);
  } finally {
    await store.close();
  }
}

const incidentsHead = () => readHeadFile(dataDir, 'incidents')?.seq ?? 0;
const problems = (r: VerifyReport) =>
  r.tables.flatMap((t) => t.problems.map((p) => ({ table: t.table, kind: p.kind, batch: p.batch })));

describe('admin and CLI writes to chained tables go through the chain', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((s) => incident(`inc-${s}-${uniqueName('w')}`)) as [
    Incident,
    Incident,
    Incident,
  ];
  /** The batch that last wrote each incident: what verify must name when its row is changed. */
  const lastBatch = new Map<string, number>();
  let v: TestVigil | undefined;
  afterAll(async () => {
    await v?.stop();
  });

  const api = (id: string, verb: 'ack' | 'resolve') =>
    fetch(`${v!.app.adminUrl}/v1/incidents/${id}/${verb}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{}',
    });
  const verifyApi = async () => {
    const res = await fetch(`${v!.app.adminUrl}/v1/verify`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as VerifyReport;
  };

  it('seeds incidents through the chained writer', async () => {
    await withOwnStore((client) =>
      withChainedWriter(config, client, { table: 'incidents', toRow: incidentRow }, (write) =>
        write([a, b, c]),
      ),
    );
    expect(incidentsHead()).toBe(1);
    for (const i of [a, b, c]) lastBatch.set(i.incident_id, 1);
  });

  it('without a responder in the process: the admin API and the CLI through it stay chained', async () => {
    v = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: ADMIN }, roles: ['collector', 'store'] });
    const acked = await api(a.incident_id, 'ack');
    expect(acked.status, await acked.clone().text()).toBe(200);
    expect(((await acked.json()) as Incident).status).toBe('acknowledged');
    lastBatch.set(a.incident_id, incidentsHead());
    const cli = await vigil(['incidents', 'ack', b.incident_id], new URL(v.app.adminUrl).port);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${b.incident_id}: acknowledged`);
    lastBatch.set(b.incident_id, incidentsHead());
    // Two recorded batches more, one per change.
    expect(incidentsHead()).toBe(3);
    const report = await verifyApi();
    expect(problems(report)).toEqual([]);
    expect(report.intact).toBe(true);
    await v.stop();
    v = undefined;
  });

  it('with the responder: the admin API stays chained', async () => {
    v = await startTestVigil({ dataDir, env: { VIGIL_ADMIN_TOKEN: ADMIN } });
    const resolved = await api(a.incident_id, 'resolve');
    expect(resolved.status, await resolved.clone().text()).toBe(200);
    lastBatch.set(a.incident_id, incidentsHead());
    expect(incidentsHead()).toBe(4);
    expect(problems(await verifyApi())).toEqual([]);
    await v.stop();
    v = undefined;
  });

  it('offline, the CLI writes through the chain and `vigil verify` says intact (exit 0)', async () => {
    const cli = await vigil(['incidents', 'resolve', b.incident_id]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${b.incident_id}: resolved`);
    lastBatch.set(b.incident_id, incidentsHead());
    expect(incidentsHead()).toBe(5);
    const verify = await vigil(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/incidents: intact \(5 batches, \d+ rows\)/);
    expect(verify.stdout).toContain('audit trail intact');
    const stored = await withOwnStore((client) => findIncident(client, b.incident_id));
    expect(stored?.status).toBe('resolved');
  });

  it('a row changed straight in ClickHouse is named with its batch; verify exits non-zero', async () => {
    await withOwnStore(async (client) => {
      // Someone with write access to ClickHouse quietly reopens incident b and rewrites c.
      await client.command(
        `ALTER TABLE incidents UPDATE status = 'open' WHERE incident_id = {id:String}`,
        { id: b.incident_id },
        { mutations_sync: 2 },
      );
      await client.insert('incidents', [
        incidentRow({ ...c, status: 'resolved', updated_time: Date.now(), updated_by: 'cli:nobody' }),
      ]);
    });
    const verify = await vigil(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stdout).toContain('incidents: TAMPERED');
    expect(verify.stdout).toContain(`modified batch ${lastBatch.get(b.incident_id)}: 1 row changed`);
    expect(verify.stdout).toContain(`modified batch ${lastBatch.get(c.incident_id)}: 1 row changed`);
    expect(verify.stdout).toContain('audit trail NOT intact');
    const json = await vigil(['verify', '--format', 'json']);
    expect(json.code).toBe(1);
    expect(problems(JSON.parse(json.stdout) as VerifyReport)).toEqual(
      [lastBatch.get(c.incident_id)!, lastBatch.get(b.incident_id)!]
        .sort((x, y) => x - y)
        .map((batch) => ({ table: 'incidents', kind: 'modified', batch })),
    );
  });

  it('an incident inserted straight into ClickHouse is reported as inserted', async () => {
    await withOwnStore((client) =>
      client.insert('incidents', [incidentRow(incident(`inc-forged-${uniqueName('w')}`))]),
    );
    const json = await vigil(['verify', '--format', 'json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(problems(report)).toContainEqual({ table: 'incidents', kind: 'inserted', batch: undefined });
    const inserted = report.tables
      .find((t) => t.table === 'incidents')!
      .problems.find((p) => p.kind === 'inserted')!;
    expect(inserted.rows).toBe(1);
    expect(inserted.detail).toContain('inc-forged-');
  });
});
