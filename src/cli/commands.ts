// What each `vigil` command does, loaded only when one runs (src/cli/index.ts declares the commands
// and their options: `vigil --help` and a refused option never load the pipeline).
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig, PRIVATE_FILE_MODE } from '../config/index.js';
import { parseGenericBody } from '../collectors/generic/server.js';
import { createUnknownFieldPolicy } from '../collectors/generic/unknown-fields.js';
import type { Finding, Incident, IncidentStatus, Severity } from '../model/index.js';
import {
  findFinding,
  type FindingFilter,
  findingFilterToQuery,
  findVaultRow,
  listFindings,
  MAX_PAGE,
  listIncidents,
  migrate,
  openStore,
  readEvents,
  readSourceStats,
  recordAudit,
  recordFeedback,
} from '../store/index.js';
import { createLogger } from '../telemetry/index.js';
import { createDetectors } from '../../detectors/index.js';
import { type ReidentifyResult, reidentify } from '../admin/reidentify.js';
import { type BacktestReport, backtest } from '../detect/index.js';
import { createTokenizer, createVaultCipher, loadKeyRing, rotateKeyRing } from '../privacy/index.js';
import { adminGet, adminGetPage, adminPost, findRunningAdmin, withStore } from './admin-client.js';
import { ALL_ROLES, type Role, startVigil } from './app.js';
import { chainIdentity, vaultKey } from './wiring/secrets.js';
import { formatVerifyReport, type VerifyReport, verifyAuditTrail } from '../store/audit-chain/index.js';
import { runDemo } from './demo/demo.js';
import {
  chooseExpired,
  createSubmitWindow,
  describeExpired,
  type ExpiredChoice,
  isExpiredLine,
  REPLAY_CHUNKS_IN_FLIGHT,
  readChunks,
  scanRetention,
} from './replay.js';
import { createReplayProgress, eventsPerSecond, replaySummary } from './replay-progress.js';
import { waitForDrain } from './drain.js';
import {
  FINDING_COLUMNS,
  findingTableRows,
  formatFindingDetail,
  isoTime,
  printRows,
  terminalSafe,
  useColour,
} from './format.js';
import { scoreSeriesFile } from './series.js';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { SingleBar } from 'cli-progress';
import {
  type ExportFormat,
  type ExportKind,
  type ExportRecord,
  exportRange,
  exportRecords,
  recordTime,
} from '../export/index.js';
import { type Moment, momentTime, timeRange } from './options.js';
import { type SourceReport, summarizeSources } from '../collectors/source-stats.js';

export async function serveCommand(o: { roles: Role[] }) {
  const config = loadConfig();
  const roles = o.roles;
  const app = await startVigil(config, { roles });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.stop();
}

export async function demoCommand(o: { days: number; people: number; services: number; progress: boolean }) {
  const result = await runDemo(
    loadConfig(),
    { ...o, batch: 5_000, progress: o.progress && Boolean(process.stderr.isTTY) },
    (l) => process.stdout.write(`${l}\n`),
  );
  if (!result.ok) process.exitCode = 1;
}

export async function replayCommand(o: { input: string; expired?: ExpiredChoice }) {
  return replay(loadConfig(), o.input, o.expired);
}

export async function migrateCommand() {
  const config = loadConfig();
  const running = await findRunningAdmin(config);
  if (running) {
    process.stdout.write(`a vigil is running (${running.url}); it migrated the store when it started\n`);
    return;
  }
  const store = await openStore(config.env, config.dataDir);
  try {
    const { applied } = await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'store is up to date\n');
  } finally {
    await store.close();
  }
}

export interface FindingsCommandOptions {
  format: 'json' | 'ndjson' | 'table';
  tenant: string;
  limit: number;
  since?: Moment;
  until?: Moment;
  detector?: string;
  entity?: string;
  severity?: Severity[];
  minScore?: number;
}

