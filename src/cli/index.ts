// The `vigil` command: its commands, their options and the parsers of their values. What a command
// does lives in src/cli/commands.ts (and respond.actions.ts), imported when the command runs, so
// `vigil --help`, `--version` and a refused option load no more than commander and these parsers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Argument, Option } from 'commander';
import { packageRoot } from '../config/package-root.js';
import { PRIVATE_UMASK } from '../config/private-files.js';
import { EXPORT_KINDS } from '../export/record.js';
import { EXPORT_FORMATS } from '../export/formats.js';
import { INCIDENT_STATUSES, SEVERITIES } from '../model/finding.js';
import { MAX_PAGE } from '../store/finding-query.js';
import { EXPIRED_CHOICES } from './replay.js';
import { ALL_ROLES } from './roles.js';
import { registerRespondCommands } from './respond.commands.js';
import {
  decimalIn,
  FINDINGS_LIMIT_MAX,
  integerIn,
  listOf,
  parseDetector,
  parseEntity,
  parseLimit,
  parseMoment,
  parseTenant,
  TIME_FORM,
  VigilCommand,
} from './options.js';

const commands = () => import('./commands.js');

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
    .action(async (o) => (await commands()).serveCommand(o));

  program
    .command('demo')
    .description('run the whole pipeline on embedded defaults over a generated workload')
    // The workload is generated in memory before it is sent: the bounds keep it under a million events.
    .option('--days <n>', 'days of history (1-30)', integerIn(1, 30), 7)
    .option('--people <n>', 'people (1-100)', integerIn(1, 100), 36)
    .option('--services <n>', 'service accounts (0-50)', integerIn(0, 50), 8)
    .option('--no-progress', 'no progress bar')
    .action(async (o) => (await commands()).demoCommand(o));

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
    .action(async (o) => (await commands()).replayCommand(o));

  program
    .command('migrate')
    .description('apply the store migrations (idempotent)')
    .action(async () => (await commands()).migrateCommand());

  const findingsCmd = program
    .command('findings')
    .enablePositionalOptions()
    .description('list findings, newest first')
    .addOption(
      new Option('--format <format>', 'output format (ndjson: one finding a line, written as pages arrive)')
        .choices(['json', 'ndjson', 'table'])
        .default('table'),
    )
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)', parseTenant, '')
    .option('--since <time>', `only findings whose latest event is at or after: ${TIME_FORM}`, parseMoment)
    .option('--until <time>', 'only findings before (exclusive), in the form of --since', parseMoment)
    .option('--detector <name>', 'only this detector', parseDetector)
    .option('--entity <entity>', 'only this entity (its token, or a collection name)', parseEntity)
    .addOption(
      new Option(
        '--severity <severities>',
        `only these severities, comma-separated: ${SEVERITIES.join(',')}`,
      ).argParser(listOf(SEVERITIES)),
    )
    .option('--min-score <score>', 'only a score of at least this (0-1)', decimalIn(0, 1))
    .option(
      '--limit <n>',
      `at most n (1-${FINDINGS_LIMIT_MAX}; past ${MAX_PAGE} the CLI pages with a cursor)`,
      integerIn(1, FINDINGS_LIMIT_MAX),
      100,
    )
    .action(async (o) => (await commands()).findingsCommand(o));
  findingsCmd
    .command('show')
    .argument('<id>', 'the finding')
    .description('one finding: its history (first fired, last update, update count) and explanation')
    .addOption(formatOption())
    .action(async (id, o) => (await commands()).findingShowCommand(id, o));
  findingsCmd
    .command('mark')
    .argument('<id>', 'the finding')
    .addArgument(new Argument('<label>', 'the verdict').choices(['false-positive', 'true-positive']))
    .description(
      'analyst feedback on a finding: false-positive (raises the bar for that detector × entity) or true-positive',
    )
    .action(async (id, label) => (await commands()).markCommand(id, label));

  const incidentsCmd = program
    .command('incidents')
    .description('list incidents')
    .addOption(formatOption())
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)', parseTenant, '')
    .addOption(new Option('--status <status>', 'only this status').choices(INCIDENT_STATUSES))
    .option('--limit <n>', 'at most n (1-10000)', parseLimit, 100)
    .action(async (o) => (await commands()).incidentsCommand(o));

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
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)', parseTenant, '')
    .addOption(formatOption())
    .action(async (o) => (await commands()).backtestCommand(o));
  bt.command('series')
    .description(
      'score a timestamp,value CSV series with the volume baseline: writes timestamp,value,anomaly_score',
    )
    .requiredOption('--input <file>', 'CSV with a header timestamp,value (ISO-8601 or epoch)')
    .requiredOption('--output <file>', 'CSV to write')
    .action(async (o) => (await commands()).seriesCommand(o));

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
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)', parseTenant, '')
    .option('--output <file>', 'write to this file (default: stdout)')
    .option('--no-progress', 'no progress bar')
    .action(async (o) => (await commands()).exportCommand(o));

  program
    .command('sources')
    .description(
      'what each source sent and what vigil made of it: received, mapped, rejected by reason, and the attribute keys it did not use (names only)',
    )
    .option('--since <time>', `figures since: ${TIME_FORM}`, parseMoment, { ago: 86_400_000 })
    .option('--top <n>', 'unused attribute keys listed per source (1-100)', integerIn(1, 100), 20)
    .addOption(formatOption())
    .action(async (o) => (await commands()).sourcesCommand(o));

  const keys = program.command('keys').description('tokenization keys');
  keys
    .command('rotate')
    .description('add a new key version and make it current (old tokens stay linked to new ones)')
    .action(async () => (await commands()).rotateCommand());

  program
    .command('reidentify <token>')
    .description('map a token back to its raw value (admin; needs the vault; every call is audited)')
    .requiredOption('--reason <reason>', 'why the raw value is needed (recorded)')
    .action(async (token, o) => (await commands()).reidentifyCommand(token, o));

  program
    .command('verify')
    .description(
      'check the tamper-evident audit trail: recompute every stored batch, report the batches modified, deleted or inserted (exit 1)',
    )
    .option('--since <time>', `only batches recorded since: ${TIME_FORM}`, parseMoment)
    .addOption(formatOption())
    .action(async (o) => (await commands()).verifyCommand(o));

  registerRespondCommands(program, incidentsCmd);

  await program.parseAsync(argv);
}

/** vigil's version, from its package.json. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
}
