// Batch export over a time range: every kind, every format, keyset paging, tenant and time
// filters — and the `vigil export` command itself (data on stdout or a file, nothing else there).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { EXPORT_FORMATS, exportRange } from '../../src/export/index.js';
import {
  actionRow,
  eventRow,
  findingRow,
  incidentRow,
  migrate,
  openStore,
  type StoreHandle,
} from '../../src/store/index.js';
import { parseCef } from '../helpers/cef-parse.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { makeEvent, makeFinding } from '../helpers/factories.js';
import { makeAction, makeIncident } from '../helpers/export-records.js';
import { tempDataDir } from '../helpers/services.js';
import { testTime } from '../helpers/clock.js';

const run = promisify(execFile);
const T0 = testTime(0, 0, 0);
const HOUR = 3_600_000;
const tenant = 'batch-export';

describe('batch export', () => {
  let store: StoreHandle | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDataDir();
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir });
    store = await openStore(config.env, config.dataDir);
    await migrate(store.client, { eventsTtlDays: 3650 });
    const c = store.client;
    // 30 findings, one per hour; an incident; two attempts of one action; 50 events; another tenant.
    await c.insert(
      'findings',
      Array.from({ length: 30 }, (_, i) =>
        findingRow(makeFinding({ tenant, event_time: T0 + i * HOUR, detected_time: T0 + i * HOUR + 5 })),
      ),
    );
    await c.insert('findings', [findingRow(makeFinding({ tenant: 'other', event_time: T0 + HOUR }))]);
    const incident = makeIncident({
      tenant,
      opened_time: T0 + 2 * HOUR,
      updated_time: T0 + 2 * HOUR,
      actor: 'usr_k1_batch',
    });
    await c.insert('incidents', [incidentRow(incident)]);
    // The same incident later contained: a range export shows its latest state once.
    await c.insert('incidents', [
      incidentRow({ ...incident, status: 'contained', updated_time: T0 + 3 * HOUR }),
    ]);
    await c.insert('actions', [
      actionRow(
        makeAction({
          tenant,
          incident_id: incident.incident_id,
          outcome: 'retrying',
          time: T0 + 2 * HOUR + 1,
        }),
      ),
      actionRow(
        makeAction({ tenant, incident_id: incident.incident_id, attempt: 2, time: T0 + 2 * HOUR + 2 }),
      ),
    ]);
    await c.insert(
      'events',
      Array.from({ length: 50 }, (_, i) => eventRow(makeEvent({ tenant, time: T0 + i * 60_000 }))),
    );
  });
  afterAll(async () => store?.close());

  const collect = async (opts: Partial<Parameters<typeof exportRange>[0]> = {}) => {
    const lines: string[] = [];
    const progress: Array<[number, number]> = [];
    const counts = await exportRange({
      client: store!.client,
      kinds: ['finding', 'incident', 'action', 'event'],
      since: T0,
      until: T0 + 24 * HOUR,
      tenant,
      format: 'ocsf',
      write: (l) => void lines.push(l),
      onProgress: (d, t) => void progress.push([d, t]),
      ...opts,
    });
    return { lines, counts, progress };
  };

  it('walks every kind in time order, page by page, within the range and tenant', async () => {
    const { lines, counts, progress } = await collect({ pageSize: 7 });
    // [T0, T0+24h): 24 of the 30 findings; the incident once (latest state); both attempts; all events.
    expect(counts).toEqual({ finding: 24, incident: 1, action: 2, event: 50 });
    expect(lines).toHaveLength(77);
    const objs = lines.map((l) => JSON.parse(l));
    const findingTimes = objs
      .filter((o) => o.class_uid === 2004 && o.finding_info.types[0] !== 'incident')
      .map((o) => o.finding_info.first_seen_time);
    expect(findingTimes).toEqual([...findingTimes].sort((a, b) => a - b));
    expect(new Set(findingTimes).size).toBe(24);
    expect(objs.find((o) => o.finding_info?.types[0] === 'incident')).toMatchObject({
      status: 'In Progress',
      activity_id: 2,
    });
    const actions = objs.filter((o) => o.class_uid === 3001);
    expect(actions.map((o) => o.user.uid)).toEqual(['usr_k1_batch', 'usr_k1_batch']);
    expect(progress[0]).toEqual([0, 77]);
    expect(progress.at(-1)).toEqual([77, 77]);
  });

  it('writes every format', async () => {
    for (const format of EXPORT_FORMATS) {
      const { lines } = await collect({ format, kinds: ['finding'], until: T0 + 3 * HOUR });
      expect(lines).toHaveLength(3);
      if (format === 'cef')
        expect(lines.map((l) => parseCef(l).header[0])).toEqual(['CEF:0', 'CEF:0', 'CEF:0']);
      else for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    }
    const splunk = JSON.parse(
      (await collect({ format: 'splunk', kinds: ['finding'], until: T0 + HOUR })).lines[0]!,
    );
    expect(splunk).toMatchObject({ sourcetype: 'vigil:finding', fields: { tenant } });
    const ecs = JSON.parse(
      (await collect({ format: 'ecs', kinds: ['event'], until: T0 + 60_000 })).lines[0]!,
    );
    expect(ecs.event).toMatchObject({ kind: 'event', category: ['api', 'database'] });
  });

  it('runs as `vigil export`: data on stdout or in --output, the summary on stderr', async () => {
    await store!.close();
    store = undefined;
    const env = {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PORT: '1',
      VIGIL_LOG_LEVEL: 'warn',
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
      REDIS_URL: '',
    };
    const since = new Date(T0).toISOString();
    const until = new Date(T0 + 5 * HOUR).toISOString();
    const args = ['export', '--since', since, '--until', until, '--format', 'cef', '--tenant', tenant];
    const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], { env, timeout: 30_000 });
    const lines = stdout.trimEnd().split('\n');
    // 5 findings, the incident, 2 action attempts.
    expect(lines).toHaveLength(8);
    expect(lines.every((l) => l.startsWith('CEF:0|vigil|vigil|'))).toBe(true);
    expect(stderr).toContain('exported 5 findings, 1 incident, 2 actions as cef');

    const file = path.join(mkdtempSync(path.join(dataDir, 'out-')), 'findings.ndjson');
    const second = await run(
      process.execPath,
      [
        VIGIL_BIN,
        'export',
        '--since',
        since,
        '--until',
        until,
        '--kinds',
        'findings',
        '--format',
        'ocsf',
        '--output',
        file,
      ],
      { env, timeout: 30_000 },
    );
    expect(second.stdout).toBe('');
    expect(
      readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).class_uid),
    ).toEqual([2004, 2004, 2004, 2004, 2004, 2004]);
    await expect(
      run(process.execPath, [VIGIL_BIN, 'export', '--since', 'yesterday-ish'], { env }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /^error: --since: now, a duration back from now .* \(see vigil export --help\)\n$/,
      ),
    });
  });
});
