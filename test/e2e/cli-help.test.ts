// The `vigil` command's surface as a user reads it: every command's --help (commands, arguments,
// options, defaults and descriptions) equals test/fixtures/cli-help.txt, captured from the CLI
// before the commands' code was split off, and `vigil --help` loads none of a command's code.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VIGIL_BIN } from '../helpers/child.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const EXPECTED = readFileSync(path.join(ROOT, 'test/fixtures/cli-help.txt'), 'utf8');

/** The built CLI with these arguments; stdout and stderr. */
async function vigil(args: string[], nodeArgs: string[] = []) {
  return run(process.execPath, [...nodeArgs, VIGIL_BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
}

/** The commands listed under "Commands:" of a help text, without commander's own `help`. */
function subcommands(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at === -1) return [];
  return help
    .slice(at + '\nCommands:\n'.length)
    .split('\n')
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

/** `vigil … --help` of every command and subcommand, depth first, each under a `$ vigil …` line. */
async function helpOf(command: string[]): Promise<string> {
  const { stdout } = await vigil([...command, '--help']);
  // Siblings run at once (a process each), and are joined in the order listed.
  const subs = await Promise.all(subcommands(stdout).map((sub) => helpOf([...command, sub])));
  return `$ vigil ${[...command, '--help'].join(' ')}\n${stdout}\n${subs.join('')}`;
}

describe('vigil --help', () => {
  it('lists the same commands, arguments and options as before, with the same help text', async () => {
    const help = await helpOf([]);
    // The walk reached the subcommands too (findings show, responder kill-switch, …).
    expect(help.match(/^\$ vigil /gm)).toHaveLength(EXPECTED.match(/^\$ vigil /gm)!.length);
    expect(help).toContain('$ vigil responder kill-switch --help');
    expect(help).toBe(EXPECTED);
  }, 120_000);

  it("loads none of a command's code: no wiring, store, bus, queue or HTTP server", async () => {
    // A module hook that names every file loaded, on stderr.
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module';
       register('data:text/javascript,' + encodeURIComponent(
         "import { writeSync } from 'node:fs';" +
         "export async function load(url, context, next) { writeSync(2, 'LOADED ' + url + '\\\\n'); return next(url, context); }"));`,
    )}`;
    const { stdout, stderr } = await vigil(['--help'], ['--import', hook]);
    expect(stdout).toContain('Usage: vigil [options] [command]');
    const loaded = stderr.split('\n').filter((l) => l.startsWith('LOADED '));
    expect(loaded.some((l) => l.includes('/dist/src/cli/index.js'))).toBe(true);
    const heavy = loaded.filter((l) =>
      /\/dist\/src\/cli\/(commands|app|respond\.actions)\.js|\/dist\/src\/cli\/wiring\/|\/node_modules\/(kafkajs|@clickhouse|chdb|fastify|bullmq|ioredis|pino|@opentelemetry)\//.test(
        l,
      ),
    );
    expect(heavy).toEqual([]);
  }, 60_000);
});