/**
 * `vigil findings`: newest first, filtered, as many as --limit asks; pages of at most MAX_PAGE
 * follow the cursor (through the admin API or the store directly). NDJSON is written page by page.
 */
export async function findingsCommand(o: FindingsCommandOptions) {
  const now = Date.now();
  const filter: FindingFilter = {
    since: o.since === undefined ? undefined : momentTime(o.since, now),
    until: o.until === undefined ? undefined : momentTime(o.until, now),
    detector: o.detector,
    entity: o.entity,
    severities: o.severity,
    minScore: o.minScore,
  };
  if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since)
    throw new Error('--until: must be after --since');
  const kept: Finding[] = [];
  const take = (page: Finding[]) => {
    if (o.format === 'ndjson') printRows(page, 'ndjson', []);
    else kept.push(...page);
  };
  await withStore<void>(
    loadConfig(),
    async (t) => {
      let cursor: string | undefined;
      for (let left = o.limit; left > 0; ) {
        const p = findingFilterToQuery(filter);
        p.set('tenant', o.tenant);
        p.set('limit', String(Math.min(left, MAX_PAGE)));
        if (cursor) p.set('cursor', cursor);
        const { body, next } = await adminGetPage<Finding[]>(t, `/v1/findings?${p}`);
        take(body);
        left -= body.length;
        if (!next) break;
        cursor = next;
      }
    },
    async (c) => {
      let after: FindingFilter['after'];
      for (let left = o.limit; left > 0; ) {
        const limit = Math.min(left, MAX_PAGE);
        const page = await listFindings(c, { ...filter, tenant: o.tenant, limit, after });
        take(page);
        left -= page.length;
        const last = page.at(-1);
        if (page.length < limit || !last) break;
        after = { eventTime: last.event_time, findingId: last.finding_id };
      }
    },
  );
  if (o.format === 'ndjson') return;
  printRows(o.format === 'json' ? kept : findingTableRows(kept), o.format, FINDING_COLUMNS, {
    colour: useColour(process.stdout),
  });
}

