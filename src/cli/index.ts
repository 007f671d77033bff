// The `vigil` command.
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Argument, Option } from 'commander';
import { type Config, loadConfig, PRIVATE_FILE_MODE, PRIVATE_UMASK } from '../config/index.js';
import { parseGenericBody } from '../collectors/generic/server.js';
import { type Finding, INCIDENT_STATUSES, type Incident, type IncidentStatus } from '../model/index.js';
import {
  findVaultRow,
  listFindings,
  listIncidents,
  migrate,
  openStore,
  readEvents,
  recordAudit,
  recordFeedback,
} from '../store/index.js';
import { createLogger } from '../telemetry/index.js';
import { createDetectors } from '../../detectors/index.js';
import { type ReidentifyResult, reidentify } from '../admin/reidentify.js';
import { type BacktestReport, backtest } from '../detect/index.js';
import { createTokenizer, createVaultCipher, loadKeyRing, rotateKeyRing } from '../privacy/index.js';
import { adminGet, adminPost, findRunningAdmin, withStore } from './admin-client.js';
import { ALL_ROLES, chainIdentity, type Role, startVigil, vaultKey } from './app.js';
import { formatVerifyReport, type VerifyReport, verifyAuditTrail } from '../store/audit-chain.js';
import { runDemo } from './demo/demo.js';
import {
  chooseExpired,
  describeExpired,
  EXPIRED_CHOICES,
  type ExpiredChoice,
  isExpiredLine,
  readChunks,
  scanRetention,
} from './replay.js';
import { registerRespondCommands } from './respond.commands.js';
import { waitForDrain } from './drain.js';
import { isoTime, printRows, terminalSafe } from './format.js';
import { scoreSeriesFile } from './series.js';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { SingleBar } from 'cli-progress';
import {
  EXPORT_FORMATS,
  EXPORT_KINDS,
  type ExportFormat,
  type ExportKind,
  type ExportRecord,
  exportRange,
  exportRecords,
  recordTime,
} from '../export/index.js';
import {
  integerIn,
  listOf,
  type Moment,
  momentTime,
  parseLimit,
  parseMoment,
  TIME_FORM,
  timeRange,
  VigilCommand,
} from './options.js';

const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['json', 'table']).default('table');

