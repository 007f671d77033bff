// The tamper-evident audit trail on the real engine: batches stored through the pipeline verify
// intact (redeliveries and re-issued findings included); then someone with write access to
// ClickHouse changes a row, deletes one, forges one, and edits the head file: `vigil verify` names
// each batch touched and exits non-zero.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainIdentity } from '../../src/cli/wiring/secrets.js';
import { loadConfig } from '../../src/config/index.js';
import {
  createAuditChain,
  readHeadFile,
  sealBatch,
  tableShape,
  type VerifyReport,
} from '../../src/store/audit-chain/index.js';
import { eventRow, findingRow } from '../../src/store/index.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { makeEvent, makeFinding, makeGenericEvent } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ADMIN = 'chain-admin-token';

describe('tamper-evident audit trail', () => {
  let v: TestVigil;
  const tenants = [uniqueName('chain-a'), uniqueName('chain-b'), uniqueName('chain-c')];
  const batchA = Array.from({ length: 3 }, () => makeGenericEvent({ tenant: tenants[0]! }));

  const verify = async (since?: string): Promise<VerifyReport> => {
    const res = await fetch(`${v.app.adminUrl}/v1/verify${since ? `?since=${since}` : ''}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as VerifyReport;
  };
  const problems = (r: VerifyReport) =>
    r.tables.flatMap((t) => t.problems.map((p) => ({ table: t.table, kind: p.kind, batch: p.batch })));
  const eventIds = async (tenant: string) =>
    (
      await v.app.store.client.query<{ event_id: string }>(
        'SELECT DISTINCT event_id FROM events WHERE tenant = {t:String} ORDER BY event_id',
        { t: tenant },
      )
    ).map((r) => r.event_id);
  // "Stored since" is measured on the engine's clock (stored_time); in embedded production it is
  // vigil's clock too. The suite's year-ahead pass moves only vigil's (scripts/test.sh), so the
  // bounds below are taken from the engine.
  const engineNow = async () =>
    Number(
      (
        await v.app.store.client.query<{ t: string | number }>('SELECT toUnixTimestamp64Milli(now64(3)) AS t')
      )[0]!.t,
    );
  const mutate = (query: string) => v.app.store.client.command(query, undefined, { mutations_sync: 2 });

  beforeAll(async () => {
    v = await startTestVigil({ env: { VIGIL_ADMIN_TOKEN: ADMIN }, roles: ['collector', 'store'] });
    // One request, one batch: a 2xx means the events are stored (and chained).
    expect((await v.post(batchA)).status).toBe(200);
    for (const tenant of tenants.slice(1)) {
      const res = await v.post(Array.from({ length: 3 }, () => makeGenericEvent({ tenant })));
      expect(res.status).toBe(200);
    }
  });
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await v?.stop();
  });

  it('verifies intact, including a redelivered batch and a re-issued finding', async () => {
    // The same events again (a sender retrying): a new observation of the same keys.
    expect((await v.post(batchA)).status).toBe(200);
    const finding = makeFinding({ tenant: tenants[0]! });
    await v.app.writers.findings.write([finding]);
    await v.app.writers.findings.write([
      { ...finding, observed: 900, score: 0.99, detected_time: finding.detected_time + 60_000 },
    ]);
    await v.app.store.client.command('OPTIMIZE TABLE events FINAL');
    const report = await verify();
    expect(problems(report)).toEqual([]);
    expect(report.intact).toBe(true);
    // The redelivered events were known to the writer (dedup by event_id): nothing re-inserted.
    // The re-issued finding was inserted, and folds over the first one.
    expect(report.tables.find((t) => t.table === 'events')!.batches).toBe(3);
    expect(report.tables.find((t) => t.table === 'findings')!.batches).toBe(2);
  });

  it('names the batch whose row was changed, deleted, and the row no batch stored', async () => {
    const [, secondOfB] = await eventIds(tenants[1]!);
    const [firstOfC] = await eventIds(tenants[2]!);
    await mutate(`ALTER TABLE events UPDATE collection = 'exfil' WHERE event_id = '${secondOfB}'`);
    await mutate(`ALTER TABLE events DELETE WHERE event_id = '${firstOfC}'`);
    await v.app.store.client.insert('events', [
      eventRow(makeEvent({ tenant: tenants[2]!, time: Date.now() - 60_000 })),
    ]);
    const report = await verify();
    expect(report.intact).toBe(false);
    expect(problems(report)).toEqual([
      { table: 'events', kind: 'modified', batch: 2 },
      { table: 'events', kind: 'deleted', batch: 3 },
      { table: 'events', kind: 'inserted' },
    ]);
    // Bounded by time: the same answer for what was stored in the last hour.
    const recent = await verify(new Date((await engineNow()) - 3_600_000).toISOString());
    expect(problems(recent)).toEqual(problems(report));
  });

  it('detects a rewritten chain record and an edited head file', async () => {
    await mutate(`ALTER TABLE audit_chain UPDATE row_count = 2 WHERE tbl = 'findings' AND batch_seq = 1`);
    const headFile = path.join(v.dataDir, 'chain', 'events.head');
    const head = JSON.parse(readFileSync(headFile, 'utf8')) as { head: string };
    writeFileSync(headFile, JSON.stringify({ ...head, head: 'f'.repeat(64) }));
    const kinds = problems(await verify()).map((p) => `${p.table}:${p.kind}:${p.batch ?? ''}`);
    expect(kinds).toContain('findings:record-modified:1');
    expect(kinds).toContain('events:mac-invalid:3');
    expect(kinds).toContain('events:head-mismatch:3');
  });

  it('records at the next start a batch inserted just before a crash, before its chain record', async () => {
    const { chain, key } = chainIdentity(loadConfig({ VIGIL_DATA_DIR: v.dataDir }));
    const client = v.app.store.client;
    const shape = await tableShape(client, 'findings');
    const head = readHeadFile(v.dataDir, 'findings')!;
    const rows = [makeFinding({ tenant: tenants[0]! }), makeFinding({ tenant: tenants[0]! })].map(findingRow);
    // What the writer does up to the crash: the pending record, then the insert; no chain record.
    const sealed = sealBatch(shape, rows, { chain, prev: head, key, now: await engineNow() });
    writeFileSync(path.join(v.dataDir, 'chain', 'findings.pending'), JSON.stringify(sealed));
    await client.insert('findings', rows, `chain-${sealed.batch_digest}`);
    // The next process's chain settles it before its own first batch.
    const restarted = createAuditChain({ client, table: 'findings', dataDir: v.dataDir, chain, key });
    const next = [findingRow(makeFinding({ tenant: tenants[0]! }))];
    await restarted.insert(next, (token) => client.insert('findings', next, token));
    expect(restarted.position()?.seq).toBe(head.seq + 2);
    const findings = (await verify()).tables.find((t) => t.table === 'findings')!;
    // Still only the record rewritten in the previous test: the crashed batch is accounted for.
    expect(findings.problems.map((p) => p.kind)).toEqual(['record-modified']);
    expect(findings.batches).toBe(head.seq + 2);
  });

  it('`vigil verify` reports the same offline and exits non-zero', async () => {
    const hourAgo = new Date((await engineNow()) - 3_600_000).toISOString();
    await v.stop();
    stopped = true;
    const run = spawnSync(process.execPath, [VIGIL_BIN, 'verify'], {
      env: { ...process.env, VIGIL_DATA_DIR: v.dataDir, VIGIL_ADMIN_PORT: '1', VIGIL_LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toContain('events: TAMPERED');
    expect(run.stdout).toMatch(/modified batch 2: 1 row changed/);
    expect(run.stdout).toMatch(/deleted batch 3: 1 row of batch 3 are missing|deleted batch 3/);
    expect(run.stdout).toContain('audit trail NOT intact');
    // Bounded to the last hour, as JSON: the same batches named.
    const recent = spawnSync(
      process.execPath,
      [VIGIL_BIN, 'verify', '--since', hourAgo, '--format', 'json'],
      {
        env: { ...process.env, VIGIL_DATA_DIR: v.dataDir, VIGIL_ADMIN_PORT: '1', VIGIL_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(recent.status, recent.stderr).toBe(1);
    const report = JSON.parse(recent.stdout) as VerifyReport;
    expect(
      problems(report).filter((p) => p.table === 'events' && ['modified', 'deleted'].includes(p.kind)),
    ).toEqual([
      { table: 'events', kind: 'modified', batch: 2 },
      { table: 'events', kind: 'deleted', batch: 3 },
    ]);
  });
});