/** `vigil findings show <id>`: one finding, its history and the detector's explanation. */
export async function findingShowCommand(id: string, o: { format: 'json' | 'table' }) {
  const finding = await withStore<Finding | undefined>(
    loadConfig(),
    async (t) => {
      const res = await fetch(`${t.url}/v1/findings/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`admin API /v1/findings/:id answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Finding;
    },
    (c) => findFinding(c, id),
  );
  if (!finding) throw new Error(`no finding ${terminalSafe(id.slice(0, 64))}`);
  if (o.format === 'json') {
    process.stdout.write(`${JSON.stringify(finding)}\n`);
    return;
  }
  process.stdout.write(`${formatFindingDetail(finding, useColour(process.stdout))}\n`);
}

export async function markCommand(id: string, label: 'false-positive' | 'true-positive') {
  const config = loadConfig();
  const running = await findRunningAdmin(config);
  if (running) {
    const r = await adminPost<{ error?: string }>(
      running,
      `/v1/findings/${encodeURIComponent(id)}/feedback`,
      { label },
    );
    if (r.status !== 200) throw new Error(r.body.error ?? `feedback refused (${r.status})`);
  } else {
    const entry = await withStore(
      config,
      async () => undefined,
      (client) => recordFeedback(client, { findingId: id, label, caller: `cli:${userInfo().username}` }),
    );
    if (!entry) throw new Error(`no finding ${id}`);
  }
  process.stdout.write(`marked ${id} ${label}\n`);
}

export async function incidentsCommand(o: {
  format: 'json' | 'table';
  tenant: string;
  status?: IncidentStatus;
  limit: number;
}) {
  const q = `?tenant=${encodeURIComponent(o.tenant)}&status=${o.status ?? ''}&limit=${o.limit}`;
  const rows = await withStore<Incident[]>(
    loadConfig(),
    (t) => adminGet(t, `/v1/incidents${q}`),
    (c) => listIncidents(c, o),
  );
  printRows(
    o.format === 'json' ? rows : rows.map((i) => ({ ...i, opened_time: isoTime(i.opened_time) })),
    o.format,
    ['incident_id', 'opened_time', 'status', 'severity', 'risk', 'actor', 'title'],
  );
}

export async function backtestCommand(o: {
  since?: Moment;
  until: Moment;
  input?: string;
  tenant: string;
  format: 'json' | 'table';
}) {
  const config = loadConfig();
  let report: BacktestReport;
  if (o.input) {
    const keyRing = loadKeyRing({
      dataDir: config.dataDir,
      envKey: config.env.VIGIL_TOKEN_KEY,
      envVersion: config.env.VIGIL_TOKEN_KEY_VERSION,
    });
    const tokenizer = createTokenizer(keyRing.current);
    const file = o.input;
    const batches = async function* () {
      for await (const { text, firstLine } of readChunks(file, 5_000)) {
        const { events, rejected } = parseGenericBody(
          Buffer.from(text),
          'application/x-ndjson',
          { tokenizer },
          Date.now(),
        );
        for (const r of rejected) process.stderr.write(`line ${firstLine + r.line - 1}: ${r.reason}\n`);
        yield events;
      }
    };
    report = await backtest(createDetectors(config.pipeline), batches(), {
      maxHotEntities: config.pipeline.detection.max_hot_entities,
    });
  } else {
    if (!o.since) throw new Error('backtest: give --since (stored history) or --input FILE.ndjson');
    const { since, until } = timeRange(o.since, o.until, Date.now());
    const q = `?since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}&tenant=${encodeURIComponent(o.tenant)}`;
    report = await withStore<BacktestReport>(
      config,
      (t) => adminGet(t, `/v1/backtest${q}`),
      (client) =>
        backtest(createDetectors(config.pipeline), readEvents(client, { since, until, tenant: o.tenant }), {
          maxHotEntities: config.pipeline.detection.max_hot_entities,
        }),
    );
  }
  if (o.format === 'json') {
    printRows(report.findings, 'json', []);
    return;
  }
  process.stdout.write(
    `${report.events} events, ${report.findings.length} findings ${JSON.stringify(report.byDetector)}\n`,
  );
  printRows(
    report.findings.map((f) => ({ ...f, event_time: isoTime(f.event_time) })),
    'table',
    ['event_time', 'detector', 'severity', 'score', 'entity', 'sentence'],
  );
}

export async function seriesCommand(o: { input: string; output: string }) {
  const config = loadConfig();
  const { rows, scored } = scoreSeriesFile(o.input, o.output, config.pipeline.detectors['volume-spike']);
  process.stdout.write(`scored ${rows} rows (${scored} with a baseline) → ${o.output}\n`);
}

export async function exportCommand(o: ExportCommandOptions) {
  return runExport(loadConfig(), o);
}

export async function rotateCommand() {
  const config = loadConfig();
  const running = await findRunningAdmin(config);
  if (running) {
    const r = await adminPost<{ version?: number; error?: string }>(running, '/v1/keys/rotate', {});
    if (r.status !== 200) throw new Error(r.body.error ?? `rotation refused (${r.status})`);
    process.stdout.write(`rotated: tokens are now made with k${r.body.version} (live in ${running.url})\n`);
    return;
  }
  if (config.env.VIGIL_TOKEN_KEY)
    throw new Error(
      'keys come from VIGIL_TOKEN_KEY: set the new key, VIGIL_TOKEN_KEY_VERSION and VIGIL_TOKEN_KEY_PREVIOUS',
    );
  const { version, file } = rotateKeyRing(config.dataDir);
  process.stdout.write(`rotated: k${version} is current in ${file}; it takes effect when vigil starts\n`);
}

export async function reidentifyCommand(token: string, o: { reason: string }) {
  const config = loadConfig();
  const result = await withStore<ReidentifyResult>(
    config,
    async (t) => (await adminPost<ReidentifyResult>(t, '/v1/reidentify', { token, reason: o.reason })).body,
    (client) =>
      reidentify(
        {
          cipher:
            config.env.VIGIL_VAULT_ENABLED || existsSync(path.join(config.dataDir, 'keys', 'vault.key'))
              ? createVaultCipher(vaultKey(config))
              : undefined,
          lookup: (t) => findVaultRow(client, t),
          audit: (r) => recordAudit(client, r),
        },
        { token, reason: o.reason, caller: `cli:${userInfo().username}` },
      ),
  );
  if (!result.found) throw new Error(`${token}: ${result.reason}`);
  process.stdout.write(`${result.kind} ${result.tenant} ${result.value}\n`);
}

export async function verifyCommand(o: { since?: Moment; format: 'json' | 'table' }) {
  const config = loadConfig();
  const since = o.since === undefined ? undefined : momentTime(o.since, Date.now());
  const q = since === undefined ? '' : `?since=${encodeURIComponent(new Date(since).toISOString())}`;
  const report = await withStore<VerifyReport>(
    config,
    (t) => adminGet(t, `/v1/verify${q}`),
    (client) => verifyAuditTrail({ client, dataDir: config.dataDir, ...chainIdentity(config), since }),
  );
  process.stdout.write(
    o.format === 'json'
      ? `${JSON.stringify(report)}\n`
      : `${formatVerifyReport(report).split('\n').map(terminalSafe).join('\n')}\n`,
  );
  if (!report.intact) process.exitCode = 1;
}

/**
 * Replays a file through a running vigil's admin API, or through a pipeline of its own. Events past
 * the events retention are counted first and handled as the user chooses (src/cli/replay.ts).
 */
async function replay(config: Config, file: string, expiredChoice: ExpiredChoice | undefined): Promise<void> {
  const now = Date.now();
  const scan = await scanRetention(file, config.env.VIGIL_EVENTS_TTL_DAYS, now);
  let drop: ((line: string) => boolean) | undefined;
  if (scan.expired > 0) {
    process.stderr.write(`${describeExpired(scan, now)}\n`);
    const choice = await chooseExpired(expiredChoice, Boolean(process.stdin.isTTY && process.stderr.isTTY));
    if (choice === 'abort') {
      process.stderr.write('replay: nothing replayed (--expired abort).\n');
      process.exitCode = 2;
      return;
    }
    if (choice === 'skip') drop = (line) => isExpiredLine(line, scan.cutoff, now);
    process.stderr.write(
      choice === 'skip'
        ? `replay: skipping the ${scan.expired} events past retention.\n`
        : `replay: including the ${scan.expired} events past retention; the store drops them at its next merge.\n`,
    );
  }
  const running = await findRunningAdmin(config);
  const chunks = readChunks(file, 5_000, drop);
  const total = scan.events - (drop ? scan.expired : 0);
  const started = Date.now();
  let accepted = 0;
  let rejected = 0;
  // Unknown top-level fields become attributes in a replay (never in the HTTP collector): each
  // name is warned about once, its values never shown.
  const warned = new Set<string>();
  const warnField = (name: string) => {
    if (warned.has(name)) return;
    warned.add(name);
    process.stderr.write(
      `replay: unknown field ${terminalSafe(name)} kept as an attribute where the attribute allow-list has it, left out otherwise (warned once)\n`,
    );
  };
  const unknownFields = createUnknownFieldPolicy({ onFirstSeen: warnField });
  if (running) {
    const progress = createReplayProgress({ total, stream: process.stderr });
    // Expired lines still here were kept by choice (include; skip sends them blank): the admin API
    // rejects them unless told so.
    const expiredQuery = scan.expired > 0 && !drop ? '?expired=include' : '';
    for await (const { text } of chunks) {
      const res = await fetch(`${running.url}/v1/replay${expiredQuery}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${running.token}`, 'content-type': 'application/x-ndjson' },
        body: text,
      });
      if (!res.ok) throw new Error(`replay: admin API answered ${res.status}: ${await res.text()}`);
      const r = (await res.json()) as {
        accepted: number;
        rejected: Array<{ line: number; reason: string }>;
        rejected_count?: number;
        unknown_fields?: Record<string, number>;
      };
      accepted += r.accepted;
      // The answer lists the first rejections only; the count is of all.
      rejected += r.rejected_count ?? r.rejected.length;
      for (const name of Object.keys(r.unknown_fields ?? {})) warnField(name);
      // The running vigil detects on its own schedule: progress here is what it took.
      progress.update({ detected: accepted + rejected, findings: 0, updates: 0 });
    }
    progress.stop();
    const elapsed = Date.now() - started;
    process.stdout.write(
      `replayed through ${running.url}: ${accepted} accepted, ${rejected} rejected in ${(elapsed / 1000).toFixed(1)} s, ` +
        `${Math.round(eventsPerSecond(accepted, elapsed))} events/s\n`,
    );
    return;
  }
  const app = await startVigil(
    loadConfig(process.env, {
      VIGIL_COLLECTOR_PORT: '0',
      VIGIL_ADMIN_PORT: '0',
      VIGIL_OTLP_HTTP_PORT: '0',
      VIGIL_OTLP_GRPC_PORT: '0',
    }),
    {
      roles: [...ALL_ROLES],
      logger: createLogger(
        config.env.VIGIL_LOG_LEVEL === 'info' ? 'warn' : config.env.VIGIL_LOG_LEVEL,
        'vigil',
        config.env.VIGIL_LOG_FILE,
      ),
    },
  );
  const counts = () => ({
    detected: app.metrics.counter('detect_events'),
    findings: app.metrics.counter('detect_findings_first'),
    updates: app.metrics.counter('detect_findings'),
  });
  const progress = createReplayProgress({ total, stream: process.stderr });
  const ticker = setInterval(() => progress.update(counts()), 250);
  try {
    const ctx = { tokenizer: app.tokenizer, unknownFields };
    // Chunks go to the bus in file order while earlier ones are still being stored, a few at a
    // time and within the pipeline's in-flight bound (the bus keeps the order it was given).
    const window = createSubmitWindow(app.ingest, {
      chunks: REPLAY_CHUNKS_IN_FLIGHT,
      events: Math.floor(config.env.VIGIL_MAX_INFLIGHT_EVENTS / 2),
    });
    for await (const { text, firstLine } of chunks) {
      const {
        events,
        rejected: bad,
        rejectedCount,
      } = parseGenericBody(Buffer.from(text), 'application/x-ndjson', ctx, Date.now());
      for (const r of bad) process.stderr.write(`line ${firstLine + r.line - 1}: ${r.reason}\n`);
      await window.submit(events);
      accepted += events.length;
      rejected += rejectedCount;
    }
    await window.drained();
    await waitForDrain(app, { detectedAtLeast: accepted, timeoutMs: 120_000 });
    clearInterval(ticker);
    progress.update(counts());
    progress.stop();
    const u = unknownFields.counts;
    if (u.kept + u.dropped > 0)
      process.stderr.write(
        `replay: unknown fields: ${u.kept} kept as attributes, ${u.dropped} left out, ${u.truncated} cut to ${unknownFields.maxLength} characters\n`,
      );
    process.stdout.write(
      `${replaySummary({ accepted, rejected, elapsedMs: Date.now() - started, counts: counts() })}\n`,
    );
  } finally {
    clearInterval(ticker);
    progress.stop();
    await app.stop();
  }
}