export async function main(argv: string[]): Promise<void> {
  // Before anything is created: the embedded engine, pino and every command make files with
  // the process umask, and none of them is for anyone but vigil's own user (src/config/private-files.ts).
  process.umask(PRIVATE_UMASK);
  const program = new VigilCommand()
    .name('vigil')
    .description('Audit, monitoring and UEBA for vector-database access')
    .version(packageVersion())
    .enablePositionalOptions()
    .option('--data-dir <dir>', 'the data directory (default: $VIGIL_DATA_DIR, else ./.vigil)')
    // Given before the command, it stands for VIGIL_DATA_DIR in every command's configuration.
    .hook('preSubcommand', (cmd) => {
      const { dataDir } = cmd.opts<{ dataDir?: string }>();
      if (dataDir !== undefined) process.env.VIGIL_DATA_DIR = dataDir;
    });

  program
    .command('serve')
    .description('run the service (all roles in one process by default)')
    .addOption(
      new Option('--roles <roles>', `comma-separated subset of ${ALL_ROLES.join(',')}`)
        .argParser(listOf(ALL_ROLES))
        .default([...ALL_ROLES], ALL_ROLES.join(',')),
    )
    .action(async (o: { roles: Role[] }) => {
      const config = loadConfig();
      const roles = o.roles;
      const app = await startVigil(config, { roles });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.stop();
    });

  program
    .command('demo')
    .description('run the whole pipeline on embedded defaults over a generated workload')
    // The workload is generated in memory before it is sent: the bounds keep it under a million events.
    .option('--days <n>', 'days of history (1-30)', integerIn(1, 30), 7)
    .option('--people <n>', 'people (1-100)', integerIn(1, 100), 36)
    .option('--services <n>', 'service accounts (0-50)', integerIn(0, 50), 8)
    .option('--no-progress', 'no progress bar')
    .action(async (o: { days: number; people: number; services: number; progress: boolean }) => {
      const result = await runDemo(
        loadConfig(),
        { ...o, batch: 5_000, progress: o.progress && Boolean(process.stderr.isTTY) },
        (l) => process.stdout.write(`${l}\n`),
      );
      if (!result.ok) process.exitCode = 1;
    });

  program
    .command('replay')
    .description('feed generic/canonical events from an NDJSON file (event time drives the detectors)')
    .requiredOption('--input <file>', 'NDJSON file')
    .addOption(
      new Option(
        '--expired <choice>',
        'events older than the events retention: abort (replay nothing), skip them, or include them (the store drops them later); asked on a terminal, abort otherwise',
      ).choices([...EXPIRED_CHOICES]),
    )
    .action(async (o: { input: string; expired?: ExpiredChoice }) =>
      replay(loadConfig(), o.input, o.expired),
    );

  program
    .command('migrate')
    .description('apply the store migrations (idempotent)')
    .action(async () => {
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
    });

  const findingsCmd = program
    .command('findings')
    .enablePositionalOptions()
    .description('list findings')
    .addOption(formatOption())
    .option('--tenant <tenant>', 'only this tenant', '')
    .option('--limit <n>', 'at most n (1-10000)', parseLimit, 100)
    .action(async (o: { format: 'json' | 'table'; tenant: string; limit: number }) => {
      const q = `?tenant=${encodeURIComponent(o.tenant)}&limit=${o.limit}`;
      const rows = await withStore<Finding[]>(
        loadConfig(),
        (t) => adminGet(t, `/v1/findings${q}`),
        (c) => listFindings(c, o),
      );
      printRows(
        o.format === 'json' ? rows : rows.map((f) => ({ ...f, event_time: isoTime(f.event_time) })),
        o.format,
        ['finding_id', 'event_time', 'detector', 'severity', 'score', 'entity', 'sentence'],
      );
    });
  findingsCmd
    .command('mark')
    .argument('<id>', 'the finding')
    .addArgument(new Argument('<label>', 'the verdict').choices(['false-positive', 'true-positive']))
    .description(
      'analyst feedback on a finding: false-positive (raises the bar for that detector × entity) or true-positive',
    )
    .action(async (id: string, label: 'false-positive' | 'true-positive') => {
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
    });

  const incidentsCmd = program
    .command('incidents')
    .description('list incidents')
    .addOption(formatOption())
    .option('--tenant <tenant>', 'only this tenant', '')
    .addOption(new Option('--status <status>', 'only this status').choices(INCIDENT_STATUSES))
    .option('--limit <n>', 'at most n (1-10000)', parseLimit, 100)
    .action(
      async (o: { format: 'json' | 'table'; tenant: string; status?: IncidentStatus; limit: number }) => {
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
      },
    );

  const bt = program
    .command('backtest')
    // `backtest series --input` belongs to the subcommand, not to backtest's own --input.
    .enablePositionalOptions()
    .description(
      "run the pipeline's detectors over stored (--since/--until) or given (--input) history; reports findings, acts on nothing",
    )
    .option('--since <time>', `start of stored history: ${TIME_FORM}`, parseMoment)
    .option('--until <time>', 'end (exclusive), in the form of --since', parseMoment, { ago: 0 })
    .option('--input <file>', 'NDJSON file of generic events instead of stored history')
    .option('--tenant <tenant>', 'only this tenant', '')
    .addOption(formatOption())
    .action(
      async (o: {
        since?: Moment;
        until: Moment;
        input?: string;
        tenant: string;
        format: 'json' | 'table';
      }) => {
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
              backtest(
                createDetectors(config.pipeline),
                readEvents(client, { since, until, tenant: o.tenant }),
                { maxHotEntities: config.pipeline.detection.max_hot_entities },
              ),
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
      },
    );
  bt.command('series')
    .description(
      'score a timestamp,value CSV series with the volume baseline: writes timestamp,value,anomaly_score',
    )
    .requiredOption('--input <file>', 'CSV with a header timestamp,value (ISO-8601 or epoch)')
    .requiredOption('--output <file>', 'CSV to write')
    .action(async (o: { input: string; output: string }) => {
      const config = loadConfig();
      const { rows, scored } = scoreSeriesFile(o.input, o.output, config.pipeline.detectors['volume-spike']);
      process.stdout.write(`scored ${rows} rows (${scored} with a baseline) → ${o.output}\n`);
    });

  program
    .command('export')
    .description('export findings, incidents, actions (and access events) of a time range for a SIEM')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('ocsf'))
    .option('--since <time>', `start: ${TIME_FORM}`, parseMoment, { ago: 86_400_000 })
    .option('--until <time>', 'end (exclusive), in the form of --since', parseMoment, { ago: 0 })
    .addOption(
      new Option('--kinds <kinds>', `record kinds, comma-separated: ${EXPORT_KINDS.join(',')}`)
        .argParser(listOf(EXPORT_KINDS, (k) => k.toLowerCase().replace(/s$/, '')))
        .default(['finding', 'incident', 'action'], 'finding,incident,action'),
    )
    .option('--tenant <tenant>', 'only this tenant', '')
    .option('--output <file>', 'write to this file (default: stdout)')
    .option('--no-progress', 'no progress bar')
    .action(async (o: ExportCommandOptions) => exportCommand(loadConfig(), o));

  const keys = program.command('keys').description('tokenization keys');
  keys
    .command('rotate')
    .description('add a new key version and make it current (old tokens stay linked to new ones)')
    .action(async () => {
      const config = loadConfig();
      const running = await findRunningAdmin(config);
      if (running) {
        const r = await adminPost<{ version?: number; error?: string }>(running, '/v1/keys/rotate', {});
        if (r.status !== 200) throw new Error(r.body.error ?? `rotation refused (${r.status})`);
        process.stdout.write(
          `rotated: tokens are now made with k${r.body.version} (live in ${running.url})\n`,
        );
        return;
      }
      if (config.env.VIGIL_TOKEN_KEY)
        throw new Error(
          'keys come from VIGIL_TOKEN_KEY: set the new key, VIGIL_TOKEN_KEY_VERSION and VIGIL_TOKEN_KEY_PREVIOUS',
        );
      const { version, file } = rotateKeyRing(config.dataDir);
      process.stdout.write(`rotated: k${version} is current in ${file}; it takes effect when vigil starts\n`);
    });

  program
    .command('reidentify <token>')
    .description('map a token back to its raw value (admin; needs the vault; every call is audited)')
    .requiredOption('--reason <reason>', 'why the raw value is needed (recorded)')
    .action(async (token: string, o: { reason: string }) => {
      const config = loadConfig();
      const result = await withStore<ReidentifyResult>(
        config,
        async (t) =>
          (await adminPost<ReidentifyResult>(t, '/v1/reidentify', { token, reason: o.reason })).body,
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
    });

  program
    .command('verify')
    .description(
      'check the tamper-evident audit trail: recompute every stored batch, report the batches modified, deleted or inserted (exit 1)',
    )
    .option('--since <time>', `only batches recorded since: ${TIME_FORM}`, parseMoment)
    .addOption(formatOption())
    .action(async (o: { since?: Moment; format: 'json' | 'table' }) => {
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
    });

  registerRespondCommands(program, incidentsCmd);

  await program.parseAsync(argv);
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
  let accepted = 0;
  let rejected = 0;
  if (running) {
    for await (const { text } of chunks) {
      const res = await fetch(`${running.url}/v1/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${running.token}`, 'content-type': 'application/x-ndjson' },
        body: text,
      });
      if (!res.ok) throw new Error(`replay: admin API answered ${res.status}: ${await res.text()}`);
      const r = (await res.json()) as { accepted: number; rejected: Array<{ line: number; reason: string }> };
      accepted += r.accepted;
      rejected += r.rejected.length;
    }
    process.stdout.write(`replayed through ${running.url}: ${accepted} accepted, ${rejected} rejected\n`);
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
  try {
    for await (const { text, firstLine } of chunks) {
      const { events, rejected: bad } = parseGenericBody(
        Buffer.from(text),
        'application/x-ndjson',
        app,
        Date.now(),
      );
      for (const r of bad) process.stderr.write(`line ${firstLine + r.line - 1}: ${r.reason}\n`);
      await app.ingest.submit(events);
      accepted += events.length;
      rejected += bad.length;
    }
    await waitForDrain(app, { detectedAtLeast: accepted, timeoutMs: 120_000 });
    process.stdout.write(
      `replayed ${accepted} events (${rejected} rejected); findings: ${app.metrics.counter('detect_findings')}\n`,
    );
  } finally {
    await app.stop();
  }
}

interface ExportCommandOptions {
  format: ExportFormat;
  since: Moment;
  until: Moment;
  kinds: ExportKind[];
  tenant: string;
  output?: string;
  progress: boolean;
}

/** `vigil export`: the data goes to stdout or --output, the progress bar and the summary to stderr. */
async function exportCommand(config: Config, o: ExportCommandOptions): Promise<void> {
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

/** vigil's version, from the package.json above this module (in src/ or in dist/src/). */
function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vigil' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
