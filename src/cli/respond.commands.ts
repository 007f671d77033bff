// CLI commands of the responder: `policy test`, `incidents ack|resolve|approve`, `actions`,
// `contain undo` and `responder kill-switch`. What they do is in respond.actions.ts, imported when
// one runs.
import { Argument, type Command, Option } from 'commander';
import { decimalIn, parseLimit, parseTenant } from './options.js';

const actions = () => import('./respond.actions.js');
const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['json', 'table']).default('table');

export function registerRespondCommands(program: Command, incidents: Command): void {
  const policy = program
    .command('policy')
    .description('response policy (pipelines/*.yaml response.policies)');
  policy
    .command('test')
    .description('show which rules a finding fires and what the responder would do (no side effects)')
    .requiredOption(
      '--finding <file>',
      'a finding as JSON (an object, or an array as `vigil findings --format json` prints)',
    )
    .option(
      '--risk <n>',
      "the identity's accumulated risk, 0-100 (default: this finding's own)",
      decimalIn(0, 100),
    )
    .option('--labels <labels>', 'extra entity labels, comma-separated', '')
    .addOption(formatOption())
    .action(async (o) => (await actions()).policyTestCommand(o));

  for (const [verb, to, what] of [
    ['ack', 'acknowledged', 'acknowledge an incident (someone is on it)'],
    ['resolve', 'resolved', 'resolve an incident'],
  ] as const) {
    incidents
      .command(`${verb} <id>`)
      .description(what)
      .action(async (id) => (await actions()).changeStatusCommand(id, verb, to));
  }

  incidents
    .command('approve <id>')
    .description("approve the incident's actions held for approval (admin; needs the running vigil)")
    .action(async (id) => (await actions()).approveCommand(id));

  program
    .command('actions')
    .description('list responder action attempts; --failed: the dead-letter view (jobs that gave up)')
    .option('--failed', 'only jobs whose last attempt failed')
    .option('--incident <id>', 'only this incident', '')
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)', parseTenant, '')
    .option('--limit <n>', 'at most n (1-10000)', parseLimit, 100)
    .addOption(formatOption())
    .action(async (o) => (await actions()).actionsCommand(o));

  const contain = program.command('contain').description('containment');
  contain
    .command('undo <actionId>')
    .description('reverse a succeeded containment (admin; needs the running vigil)')
    .action(async (actionId) => (await actions()).undoCommand(actionId));

  program
    .command('responder')
    .description('the responder')
    .command('kill-switch')
    .addArgument(new Argument('[state]', 'on or off').choices(['on', 'off']))
    .description('show the kill switch, or turn it on/off (on: every containment runs as a dry run)')
    .action(async (state) => (await actions()).killSwitchCommand(state));
}