export interface ExportCommandOptions {
  format: ExportFormat;
  since: Moment;
  until: Moment;
  kinds: ExportKind[];
  tenant: string;
  output?: string;
  progress: boolean;
}

/** `vigil export`: the data goes to stdout or --output, the progress bar and the summary to stderr. */
async function runExport(config: Config, o: ExportCommandOptions): Promise<void> {
  const range = { ...timeRange(o.since, o.until, Date.now()), tenant: o.tenant };
  const kinds = o.kinds;
  const out = o.output ? createWriteStream(o.output, { mode: PRIVATE_FILE_MODE }) : process.stdout;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const bar =
    o.progress && process.stderr.isTTY
      ? new SingleBar({
          format: '  export [{bar}] {percentage}% | {value}/{total} records',
          hideCursor: true,
        })
      : undefined;
  const counts = await withStore(
    config,
    async (admin) => {
      // Through a running vigil's admin API: findings and incidents only (newest 10,000 each).
      const skipped = kinds.filter((k) => k === 'action' || k === 'event');
      if (skipped.length)
        process.stderr.write(
          `export: ${skipped.join(', ')} need direct store access (stop vigil serve or set CLICKHOUSE_URL); skipped\n`,
        );
      const q = `?tenant=${encodeURIComponent(o.tenant)}&limit=10000`;
      const records: ExportRecord[] = [
        ...(kinds.includes('finding') ? await adminGet<Finding[]>(admin, `/v1/findings${q}`) : []).map(
          (value): ExportRecord => ({ kind: 'finding', value }),
        ),
        ...(kinds.includes('incident') ? await adminGet<Incident[]>(admin, `/v1/incidents${q}`) : []).map(
          (value): ExportRecord => ({ kind: 'incident', value }),
        ),
      ]
        .filter((r) => recordTime(r) >= range.since && recordTime(r) < range.until)
        .sort((a, b) => recordTime(a) - recordTime(b));
      bar?.start(records.length, 0);
      const n = await exportRecords(records, o.format, write);
      bar?.update(n);
      return {
        finding: records.filter((r) => r.kind === 'finding').length,
        incident: records.filter((r) => r.kind === 'incident').length,
      };
    },
    (client) =>
      exportRange({
        client,
        kinds,
        ...range,
        format: o.format,
        write,
        onProgress: (done, total) => {
          if (bar && bar.getTotal() !== total) bar.start(total, done);
          bar?.update(done);
        },
      }),
  );
  bar?.stop();
  if (o.output)
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  const summary = Object.entries(counts)
    .filter(([k]) => (kinds as string[]).includes(k))
    .map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`)
    .join(', ');
  process.stderr.write(`exported ${summary} as ${o.format}${o.output ? ` to ${o.output}` : ''}\n`);
}

export async function sourcesCommand(o: { since: Moment; top: number; format: 'json' | 'table' }) {
  const since = momentTime(o.since, Date.now());
  const reports = await withStore<SourceReport[]>(
    loadConfig(),
    async (t) =>
      (
        await adminGet<{ sources: SourceReport[] }>(
          t,
          `/v1/sources?since=${new Date(since).toISOString()}&top=${o.top}`,
        )
      ).sources,
    async (client) => summarizeSources(await readSourceStats(client, since), o.top),
  );
  if (o.format === 'json') {
    printRows(reports, 'json', []);
    return;
  }
  process.stdout.write(`since ${isoTime(since)}\n`);
  printRows(reports, 'table', ['source', 'received', 'mapped', 'not_db', 'rejected', 'examined']);
  for (const r of reports) {
    if (r.rejected_by_reason.length) {
      process.stdout.write(`\n${terminalSafe(r.source)}: rejected by reason\n`);
      printRows([...r.rejected_by_reason], 'table', ['count', 'reason']);
    }
    if (r.unused_keys.length) {
      process.stdout.write(
        `\n${terminalSafe(r.source)}: attribute keys vigil did not use (in how many of ${r.examined} examined items)\n`,
      );
      printRows([...r.unused_keys], 'table', ['items', 'key']);
    }
  }
}
